"""Documents' histories: the labeling use cases record each change here, in their own
transaction; the Studio reads a document's history back."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from lexicraft.domain.history import DocumentAction, DocumentEvent, LabelState
from lexicraft.domain.projects import Document, Project, ProjectKind
from lexicraft.domain.users import Actor
from lexicraft.services.context import ServiceContext
from lexicraft.storage.sql import documents as document_store
from lexicraft.storage.sql import history as history_store
from lexicraft.storage.sql import projects as project_store


def record(
    session: Session,
    project: Project,
    actor: Actor,
    action: DocumentAction,
    before: Document | None,
    after: Document | None,
    *,
    comment: str | None = None,
) -> None:
    """Record that ``actor`` changed a document of ``project`` from ``before`` to ``after``
    (None: it did not exist, or no longer does). An update that changed nothing is not
    recorded: the Studio saves on every keystroke that may change a label. A review is
    recorded whatever it changed, with its ``comment``."""
    with_text = project.kind.is_conversation
    old = LabelState.of(before, with_text=with_text) if before is not None else None
    new = LabelState.of(after, with_text=with_text) if after is not None else None
    if old == new and not action.is_review:
        return
    document = after if after is not None else before
    assert document is not None  # one of the two exists, or nothing changed
    history_store.add_event(
        session, project.name, document.location, action, actor, old, new, comment
    )


@dataclass(frozen=True, slots=True)
class DocumentHistory:
    """A document's changes, oldest first, with its project's kind (renderers need it)."""

    kind: ProjectKind
    location: str
    events: list[DocumentEvent]


def document_history(context: ServiceContext, project_name: str, location: str) -> DocumentHistory:
    """Every change of the document at ``location``, oldest first; a deleted document's
    history stays readable. DocumentNotFound when there is neither document nor history."""
    with context.database.session() as session:
        kind = project_store.get_project(session, project_name).kind
        events = history_store.list_events(session, project_name, location)
        if not events:
            # Raises DocumentNotFound unless the document is there (a document imported
            # and never changed since has an empty history).
            document_store.get_document(session, project_name, location)
        return DocumentHistory(kind, location, events)
