"""A pool's idle threads: one of them polls the queue, and a burst of jobs that no wake-up
announced (queued by another process) still runs on as many threads as it has jobs."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

from lexicraft.domain.jobs import Job, JobKind, JobOutcome, JobStatus
from lexicraft.jobs.worker import LeasedJob, WorkerPool
from lexicraft.storage.sql.engine import Database, migrate
from lexicraft.storage.sql.jobs import JobQueue
from lexicraft.storage.sql.tables import JobRow

POLL_S = 0.05


class CountingQueue(JobQueue):
    """The SQLite job queue, counting the claims made of it."""

    claims = 0

    def claim(
        self,
        owner: str,
        kinds: Collection[JobKind],
        *,
        skip_keys: Collection[int | None] = (),
        probe: bool = True,
    ) -> Job | None:
        self.claims += 1
        return super().claim(owner, kinds, skip_keys=skip_keys, probe=probe)


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[CountingQueue]:
    database = Database(f"sqlite:///{tmp_path / 'jobs.db'}")
    migrate(database.engine)
    yield CountingQueue(database, lease_s=30, max_attempts=3)
    database.engine.dispose()


def pool_of(queue: JobQueue, threads: int, handler: object) -> WorkerPool:
    return WorkerPool(
        queue, {JobKind.ANALYZE: handler},  # type: ignore[dict-item]
        name="analyze", kinds=[JobKind.ANALYZE], threads=threads, poll_interval_s=POLL_S,
    )  # fmt: skip


def test_an_idle_pool_polls_the_queue_from_one_thread(queue: CountingQueue) -> None:
    pool = pool_of(queue, 8, lambda _job: JobOutcome(JobStatus.SUCCEEDED))
    pool.start()
    try:
        idle_s = 1.0
        time.sleep(idle_s)
        claims = queue.claims
    finally:
        pool.stop(grace_s=5)
    # Each thread looks once as it starts, then one poller looks each interval (a busy host
    # polls less, never more). Eight threads each polling would make some 160 claims.
    assert claims <= 8 + 2 * idle_s / POLL_S


def test_a_burst_that_no_wake_up_announced_runs_on_all_threads_at_once(
    queue: CountingQueue,
) -> None:
    together = threading.Barrier(4, timeout=20)

    def meet(_job: LeasedJob) -> JobOutcome:
        together.wait()  # only if four jobs run at the same time; else BrokenBarrierError
        return JobOutcome(JobStatus.SUCCEEDED)

    pool = pool_of(queue, 6, meet)
    pool.start()
    try:
        time.sleep(5 * POLL_S)  # every thread has looked once and gone idle
        with queue.database.session() as session:
            ids = [queue.add(session, JobKind.ANALYZE, {}, ttl_s=60).id for _ in range(4)]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with queue.database.session() as session:
                statuses = [session.get(JobRow, job_id).status for job_id in ids]  # type: ignore[union-attr]
            if all(status != JobStatus.NOT_STARTED.value for status in statuses) and not any(
                status == JobStatus.RUNNING.value for status in statuses
            ):
                break
            time.sleep(POLL_S)
    finally:
        pool.stop(grace_s=5)
    assert statuses == [JobStatus.SUCCEEDED.value] * 4
