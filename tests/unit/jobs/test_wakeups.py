"""Cross-process wake-ups on PostgreSQL: a job added and committed reaches every listener."""

from __future__ import annotations

import queue as stdlib_queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from lexicraft.bootstrap import job_wakeups, open_context
from lexicraft.domain.jobs import JobKind, JobOutcome, JobStatus
from lexicraft.jobs.worker import LeasedJob, WorkerPool
from lexicraft.settings import Settings
from lexicraft.storage.sql.engine import Database, migrate
from lexicraft.storage.sql.jobs import JobQueue
from lexicraft.storage.sql.tables import JobRow
from lexicraft.storage.sql.wakeups import JobWakeups, supports_wakeups


@pytest.fixture
def database(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url)
    migrate(database.engine)
    yield database
    database.engine.dispose()


def test_a_committed_job_wakes_listeners_with_its_kind(database: Database) -> None:
    heard: stdlib_queue.Queue[str | None] = stdlib_queue.Queue()
    listener = JobWakeups(database.engine, heard.put)
    listener.start()
    try:
        # A fresh listener first wakes everyone: jobs may have arrived while it was not there.
        assert heard.get(timeout=10) is None
        queue = JobQueue(database, lease_s=30, max_attempts=2)
        with database.session() as session:
            queue.add(session, JobKind.ANALYZE, {}, ttl_s=60)
            session.flush()
            # NOTIFY is transactional: nothing is delivered before the commit.
            with pytest.raises(stdlib_queue.Empty):
                heard.get(timeout=0.5)
        assert heard.get(timeout=10) == JobKind.ANALYZE.value
        with database.session() as session:
            queue.add(session, JobKind.TRAIN, {}, ttl_s=60)
        assert heard.get(timeout=10) == JobKind.TRAIN.value
    finally:
        listener.stop()


def test_sqlite_has_no_wakeup_channel_and_adds_jobs_as_before(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/jobs.db")
    migrate(database.engine)
    assert not supports_wakeups(database.engine)
    queue = JobQueue(database, lease_s=30, max_attempts=2)
    with database.session() as session:
        job = queue.add(session, JobKind.ANALYZE, {}, ttl_s=60)
    with database.session() as session:
        assert queue.get(session, job.id, [JobKind.ANALYZE]).id == job.id
    database.engine.dispose()


def test_a_pool_that_would_not_poll_for_an_hour_runs_a_job_submitted_elsewhere(
    postgres_url: str, tmp_path: Path
) -> None:
    context = open_context(
        Settings(data_dir=tmp_path, database_url=postgres_url), migrate_schema=True
    )
    with context.database.session() as session:
        session.execute(delete(JobRow))  # the module's other tests leave waiting jobs
    ran = threading.Event()

    def handle(job: LeasedJob) -> JobOutcome:
        ran.set()
        return JobOutcome(JobStatus.SUCCEEDED, result={})

    pool = WorkerPool(
        context.queue, {JobKind.ANALYZE: handle}, name="analyze", kinds=[JobKind.ANALYZE],
        threads=1, poll_interval_s=3600,
    )  # fmt: skip
    wakeups = job_wakeups(context, [pool])
    assert wakeups is not None
    wakeups.start()
    try:
        assert wakeups.listening.wait(10)
        pool.start()
        # Let the pool's first claims (at start, and on the listener's hello) find nothing and
        # the pool go idle; were it still claiming, the job below would be found without a
        # wake-up (the test would pass for the wrong reason, never fail).
        time.sleep(1.0)
        assert not ran.is_set()
        # Another process (an API replica) submits: only the notification can wake the pool.
        elsewhere = Database(postgres_url)
        with elsewhere.session() as session:
            JobQueue(elsewhere, lease_s=30, max_attempts=2).add(
                session, JobKind.ANALYZE, {}, ttl_s=60
            )
        elsewhere.engine.dispose()
        assert ran.wait(30)
    finally:
        wakeups.stop()
        pool.stop(grace_s=5)
        context.database.engine.dispose()


def test_no_listener_on_sqlite_or_without_pools(tmp_path: Path) -> None:
    context = open_context(Settings(data_dir=tmp_path))
    pool = WorkerPool(
        context.queue, {}, name="analyze", kinds=[JobKind.ANALYZE], threads=1,
        poll_interval_s=1,
    )  # fmt: skip
    assert job_wakeups(context, [pool]) is None
    context.database.engine.dispose()
