"""A document's history: who changed its labels, when, and from what to what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from lexicraft.domain.projects import Dataset, Document
from lexicraft.domain.spans import Span


class DocumentAction(StrEnum):
    """What a change did to a document."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    #: A label (an intent or entity) was renamed, and with it this document's use of it.
    LABEL_RENAMED = "labelRenamed"
    #: A reviewer accepted the document's labels.
    REVIEWED = "reviewed"
    #: A reviewer sent the document's labels back (with a comment saying why).
    SENT_BACK = "sentBack"
    #: A reviewer chose (or merged) the document's labels from the annotators' versions.
    RESOLVED = "resolved"

    @property
    def is_review(self) -> bool:
        """Whether the action is a review, recorded even when the labels stay as they were."""
        return self in (DocumentAction.REVIEWED, DocumentAction.SENT_BACK, DocumentAction.RESOLVED)


@dataclass(frozen=True, slots=True)
class LabelState:
    """What a document's labels were at one moment: spans, classes (an utterance's intent),
    dataset and language; ``text`` only for a conversation utterance (whose text is edited in
    place; a custom text document's is its file's and never changes)."""

    spans: tuple[Span, ...] = ()
    classes: tuple[str, ...] = ()
    dataset: Dataset | None = None
    language: str | None = None
    text: str | None = None

    @classmethod
    def of(cls, document: Document, *, with_text: bool) -> LabelState:
        """The labels of ``document`` (and its text when ``with_text``)."""
        return cls(
            spans=document.spans,
            classes=document.classes,
            dataset=document.dataset,
            language=document.language,
            text=document.text if with_text else None,
        )


@dataclass(frozen=True, slots=True)
class DocumentEvent:
    """One change of a document: ``actor`` is the user's name, else the key's; ``comment``:
    a review's."""

    id: int
    location: str
    at: datetime
    action: DocumentAction
    actor: str
    user_id: int | None
    key_id: int | None
    before: LabelState | None
    after: LabelState | None
    comment: str | None = None
