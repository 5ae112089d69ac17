"""Cross-process wake-ups on PostgreSQL: a job added and committed reaches every listener."""

from __future__ import annotations

import queue as stdlib_queue
from collections.abc import Iterator
from pathlib import Path

import pytest

from lexicraft.domain.jobs import JobKind
from lexicraft.storage.sql.engine import Database, migrate
from lexicraft.storage.sql.jobs import JobQueue
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
