"""How long the MiniLM backends train: decided by the data, a wall-clock cap only when asked."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from lexicraft.ml.artifacts import read_trained_length
from lexicraft.ml.classification.transformer import (
    TransformerClassificationBackend,
    TransformerClassifierHyperparameters,
    TransformerMultiLabelClassificationBackend,
)
from lexicraft.ml.ner.transformer import TransformerNerBackend, TransformerNerHyperparameters
from lexicraft.ml.training_plan import StepSchedule, padded_pieces, plan_steps


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_defaults_have_no_wall_clock_cap() -> None:
    # A busy machine must not give a weaker model: only the data decides the length.
    backends = (
        TransformerNerBackend(),
        TransformerClassificationBackend(),
        TransformerMultiLabelClassificationBackend(),
    )
    for backend in backends:
        assert backend.hyperparameters.time_budget_s is None
        assert backend.hyperparameters.max_train_pieces is not None


def test_plan_is_epochs_over_the_data() -> None:
    settings = TransformerNerHyperparameters(epochs=4, min_steps=10, max_train_pieces=None)
    # 320 examples of 20 pieces: 10 batches of 32 an epoch.
    assert plan_steps([20] * 320, settings, 128) == 40


def test_small_sets_get_min_steps_in_whole_epochs() -> None:
    settings = TransformerNerHyperparameters(epochs=4, min_steps=150)
    # 3 batches an epoch: 50 epochs.
    assert plan_steps([20] * 96, settings, 128) == 150
    assert plan_steps([20] * 64, settings, 128) == 150  # 2 batches: 75 epochs


def test_large_sets_stop_at_the_piece_cap() -> None:
    settings = TransformerNerHyperparameters(epochs=4, min_steps=10, max_train_pieces=64_000)
    # 100 batches of 32 x 20 = 640 pieces: the cap affords 100 of the 400 steps.
    assert plan_steps([20] * 3200, settings, 128) == 100
    # Longer examples cost more per step, so fewer steps fit in the same cap.
    assert plan_steps([40] * 3200, settings, 128) == 50
    # ... but never fewer than min_steps.
    floor = TransformerNerHyperparameters(epochs=4, min_steps=80, max_train_pieces=64_000)
    assert plan_steps([40] * 3200, floor, 128) == 80


def test_benchmark_sets_train_as_long_as_under_the_former_budgets() -> None:
    # The numbers in the hyperparameters' comments: conll2003 (644 pieces a step) keeps its
    # 1,580 four-epoch steps; ag_news (1,675) gets 358; goemotions (619) 1,292.
    ner = TransformerNerHyperparameters()
    single = TransformerClassifierHyperparameters()
    multi = TransformerMultiLabelClassificationBackend().hyperparameters
    assert ner.max_train_pieces is not None and single.max_train_pieces is not None
    assert multi.max_train_pieces is not None
    assert ner.max_train_pieces // 644 >= 1_580
    assert single.max_train_pieces // 1_675 == 358
    assert multi.max_train_pieces // 619 == 1_292


def test_schedule_without_budget_trains_every_planned_step() -> None:
    clock = FakeClock()
    schedule = StepSchedule(50, None, clock=clock)
    while not schedule.done:
        clock.now += 60.0  # however slow
        schedule.advance()
    assert schedule.step == 50
    assert not schedule.stopped_early


def test_budget_cuts_training_short_and_says_so() -> None:
    clock = FakeClock()
    schedule = StepSchedule(100, budget_s=20.0, clock=clock)
    factors = []
    while not schedule.done:
        factors.append(schedule.factor())
        clock.now += 0.5
        schedule.advance()
    # 0.5 s a step affords 40 steps in 20 s; the learning rate still decays to its end.
    assert schedule.step == 40
    assert schedule.stopped_early
    assert factors[-1] == pytest.approx(1 / (40 - schedule.warmup_steps))


def run(schedule: StepSchedule, clock: FakeClock, seconds: Callable[[int], float]) -> list[float]:
    """The learning-rate factors of a training whose step ``n`` takes ``seconds(n)``."""
    factors = []
    while not schedule.done:
        factors.append(schedule.factor())
        clock.now += seconds(schedule.step)
        schedule.advance()
    return factors


def test_a_budget_that_never_binds_leaves_the_schedule_as_planned() -> None:
    # The same factors as without a budget: the same model however busy the machine was.
    planned = run(StepSchedule(100, None, clock=FakeClock()), FakeClock(), lambda _: 0.1)
    clock = FakeClock()
    assert run(StepSchedule(100, budget_s=60.0, clock=clock), clock, lambda _: 0.5) == planned


def test_the_end_of_a_budgeted_schedule_never_moves_back_out() -> None:
    clock = FakeClock()
    schedule = StepSchedule(100, budget_s=30.0, clock=clock)
    # A busy spell (1 s a step for the first 20 steps) projects fewer than 100 steps; then the
    # steps get fast enough that the average would afford them all again.
    run(schedule, clock, lambda step: 1.0 if step < 20 else 0.01)
    assert schedule.stopped_early
    assert schedule.step < 100


def test_a_budget_projects_by_word_pieces_not_by_steps() -> None:
    # 100 planned steps, a second a piece: the first 20 batches hold long examples (6 pieces),
    # the other 80 short ones (2.25), 300 s in all. Projected per step (6 s each early on),
    # the plan would have been cut to about half its steps.
    clock = FakeClock()
    schedule = StepSchedule(100, budget_s=310.0, clock=clock)
    schedule.expect([6.0] * 20 + [2.25] * 80)
    while not schedule.done:
        pieces = 6.0 if schedule.step < 20 else 2.25
        clock.now += pieces
        schedule.advance(pieces)
    assert schedule.step == 100
    assert not schedule.stopped_early


def test_a_budget_projects_at_the_pace_after_the_first_steps() -> None:
    # 1,000 planned steps of 0.2 s, the first 10 taking 5 s each (start-up costs): 248 s in
    # all, inside a 260 s budget. Projected at the mean pace from the start (2.6 s a step at
    # step 20), the plan would have been cut to 100 steps.
    clock = FakeClock()
    schedule = StepSchedule(1000, budget_s=260.0, clock=clock)
    run(schedule, clock, lambda step: 5.0 if step < 10 else 0.2)
    assert schedule.step == 1000
    assert not schedule.stopped_early


def test_padded_pieces_count_the_padding_to_the_longest() -> None:
    assert padded_pieces([0, 2], [10, 99, 30]) == 60


def test_trained_length_is_read_from_the_folder(tmp_path: Path) -> None:
    config = {
        "format_version": 1,
        "backend": "ner.minilm.v1",
        "labels": ["PER"],
        "trained_steps": 40,
        "planned_steps": 100,
        "hyperparameters": {"time_budget_s": 20.0},
    }
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")

    length = read_trained_length(tmp_path)

    assert length is not None and length.stopped_early
    assert (length.planned_steps, length.trained_steps, length.time_budget_s) == (100, 40, 20.0)
    # A folder from before planned steps were recorded, or a backend without steps: nothing.
    del config["planned_steps"]
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert read_trained_length(tmp_path) is None
