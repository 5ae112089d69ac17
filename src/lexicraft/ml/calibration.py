"""Temperature scaling: class scores whose confidence matches how often they are right.

A fine-tuned classifier's softmax is over-confident (it was trained to push its training
documents towards 1), and a blend of two models' probabilities is under-confident where they
disagree. One number fixes most of either: scores ``softmax(log_scores / T)`` with the
temperature ``T`` that makes held-out documents' gold classes most likely. Dividing every
score of a document by the same ``T`` keeps their order, so the chosen class never changes,
only the confidence reported with it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize_scalar

from lexicraft.ml.wordpieces import log_softmax

Float64Array = npt.NDArray[np.float64]

#: ``log T`` is searched in this range (T from 0.05 to 20).
_LOG_TEMPERATURE_BOUNDS = (-3.0, 3.0)
#: Probabilities are floored here before their log (a blend can hold exact zeros).
_SMALLEST_PROBABILITY = 1e-12


def fit_temperature(log_scores: npt.NDArray[np.floating[Any]], gold: npt.NDArray[np.int_]) -> float:
    """The temperature minimising the mean negative log-likelihood of ``gold`` (each held-out
    document's class index) under ``softmax(log_scores / T)`` (documents by classes)."""
    scores = log_scores.astype(np.float64)
    rows = np.arange(len(gold))

    def negative_log_likelihood(log_temperature: float) -> float:
        log_probabilities = log_softmax(scores / math.exp(log_temperature))
        return float(-log_probabilities[rows, gold].mean())

    fitted = minimize_scalar(
        negative_log_likelihood, bounds=_LOG_TEMPERATURE_BOUNDS, method="bounded"
    )
    return float(math.exp(fitted.x))


def log_probabilities(probabilities: npt.NDArray[np.floating[Any]]) -> Float64Array:
    """``log(probabilities)``, zeros floored, as the log-scores of :func:`tempered`."""
    result: Float64Array = np.log(
        np.maximum(probabilities.astype(np.float64), _SMALLEST_PROBABILITY)
    )
    return result


def tempered(log_scores: npt.NDArray[np.floating[Any]], temperature: float) -> Float64Array:
    """``softmax(log_scores / temperature)``, row-wise."""
    result: Float64Array = np.exp(log_softmax(log_scores.astype(np.float64) / temperature))
    return result
