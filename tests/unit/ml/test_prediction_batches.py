"""Prediction batches: texts of mixed lengths are not padded to the longest of a call."""

from __future__ import annotations

import random

from lexicraft.ml.wordpieces import (
    PREDICT_BATCH,
    PREDICT_MAX_PADDING,
    PREDICT_TOKENS,
    length_batches,
    prediction_batches,
)


def padded_and_read(lengths: list[int], batch: list[int]) -> tuple[int, int]:
    """Tokens a batch computes (padded to its longest) and the tokens it reads."""
    chosen = [lengths[index] for index in batch]
    return max(chosen) * len(chosen), sum(chosen)


def test_mixed_lengths_are_split_where_padding_would_dominate() -> None:
    # A 25-document job of sentences between 3 and 120 word pieces, as conll2003's test set.
    rng = random.Random(7)
    lengths = [rng.randint(3, 120) for _ in range(25)]

    batches = prediction_batches(lengths)

    assert sorted(index for batch in batches for index in batch) == list(range(25))
    for batch in batches:
        padded, read = padded_and_read(lengths, batch)
        assert len(batch) <= PREDICT_BATCH and padded <= PREDICT_TOKENS
        assert padded <= 512 or padded - read <= PREDICT_MAX_PADDING * padded
    padded_total = sum(padded_and_read(lengths, batch)[0] for batch in batches)
    # One batch padded to the longest would compute about twice what the texts hold.
    assert padded_total < 1.4 * sum(lengths) < max(lengths) * len(lengths)


def test_windows_of_one_length_share_batches_up_to_the_limits() -> None:
    assert prediction_batches([40] * 100) == [list(range(64)), list(range(64, 100))]
    assert [len(batch) for batch in prediction_batches([256] * 40)] == [32, 8]


def test_short_windows_stay_together_however_they_differ() -> None:
    lengths = [3, 9, 4, 17, 6, 12]

    assert prediction_batches(lengths) == [[0, 2, 4, 1, 5, 3]]


def test_training_batches_are_not_bounded_by_padding() -> None:
    # Training's batches (and so its models) stay as they were: only the count and token
    # limits close a batch.
    lengths = list(range(1, 101))

    assert length_batches(lengths, 64, 10**6, None) == [
        list(range(64)),
        list(range(64, 100)),
    ]
    assert len(prediction_batches(lengths)) > 2
