"""Projects and their documents in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lexicraft.domain.projects import Dataset, Document, Project, ProjectAssets, ProjectKind
from lexicraft.domain.spans import Span
from lexicraft.errors import ProjectNotFound
from lexicraft.storage.sql.tables import DocumentRow, ProjectRow
from lexicraft.timeutil import as_utc, utcnow


def to_project(row: ProjectRow) -> Project:
    """The domain view of a project row."""
    return Project(
        name=row.name,
        kind=ProjectKind(row.kind),
        language=row.language,
        storage_container=row.storage_container,
        multilingual=row.multilingual,
        description=row.description,
        settings=dict(row.settings or {}),
        created_at=as_utc(row.created_at),
        modified_at=as_utc(row.modified_at),
        last_trained_at=as_utc(row.last_trained_at) if row.last_trained_at else None,
        last_deployed_at=as_utc(row.last_deployed_at) if row.last_deployed_at else None,
    )


def to_document(row: DocumentRow) -> Document:
    """The domain view of a document row."""
    is_ner = row.project.kind == ProjectKind.ENTITY_RECOGNITION.value
    return Document(
        location=row.location,
        text=row.text,
        language=row.language,
        dataset=Dataset(row.dataset) if row.dataset else None,
        spans=tuple(Span(int(s), int(e), str(c)) for s, e, c in row.annotations) if is_ner else (),
        classes=() if is_ner else tuple(str(c) for c in row.annotations),
    )


def find_project(session: Session, name: str) -> ProjectRow | None:
    """The project row called ``name``, if any."""
    return session.scalar(select(ProjectRow).where(ProjectRow.name == name))


def get_project(session: Session, name: str) -> ProjectRow:
    """The project row called ``name``, else ProjectNotFound."""
    row = find_project(session, name)
    if row is None:
        raise ProjectNotFound(f"project {name!r} was not found")
    return row


def list_projects(session: Session) -> list[ProjectRow]:
    """Every project by name."""
    return list(session.scalars(select(ProjectRow).order_by(ProjectRow.name)))


def save_metadata(session: Session, project: Project) -> tuple[ProjectRow, bool]:
    """Create or update a project's metadata; returns the row and whether it was created."""
    row = find_project(session, project.name)
    now = utcnow()
    created = row is None
    if row is None:
        row = ProjectRow(name=project.name, created_at=now, labels=[])
        session.add(row)
    row.kind = project.kind.value
    row.language = project.language
    row.storage_container = project.storage_container
    row.multilingual = project.multilingual
    row.description = project.description
    row.settings = dict(project.settings)
    row.modified_at = now
    session.flush()
    return row, created


def replace_assets(session: Session, row: ProjectRow, assets: ProjectAssets) -> None:
    """Replace a project's labels and documents (import replaces, spec §5.4)."""
    row.labels = list(assets.labels)
    row.documents.clear()
    session.flush()
    row.documents.extend(_document_rows(assets.documents))
    row.modified_at = utcnow()
    session.flush()


def _document_rows(documents: Sequence[Document]) -> list[DocumentRow]:
    return [
        DocumentRow(
            position=position,
            location=document.location,
            language=document.language,
            dataset=document.dataset.value if document.dataset else None,
            text=document.text,
            annotations=(
                [[span.start, span.end, span.category] for span in document.spans]
                if document.spans
                else list(document.classes)
            ),
        )
        for position, document in enumerate(documents)
    ]


def project_documents(row: ProjectRow) -> list[Document]:
    """A project's documents in import order."""
    return [to_document(document) for document in row.documents]
