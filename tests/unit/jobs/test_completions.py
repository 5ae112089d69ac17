"""JobCompletions: a waiter learns of its job's end from a worker thread, or not in time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from lexicraft.jobs.completions import JobCompletions

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: an earlier test of this worker (Playwright's sync
    API) may leave an event loop running in the main thread, where run() refuses."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def test_a_wait_ends_when_another_thread_finishes_the_job() -> None:
    completions = JobCompletions()

    async def scenario() -> bool:
        waiting = asyncio.create_task(completions.wait("job-1", 30))
        await asyncio.sleep(0)  # the waiter is registered before the worker finishes
        worker = threading.Thread(target=completions.finished, args=("job-1",))
        worker.start()
        done = await waiting
        worker.join()
        return done

    assert run(scenario()) is True


def test_a_job_finished_before_the_wait_began_is_found_at_once() -> None:
    completions = JobCompletions()
    completions.finished("job-1")
    assert run(completions.wait("job-1", 30)) is True
    assert run(completions.wait("job-1", 0)) is True


def test_a_wait_for_a_job_that_does_not_finish_times_out_and_leaves_no_waiter() -> None:
    completions = JobCompletions()
    assert run(completions.wait("job-1", 0.01)) is False
    assert run(completions.wait("job-1", 0)) is False
    assert completions._waiters == {}
    # A late end after the waiter gave up wakes nobody and fails nothing.
    completions.finished("job-1")
    assert run(completions.wait("job-1", 0)) is True


def test_other_jobs_ending_do_not_end_a_wait() -> None:
    completions = JobCompletions()

    async def scenario() -> bool:
        waiting = asyncio.create_task(completions.wait("job-1", 0.05))
        await asyncio.sleep(0)
        completions.finished("job-2")
        return await waiting

    assert run(scenario()) is False


def test_only_the_latest_finished_jobs_are_remembered() -> None:
    completions = JobCompletions(remember=2)
    for job_id in ("a", "b", "c"):
        completions.finished(job_id)
    assert [run(completions.wait(job_id, 0)) for job_id in "abc"] == [False, True, True]
