"""Per-class decision thresholds for multi-label classifiers, tuned for F1 on held-out data."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

#: Thresholds tried for each class.
CANDIDATES = np.round(np.arange(0.05, 0.951, 0.025), 3)


def best_thresholds(
    scores: npt.NDArray[np.floating[Any]],
    targets: npt.NDArray[np.bool_],
    default: float,
    min_positives: int,
) -> npt.NDArray[np.float64]:
    """For each class (column), the candidate threshold with the best F1 on ``scores``.

    A class with fewer than ``min_positives`` positive ``targets`` would only tune noise, so it
    gets the one threshold that is best for all classes pooled (micro-F1), which adapts to how
    confident the model is overall; ``default`` only when even the pool is that small. Ties go
    to the threshold nearest ``default``, the least surprising choice.
    """
    shared = default
    if targets.sum() >= min_positives:
        shared = _best_threshold(scores.ravel(), targets.ravel(), default)
    thresholds = np.full(scores.shape[1], shared, dtype=np.float64)
    for column in range(scores.shape[1]):
        if targets[:, column].sum() >= min_positives:
            thresholds[column] = _best_threshold(scores[:, column], targets[:, column], default)
    return thresholds


def _best_threshold(
    scores: npt.NDArray[np.floating[Any]], positives: npt.NDArray[np.bool_], default: float
) -> float:
    best_f1, best = -1.0, default
    for candidate in CANDIDATES:
        chosen = scores >= candidate
        true_positive = float(np.sum(chosen & positives))
        denominator = float(chosen.sum() + positives.sum())
        f1 = 2.0 * true_positive / denominator if denominator else 0.0
        if f1 > best_f1 or (f1 == best_f1 and abs(candidate - default) < abs(best - default)):
            best_f1, best = f1, float(candidate)
    return best
