"""Inter-annotator agreement against hand-computed values: Cohen's kappa of known tables,
span F1 per category and over all spans, both parts of an utterance's labels (intent kappa,
entity F1), and which pairs and documents are compared."""

from __future__ import annotations

import pytest

from lexicraft.domain.agreement import (
    Measure,
    PairReport,
    Part,
    class_agreement,
    cohen_kappa,
    measured_parts,
    pairwise_class_agreement,
    pairwise_span_agreement,
    pairwise_utterance_agreement,
    span_agreement,
    span_f1,
    utterance_agreement,
)
from lexicraft.domain.projects import ProjectKind
from lexicraft.domain.spans import Span


def _wikipedia_table() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Wikipedia's kappa example as 50 documents: both say yes 20, only the first 5, only the
    second 10, neither 15 (pₒ = 0.7, pₑ = 0.5, κ = 0.4)."""
    answers = [(True, True)] * 20 + [(True, False)] * 5 + [(False, True)] * 10
    answers += [(False, False)] * 15
    first = {f"d{i}": ("Yes",) if a else () for i, (a, _) in enumerate(answers)}
    second = {f"d{i}": ("Yes",) if b else () for i, (_, b) in enumerate(answers)}
    return first, second


def test_kappa_of_wikipedias_two_by_two_table() -> None:
    pairs = [(True, True)] * 20 + [(True, False)] * 5 + [(False, True)] * 10
    pairs += [(False, False)] * 15
    assert cohen_kappa(pairs) == pytest.approx(0.4)


def test_kappa_over_three_categories() -> None:
    # pₒ = 8/10; both annotators: a 5, b 4, c 1 → pₑ = 0.42; κ = 0.38 / 0.58 = 19/29.
    pairs = [("a", "a")] * 4 + [("b", "b")] * 3 + [("a", "b"), ("b", "a"), ("c", "c")]
    assert cohen_kappa(pairs) == pytest.approx(19 / 29)


def test_kappa_is_undefined_without_variation_or_items() -> None:
    assert cohen_kappa([("a", "a")] * 3) is None
    assert cohen_kappa([]) is None
    # Perfect agreement with variation is 1; systematic disagreement is below 0.
    assert cohen_kappa([("a", "a"), ("b", "b")]) == pytest.approx(1.0)
    assert cohen_kappa([("a", "b"), ("b", "a")]) == pytest.approx(-1.0)


def test_multi_label_class_agreement_is_binary_kappa_per_class() -> None:
    first, second = _wikipedia_table()
    pair = class_agreement("ana", "rita", (first, second), ["Yes", "Other"], single_label=False)
    assert pair.measure is Measure.COHEN_KAPPA
    assert len(pair.documents) == 50
    yes, other = pair.labels
    assert (yes.category, yes.first, yes.second, yes.both) == ("Yes", 25, 30, 20)
    assert yes.score == pytest.approx(0.4)
    # Nobody used "Other": no variation, no kappa.
    assert (other.category, other.score, other.first, other.second) == ("Other", None, 0, 0)
    # Pooled (document, class) decisions: 100 of them, 85 agree; each annotator said yes to
    # 25 and 30 of them → pₑ = (25·30 + 75·70) / 100² = 0.6, κ = (0.85 - 0.6) / 0.4.
    assert pair.overall == pytest.approx((0.85 - 0.6) / 0.4)
    assert len(pair.conflicts) == 15


def test_single_label_overall_kappa_counts_no_class_as_an_answer() -> None:
    first = {"d1": ("a",), "d2": ("a",), "d3": ("b",), "d4": ()}
    second = {"d1": ("a",), "d2": ("b",), "d3": ("b",), "d4": ()}
    pair = class_agreement("x", "y", (first, second), ["a", "b"], single_label=True)
    # pₒ = 3/4; first: a 2, b 1, none 1; second: a 1, b 2, none 1 → pₑ = (2 + 2 + 1) / 16.
    expected = (0.75 - 5 / 16) / (1 - 5 / 16)
    assert pair.overall == pytest.approx(expected)
    assert pair.conflicts == ("d2",)
    # One-vs-rest for "a": (T,T) (T,F) (F,F) (F,F) → pₒ 3/4, pₑ = (2·1 + 2·3) / 16.
    a_score = pair.labels[0].score
    assert a_score is not None and a_score == pytest.approx((0.75 - 0.5) / 0.5)


def test_span_f1_per_category_and_overall() -> None:
    first = {
        "d1": (Span(0, 3, "Person"), Span(5, 8, "City")),
        "d2": (Span(0, 4, "Person"),),
        "only-first": (Span(0, 1, "Person"),),
    }
    second = {
        "d1": (Span(0, 3, "Person"), Span(5, 9, "City")),  # City one character longer
        "d2": (Span(0, 4, "Person"), Span(6, 9, "City")),
    }
    pair = span_agreement("ana", "rita", (first, second), ["Person", "City", "Date"])
    assert pair.measure is Measure.SPAN_F1
    assert pair.documents == ("d1", "d2")
    person, city, date = pair.labels
    assert (person.score, person.first, person.second, person.both) == (1.0, 2, 2, 2)
    assert (city.score, city.first, city.second, city.both) == (0.0, 1, 2, 0)
    assert date.score is None
    # 2 matched of 3 and 4 spans: 2·2 / 7.
    assert pair.overall == pytest.approx(4 / 7)
    assert pair.conflicts == ("d1", "d2")


def test_span_f1_is_symmetric() -> None:
    one = [Span(0, 3, "A"), Span(4, 6, "B"), Span(7, 9, "A")]
    other = [Span(0, 3, "A"), Span(4, 6, "A")]
    assert span_f1(one, other) == span_f1(other, one) == (pytest.approx(2 / 5), 1)
    assert span_f1([], []) == (None, 0)


def test_every_pair_that_shares_a_document_is_compared() -> None:
    versions = {
        "rita": {"d1": (Span(0, 3, "A"),)},
        "ana": {"d1": (Span(0, 3, "A"),), "d2": ()},
        "bo": {"d2": (Span(0, 1, "A"),)},
        "cy": {"d9": ()},  # shares nothing
    }
    pairs = pairwise_span_agreement(versions, ["A"])
    assert [(p.first, p.second) for p in pairs] == [("ana", "bo"), ("ana", "rita")]
    assert pairs[1].overall == 1.0
    assert pairs[0].overall == 0.0 and pairs[0].conflicts == ("d2",)
    classes = pairwise_class_agreement(
        {"a": {"d1": ("x",)}, "b": {"d1": ("x",)}}, ["x"], single_label=True
    )
    assert len(classes) == 1 and classes[0].labels[0].both == 1


def test_each_kind_measures_its_parts() -> None:
    assert measured_parts(ProjectKind.ENTITY_RECOGNITION) == ((Part.ENTITIES, Measure.SPAN_F1),)
    assert measured_parts(ProjectKind.MULTI_LABEL_CLASSIFICATION) == (
        (Part.CLASSES, Measure.COHEN_KAPPA),
    )
    assert measured_parts(ProjectKind.CONVERSATION) == (
        (Part.INTENTS, Measure.COHEN_KAPPA),
        (Part.ENTITIES, Measure.SPAN_F1),
    )


def test_utterances_agree_on_intents_by_kappa_and_on_entities_by_span_f1() -> None:
    city, contact = Span(17, 22, "City"), Span(6, 11, "Contact")
    first = {
        "u1": ("BookFlight", (city,)),
        "u2": ("BookFlight", ()),
        "u3": ("SendEmail", (contact,)),
        "u4": ("None", ()),
        "only-first": ("None", ()),
    }
    second = {
        "u1": ("BookFlight", (city,)),
        "u2": ("SendEmail", ()),  # another intent, the same (no) entities
        "u3": ("SendEmail", (Span(6, 12, "Contact"),)),  # the same intent, a longer span
        "u4": ("None", ()),
    }
    report = utterance_agreement(
        "ana", "bo", (first, second), ["None", "BookFlight", "SendEmail"], ["City", "Contact"]
    )
    assert (report.first, report.second) == ("ana", "bo")
    assert report.documents == ("u1", "u2", "u3", "u4")
    intents, entities = report.parts
    assert (intents.part, intents.measure) == (Part.INTENTS, Measure.COHEN_KAPPA)
    assert (entities.part, entities.measure) == (Part.ENTITIES, Measure.SPAN_F1)
    # Intents: pₒ = 3/4; ana BookFlight 2, SendEmail 1, None 1; bo 1, 2, 1
    # → pₑ = (2·1 + 1·2 + 1·1) / 16 = 5/16, κ = (3/4 - 5/16) / (11/16) = 7/11.
    assert intents.overall == pytest.approx(7 / 11)
    none, book, send = intents.labels
    assert [label.category for label in intents.labels] == ["None", "BookFlight", "SendEmail"]
    # "None" one-vs-rest: (F,F) (F,F) (F,F) (T,T) → pₒ 1, pₑ = (1·1 + 3·3) / 16 → κ 1.
    assert none.score == pytest.approx(1.0)
    assert (book.first, book.second, book.both) == (2, 1, 1)
    # "SendEmail": (F,F) (F,T) (T,T) (F,F) → pₒ 3/4, pₑ = (1·2 + 3·2) / 16 = 1/2 → κ 1/2.
    assert send.score == pytest.approx(0.5)
    assert intents.conflicts == ("u2",)
    # Entities: City matches, Contact differs by a character: 2·1 / (2 + 2) = 1/2 overall.
    assert entities.overall == pytest.approx(0.5)
    assert [(label.category, label.score) for label in entities.labels] == [
        ("City", 1.0),
        ("Contact", 0.0),
    ]
    assert entities.conflicts == ("u3",)
    # An utterance conflicts when either part differs; in document order.
    assert report.conflicts == ("u2", "u3")


def test_every_pair_of_utterance_annotators_is_reported() -> None:
    versions = {
        "cy": {"u9": ("None", ())},
        "bo": {"u1": ("A", ())},
        "ana": {"u1": ("A", ()), "u2": (None, ())},
    }
    (report,) = pairwise_utterance_agreement(versions, ["A"], [])
    assert (report.first, report.second, report.documents) == ("ana", "bo", ("u1",))
    assert report.conflicts == ()
    # No entity anywhere: span F1 is undefined, not 0.
    assert report.parts[1].overall is None


def test_a_report_of_one_part_is_that_part() -> None:
    pair = span_agreement("a", "b", ({"d": (Span(0, 1, "X"),)}, {"d": ()}), ["X"])
    report = PairReport.of(pair)
    assert (report.parts, report.conflicts, report.documents) == ((pair,), ("d",), ("d",))
