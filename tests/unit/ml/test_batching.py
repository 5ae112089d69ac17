"""Batching across callers (ml/batching.py): who leads, who waits, what each call gets back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

from lexicraft.ml.batching import Batcher, BatchingOptions


class Recorder:
    """A predictor that echoes its texts upper-cased and records each batch; ``hold`` makes
    the next call block until released."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()

    def predict(self, texts: Sequence[str]) -> list[str]:
        self.batches.append(list(texts))
        self.entered.set()
        self.hold.wait()
        return [text.upper() for text in texts]


turns: list[float] = []


@contextmanager
def free_turn(cost: float) -> Iterator[None]:
    turns.append(cost)
    yield


def wait_until(condition: Any, what: str) -> None:
    """Poll ``condition`` (a deadline guards against a hang; no timing is asserted)."""
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.001)


def test_a_lone_call_runs_at_once_without_waiting_the_window() -> None:
    # A window far longer than the test: a lone call that waited it would show in the stats
    # (and hang the test for a minute). Its own job is the only one running.
    batcher = Batcher(BatchingOptions(window_s=60.0), activity=lambda: 1)
    predictor = Recorder()

    first = batcher.run(predictor, ["a", "bc"], list, free_turn)
    second = batcher.run(predictor, ["d"], list, free_turn)

    assert (first, second) == (["A", "BC"], ["D"])
    assert predictor.batches == [["a", "bc"], ["d"]]
    assert batcher.stats.windows_waited == 0
    assert batcher.stats.immediate == 2
    assert batcher.stats.batches == 2 and batcher.stats.shared_batches == 0


def test_calls_arriving_during_a_batch_share_the_next_one() -> None:
    batcher = Batcher(BatchingOptions(window_s=0.0))
    predictor = Recorder()
    predictor.hold.clear()
    results: dict[str, Any] = {}

    def call(name: str, texts: list[str]) -> None:
        results[name] = batcher.run(predictor, texts, lambda out: (name, out), free_turn)

    leader = threading.Thread(target=call, args=("lead", ["x"]))
    leader.start()
    predictor.entered.wait(30)
    followers = [
        threading.Thread(target=call, args=(f"f{index}", [f"t{index}", f"u{index}"]))
        for index in range(3)
    ]
    for thread in followers:
        thread.start()
    wait_until(lambda: batcher.waiting == 3, "three calls waiting")
    predictor.hold.set()
    for thread in [leader, *followers]:
        thread.join(30)

    assert predictor.batches[0] == ["x"]
    # The three waiting calls ran as one batch, each got its own outputs back.
    assert len(predictor.batches) == 2
    assert sorted(predictor.batches[1]) == sorted(
        text for index in range(3) for text in (f"t{index}", f"u{index}")
    )
    assert results["lead"] == ("lead", ["X"])
    for index in range(3):
        assert results[f"f{index}"] == (f"f{index}", [f"T{index}", f"U{index}"])
    assert batcher.stats.calls == 4 and batcher.stats.shared_batches == 1


def test_a_batch_takes_no_more_than_its_bounds() -> None:
    batcher = Batcher(BatchingOptions(window_s=0.0, max_texts=3, max_characters=1000))
    predictor = Recorder()
    predictor.hold.clear()
    threads = [
        threading.Thread(target=batcher.run, args=(predictor, texts, list, free_turn))
        for texts in (["lead"], ["a", "b"], ["c", "d"], ["e"])
    ]
    threads[0].start()
    predictor.entered.wait(30)
    for queued, thread in enumerate(threads[1:], start=1):
        thread.start()
        # One at a time, so that they queue in this order.
        wait_until(lambda queued=queued: batcher.waiting == queued, "queued")
    predictor.hold.set()
    for thread in threads:
        thread.join(30)

    # ["a","b"] led the second batch; ["c","d"] did not fit beside it, ["e"] did.
    assert predictor.batches == [["lead"], ["a", "b", "e"], ["c", "d"]]


def test_a_failing_batch_fails_every_call_in_it_and_the_next_call_leads() -> None:
    class Failing:
        def predict(self, texts: Sequence[str]) -> list[str]:
            raise RuntimeError("broken model")

    batcher = Batcher()

    with pytest.raises(RuntimeError, match="broken model"):
        batcher.run(Failing(), ["a"], list, free_turn)
    assert batcher.run(Recorder(), ["b"], list, free_turn) == ["B"]


def test_a_callers_render_failure_stays_with_that_caller() -> None:
    batcher = Batcher()

    def broken(outputs: list[str]) -> None:
        raise ValueError("render failed")

    with pytest.raises(ValueError, match="render failed"):
        batcher.run(Recorder(), ["a"], broken, free_turn)
    assert batcher.run(Recorder(), ["b"], list, free_turn) == ["B"]


def test_the_leader_takes_its_turn_with_its_own_characters() -> None:
    turns.clear()
    Batcher().run(Recorder(), ["abc", "de"], list, free_turn)
    assert turns == [5]


def test_while_other_jobs_run_a_leader_waits_for_their_calls_and_no_longer() -> None:
    # Three jobs run: the first call waits (within a minute's window) for the other two, and
    # goes as soon as both are there.
    batcher = Batcher(BatchingOptions(window_s=60.0), activity=lambda: 3)
    predictor = Recorder()
    results: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda t=text: results.append(batcher.run(predictor, [t], list, free_turn))
        )
        for text in ("a", "b", "c")
    ]
    threads[0].start()
    wait_until(lambda: batcher.stats.windows_waited == 1, "the leader waits")
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert [sorted(batch) for batch in predictor.batches] == [["a", "b", "c"]]
    assert sorted(results) == [["A"], ["B"], ["C"]]
    assert batcher.stats.immediate == 0 and batcher.stats.shared_batches == 1
