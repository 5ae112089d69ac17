"""How ``ner.minilm.v2`` mixes its encoder with a CRF and calibrates confidences."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from lexicraft.ml.base import PredictedSpan, Span
from lexicraft.ml.finetune import pretrained_encoder
from lexicraft.ml.ner.blend import (
    MIN_CALIBRATION_ENTITIES,
    Calibration,
    Decode,
    HeldOut,
    choose,
    fit_calibration,
    mix,
)
from lexicraft.ml.ner.transformer import allowed_transitions, decode_all
from lexicraft.ml.wordpieces import FloatArray, WordPieces

LABELS = ("PER",)
#: Tags O, B-PER, I-PER; three words.
TEXT = "Alice met Bob"
GOLD = (Span(0, 5, "PER"), Span(10, 13, "PER"))


def distribution(*rows: Sequence[float]) -> FloatArray:
    return np.asarray(rows, dtype=np.float32)


def test_mix_is_the_log_of_the_weighted_mean_of_probabilities() -> None:
    encoder = np.log(distribution([0.8, 0.1, 0.1], [0.2, 0.6, 0.2]))
    crf = distribution([0.2, 0.7, 0.1], [0.4, 0.4, 0.2])

    mixed = mix(encoder, crf, 0.25)

    expected = 0.75 * np.exp(encoder) + 0.25 * crf
    np.testing.assert_allclose(np.exp(mixed), expected, rtol=1e-6)
    assert mix(encoder, crf, 0.0) is encoder
    assert mix(encoder, None, 0.7) is encoder


def decoder(text: str) -> Decode:
    """Decoding of ``text``'s words, as the predictor does it."""
    _, tokenizer, _ = pretrained_encoder()
    documents = WordPieces(tokenizer, 16).documents([text])
    has_piece = [np.ones(len(documents[0].tokens), dtype=bool)]
    allowed = allowed_transitions(len(LABELS))
    return lambda emissions: decode_all(documents, emissions, has_piece, LABELS, allowed)


def held_out(encoder_right: bool) -> HeldOut:
    """One document: one tagger finds both people, the other only the first."""
    both = distribution([0.05, 0.9, 0.05], [0.9, 0.05, 0.05], [0.05, 0.9, 0.05])
    first_only = distribution([0.05, 0.9, 0.05], [0.9, 0.05, 0.05], [0.9, 0.05, 0.05])
    encoder, crf = (both, first_only) if encoder_right else (first_only, both)
    return HeldOut(gold=[GOLD], labels=LABELS, emissions=[np.log(encoder)], crf=[crf])


def test_the_held_out_documents_choose_the_crf_where_it_is_right() -> None:
    decode = decoder(TEXT)

    choice = choose(held_out(encoder_right=False), decode, calibrate=False)

    assert choice.scores["encoder"] == pytest.approx(2 / 3)
    assert choice.scores["crf"] == 1.0
    assert choice.scores["blend"] == 1.0
    assert choice.crf_weight > 0.5  # the CRF's vote must outweigh the encoder's
    assert choice.chosen in ("blend", "crf")
    assert choice.documents == 1


def test_ties_keep_the_encoder_alone() -> None:
    decode = decoder(TEXT)

    choice = choose(held_out(encoder_right=True), decode, calibrate=False)

    assert choice.scores["encoder"] == 1.0
    assert choice.crf_weight == 0.0
    assert choice.chosen == "encoder"


def test_without_a_crf_only_the_encoder_is_scored() -> None:
    decode = decoder(TEXT)
    plain = held_out(encoder_right=True)

    choice = choose(HeldOut(plain.gold, LABELS, plain.emissions, None), decode, calibrate=False)

    assert set(choice.scores) == {"encoder"}
    assert choice.crf_weight == 0.0


def overconfident(count: int) -> tuple[list[float], list[bool]]:
    """``count`` entities at confidence 0.95 of which only 60 % are right, and as many at 0.6
    of which 30 % are right."""
    confidences = [0.95] * count + [0.6] * count
    correct = [index % 10 < 6 for index in range(count)] + [
        index % 10 < 3 for index in range(count)
    ]
    return confidences, correct


def test_calibration_moves_confidences_to_how_often_entities_are_right() -> None:
    confidences, correct = overconfident(50)

    calibration = fit_calibration(confidences, correct)

    assert calibration is not None
    assert calibration.confidence(0.95) == pytest.approx(0.6, abs=0.02)
    assert calibration.confidence(0.6) == pytest.approx(0.3, abs=0.02)
    # Order kept: a more confident entity stays more confident.
    assert calibration.confidence(0.9) > calibration.confidence(0.7)


def test_too_few_or_one_sided_entities_are_not_calibrated() -> None:
    confidences, correct = overconfident(MIN_CALIBRATION_ENTITIES // 2 - 1)
    assert fit_calibration(confidences, correct) is None
    assert fit_calibration([0.9] * 100, [True] * 100) is None


def test_calibration_applies_to_every_span_and_stays_in_range() -> None:
    calibration = Calibration(slope=2.0, intercept=-1.0)
    spans = [PredictedSpan(0, 5, "PER", 1.0), PredictedSpan(6, 9, "PER", 0.0)]

    calibrated = calibration.apply(spans)

    assert [(s.start, s.end, s.category) for s in calibrated] == [(0, 5, "PER"), (6, 9, "PER")]
    assert all(0.0 <= span.confidence <= 1.0 for span in calibrated)
    assert calibrated[0].confidence > calibrated[1].confidence


def test_choose_calibrates_and_reports_the_error_before_and_after() -> None:
    """Many held-out documents whose entities the encoder finds with too much confidence."""
    decode_one = decoder(TEXT)
    documents = 40
    emissions = []
    gold = []
    for number in range(documents):
        # The encoder always tags both names at 0.9; the second is wrong in half the documents.
        emissions.append(
            np.log(distribution([0.05, 0.9, 0.05], [0.9, 0.05, 0.05], [0.05, 0.9, 0.05]))
        )
        gold.append(GOLD if number % 2 else GOLD[:1])

    def decode(mixed: Sequence[FloatArray]) -> list[list[PredictedSpan]]:
        return [decode_one([emission])[0] for emission in mixed]

    choice = choose(HeldOut(gold, LABELS, emissions, None), decode, calibrate=True)

    assert choice.calibration is not None
    assert choice.calibration_error_before is not None
    assert choice.calibration_error_after is not None
    assert choice.calibration_error_after < choice.calibration_error_before
