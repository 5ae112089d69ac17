"""Averaging two single-label classifiers' probabilities, the weight chosen on held-out documents.

A fine-tuned encoder and a TF-IDF logistic regression err on different documents (one reads
meaning, the other exact words and spellings), so their averaged probabilities are right more
often than either. How much the second one counts is decided per project, on documents neither
model was trained on; a weight of zero (it does not help) leaves the first model alone.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from lexicraft.ml.base import ClassExample

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
    """``(1 - weight) * first + weight * second``: still probabilities, summing to one."""
    result: npt.NDArray[np.float64] = (1.0 - weight) * first.astype(np.float64)
    if weight > 0.0:
        result += weight * second
    return result


def best_weight(first: FloatArray, second: FloatArray, gold: npt.NDArray[np.int_]) -> float:
    """The weight in :data:`WEIGHTS` whose blend is right most often on held-out documents."""
    best, best_correct = 0.0, -1
    for weight in WEIGHTS:
        correct = int((blend(first, second, weight).argmax(axis=1) == gold).sum())
        if correct > best_correct:
            best, best_correct = weight, correct
    return best
