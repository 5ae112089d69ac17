"""Per-class decision thresholds tuned on held-out scores."""

from __future__ import annotations

import numpy as np

from lexicraft.ml.classification.thresholds import CANDIDATES, LOG_CANDIDATES, best_thresholds


def test_each_class_with_enough_positives_gets_its_own_best_threshold() -> None:
    # Class 0 is separable at 0.7, class 1 at 0.3.
    scores = np.array([[0.9, 0.4], [0.8, 0.35], [0.2, 0.1], [0.6, 0.05], [0.75, 0.2]])
    targets = np.array([[1, 1], [1, 1], [0, 0], [0, 0], [1, 0]], dtype=bool)

    thresholds = best_thresholds(scores, targets, default=0.5, min_positives=2)

    assert 0.6 < thresholds[0] <= 0.75
    assert 0.2 < thresholds[1] <= 0.35


def test_a_class_with_too_few_positives_gets_the_pooled_threshold() -> None:
    # A timid model: every positive scores 0.2-0.3, every negative below 0.1. Class 1 has one
    # positive only, too few to tune alone, but the pooled best (not 0.5) still finds it.
    scores = np.array([[0.3, 0.05], [0.25, 0.02], [0.05, 0.22], [0.08, 0.01], [0.28, 0.04]])
    targets = np.array([[1, 0], [1, 0], [0, 1], [0, 0], [1, 0]], dtype=bool)

    thresholds = best_thresholds(scores, targets, default=0.5, min_positives=2)

    assert 0.1 <= thresholds[1] <= 0.22
    assert scores[2, 1] >= thresholds[1]


def test_default_when_even_the_pool_is_too_small() -> None:
    scores = np.array([[0.3, 0.05], [0.05, 0.02]])
    targets = np.array([[1, 0], [0, 0]], dtype=bool)

    thresholds = best_thresholds(scores, targets, default=0.5, min_positives=2)

    assert thresholds.tolist() == [0.5, 0.5]


def test_the_log_grid_separates_scores_below_the_linear_grid() -> None:
    # A rare class under a softmax: positives score 0.03, negatives 0.01.
    scores = np.array([[0.03], [0.03], [0.01], [0.01], [0.01]])
    targets = np.array([[True], [True], [False], [False], [False]])
    assert LOG_CANDIDATES.min() < 0.01 < 0.03 < CANDIDATES.min()
    tuned = best_thresholds(scores, targets, 0.5, 1, LOG_CANDIDATES)
    assert 0.01 < tuned[0] <= 0.03
    # Every step of the linear grid is above both scores: it can only choose no document.
    assert not (scores >= best_thresholds(scores, targets, 0.5, 1)).any()
