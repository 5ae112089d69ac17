"""Review of labeled documents and the double-annotation sample.

A document is ``unlabeled`` until it carries a span or class (a conversation utterance always
has its intent), then ``labeled``; a reviewer ``accepted`` it or ``sentBack`` its labels (with
a comment). Whoever changes its labels after a review clears that review (:func:`relabeled`):
the labels the reviewer saw are gone, so the document needs review again. A project may have
a share of its documents annotated by several people (:func:`in_sample`), to measure how well
they agree (``domain.agreement``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from lexicraft.domain.spans import Span
from lexicraft.errors import InvalidParameterValue

if TYPE_CHECKING:
    from lexicraft.domain.projects import Document


class ReviewDecision(StrEnum):
    """What a reviewer decided about a document's labels."""

    ACCEPTED = "accepted"
    SENT_BACK = "sentBack"

    @classmethod
    def parse(cls, value: str, target: str = "decision") -> ReviewDecision:
        """The decision named ``value``: ``accept``/``accepted`` or ``sendBack``/``sentBack``
        (case-insensitive)."""
        wanted = value.lower()
        if wanted in ("accept", "accepted"):
            return cls.ACCEPTED
        if wanted in ("sendback", "sentback"):
            return cls.SENT_BACK
        raise InvalidParameterValue(
            f"decision {value!r} is not valid; use 'accept' or 'sendBack'", target=target
        )


class DocumentState(StrEnum):
    """Where a document is in the labeling workflow."""

    UNLABELED = "unlabeled"
    LABELED = "labeled"
    ACCEPTED = "accepted"
    SENT_BACK = "sentBack"

    @classmethod
    def parse(cls, value: str, target: str = "state") -> DocumentState:
        """The state named ``value`` (case-insensitive)."""
        for member in cls:
            if member.value.lower() == value.lower():
                return member
        raise InvalidParameterValue(
            f"state {value!r} is not valid; use one of {[member.value for member in cls]}",
            target=target,
        )


@dataclass(frozen=True, slots=True)
class Review:
    """A reviewer's decision about a document's labels as they are now."""

    decision: ReviewDecision
    by: str
    at: datetime
    comment: str | None = None


def state_of(document: Document) -> DocumentState:
    """The workflow state of ``document``: its review's, else whether it is labeled."""
    if document.review is not None:
        return DocumentState(document.review.decision.value)
    if document.spans or document.classes:
        return DocumentState.LABELED
    return DocumentState.UNLABELED


def is_accepted(document: Document) -> bool:
    """Whether a reviewer accepted ``document``'s labels as they are now."""
    return document.review is not None and document.review.decision is ReviewDecision.ACCEPTED


def relabeled(before: Document, after: Document, by: str) -> Document:
    """``after`` as ``by`` leaves it: when its spans, classes (an utterance's intent) or text
    differ from ``before``'s, the review is cleared (what was reviewed is gone) and ``by``
    labeled it last. The one rule for what a label change does to a review. Only an
    utterance's text can change (a custom text document's is its file's); its labels are read
    against it."""
    if (before.text, before.spans, before.classes) == (after.text, after.spans, after.classes):
        return after
    return replace(after, review=None, labeled_by=by)


#: The most a project's double-annotation fraction may be (every document).
MAX_FRACTION = 1.0


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    """A project's review settings: train on accepted documents only; the share (0 to 1) of its
    documents in the double-annotation sample."""

    train_reviewed_only: bool = False
    double_annotation_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.double_annotation_fraction <= MAX_FRACTION:
            raise InvalidParameterValue(
                f"doubleAnnotationFraction {self.double_annotation_fraction} is not between 0 "
                "and 1",
                target="doubleAnnotationFraction",
            )


def in_sample(location: str, fraction: float) -> bool:
    """Whether the document at ``location`` is in a double-annotation sample of ``fraction``
    of the documents. A hash of the location, not a random draw: the same documents stay in
    the sample as documents come and go, and a larger fraction keeps the smaller one's."""
    if fraction <= 0.0:
        return False
    digest = hashlib.sha256(location.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


@dataclass(frozen=True, slots=True)
class AnnotatorVersion:
    """One annotator's own labels of a double-annotated document (spans for NER, classes for
    classification, an utterance's intent as its one class and its entity spans); the
    document's labels are the resolved version."""

    location: str
    annotator: str
    spans: tuple[Span, ...]
    classes: tuple[str, ...]
    updated_at: datetime
