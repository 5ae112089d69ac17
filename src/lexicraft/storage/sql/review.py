"""Review settings of projects and annotators' own versions of documents (utterances too) in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lexicraft.domain.projects import ProjectKind
from lexicraft.domain.review import AnnotatorVersion, ReviewSettings
from lexicraft.domain.spans import Span
from lexicraft.storage.sql.projects import get_row, labels_of, stored_labels
from lexicraft.storage.sql.tables import DocumentAnnotationRow, ProjectRow
from lexicraft.timeutil import as_utc, utcnow


def get_settings(session: Session, project_name: str) -> ReviewSettings:
    """The project's review settings."""
    return _settings(get_row(session, project_name))


def _settings(row: ProjectRow) -> ReviewSettings:
    return ReviewSettings(
        train_reviewed_only=bool(row.train_reviewed_only),
        double_annotation_fraction=float(row.double_annotation_fraction or 0.0),
    )


def save_settings(session: Session, project_name: str, settings: ReviewSettings) -> None:
    """Replace the project's review settings."""
    row = get_row(session, project_name)
    row.train_reviewed_only = settings.train_reviewed_only
    row.double_annotation_fraction = settings.double_annotation_fraction
    row.modified_at = utcnow()
    session.flush()


def save_version(
    session: Session,
    project_name: str,
    location: str,
    annotator: str,
    spans: Sequence[Span],
    classes: Sequence[str],
) -> AnnotatorVersion:
    """Store ``annotator``'s own labels of the document at ``location`` (replacing theirs)."""
    project = get_row(session, project_name)
    row = session.scalar(
        select(DocumentAnnotationRow).where(
            DocumentAnnotationRow.project_id == project.id,
            DocumentAnnotationRow.location == location,
            DocumentAnnotationRow.annotator == annotator,
        )
    )
    if row is None:
        row = DocumentAnnotationRow(project_id=project.id, location=location, annotator=annotator)
        session.add(row)
    row.annotations = stored_labels(ProjectKind(project.kind), spans, classes)
    row.updated_at = utcnow()
    session.flush()
    return _version(row, ProjectKind(project.kind))


def relabel_versions(
    session: Session, project_name: str, versions: Sequence[AnnotatorVersion]
) -> None:
    """Store new labels of annotators' versions (a label renamed project-wide): each keeps
    when its annotator last saved it."""
    if not versions:
        return
    project = get_row(session, project_name)
    kind = ProjectKind(project.kind)
    # One query for the project's versions rather than one per version (a rename touches
    # hundreds).
    rows = {
        (row.location, row.annotator): row
        for row in session.scalars(
            select(DocumentAnnotationRow).where(DocumentAnnotationRow.project_id == project.id)
        )
    }
    for version in versions:
        row = rows[(version.location, version.annotator)]
        row.annotations = stored_labels(kind, version.spans, version.classes)
    session.flush()


def list_versions(
    session: Session, project_name: str, location: str | None = None
) -> list[AnnotatorVersion]:
    """The annotators' versions of the document at ``location`` (None: of every document), by
    location and annotator."""
    project = get_row(session, project_name)
    query = select(DocumentAnnotationRow).where(DocumentAnnotationRow.project_id == project.id)
    if location is not None:
        query = query.where(DocumentAnnotationRow.location == location)
    query = query.order_by(DocumentAnnotationRow.location, DocumentAnnotationRow.annotator)
    kind = ProjectKind(project.kind)
    return [_version(row, kind) for row in session.scalars(query)]


def _version(row: DocumentAnnotationRow, kind: ProjectKind) -> AnnotatorVersion:
    spans, classes = labels_of(kind, row.annotations)
    return AnnotatorVersion(
        location=row.location,
        annotator=row.annotator,
        spans=spans,
        classes=classes,
        updated_at=as_utc(row.updated_at),
    )
