"""Averaging two classifiers' scores, the weight chosen on held-out documents.

A fine-tuned encoder and a TF-IDF logistic regression err on different documents (one reads
meaning, the other exact words and spellings), so their averaged scores are right more often
than either's. How much the second one counts is decided per project, on documents neither
model was trained on; a weight of zero (it does not help) leaves the first model alone.
Single-label: the weight whose blend is right most often. Multi-label: the weight whose blend,
with per-class thresholds tuned on the same documents, has the best macro-F1.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from lexicraft.ml.base import ClassExample
from lexicraft.ml.calibration import fit_temperature, log_probabilities, tempered
from lexicraft.ml.classification.thresholds import LOG_CANDIDATES, best_thresholds
from lexicraft.ml.evaluation import expected_calibration_error

#: Weights tried for the second model, smallest first (ties go to the smaller one).
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)

FloatArray = npt.NDArray[np.floating[Any]]


def stratified_split(
    examples: Sequence[ClassExample], fraction: float, seed: int
) -> tuple[list[ClassExample], list[ClassExample]]:
    """``(training, held_out)``: each class gives ``floor(count * fraction)`` documents.

    A class with fewer than ``1 / fraction`` documents stays whole in training, so no class
    goes unlearned for the sake of tuning.
    """
    by_class: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        by_class[example.classes[0]].append(index)
    rng = random.Random(seed)  # noqa: S311 - a split, not a secret
    held: set[int] = set()
    for category in sorted(by_class):
        indexes = by_class[category]
        held.update(rng.sample(indexes, int(len(indexes) * fraction)))
    training = [example for index, example in enumerate(examples) if index not in held]
    held_out = [example for index, example in enumerate(examples) if index in held]
    return training, held_out


def aligned(
    scores: FloatArray, classes: Sequence[str], labels: Sequence[str]
) -> npt.NDArray[np.float64]:
    """``scores`` (documents by ``classes``) as documents by ``labels``; absent classes get 0."""
    column = {label: index for index, label in enumerate(labels)}
    result = np.zeros((scores.shape[0], len(labels)), dtype=np.float64)
    for index, category in enumerate(classes):
        result[:, column[category]] = scores[:, index]
    return result


def blend(first: FloatArray, second: FloatArray, weight: float) -> npt.NDArray[np.float64]:
    """``(1 - weight) * first + weight * second``: probabilities stay probabilities."""
    result: npt.NDArray[np.float64] = (1.0 - weight) * first.astype(np.float64)
    if weight > 0.0:
        result += weight * second
    return result


class HeldOutChoice(BaseModel):
    """What the held-out documents chose, as the model folder records it (``held_out``) and
    the model's evaluation details show: each candidate's score there (``measure``: accuracy
    for single-label, macro-F1 at tuned thresholds for multi-label; 0-1) and the TF-IDF
    model's share. ``linear`` alone is reported for comparison; the blend's weights stop at
    :data:`WEIGHTS`' largest.

    Single-label: the temperature of the chosen scores' confidences
    (:mod:`lexicraft.ml.calibration`; 1.0: left as they were, also in folders from before it),
    kept only when it lowers their expected calibration error on the held-out documents,
    which is recorded before and after (None: not measured)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    documents: int
    measure: str
    scores: dict[str, float]
    chosen: str
    linear_weight: float
    temperature: float = 1.0
    calibration_error_before: float | None = None
    calibration_error_after: float | None = None


def single_label_choice(
    first: FloatArray, second: FloatArray, gold: npt.NDArray[np.int_]
) -> HeldOutChoice:
    """:func:`best_weight`, with each candidate's held-out accuracy, and the temperature of
    the chosen scores' confidences (see :class:`HeldOutChoice`)."""
    weight = best_weight(first, second, gold)
    chosen = blend(first, second, weight)

    def accuracy(scores: FloatArray) -> float:
        return float((scores.argmax(axis=1) == gold).mean())

    log_scores = log_probabilities(chosen)
    temperature = fit_temperature(log_scores, gold)
    before = top_class_calibration_error(chosen, gold)
    after = top_class_calibration_error(tempered(log_scores, temperature), gold)
    return HeldOutChoice(
        documents=len(gold),
        measure="accuracy",
        scores={
            "encoder": accuracy(first),
            "linear": accuracy(second),
            "blend": accuracy(chosen),
        },
        chosen="encoder" if weight == 0.0 else "blend",
        linear_weight=weight,
        temperature=temperature if after < before else 1.0,
        calibration_error_before=before,
        calibration_error_after=after,
    )


def top_class_calibration_error(scores: FloatArray, gold: npt.NDArray[np.int_]) -> float:
    """The expected calibration error of each document's top class and its score."""
    best = scores.argmax(axis=1)
    confidences = scores[np.arange(len(best)), best]
    return expected_calibration_error(confidences.tolist(), (best == gold).tolist())


def best_weight(first: FloatArray, second: FloatArray, gold: npt.NDArray[np.int_]) -> float:
    """The weight in :data:`WEIGHTS` whose blend is right most often on held-out documents."""
    best, best_correct = 0.0, -1
    for weight in WEIGHTS:
        correct = int((blend(first, second, weight).argmax(axis=1) == gold).sum())
        if correct > best_correct:
            best, best_correct = weight, correct
    return best


def best_multi_label_blend(
    first: FloatArray,
    second: FloatArray,
    targets: npt.NDArray[np.bool_],
    default_threshold: float,
    min_positives: int,
) -> tuple[float, npt.NDArray[np.float64]]:
    """``(weight, per-class thresholds)`` of the blend with the best held-out macro-F1.

    The thresholds are tuned for each weight on the same documents (see
    :func:`lexicraft.ml.classification.thresholds.best_thresholds`, on the log-spaced grid
    that suits softmax scores), so every weight is judged at its own best operating point;
    ties go to the smaller weight.
    """
    choice, thresholds = multi_label_choice(
        first, second, targets, default_threshold, min_positives
    )
    return choice.linear_weight, thresholds


def multi_label_choice(
    first: FloatArray,
    second: FloatArray,
    targets: npt.NDArray[np.bool_],
    default_threshold: float,
    min_positives: int,
) -> tuple[HeldOutChoice, npt.NDArray[np.float64]]:
    """:func:`best_multi_label_blend`, with each candidate's held-out macro-F1."""

    def tuned(weight: float) -> tuple[float, npt.NDArray[np.float64]]:
        scores = blend(first, second, weight)
        thresholds = best_thresholds(
            scores, targets, default_threshold, min_positives, LOG_CANDIDATES
        )
        return macro_f1(scores >= thresholds, targets), thresholds

    best: tuple[float, float, npt.NDArray[np.float64]] | None = None
    encoder_alone = 0.0
    for weight in WEIGHTS:
        score, thresholds = tuned(weight)
        if weight == 0.0:
            encoder_alone = score
        if best is None or score > best[0]:
            best = (score, weight, thresholds)
    assert best is not None  # WEIGHTS is not empty
    score, weight, thresholds = best
    choice = HeldOutChoice(
        documents=int(targets.shape[0]),
        measure="macroF1",
        scores={"encoder": encoder_alone, "linear": tuned(1.0)[0], "blend": score},
        chosen="encoder" if weight == 0.0 else "blend",
        linear_weight=weight,
    )
    return choice, thresholds


def macro_f1(chosen: npt.NDArray[np.bool_], targets: npt.NDArray[np.bool_]) -> float:
    """Mean F1 over the classes (columns) that are chosen or present at least once."""
    true_positives = (chosen & targets).sum(axis=0)
    denominators = chosen.sum(axis=0) + targets.sum(axis=0)
    seen = denominators > 0
    if not seen.any():
        return 0.0
    return float(np.mean(2.0 * true_positives[seen] / denominators[seen]))
