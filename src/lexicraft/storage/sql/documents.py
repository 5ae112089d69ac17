"""Single documents and the label list of a project in SQL; functions return domain types."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lexicraft.domain.projects import Document, ProjectKind
from lexicraft.errors import DocumentNotFound
from lexicraft.storage.sql.projects import annotations_of, get_row, to_document
from lexicraft.storage.sql.tables import DocumentRow, ProjectRow
from lexicraft.timeutil import utcnow


def _find_row(session: Session, project: ProjectRow, location: str) -> DocumentRow | None:
    return session.scalar(
        select(DocumentRow).where(
            DocumentRow.project_id == project.id, DocumentRow.location == location
        )
    )


def _get_row(session: Session, project: ProjectRow, location: str) -> DocumentRow:
    row = _find_row(session, project, location)
    if row is None:
        raise DocumentNotFound(
            f"document {location!r} was not found in project {project.name!r}", target="location"
        )
    return row


def find_document(session: Session, project_name: str, location: str) -> Document | None:
    """The document at ``location`` in the project, if any."""
    project = get_row(session, project_name)
    row = _find_row(session, project, location)
    return None if row is None else to_document(row, ProjectKind(project.kind))


def get_document(session: Session, project_name: str, location: str) -> Document:
    """The document at ``location`` in the project, else DocumentNotFound."""
    project = get_row(session, project_name)
    return to_document(_get_row(session, project, location), ProjectKind(project.kind))


def list_locations(session: Session, project_name: str) -> set[str]:
    """Every document location of the project."""
    project = get_row(session, project_name)
    return set(
        session.scalars(select(DocumentRow.location).where(DocumentRow.project_id == project.id))
    )


def add_document(
    session: Session, project_name: str, document: Document, *, file_written: bool = False
) -> None:
    """Append ``document`` after the project's last one (``file_written``: Lexicraft wrote its
    file in the container, so deleting the project deletes it), with everything
    :func:`save_document` stores (who labeled it: an utterance is added labeled)."""
    project = get_row(session, project_name)
    last = session.scalar(
        select(func.max(DocumentRow.position)).where(DocumentRow.project_id == project.id)
    )
    row = DocumentRow(
        project_id=project.id,
        position=0 if last is None else last + 1,
        location=document.location,
        file_written=file_written,
    )
    _fill(row, ProjectKind(project.kind), document)
    session.add(row)
    project.modified_at = utcnow()
    session.flush()


def save_document(session: Session, project_name: str, document: Document) -> None:
    """Store ``document``'s annotations, dataset, language, text (only a conversation
    utterance's text changes: a custom text document's is its file's), who labeled it last and
    its review."""
    project = get_row(session, project_name)
    _fill(_get_row(session, project, document.location), ProjectKind(project.kind), document)
    project.modified_at = utcnow()
    session.flush()


def save_documents(session: Session, project_name: str, documents: Sequence[Document]) -> None:
    """Store several documents as :func:`save_document` stores one, in the session's
    transaction (callers read them in it: a location the project lacks is DocumentNotFound)."""
    project = get_row(session, project_name)
    wanted = {document.location: document for document in documents}
    kind = ProjectKind(project.kind)
    # One query for the project's rows rather than one per document (a rename or a bulk
    # assignment touches hundreds).
    rows = session.scalars(select(DocumentRow).where(DocumentRow.project_id == project.id))
    found = 0
    for row in rows:
        document = wanted.get(row.location)
        if document is not None:
            _fill(row, kind, document)
            found += 1
    if found != len(wanted):
        missing = sorted(set(wanted) - set(list_locations(session, project_name)))
        raise DocumentNotFound(
            f"document {missing[0]!r} was not found in project {project.name!r}",
            target="locations",
        )
    project.modified_at = utcnow()
    session.flush()


def _fill(row: DocumentRow, kind: ProjectKind, document: Document) -> None:
    row.text = document.text
    row.language = document.language
    row.dataset = document.dataset.value if document.dataset else None
    row.annotations = annotations_of(kind, document)
    row.labeled_by = document.labeled_by
    review = document.review
    row.review_state = None if review is None else review.decision.value
    row.reviewed_by = None if review is None else review.by
    row.reviewed_at = None if review is None else review.at
    row.review_comment = None if review is None else review.comment


def delete_document(session: Session, project_name: str, location: str) -> None:
    """Remove the document at ``location`` from the project, else DocumentNotFound."""
    project = get_row(session, project_name)
    session.delete(_get_row(session, project, location))
    project.modified_at = utcnow()
    session.flush()


def save_labels(session: Session, project_name: str, labels: Sequence[str]) -> None:
    """Replace the project's label list (callers check that no removed label is in use)."""
    project = get_row(session, project_name)
    project.labels = list(labels)
    project.modified_at = utcnow()
    session.flush()
