"""Temperature scaling (ml/calibration.py) and the single-label choice's calibration."""

from __future__ import annotations

import numpy as np
import pytest

from lexicraft.ml.calibration import fit_temperature, log_probabilities, tempered
from lexicraft.ml.classification import blend


def sampled(temperature: float, documents: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits, and gold classes drawn from ``softmax(logits / temperature)``."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 4.0, size=(documents, 5))
    probabilities = tempered(logits, temperature)
    gold = np.array([rng.choice(5, p=row) for row in probabilities])
    return logits, gold


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.5])
def test_the_fitted_temperature_is_the_one_the_classes_were_drawn_with(temperature: float) -> None:
    logits, gold = sampled(temperature, 4000, seed=1)

    assert fit_temperature(logits, gold) == pytest.approx(temperature, rel=0.1)


def test_tempered_scores_keep_their_order_and_sum_to_one() -> None:
    probabilities = np.array([[0.7, 0.2, 0.1, 0.0], [0.25, 0.25, 0.4, 0.1]])

    for temperature in (0.3, 1.0, 4.0):
        scores = tempered(log_probabilities(probabilities), temperature)
        assert np.allclose(scores.sum(axis=1), 1.0)
        assert (scores.argmax(axis=1) == probabilities.argmax(axis=1)).all()
    assert np.allclose(tempered(log_probabilities(probabilities), 1.0), probabilities, atol=1e-9)
    # Above 1 the top score falls towards the others; below 1 it rises.
    assert tempered(log_probabilities(probabilities), 4.0)[0, 0] < 0.7
    assert tempered(log_probabilities(probabilities), 0.3)[0, 0] > 0.7


def test_an_over_confident_model_is_tempered_on_held_out_documents() -> None:
    # The classes were drawn at temperature 3: scores at temperature 1 claim far more
    # certainty than the documents bear out.
    logits, gold = sampled(3.0, 2000, seed=2)
    over_confident = tempered(logits, 1.0)
    uninformative = np.full_like(over_confident, 0.2)

    choice = blend.single_label_choice(over_confident, uninformative, gold)

    assert choice.linear_weight == 0.0  # the uniform model never helps
    assert choice.temperature == pytest.approx(3.0, rel=0.15)
    assert choice.calibration_error_before is not None
    assert choice.calibration_error_after is not None
    assert choice.calibration_error_after < choice.calibration_error_before / 3
