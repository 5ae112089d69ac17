"""How ``ner.minilm.v2`` combines its fine-tuned encoder with a CRF and calibrates confidences.

Both taggers read the same words (:func:`lexicraft.ml.tokenize.tokenize`) and the same BIO tags,
so their word-by-tag distributions mix directly: ``(1 - w) * p_encoder + w * p_crf``, decoded by
the same constrained Viterbi search. The weight ``w`` is chosen on documents held out of
training among :data:`WEIGHTS`, 0 (the encoder alone) and 1 (the CRF alone) included, so on those
documents the default is never worse than either part: the CRF's word-shape and casing features
win where the packaged encoder is weak (German, unusual vocabulary), the encoder elsewhere.

An entity's confidence is its weakest word's probability, which runs high for a fine-tuned
encoder (ECE 0.07-0.11 on the bench sets). Platt scaling, ``sigmoid(a * logit(c) + b)`` fitted on
the held-out entities against whether each was exactly right, maps it to the chance the entity is
right. Two parameters need few entities and keep the order of confidences.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from lexicraft.ml.base import PredictedSpan, Span
from lexicraft.ml.evaluation import evaluate_ner, expected_calibration_error

FloatArray = npt.NDArray[np.float32]

#: The CRF's candidate shares of the mixed probabilities.
WEIGHTS: tuple[float, ...] = tuple(step / 10 for step in range(11))
#: Fewer held-out entities than this leave confidences as they are (two parameters fitted on a
#: handful of entities would move them by noise).
MIN_CALIBRATION_ENTITIES = 30
#: Keeps logit() finite at confidences of exactly 0 or 1.
_EPSILON = 1e-6


def mix(emission: FloatArray, crf: FloatArray | None, weight: float) -> FloatArray:
    """Word-by-tag log-probabilities of the mixture of ``emission`` (the encoder's
    log-probabilities) and ``crf`` (the CRF's marginals) with the CRF's share ``weight``."""
    if crf is None or weight <= 0.0:
        return emission
    mixed = (1.0 - weight) * np.exp(emission) + weight * crf
    return np.log(np.maximum(mixed, 1e-12)).astype(np.float32)


class Calibration(BaseModel):
    """Platt scaling of entity confidences: ``c -> sigmoid(slope * logit(c) + intercept)``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slope: float
    intercept: float

    def apply(self, spans: Sequence[PredictedSpan]) -> list[PredictedSpan]:
        """``spans`` with calibrated confidences."""
        return [
            PredictedSpan(span.start, span.end, span.category, self.confidence(span.confidence))
            for span in spans
        ]

    def confidence(self, raw: float) -> float:
        clipped = min(1.0 - _EPSILON, max(_EPSILON, raw))
        score = self.slope * math.log(clipped / (1.0 - clipped)) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, score))))


def fit_calibration(confidences: Sequence[float], correct: Sequence[bool]) -> Calibration | None:
    """The Platt scaling that best predicts ``correct`` from ``confidences`` (logistic
    regression on the logit); None with too few entities or only right (or only wrong) ones."""
    if len(confidences) < MIN_CALIBRATION_ENTITIES or len(set(correct)) < 2:
        return None
    from sklearn.linear_model import LogisticRegression

    clipped = np.clip(np.asarray(confidences, dtype=np.float64), _EPSILON, 1.0 - _EPSILON)
    logits = np.log(clipped / (1.0 - clipped)).reshape(-1, 1)
    # Weak regularisation: two parameters, and the fit should follow the data.
    regression = LogisticRegression(C=100.0).fit(logits, np.asarray(correct, dtype=int))
    return Calibration(
        slope=float(regression.coef_[0][0]), intercept=float(regression.intercept_[0])
    )


class HeldOutChoice(BaseModel):
    """What training chose on the documents it held out, as the model folder records it (and
    the model's evaluation details show): each candidate's exact-span micro F1 there (0-1),
    the CRF's share, and the calibration error of confidences before and after calibration
    (the latter on the same documents the calibration was fitted on, so a little optimistic;
    None, and no calibration, when calibrating did not lower it there)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    documents: int
    scores: dict[str, float]
    chosen: str
    crf_weight: float
    #: What ``scores`` measure (the classifiers' choices say accuracy or macroF1).
    measure: str = "microF1"
    calibration: Calibration | None = None
    calibration_error_before: float | None = None
    calibration_error_after: float | None = None


@dataclass(frozen=True, slots=True)
class HeldOut:
    """The held-out documents' gold entities and both taggers' scores of their words."""

    gold: Sequence[Sequence[Span]]
    labels: Sequence[str]
    emissions: Sequence[FloatArray]
    #: None: no CRF to blend (only the calibration is chosen).
    crf: Sequence[FloatArray] | None


Decode = Callable[[Sequence[FloatArray]], list[list[PredictedSpan]]]


def choose(held_out: HeldOut, decode: Decode, calibrate: bool) -> HeldOutChoice:
    """The CRF weight with the best held-out micro F1 (the smallest among ties: the encoder
    alone is the plain model), then the calibration of its confidences."""
    crf = held_out.crf
    scored: list[tuple[float, float, list[list[PredictedSpan]]]] = []
    for weight in WEIGHTS if crf is not None else (0.0,):
        mixed = [
            mix(emission, None if crf is None else crf[number], weight)
            for number, emission in enumerate(held_out.emissions)
        ]
        predicted = decode(mixed)
        scored.append((weight, _micro_f1(held_out, predicted), predicted))
    weight, best, predicted = max(scored, key=lambda item: (item[1], -item[0]))
    scores = {"encoder": scored[0][1]}
    if crf is not None:
        scores.update(crf=scored[-1][1], blend=best)
    chosen = "encoder" if weight == 0.0 else "crf" if weight == 1.0 else "blend"
    confidences, correct = _entity_outcomes(held_out.gold, predicted)
    before = expected_calibration_error(confidences, correct) if confidences else None
    calibration = fit_calibration(confidences, correct) if calibrate else None
    after = None
    if calibration is not None and before is not None:
        after = expected_calibration_error(
            [calibration.confidence(value) for value in confidences], correct
        )
        # The fit minimises log-loss; on a few dozen entities that can leave the binned error
        # higher than it was, and then the raw confidences are the better estimate.
        if after >= before:
            calibration, after = None, None
    return HeldOutChoice(
        documents=len(held_out.gold),
        scores=scores,
        chosen=chosen,
        crf_weight=weight,
        calibration=calibration,
        calibration_error_before=before,
        calibration_error_after=after,
    )


def _micro_f1(held_out: HeldOut, predicted: Sequence[Sequence[PredictedSpan]]) -> float:
    f1: float = evaluate_ner(held_out.gold, predicted, held_out.labels)["microF1"]
    return f1


def _entity_outcomes(
    gold: Sequence[Sequence[Span]], predicted: Sequence[Sequence[PredictedSpan]]
) -> tuple[list[float], list[bool]]:
    """Each predicted entity's confidence and whether it is exactly a gold entity."""
    confidences: list[float] = []
    correct: list[bool] = []
    for document_gold, document_predicted in zip(gold, predicted, strict=True):
        keys = {(span.start, span.end, span.category) for span in document_gold}
        for span in document_predicted:
            confidences.append(span.confidence)
            correct.append((span.start, span.end, span.category) in keys)
    return confidences, correct
