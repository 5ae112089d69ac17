"""Documents' histories in SQL: one row per change, in compact JSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lexicraft.domain.history import DocumentAction, DocumentEvent, LabelState
from lexicraft.domain.projects import Dataset
from lexicraft.domain.spans import Span
from lexicraft.domain.users import Actor
from lexicraft.storage.sql.projects import get_row
from lexicraft.storage.sql.tables import DocumentEventRow
from lexicraft.timeutil import as_utc, utcnow


def _dump(state: LabelState | None) -> dict[str, Any] | None:
    """``{"spans": [[start, end, category], …], "classes": […], "dataset", "language",
    "text"}`` with empty and absent fields left out: a history row stays small."""
    if state is None:
        return None
    stored: dict[str, Any] = {
        "spans": [[span.start, span.end, span.category] for span in state.spans],
        "classes": list(state.classes),
        "dataset": state.dataset.value if state.dataset else None,
        "language": state.language,
        "text": state.text,
    }
    return {name: value for name, value in stored.items() if value not in (None, [])}


def _load(stored: dict[str, Any] | None) -> LabelState | None:
    if stored is None:
        return None
    dataset = stored.get("dataset")
    return LabelState(
        spans=tuple(Span(int(s), int(e), str(c)) for s, e, c in stored.get("spans", [])),
        classes=tuple(str(c) for c in stored.get("classes", [])),
        dataset=Dataset(dataset) if dataset else None,
        language=stored.get("language"),
        text=stored.get("text"),
    )


def add_event(
    session: Session,
    project_name: str,
    location: str,
    action: DocumentAction,
    actor: Actor,
    before: LabelState | None,
    after: LabelState | None,
    comment: str | None = None,
) -> None:
    """Record one change of the document at ``location`` (in the caller's transaction)."""
    project = get_row(session, project_name)
    session.add(
        DocumentEventRow(
            project_id=project.id,
            location=location,
            at=utcnow(),
            action=action.value,
            actor=actor.name,
            user_id=actor.user_id,
            key_id=actor.key_id,
            before=_dump(before),
            after=_dump(after),
            comment=comment,
        )
    )
    session.flush()


def list_events(session: Session, project_name: str, location: str) -> list[DocumentEvent]:
    """Every recorded change of the document at ``location``, oldest first."""
    project = get_row(session, project_name)
    rows = session.scalars(
        select(DocumentEventRow)
        .where(DocumentEventRow.project_id == project.id, DocumentEventRow.location == location)
        .order_by(DocumentEventRow.id)
    )
    return [
        DocumentEvent(
            id=row.id,
            location=row.location,
            at=as_utc(row.at),
            action=DocumentAction(row.action),
            actor=row.actor,
            user_id=row.user_id,
            key_id=row.key_id,
            before=_load(row.before),
            after=_load(row.after),
            comment=row.comment,
        )
        for row in rows
    ]
