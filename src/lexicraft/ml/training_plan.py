"""What a fine-tuning trains on and for how long, decided by the data and the seed alone.

- :func:`held_out_split`: the seeded share of the training examples a backend holds out to
  choose a blend and calibrate on.
- :func:`plan_steps`: how long training is (epochs over the examples, at least ``min_steps``,
  at most ``max_train_pieces`` word pieces read), so the same project trains the same model
  however busy the machine is.
- :class:`StepSchedule`: linear warm-up and decay over the planned steps; with an explicit
  time budget its end moves in when the measured time per word piece says the plan would not
  fit, so training still ends with a fully decayed learning rate inside the budget (and says
  so).

Plain Python, no PyTorch: the backends' hyperparameters check their schedule with
:func:`check_schedule` in processes that never train.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from lexicraft.ml.wordpieces import length_batches

Example = TypeVar("Example")


def held_out_split(
    examples: Sequence[Example], fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """``(training, held out)``: a seeded random ``fraction`` of ``examples`` (at least one)
    held out, the rest for training; both in the same seeded random order."""
    order = random.Random(seed).sample(range(len(examples)), len(examples))  # noqa: S311 - a split, not a secret
    cut = max(1, round(len(examples) * fraction))
    return [examples[index] for index in order[cut:]], [examples[index] for index in order[:cut]]


def check_schedule(settings: FineTuneSettings) -> None:
    """Raise ``ValueError`` unless ``settings``' schedule can run: the one check every MiniLM
    backend's hyperparameters make of their shared fields."""
    if settings.epochs < 1 or settings.batch_size < 1 or settings.min_steps < 0:
        raise ValueError("epochs and batch_size must be >= 1 and min_steps >= 0")
    if settings.max_train_pieces is not None and settings.max_train_pieces < 1:
        raise ValueError("max_train_pieces must be >= 1 (or None for no cap)")
    if settings.time_budget_s is not None and settings.time_budget_s <= 0:
        raise ValueError("time_budget_s must be above 0 (or None for no cap)")


def plan_steps(lengths: Sequence[int], settings: FineTuneSettings, window: int) -> int:
    """Optimiser steps to train examples of ``lengths`` word pieces: decided by the data alone.

    ``settings.epochs`` passes over the examples, more when that is under ``settings.min_steps``
    (whole epochs either way), then cut to the steps that read at most
    ``settings.max_train_pieces`` word pieces (padding included; never under ``min_steps``).
    A step's time is proportional to the pieces it reads (measured on two cores: 1.4 ms per
    piece for the tagger, 0.9 ms for the classifier), so the cap bounds training time on a
    given machine without ever looking at the clock.
    """
    max_tokens = settings.batch_size * window
    batches = length_batches(lengths, settings.batch_size, max_tokens, None)
    per_epoch = max(1, len(batches))
    epochs = max(settings.epochs, math.ceil(settings.min_steps / per_epoch))
    steps = epochs * per_epoch
    if settings.max_train_pieces is not None:
        padded = sum(padded_pieces(batch, lengths) for batch in batches)
        pieces_per_step = max(1.0, padded / per_epoch)
        affordable = int(settings.max_train_pieces / pieces_per_step)
        steps = min(steps, max(settings.min_steps, affordable))
    return max(1, steps)


def padded_pieces(batch: Sequence[int], lengths: Sequence[int]) -> int:
    """The word pieces a batch of the examples ``batch`` reads, padded to its longest."""
    return len(batch) * max(max(1, lengths[index]) for index in batch)


#: Steps whose time a budget's projection leaves out (allocations, kernel set-up).
_SETTLING_STEPS = 10


class StepSchedule:
    """Learning-rate factor: linear warm-up, then linear decay to zero at the last step.

    The last step is ``planned_steps``. Only with ``budget_s`` (an explicit wall-clock cap)
    does it move, and only earlier, so the decay completes within the budget, and
    :attr:`stopped_early` tells that it did: after each step, the end moves in to the most
    steps whose word pieces (:meth:`expect` says what the coming steps read) the time left
    holds at the pace per piece measured since the first :data:`_SETTLING_STEPS` steps. Per
    piece, as batches of short and long examples come in random order and differ several-fold
    in cost; after the first steps, as their one-time costs are spent and no pace. Projected
    per step from the start, a conll2003 training was once cut to 1,149 of 1,580 steps under
    a budget the whole plan fitted in.
    ``clock`` tells the time (tests pass their own).
    """

    def __init__(
        self,
        planned_steps: int,
        budget_s: float | None = None,
        warmup_fraction: float = 0.06,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.planned_steps = max(1, planned_steps)
        self.pieces = 0.0
        #: The coming steps' word pieces (see :meth:`expect`) and how many of them are done.
        self._coming: list[float] = []
        self._position = 0
        #: (time, pieces) when the first steps' one-time costs are behind.
        self._settled: tuple[float, float] | None = None
        self.total_steps = self.planned_steps
        self.budget_s = budget_s
        self.warmup_steps = max(1, math.ceil(warmup_fraction * self.planned_steps))
        self.step = 0
        self._clock = clock
        self._started = clock()

    def factor(self) -> float:
        """The learning-rate multiplier for the next step."""
        if self.step < self.warmup_steps:
            return (self.step + 1) / self.warmup_steps
        remaining = self.total_steps - self.step
        return max(0.0, remaining / max(1, self.total_steps - self.warmup_steps))

    def expect(self, pieces: Sequence[float]) -> None:
        """Say how many word pieces each of the coming steps reads (an epoch's batches, in
        order; steps beyond them read their average)."""
        self._coming = list(pieces)
        self._position = 0

    def _pieces_ahead(self, steps: int) -> float:
        """Word pieces the next ``steps`` steps read."""
        coming = self._coming[self._position : self._position + steps]
        average = sum(self._coming) / len(self._coming) if self._coming else 1.0
        return sum(coming) + (steps - len(coming)) * average

    def advance(self, pieces: float = 1.0) -> None:
        """Count one step done (it read ``pieces`` word pieces) and, under a budget,
        re-estimate where training must end."""
        self.step += 1
        self.pieces += pieces
        self._position += 1
        if self.budget_s is None:
            return
        now = self._clock()
        if self.step == _SETTLING_STEPS:
            self._settled = (now, self.pieces)
        if self._settled is None or self.step < 2 * _SETTLING_STEPS:
            return
        settled_at, settled_pieces = self._settled
        per_piece = (now - settled_at) / max(1e-9, self.pieces - settled_pieces)
        if per_piece <= 0:
            return
        left_s = self.budget_s - (now - self._started)
        remaining = self.total_steps - self.step
        if self._pieces_ahead(remaining) * per_piece <= left_s:
            return
        # The most steps whose pieces fit in the time left (found by halving).
        low, high = 0, remaining
        while low < high:
            middle = (low + high + 1) // 2
            if self._pieces_ahead(middle) * per_piece <= left_s:
                low = middle
            else:
                high = middle - 1
        affordable = self.step + low
        # The end only ever moves in: a budget that never binds leaves the planned schedule
        # untouched (the same model as without it), and one that bound for a while (a busy
        # spell) does not hand back steps whose learning rates were already spent on the
        # shorter plan.
        self.total_steps = max(self.step, min(self.total_steps, affordable))

    @property
    def done(self) -> bool:
        return self.step >= self.total_steps

    @property
    def stopped_early(self) -> bool:
        """Whether the budget cut training short of the planned steps."""
        return self.total_steps < self.planned_steps

    @property
    def fraction(self) -> float:
        """How much of the (current estimate of the) training is done, 0 … 1."""
        return min(1.0, self.step / self.total_steps)


@dataclass(frozen=True, slots=True)
class TrainedLength:
    """How long :func:`fine_tune` trained: the steps the data asked for and those taken."""

    planned_steps: int
    trained_steps: int

    @property
    def stopped_early(self) -> bool:
        """Whether a wall-clock budget cut training short (fewer steps than planned)."""
        return self.trained_steps < self.planned_steps


class FineTuneSettings(Protocol):
    """The hyperparameters :func:`fine_tune` reads (both MiniLM backends have them)."""

    @property
    def epochs(self) -> int: ...
    @property
    def min_steps(self) -> int: ...
    @property
    def max_train_pieces(self) -> int | None: ...
    @property
    def batch_size(self) -> int: ...
    @property
    def learning_rate(self) -> float: ...
    @property
    def head_learning_rate(self) -> float: ...
    @property
    def weight_decay(self) -> float: ...
    @property
    def time_budget_s(self) -> float | None: ...
