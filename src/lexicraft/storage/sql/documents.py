"""Single documents of a project in SQL: find, add, change annotations, delete."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lexicraft.domain.projects import Document, ProjectKind
from lexicraft.errors import DocumentNotFound
from lexicraft.storage.sql.tables import DocumentRow, ProjectRow
from lexicraft.timeutil import utcnow


def find_document(session: Session, project: ProjectRow, location: str) -> DocumentRow | None:
    """The document at ``location`` in ``project``, if any."""
    return session.scalar(
        select(DocumentRow).where(
            DocumentRow.project_id == project.id, DocumentRow.location == location
        )
    )


def get_document(session: Session, project: ProjectRow, location: str) -> DocumentRow:
    """The document at ``location`` in ``project``, else DocumentNotFound."""
    row = find_document(session, project, location)
    if row is None:
        raise DocumentNotFound(
            f"document {location!r} was not found in project {project.name!r}", target="location"
        )
    return row


def _annotations(kind: ProjectKind, document: Document) -> list[object]:
    """The stored form: ``[[start, end, category], …]`` for NER, ``[class, …]`` otherwise."""
    if kind is ProjectKind.ENTITY_RECOGNITION:
        return [[span.start, span.end, span.category] for span in document.spans]
    return list(document.classes)


def add_document(session: Session, project: ProjectRow, document: Document) -> DocumentRow:
    """Append ``document`` after the project's last one."""
    last = session.scalar(
        select(func.max(DocumentRow.position)).where(DocumentRow.project_id == project.id)
    )
    row = DocumentRow(
        project_id=project.id,
        position=0 if last is None else last + 1,
        location=document.location,
        language=document.language,
        dataset=document.dataset.value if document.dataset else None,
        text=document.text,
        annotations=_annotations(ProjectKind(project.kind), document),
    )
    session.add(row)
    project.modified_at = utcnow()
    session.flush()
    return row


def save_document(session: Session, row: DocumentRow, document: Document) -> None:
    """Store ``document``'s annotations, dataset and language on ``row`` (never its text)."""
    row.language = document.language
    row.dataset = document.dataset.value if document.dataset else None
    row.annotations = _annotations(ProjectKind(row.project.kind), document)
    row.project.modified_at = utcnow()
    session.flush()


def delete_document(session: Session, row: DocumentRow) -> None:
    """Remove ``row`` from its project."""
    row.project.modified_at = utcnow()
    session.delete(row)
    session.flush()


def save_labels(session: Session, project: ProjectRow, labels: list[str]) -> None:
    """Replace the project's label list (callers check that no removed label is in use)."""
    project.labels = list(labels)
    project.modified_at = utcnow()
    session.flush()
