"""What a training job tells about its length: a truthful end estimate, a cut-short warning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lexicraft.ml.artifacts import TrainedLength
from lexicraft.services.training import EndEstimate, length_warnings

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Clocks:
    """A monotonic clock and a wall clock that move together."""

    def __init__(self) -> None:
        self.elapsed = 0.0

    def monotonic(self) -> float:
        return self.elapsed

    def wall(self) -> datetime:
        return START + timedelta(seconds=self.elapsed)


def test_estimate_comes_from_the_measured_step_speed() -> None:
    clocks = Clocks()
    # No test documents: the estimate is the training steps alone.
    estimate = EndEstimate(100, 0, clock=clocks.monotonic, now=clocks.wall)
    clocks.elapsed = 300.0  # set-up (data, encoder) is not a step: not in the speed
    assert estimate.update(0.0) is None
    clocks.elapsed = 302.0
    assert estimate.update(0.01) is None  # one step: nothing measured yet
    clocks.elapsed = 322.0
    # 10 % of the steps in 20 s: the 89 % left take 178 s more.
    found = estimate.update(0.11)

    assert found == START + timedelta(seconds=322.0 + 178.0)


def test_estimate_follows_a_change_of_speed() -> None:
    clocks = Clocks()
    estimate = EndEstimate(100, 0, clock=clocks.monotonic, now=clocks.wall)
    estimate.update(0.1)
    clocks.elapsed = 10.0
    first = estimate.update(0.2)  # 10 s per tenth: 80 s left
    clocks.elapsed = 40.0
    second = estimate.update(0.3)  # slowed down: 20 s per tenth on average, 140 s left

    assert first == START + timedelta(seconds=90.0)
    assert second == START + timedelta(seconds=180.0)


def test_estimate_adds_the_evaluation() -> None:
    clocks = Clocks()
    # 400 training documents, 100 test ones: evaluation costs 1/12 of 1/4 of training.
    estimate = EndEstimate(400, 100, clock=clocks.monotonic, now=clocks.wall)
    estimate.update(0.5)
    clocks.elapsed = 48.0
    found = estimate.update(0.9)  # 120 s for the whole training; 12 s of steps left

    assert found is not None
    assert (found - START).total_seconds() == pytest.approx(48.0 + 12.0 + 120.0 / 48)


def test_cut_short_training_gets_a_warning() -> None:
    warnings = length_warnings(TrainedLength(1_000, 640, 300.0))

    assert [warning["code"] for warning in warnings] == ["TrainingStoppedEarly"]
    message = warnings[0]["message"]
    assert "640 of the 1000 steps" in message
    assert "300 seconds (time_budget_s)" in message


@pytest.mark.parametrize("length", [None, TrainedLength(1_000, 1_000, None)])
def test_full_training_gets_no_warning(length: TrainedLength | None) -> None:
    assert length_warnings(length) == ()
