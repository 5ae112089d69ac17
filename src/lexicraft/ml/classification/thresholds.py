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

    A class with fewer than ``min_positives`` positive ``targets`` keeps ``default``: a few
    examples would only tune noise. Ties go to the threshold nearest ``default``, the least
    surprising choice.
    """
    thresholds = np.full(scores.shape[1], default, dtype=np.float64)
    for column in range(scores.shape[1]):
        positives = targets[:, column]
        if positives.sum() < min_positives:
            continue
        best_f1 = -1.0
        for candidate in CANDIDATES:
            chosen = scores[:, column] >= candidate
            true_positive = float(np.sum(chosen & positives))
            denominator = float(chosen.sum() + positives.sum())
            f1 = 2.0 * true_positive / denominator if denominator else 0.0
            if f1 > best_f1 or (
                f1 == best_f1 and abs(candidate - default) < abs(thresholds[column] - default)
            ):
                best_f1, thresholds[column] = f1, candidate
    return thresholds
