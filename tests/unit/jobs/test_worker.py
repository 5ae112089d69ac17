"""Worker pools: running jobs finish within the grace period, later ones are released; what a
failed job shows clients and what the log keeps."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from lexicraft.domain.jobs import JobKind, JobOutcome, JobStatus
from lexicraft.errors import NotEnoughData
from lexicraft.jobs.worker import Handler, LeasedJob, WorkerPool, stop_pools
from lexicraft.storage.sql.engine import Database, migrate
from lexicraft.storage.sql.jobs import JobQueue
from lexicraft.storage.sql.tables import JobRow


@pytest.fixture(params=["sqlite", "postgresql"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobQueue]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'jobs.db'}")
    else:
        database = Database(request.getfixturevalue("postgres_url"))
    migrate(database.engine)
    yield JobQueue(database, lease_s=30, max_attempts=3)
    database.engine.dispose()


class Gate:
    """A job handler that waits until it is opened, then succeeds."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.opened = threading.Event()

    def __call__(self, job: LeasedJob) -> JobOutcome:
        self.started.set()
        assert self.opened.wait(30)
        return JobOutcome(JobStatus.SUCCEEDED, result={"by": job.owner})


def running_pool(queue: JobQueue, gate: Gate) -> tuple[WorkerPool, str]:
    with queue.database.session() as session:
        job_id = queue.add(session, JobKind.TRAIN, {}, ttl_s=60, project_name="p").id
    pool = WorkerPool(
        queue, {JobKind.TRAIN: gate}, name="authoring", kinds=[JobKind.TRAIN], threads=1,
        poll_interval_s=0.05,
    )  # fmt: skip
    pool.start()
    assert gate.started.wait(30)
    return pool, job_id


def row(queue: JobQueue, job_id: str) -> JobRow:
    with queue.database.session() as session:
        found = session.get(JobRow, job_id)
        assert found is not None
        return found


def test_a_job_that_finishes_within_the_grace_period_is_recorded(queue: JobQueue) -> None:
    gate = Gate()
    pool, job_id = running_pool(queue, gate)
    threading.Timer(0.2, gate.opened.set).start()
    assert stop_pools([pool], grace_s=30) == []
    assert not pool.busy
    assert row(queue, job_id).status == JobStatus.SUCCEEDED.value


def test_a_job_still_running_after_the_grace_period_is_released(queue: JobQueue) -> None:
    gate = Gate()
    pool, job_id = running_pool(queue, gate)
    assert stop_pools([pool], grace_s=0.2) == [job_id]
    released = row(queue, job_id)
    assert (released.status, released.lease_owner, released.attempts) == ("notStarted", None, 0)
    # The released job's late outcome is refused: it is the next claimer's to record.
    gate.opened.set()
    pool.join(deadline=time.monotonic() + 30)
    assert row(queue, job_id).status == JobStatus.NOT_STARTED.value
    assert queue.claim("next", [JobKind.TRAIN]) is not None


def finished(queue: JobQueue, handler: Handler) -> JobRow:
    """The row of a job run by ``handler`` in a pool, once the job is over."""
    with queue.database.session() as session:
        job_id = queue.add(session, JobKind.TRAIN, {}, ttl_s=60, project_name="p").id
    pool = WorkerPool(
        queue, {JobKind.TRAIN: handler}, name="authoring", kinds=[JobKind.TRAIN], threads=1,
        poll_interval_s=0.05,
    )  # fmt: skip
    pool.start()
    try:
        deadline = time.monotonic() + 30
        while (found := row(queue, job_id)).status in ("notStarted", "running"):
            assert time.monotonic() < deadline, "the job did not finish"
            time.sleep(0.02)
    finally:
        stop_pools([pool], grace_s=10)
    return found


def test_a_fault_shows_clients_a_stable_error_and_the_log_the_exception_under_the_job_id(
    queue: JobQueue, caplog: pytest.LogCaptureFixture
) -> None:
    path = "/srv/lexicraft/data/models/p/m1-0123/weights.bin"
    address = repr(object())  # "<object object at 0x7f…>"
    internals = f"cannot map {path}: {address}"

    def fault(_job: LeasedJob) -> JobOutcome:
        raise RuntimeError(internals)

    caplog.set_level(logging.INFO, logger="lexicraft.jobs.worker")
    found = finished(queue, fault)
    assert found.status == JobStatus.FAILED.value
    assert found.errors == [
        {
            "code": "InternalServerError",
            "message": "The job failed because of an internal error; the server log has the "
            f"details under job {found.id}.",
        }
    ]
    logged = [record for record in caplog.records if found.id in record.getMessage()]
    assert len(logged) == 1, [record.getMessage() for record in logged]
    assert logged[0].levelno == logging.ERROR and logged[0].exc_info is not None
    assert str(logged[0].exc_info[1]) == internals  # path and address: in the log only


def test_a_client_error_is_the_jobs_error_as_raised_and_one_log_line(
    queue: JobQueue, caplog: pytest.LogCaptureFixture
) -> None:
    error = NotEnoughData("the training split is empty; assign documents to the Train set")

    def refuse(_job: LeasedJob) -> JobOutcome:
        raise error

    caplog.set_level(logging.INFO, logger="lexicraft.jobs.worker")
    found = finished(queue, refuse)
    assert found.status == JobStatus.FAILED.value
    assert found.errors == [error.to_error()]
    logged = [record for record in caplog.records if found.id in record.getMessage()]
    assert [(record.levelno, record.exc_info) for record in logged] == [(logging.INFO, None)]
    assert error.message in logged[0].getMessage()


def test_a_restarted_worker_takes_back_its_dead_predecessors_job_at_once(
    queue: JobQueue,
) -> None:
    # The predecessor: a real process of this host, gone now, that held a job with a lease
    # of 30 s (the queue's) when it died.
    predecessor = subprocess.Popen([sys.executable, "-c", "pass"])
    predecessor.wait(30)
    with queue.database.session() as session:
        session.execute(delete(JobRow))  # only this test's job waits (the module shares a DB)
        job_id = queue.add(session, JobKind.TRAIN, {}, ttl_s=60, project_name="p").id
    dead_owner = f"{socket.gethostname()}:{predecessor.pid}:authoring:0123abcd:0"
    assert queue.claim(dead_owner, [JobKind.TRAIN]) is not None

    gate = Gate()
    gate.opened.set()
    pool = WorkerPool(
        queue, {JobKind.TRAIN: gate}, name="authoring", kinds=[JobKind.TRAIN], threads=1,
        poll_interval_s=0.05,
    )  # fmt: skip
    pool.start()
    try:
        # Well before the 30 s lease would have let anyone else run it.
        assert gate.started.wait(10)
    finally:
        pool.stop(grace_s=5)
    finished = row(queue, job_id)
    assert (finished.status, finished.attempts) == (JobStatus.SUCCEEDED.value, 2)


def test_a_pool_leaves_threads_for_other_keys_beyond_jobs_per_key(queue: JobQueue) -> None:
    """Key 1 fills the queue; a pool of three threads runs two of its jobs (jobs_per_key), so
    the third thread is free when key 2's job arrives: it starts while key 1's jobs run."""
    with queue.database.session() as session:
        session.execute(delete(JobRow))
    started: dict[str, threading.Event] = {}
    opened = threading.Event()

    def hold(job: LeasedJob) -> JobOutcome:
        started.setdefault(job.job.id, threading.Event()).set()
        assert opened.wait(30)
        return JobOutcome(JobStatus.SUCCEEDED)

    def add(key: int) -> str:
        with queue.database.session() as session:
            job_id = queue.add(session, JobKind.ANALYZE, {}, ttl_s=60, api_key_id=key).id
        started.setdefault(job_id, threading.Event())  # the pool may have started it
        return job_id

    flood = [add(1) for _ in range(3)]
    pool = WorkerPool(
        queue, {JobKind.ANALYZE: hold}, name="analyze", kinds=[JobKind.ANALYZE], threads=3,
        poll_interval_s=0.05, jobs_per_key=2,
    )  # fmt: skip
    pool.start()
    try:
        assert started[flood[0]].wait(30) and started[flood[1]].wait(30)
        later = add(2)
        pool.wake()
        assert started[later].wait(30), "key 2's job waited for key 1's"
        assert row(queue, flood[2]).status == JobStatus.NOT_STARTED.value
        assert pool.running_keys() == {1: 2, 2: 1}
    finally:
        opened.set()
        stop_pools([pool], grace_s=10)
