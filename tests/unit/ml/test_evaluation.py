"""Hand-computed evaluation summaries."""

from __future__ import annotations

import json

import pytest

from lexicraft.ml.base import PredictedSpan, Span
from lexicraft.ml.evaluation import evaluate_classification, evaluate_ner

NER_LABELS = ["PER", "LOC", "ORG"]
NER_GOLD = [
    [Span(0, 5, "PER"), Span(10, 15, "LOC")],
    [Span(0, 3, "ORG")],
    [],
    [Span(2, 4, "PER")],
]
NER_PREDICTED: list[list[Span | PredictedSpan]] = [
    # exact PER; LOC with a wrong right edge
    [PredictedSpan(0, 5, "PER", 0.9), PredictedSpan(10, 14, "LOC", 0.8)],
    # right boundaries, wrong category; and a spurious LOC
    [Span(0, 3, "PER"), Span(20, 25, "LOC")],
    [],
    [],
]


def counts(metrics: dict[str, object]) -> tuple[object, ...]:
    return (
        metrics["truePositiveCount"],
        metrics["falsePositiveCount"],
        metrics["falseNegativeCount"],
        metrics["trueNegativeCount"],
    )


def test_ner_counts_only_exact_matches_as_true_positives() -> None:
    entities = evaluate_ner(NER_GOLD, NER_PREDICTED, NER_LABELS)["entities"]

    # TN = documents in which the label is neither expected nor predicted.
    assert counts(entities["PER"]) == (1, 1, 1, 1)
    assert counts(entities["LOC"]) == (0, 2, 1, 2)
    assert counts(entities["ORG"]) == (0, 0, 1, 3)


def test_ner_per_label_figures() -> None:
    entities = evaluate_ner(NER_GOLD, NER_PREDICTED, NER_LABELS)["entities"]

    assert entities["PER"]["precision"] == pytest.approx(0.5)
    assert entities["PER"]["recall"] == pytest.approx(0.5)
    assert entities["PER"]["f1"] == pytest.approx(0.5)
    assert (entities["LOC"]["precision"], entities["LOC"]["recall"], entities["LOC"]["f1"]) == (
        0.0,
        0.0,
        0.0,
    )
    # ORG was never predicted: precision is 0/0, reported as 0.0 rather than NaN.
    assert entities["ORG"]["precision"] == 0.0
    assert entities["ORG"]["f1"] == 0.0


def test_ner_micro_pools_counts_and_macro_averages_labels() -> None:
    summary = evaluate_ner(NER_GOLD, NER_PREDICTED, NER_LABELS)

    # micro: TP 1, FP 3, FN 3
    assert summary["microPrecision"] == pytest.approx(0.25)
    assert summary["microRecall"] == pytest.approx(0.25)
    assert summary["microF1"] == pytest.approx(0.25)
    # macro: (0.5 + 0 + 0) / 3
    assert summary["macroPrecision"] == pytest.approx(1 / 6)
    assert summary["macroRecall"] == pytest.approx(1 / 6)
    assert summary["macroF1"] == pytest.approx(1 / 6)


def test_ner_confusion_matrix_pairs_exact_then_overlapping_spans() -> None:
    matrix = evaluate_ner(NER_GOLD, NER_PREDICTED, NER_LABELS)["confusionMatrix"]

    assert matrix == {
        "PER": {
            "PER": {"normalizedValue": 50.0, "rawValue": 1},
            "$none": {"normalizedValue": 50.0, "rawValue": 1},
        },
        "LOC": {"LOC": {"normalizedValue": 100.0, "rawValue": 1}},
        "ORG": {"PER": {"normalizedValue": 100.0, "rawValue": 1}},
        "$none": {"LOC": {"normalizedValue": 100.0, "rawValue": 1}},
    }


def test_ner_overlap_pairs_each_prediction_once() -> None:
    gold = [[Span(0, 4, "PER"), Span(5, 9, "PER")]]
    predicted: list[list[Span | PredictedSpan]] = [[Span(2, 7, "PER")]]

    matrix = evaluate_ner(gold, predicted, ["PER"])["confusionMatrix"]

    assert matrix["PER"]["PER"]["rawValue"] == 1
    assert matrix["PER"]["$none"]["rawValue"] == 1
    assert "$none" not in matrix


def test_ner_lists_every_label_even_without_data() -> None:
    summary = evaluate_ner([], [], ["PER", "LOC"])

    assert set(summary["entities"]) == {"PER", "LOC"}
    assert counts(summary["entities"]["LOC"]) == (0, 0, 0, 0)
    assert summary["microF1"] == 0.0
    assert summary["macroF1"] == 0.0
    assert summary["confusionMatrix"] == {}


def test_ner_perfect_prediction_scores_one() -> None:
    gold = [[Span(0, 3, "PER")], [Span(1, 2, "LOC")]]

    summary = evaluate_ner(gold, [list(spans) for spans in gold], ["PER", "LOC"])

    assert summary["microF1"] == 1.0
    assert summary["macroF1"] == 1.0


def test_ner_rejects_mismatched_documents_and_unknown_labels() -> None:
    with pytest.raises(ValueError, match="documents"):
        evaluate_ner([[]], [], ["PER"])
    with pytest.raises(ValueError, match="'ORG'"):
        evaluate_ner([[Span(0, 1, "ORG")]], [[]], ["PER"])


def test_summaries_are_json_ready_plain_floats() -> None:
    summaries = [
        evaluate_ner(NER_GOLD, NER_PREDICTED, NER_LABELS),
        evaluate_classification([["A"]], [["A"]], ["A", "B"], multi_label=False),
    ]

    for summary in summaries:
        json.dumps(summary, allow_nan=False)
        for key in ("microF1", "microPrecision", "microRecall", "macroF1", "macroPrecision"):
            assert type(summary[key]) is float
            assert 0.0 <= summary[key] <= 1.0


SINGLE_GOLD = [["A"], ["A"], ["B"], ["C"]]
SINGLE_PREDICTED = [["A"], ["B"], ["B"], ["B"]]


def test_single_label_counts_and_figures() -> None:
    summary = evaluate_classification(SINGLE_GOLD, SINGLE_PREDICTED, ["A", "B", "C"], False)
    classes = summary["classes"]

    assert counts(classes["A"]) == (1, 0, 1, 2)
    assert counts(classes["B"]) == (1, 2, 0, 1)
    assert counts(classes["C"]) == (0, 0, 1, 3)
    assert classes["A"]["f1"] == pytest.approx(2 / 3)
    assert classes["B"]["precision"] == pytest.approx(1 / 3)
    assert classes["B"]["f1"] == pytest.approx(0.5)
    # micro figures of single-label classification all equal accuracy
    assert summary["microPrecision"] == pytest.approx(0.5)
    assert summary["microRecall"] == pytest.approx(0.5)
    assert summary["microF1"] == pytest.approx(0.5)
    assert summary["macroPrecision"] == pytest.approx(4 / 9)
    assert summary["macroRecall"] == pytest.approx(0.5)
    assert summary["macroF1"] == pytest.approx(7 / 18)


def test_single_label_confusion_matrix() -> None:
    summary = evaluate_classification(SINGLE_GOLD, SINGLE_PREDICTED, ["A", "B", "C"], False)

    assert summary["confusionMatrix"] == {
        "A": {
            "A": {"normalizedValue": 50.0, "rawValue": 1},
            "B": {"normalizedValue": 50.0, "rawValue": 1},
        },
        "B": {"B": {"normalizedValue": 100.0, "rawValue": 1}},
        "C": {"B": {"normalizedValue": 100.0, "rawValue": 1}},
    }


def test_single_label_missing_prediction_shows_as_none() -> None:
    summary = evaluate_classification([["A"]], [[]], ["A"], False)

    assert summary["confusionMatrix"] == {"A": {"$none": {"normalizedValue": 100.0, "rawValue": 1}}}
    assert counts(summary["classes"]["A"]) == (0, 0, 1, 0)


def test_multi_label_counts_per_class_and_document() -> None:
    gold = [["X", "Y"], ["X"], [], ["Z"]]
    predicted = [["X"], ["X", "Y"], ["Y"], []]

    summary = evaluate_classification(gold, predicted, ["X", "Y", "Z"], multi_label=True)

    assert "confusionMatrix" not in summary
    assert counts(summary["classes"]["X"]) == (2, 0, 0, 2)
    assert counts(summary["classes"]["Y"]) == (0, 2, 1, 1)
    assert counts(summary["classes"]["Z"]) == (0, 0, 1, 3)
    assert summary["microF1"] == pytest.approx(0.5)
    assert summary["macroF1"] == pytest.approx(1 / 3)
    assert summary["macroRecall"] == pytest.approx(1 / 3)


def test_classification_zero_division_is_zero() -> None:
    summary = evaluate_classification([[]], [[]], ["X"], multi_label=True)

    assert summary["classes"]["X"]["precision"] == 0.0
    assert summary["classes"]["X"]["recall"] == 0.0
    assert summary["microF1"] == 0.0
    assert counts(summary["classes"]["X"]) == (0, 0, 0, 1)


def test_classification_rejects_unknown_classes() -> None:
    with pytest.raises(ValueError, match="'Q'"):
        evaluate_classification([["A"]], [["Q"]], ["A"], multi_label=False)
