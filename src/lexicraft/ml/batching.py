"""Batching across callers: concurrent predictions of one model run as one batch.

Analyze jobs predict a few documents at a time, each in its own worker thread. A forward pass
over one document leaves most of a CPU's matrix units idle (a 1-document batch is a few dozen
rows), so many 1-document jobs run alone reach a fraction of what one large batch does. A
:class:`Batcher` (one per served model) lets their calls meet:

- **leader / follower**: the first caller finds nobody leading and leads: it asks for a
  prediction slot (``turn``: the compute's fair scheduler), then takes every waiting call that
  fits (``max_texts`` texts, ``max_characters`` characters; its own call always), runs them as
  one ``predict``, and hands each caller its outputs. Callers that arrive while a batch is being
  led or run wait as followers, and the first of them leads the next batch. Waiting for the slot
  is the collection window under load: the busier the slots, the larger the batches.
- **no wait for a lone call**: ``activity`` tells how many jobs the process runs now (the
  analyze worker pool's count). A leader whose call is the only one running (``activity`` not
  above the calls already waiting here) runs at once, so a lone request never waits for
  others. When more jobs run than wait here, some may be about to call: the leader waits up to
  ``window_s`` for them (until the batch is full or every running job waits here) before it
  asks for its slot, never while holding one.
- **length buckets**: the predictors themselves cut a batch into length-sorted sub-batches of
  word-piece windows (:func:`lexicraft.ml.wordpieces.length_batches`), so texts of different
  lengths from different calls cost no more padding than in one call.

Each caller's ``then`` (rendering its outputs) runs in the leader's turn, as it did in its own:
CPU work beside a forward pass stalls the pass's threads. Outputs are the predictor's for the
concatenated texts, split back per call: a predictor's output for a text does not depend on the
other texts of its batch (the contract tests check batch against one-at-a-time), so a batched
call's results are those it gets alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from lexicraft.telemetry.metrics import PREDICTION_BATCH_CALLS, PREDICTION_BATCHES

T = TypeVar("T")


class Predicts(Protocol):
    """A loaded model: one output per text."""

    def predict(self, texts: Sequence[str]) -> Sequence[Any]: ...


#: A turn at a prediction slot for work of the given cost (characters).
Turn = Callable[[float], AbstractContextManager[object]]


@dataclass(frozen=True, slots=True)
class BatchingOptions:
    """How a :class:`Batcher` gathers calls (settings ``serving_batch_*``)."""

    #: Seconds a leader waits for more calls, only while the model is under concurrent load.
    window_s: float = 0.005
    max_texts: int = 64
    max_characters: int = 16_000


@dataclass(slots=True)
class BatcherStats:
    """What a batcher did (for tests and operators): counts since it was made."""

    #: Calls answered and batches run.
    calls: int = 0
    batches: int = 0
    #: Batches that took more than one call.
    shared_batches: int = 0
    #: Batches whose leader waited for more calls (other jobs were running).
    windows_waited: int = 0
    #: Batches whose leader ran at once, without waiting for other calls.
    immediate: int = 0


@dataclass(eq=False, slots=True)
class _Call:
    texts: list[str]
    then: Callable[[list[Any]], Any]
    characters: int
    leads: bool = False
    done: bool = False
    result: Any = None
    error: BaseException | None = field(default=None, repr=False)

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class Batcher:
    """Runs the concurrent calls of one model as shared batches (see the module's docstring)."""

    def __init__(
        self, options: BatchingOptions | None = None, activity: Callable[[], int] | None = None
    ) -> None:
        self.options = options or BatchingOptions()
        #: How many jobs the process runs now (None: no other job is ever expected).
        self.activity = activity or (lambda: 0)
        self.stats = BatcherStats()
        self._changed = threading.Condition()
        self._waiting: list[_Call] = []
        self._leading = False

    @property
    def waiting(self) -> int:
        """Calls waiting for a batch (the leader's own included until it takes them)."""
        with self._changed:
            return len(self._waiting)

    def run(
        self,
        predictor: Predicts,
        texts: Sequence[str],
        then: Callable[[list[Any]], T],
        turn: Turn,
    ) -> T:
        """``then`` of ``predictor``'s outputs for ``texts``, predicted in a batch with the
        calls of other threads that wait at the same time; ``turn`` gives the slot."""
        call = _Call(list(texts), then, sum(len(text) for text in texts))
        with self._changed:
            self._waiting.append(call)
            self._changed.notify_all()  # a leader gathering a batch counts the arrivals
            if self._leading:
                while not call.done and not call.leads:
                    self._changed.wait()
                if call.done:
                    outcome: T = call.outcome()
                    return outcome
            self._leading = True
        self._lead(predictor, call, turn)
        outcome = call.outcome()
        return outcome

    def _lead(self, predictor: Predicts, own: _Call, turn: Turn) -> None:
        """Gather a batch around ``own``, run it in a turn at a slot, hand leadership on."""
        batch: list[_Call] = []
        try:
            self._gather_window()
            with turn(own.characters):
                with self._changed:
                    batch = self._take(own)
                self._run(predictor, batch)
        finally:
            with self._changed:
                if not batch:  # the turn failed (cancelled): own call leaves the queue
                    self._waiting.remove(own)
                if self._waiting:
                    self._waiting[0].leads = True
                else:
                    self._leading = False
                self._changed.notify_all()

    def _gather_window(self) -> None:
        """While more jobs run than wait here, wait up to ``window_s`` for their calls."""
        options = self.options
        with self._changed:
            if options.window_s <= 0 or not self._expecting():
                self.stats.immediate += 1
                return
            self.stats.windows_waited += 1
            deadline = time.monotonic() + options.window_s
            while (
                self._expecting()
                and sum(len(call.texts) for call in self._waiting) < options.max_texts
                and (left := deadline - time.monotonic()) > 0
            ):
                # Woken by each arriving call; the activity is asked again then.
                self._changed.wait(min(left, options.window_s / 4))

    def _expecting(self) -> bool:
        """Whether jobs run that are not waiting here (they may be about to call)."""
        return self.activity() > len(self._waiting)

    def _take(self, own: _Call) -> list[_Call]:
        """``own`` and the waiting calls that fit beside it, oldest first."""
        options = self.options
        batch = [own]
        texts, characters = len(own.texts), own.characters
        for call in self._waiting:
            if call is own:
                continue
            if (
                texts + len(call.texts) <= options.max_texts
                and characters + call.characters <= options.max_characters
            ):
                batch.append(call)
                texts += len(call.texts)
                characters += call.characters
        taken = set(map(id, batch))
        self._waiting = [call for call in self._waiting if id(call) not in taken]
        return batch

    def _run(self, predictor: Predicts, batch: list[_Call]) -> None:
        """Predict ``batch``'s texts at once; each call gets its outputs and its ``then``."""
        try:
            outputs = list(predictor.predict([text for call in batch for text in call.texts]))
        except BaseException as error:
            for call in batch:
                call.error = error
            self._finish(batch)
            raise
        start = 0
        for call in batch:
            try:
                call.result = call.then(outputs[start : start + len(call.texts)])
            except Exception as error:  # the caller's own failure, raised in its thread
                call.error = error
            start += len(call.texts)
        self._finish(batch)

    def _finish(self, batch: list[_Call]) -> None:
        with self._changed:
            for call in batch:
                call.done = True
            self.stats.calls += len(batch)
            self.stats.batches += 1
            if len(batch) > 1:
                self.stats.shared_batches += 1
            self._changed.notify_all()
        PREDICTION_BATCHES.inc()
        PREDICTION_BATCH_CALLS.inc(len(batch))
