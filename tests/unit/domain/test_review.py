"""The review rules: a document's state, a label change clears its review, and the
double-annotation sample."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from lexicraft.domain.projects import Dataset, Document
from lexicraft.domain.review import (
    DocumentState,
    Review,
    ReviewDecision,
    ReviewSettings,
    in_sample,
    is_accepted,
    relabeled,
    state_of,
)
from lexicraft.domain.spans import Span
from lexicraft.errors import InvalidParameterValue

AT = datetime(2027, 2, 1, tzinfo=UTC)
ACCEPTED = Review(ReviewDecision.ACCEPTED, "rita", AT)


def test_states() -> None:
    document = Document("a.txt", "Ana met Rita.")
    assert state_of(document) is DocumentState.UNLABELED
    labeled = replace(document, spans=(Span(0, 3, "Person"),))
    assert state_of(labeled) is DocumentState.LABELED
    assert state_of(replace(labeled, review=ACCEPTED)) is DocumentState.ACCEPTED
    assert is_accepted(replace(labeled, review=ACCEPTED))
    sent_back = Review(ReviewDecision.SENT_BACK, "rita", AT, "Rita is a Person too")
    assert state_of(replace(labeled, review=sent_back)) is DocumentState.SENT_BACK
    assert not is_accepted(replace(labeled, review=sent_back))
    # An accepted document without labels (a NER text with no entity) is accepted.
    assert state_of(replace(document, review=ACCEPTED)) is DocumentState.ACCEPTED


def test_a_label_change_clears_the_review_and_names_who_labeled() -> None:
    before = Document("a.txt", "Ana met Rita.", spans=(Span(0, 3, "Person"),), review=ACCEPTED)
    after = replace(before, spans=(Span(0, 3, "Person"), Span(8, 12, "Person")))
    changed = relabeled(before, after, "ana")
    assert changed.review is None and changed.labeled_by == "ana"
    # Moving it to another dataset keeps the review: the labels reviewed are still there.
    moved = relabeled(before, replace(before, dataset=Dataset.TEST), "ana")
    assert moved.review == ACCEPTED and moved.labeled_by is None
    classes = Document("b.txt", "x", classes=("Sport",), review=ACCEPTED)
    assert relabeled(classes, replace(classes, classes=("News",)), "bo").review is None


def test_an_utterance_loses_its_review_when_its_intent_or_text_changes() -> None:
    utterance = Document(
        "u1", "fly to Oslo", spans=(Span(7, 11, "City"),), classes=("Book",), review=ACCEPTED
    )
    assert state_of(replace(utterance, review=None)) is DocumentState.LABELED
    other_intent = relabeled(utterance, replace(utterance, classes=("None",)), "bo")
    assert (other_intent.review, other_intent.labeled_by) == (None, "bo")
    # The same labels read against another text are not what the reviewer accepted.
    retyped = relabeled(utterance, replace(utterance, text="fly to Oslo!"), "ana")
    assert (retyped.review, retyped.labeled_by) == (None, "ana")
    assert relabeled(utterance, replace(utterance, dataset=Dataset.TRAIN), "ana").review == ACCEPTED


def test_the_sample_is_stable_and_grows_with_its_fraction() -> None:
    locations = [f"doc-{i}.txt" for i in range(400)]
    small = {loc for loc in locations if in_sample(loc, 0.1)}
    large = {loc for loc in locations if in_sample(loc, 0.5)}
    assert small <= large
    assert 10 < len(small) < 80 and 140 < len(large) < 260
    assert not any(in_sample(loc, 0.0) for loc in locations)
    assert all(in_sample(loc, 1.0) for loc in locations)
    assert small == {loc for loc in locations if in_sample(loc, 0.1)}


def test_settings_and_decisions_are_checked() -> None:
    with pytest.raises(InvalidParameterValue) as raised:
        ReviewSettings(double_annotation_fraction=1.5)
    assert raised.value.target == "doubleAnnotationFraction"
    assert ReviewDecision.parse("Accept") is ReviewDecision.ACCEPTED
    assert ReviewDecision.parse("sendBack") is ReviewDecision.SENT_BACK
    with pytest.raises(InvalidParameterValue):
        ReviewDecision.parse("maybe")
    assert DocumentState.parse("SENTBACK") is DocumentState.SENT_BACK
