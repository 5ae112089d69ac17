"""Score predictions against gold labels in the shapes Azure's evaluation summaries use.

Both functions return JSON-ready dicts with camelCase keys. Precision, recall and F1 are floats
in 0 … 1 and are 0.0 (never NaN) where their denominator is zero. Macro figures are unweighted
means over the given labels; micro figures pool the counts of every label.

The confusion matrix is ``{expected: {predicted: {"normalizedValue", "rawValue"}}}`` where
``normalizedValue`` is the cell's share of its row in percent (0 … 100, as Azure reports it) and
``"$none"`` stands for "no entity" / "no class". Cells with a raw value of 0 are left out, so the
matrix stays small for projects with many labels.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lexicraft.ml.base import PredictedSpan, Span

#: The confusion-matrix key for "no entity" (NER) or "no class" (classification).
NONE_KEY = "$none"


@dataclass(slots=True)
class _Counts:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    true_negative: int = 0


def evaluate_ner(
    gold: Sequence[Sequence[Span]],
    predicted: Sequence[Sequence[Span | PredictedSpan]],
    labels: Sequence[str],
) -> dict[str, Any]:
    """Entity-level evaluation of NER predictions, one list of spans per document.

    A true positive needs the exact same ``[start, end)`` and category. Every unmatched
    prediction is a false positive of its category and every unmatched gold span a false negative
    of its category (so a right span with the wrong category counts once each way). The true
    negatives of a label are the documents in which that label is neither expected nor predicted,
    since entity-level negatives are otherwise unbounded.

    The confusion matrix pairs each gold span with a prediction of the same boundaries, or
    failing that with the unpaired prediction it overlaps most; unpaired gold spans go to
    ``[gold]["$none"]`` and unpaired predictions to ``["$none"][predicted]``.
    """
    _check_same_length(gold, predicted)
    label_list = _unique_labels(labels)
    known = set(label_list)
    counts = {label: _Counts() for label in label_list}
    matrix: Counter[tuple[str, str]] = Counter()
    for document_gold, document_predicted in zip(gold, predicted, strict=True):
        gold_keys = {(span.start, span.end, span.category) for span in document_gold}
        predicted_keys = {(span.start, span.end, span.category) for span in document_predicted}
        _check_known(known, label_list, (key[2] for key in gold_keys | predicted_keys))
        for key in gold_keys & predicted_keys:
            counts[key[2]].true_positive += 1
        for key in predicted_keys - gold_keys:
            counts[key[2]].false_positive += 1
        for key in gold_keys - predicted_keys:
            counts[key[2]].false_negative += 1
        present = {key[2] for key in gold_keys | predicted_keys}
        for label in label_list:
            if label not in present:
                counts[label].true_negative += 1
        matrix.update(_pair_spans(sorted(gold_keys), sorted(predicted_keys)))
    summary: dict[str, Any] = {
        "confusionMatrix": _confusion_matrix(matrix),
        "entities": {label: _metrics(counts[label]) for label in label_list},
    }
    summary.update(_averages(counts))
    return summary


#: Equal-width confidence bins of :func:`expected_calibration_error`.
ECE_BINS = 15


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = ECE_BINS
) -> float:
    """ECE over equal-width bins ``(i/bins, (i+1)/bins]`` (a confidence of 0 goes in the first).

    The sum over bins of (share of predictions in the bin) x |accuracy - mean confidence|;
    0 for no predictions.
    """
    count = [0] * bins
    confidence_sum = [0.0] * bins
    correct_sum = [0] * bins
    for confidence, right in zip(confidences, correct, strict=True):
        index = min(bins - 1, max(0, math.ceil(confidence * bins) - 1))
        count[index] += 1
        confidence_sum[index] += confidence
        correct_sum[index] += int(right)
    total = sum(count)
    if total == 0:
        return 0.0
    return sum(abs(correct_sum[b] - confidence_sum[b]) for b in range(bins)) / total


def evaluate_classification(
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    labels: Sequence[str],
    multi_label: bool,
) -> dict[str, Any]:
    """Document-level evaluation of classification predictions, one list of classes per document.

    Each class counts, per document, as a true positive (expected and predicted), false positive
    (predicted only), false negative (expected only) or true negative (neither). For single-label
    projects the result also has a ``confusionMatrix`` of expected by predicted class, with
    ``"$none"`` standing in where a document has no (predicted) class.
    """
    _check_same_length(gold, predicted)
    label_list = _unique_labels(labels)
    known = set(label_list)
    counts = {label: _Counts() for label in label_list}
    matrix: Counter[tuple[str, str]] = Counter()
    for document_gold, document_predicted in zip(gold, predicted, strict=True):
        gold_classes = set(document_gold)
        predicted_classes = set(document_predicted)
        _check_known(known, label_list, gold_classes | predicted_classes)
        for label in label_list:
            expected = label in gold_classes
            found = label in predicted_classes
            if expected and found:
                counts[label].true_positive += 1
            elif found:
                counts[label].false_positive += 1
            elif expected:
                counts[label].false_negative += 1
            else:
                counts[label].true_negative += 1
        if not multi_label:
            # Single-label documents carry one class each; a missing one is shown as "$none"
            # rather than hidden, so a broken predictor is visible in the matrix.
            expected_class = document_gold[0] if document_gold else NONE_KEY
            predicted_class = document_predicted[0] if document_predicted else NONE_KEY
            matrix[(expected_class, predicted_class)] += 1
    summary: dict[str, Any] = {
        "classes": {label: _metrics(counts[label]) for label in label_list},
    }
    if not multi_label:
        summary["confusionMatrix"] = _confusion_matrix(matrix)
    summary.update(_averages(counts))
    return summary


SpanKey = tuple[int, int, str]


def _pair_spans(gold: list[SpanKey], predicted: list[SpanKey]) -> Counter[tuple[str, str]]:
    """Confusion-matrix cells for one document (see :func:`evaluate_ner`)."""
    cells: Counter[tuple[str, str]] = Counter()
    unpaired_predicted = list(predicted)
    unpaired_gold: list[SpanKey] = []
    for gold_key in gold:
        same_boundaries = next(
            (key for key in unpaired_predicted if key[:2] == gold_key[:2]),
            None,
        )
        if same_boundaries is None:
            unpaired_gold.append(gold_key)
        else:
            unpaired_predicted.remove(same_boundaries)
            cells[(gold_key[2], same_boundaries[2])] += 1
    for gold_key in unpaired_gold:
        best: SpanKey | None = None
        best_overlap = 0
        for key in unpaired_predicted:
            overlap = min(gold_key[1], key[1]) - max(gold_key[0], key[0])
            if overlap > best_overlap:
                best, best_overlap = key, overlap
        if best is None:
            cells[(gold_key[2], NONE_KEY)] += 1
        else:
            unpaired_predicted.remove(best)
            cells[(gold_key[2], best[2])] += 1
    for key in unpaired_predicted:
        cells[(NONE_KEY, key[2])] += 1
    return cells


def _confusion_matrix(cells: Counter[tuple[str, str]]) -> dict[str, dict[str, dict[str, Any]]]:
    row_totals: Counter[str] = Counter()
    for (expected, _), count in cells.items():
        row_totals[expected] += count
    matrix: dict[str, dict[str, dict[str, Any]]] = {}
    for (expected, predicted), count in sorted(cells.items()):
        if count == 0:
            continue
        matrix.setdefault(expected, {})[predicted] = {
            "normalizedValue": 100.0 * count / row_totals[expected],
            "rawValue": count,
        }
    return matrix


def _metrics(counts: _Counts) -> dict[str, Any]:
    precision = _ratio(counts.true_positive, counts.true_positive + counts.false_positive)
    recall = _ratio(counts.true_positive, counts.true_positive + counts.false_negative)
    return {
        "f1": _f1(precision, recall),
        "precision": precision,
        "recall": recall,
        "truePositiveCount": counts.true_positive,
        "trueNegativeCount": counts.true_negative,
        "falsePositiveCount": counts.false_positive,
        "falseNegativeCount": counts.false_negative,
    }


def _averages(counts: dict[str, _Counts]) -> dict[str, float]:
    true_positive = sum(count.true_positive for count in counts.values())
    false_positive = sum(count.false_positive for count in counts.values())
    false_negative = sum(count.false_negative for count in counts.values())
    micro_precision = _ratio(true_positive, true_positive + false_positive)
    micro_recall = _ratio(true_positive, true_positive + false_negative)
    per_label = [_metrics(count) for count in counts.values()]
    return {
        "microF1": _f1(micro_precision, micro_recall),
        "microPrecision": micro_precision,
        "microRecall": micro_recall,
        "macroF1": _mean(metrics["f1"] for metrics in per_label),
        "macroPrecision": _mean(metrics["precision"] for metrics in per_label),
        "macroRecall": _mean(metrics["recall"] for metrics in per_label),
    }


def _ratio(numerator: int, denominator: int) -> float:
    return float(numerator) / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    total = precision + recall
    return 2.0 * precision * recall / total if total else 0.0


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return float(sum(items)) / len(items) if items else 0.0


def _unique_labels(labels: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(labels))


def _check_same_length(gold: Sequence[object], predicted: Sequence[object]) -> None:
    if len(gold) != len(predicted):
        raise ValueError(
            f"gold has {len(gold)} documents but predicted has {len(predicted)}; "
            "pass one list per document in the same order"
        )


def _check_known(known: set[str], labels: list[str], categories: Iterable[str]) -> None:
    unknown = sorted(set(categories) - known)
    if unknown:
        raise ValueError(f"categories {unknown} are not in the evaluated labels {labels}")
