"""The SQL job queue: claiming, leases, re-claiming after a crash, release, cancellation, expiry.

Every test runs on SQLite (the embedded default) and on PostgreSQL (the shared database of
several servers and workers). Leases run on a fake clock: a test moves time forward instead of
sleeping, so no assertion races the lease on a busy machine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, update

from lexicraft.domain.jobs import JobKind, JobOutcome, JobStatus
from lexicraft.errors import OperationNotFound
from lexicraft.storage.sql.engine import Database, migrate
from lexicraft.storage.sql.jobs import JobQueue, LocalOwners
from lexicraft.storage.sql.tables import JobRow
from lexicraft.timeutil import utcnow

LEASE_S = 30.0


class FakeClock:
    """UTC now that moves only when told to, plus a microsecond per reading.

    The tick keeps every reading distinct, so rows created one after the other still sort by
    ``created_at`` as they would on a real clock.
    """

    def __init__(self) -> None:
        self.now = utcnow()
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            self.now += timedelta(microseconds=1)
            return self.now

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "postgresql"])
def queue(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[JobQueue]:
    """An empty queue on a SQLite file, and on PostgreSQL (the module's database)."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'jobs.db'}")
    else:
        database = Database(request.getfixturevalue("postgres_url"))
    migrate(database.engine)  # a no-op once the module's database is at the newest revision
    with database.session() as session:
        session.execute(delete(JobRow))
    yield JobQueue(database, lease_s=LEASE_S, max_attempts=2, clock=clock)
    database.engine.dispose()


def add(
    queue: JobQueue, kind: JobKind = JobKind.TRAIN, ttl_s: float = 60, key: int | None = None
) -> str:
    with queue.database.session() as session:
        return queue.add(session, kind, {"n": 1}, ttl_s=ttl_s, project_name="p", api_key_id=key).id


def status(queue: JobQueue, job_id: str) -> JobRow:
    with queue.database.session() as session:
        row = session.get(JobRow, job_id)
        assert row is not None
        return row


def test_job_ids_have_azure_shapes(queue: JobQueue) -> None:
    authoring = add(queue, JobKind.TRAIN)
    runtime = add(queue, JobKind.ANALYZE)
    uuid_part, ticks = authoring.split("_")
    assert len(uuid_part) == 36 and ticks.isdigit() and int(ticks) > 638_000_000_000_000_000
    assert len(runtime) == 36 and "_" not in runtime


def test_a_job_is_claimed_once_and_only_by_matching_kinds(
    queue: JobQueue, clock: FakeClock
) -> None:
    job_id = add(queue, JobKind.TRAIN)
    assert queue.claim("w-analyze", [JobKind.ANALYZE]) is None
    claimed_at = clock.now + timedelta(microseconds=1)  # the claim's reading of the clock
    claimed = queue.claim("w1", [JobKind.TRAIN])
    assert claimed is not None and claimed.id == job_id
    assert claimed.status == JobStatus.RUNNING.value and claimed.attempts == 1
    assert queue.claim("w2", [JobKind.TRAIN]) is None
    # JSON and timezone-aware columns come back as they went in, whatever the database.
    assert claimed.payload == {"n": 1}
    assert claimed.started_at == claimed_at and claimed.started_at.utcoffset() == timedelta(0)


def test_jobs_are_claimed_oldest_first(queue: JobQueue) -> None:
    first, second = add(queue), add(queue)
    claimed = [queue.claim("w1", [JobKind.TRAIN]), queue.claim("w1", [JobKind.TRAIN])]
    assert [row.id for row in claimed if row is not None] == [first, second]


def claim_ids(queue: JobQueue, count: int, kind: JobKind = JobKind.ANALYZE) -> list[str]:
    claimed = [queue.claim(f"w{index}", [kind]) for index in range(count)]
    return [job.id for job in claimed if job is not None]


def test_claims_take_the_key_with_the_fewest_running_jobs_first(queue: JobQueue) -> None:
    """Key 1 floods the queue first; keys 2 and None (the configured key) each get the next
    free worker, and key 1 gets more only once every key runs as many jobs as it does."""
    flood = [add(queue, JobKind.ANALYZE, key=1) for _ in range(4)]
    second = add(queue, JobKind.ANALYZE, key=2)
    configured = [add(queue, JobKind.ANALYZE, key=None) for _ in range(2)]
    assert claim_ids(queue, 5) == [flood[0], second, configured[0], flood[1], configured[1]]
    claimed = queue.claim("w", [JobKind.ANALYZE])
    assert claimed is not None and (claimed.id, claimed.api_key_id) == (flood[2], 1)


def test_a_finished_job_no_longer_counts_against_its_key(queue: JobQueue) -> None:
    first, later = add(queue, JobKind.ANALYZE, key=1), add(queue, JobKind.ANALYZE, key=1)
    other = add(queue, JobKind.ANALYZE, key=2)
    assert claim_ids(queue, 1) == [first]
    assert queue.finish(first, "w0", JobOutcome(JobStatus.SUCCEEDED))
    assert claim_ids(queue, 1) == [later]  # no key runs anything: the oldest job goes first
    assert claim_ids(queue, 1) == [other]


def test_running_jobs_of_other_kinds_do_not_count(queue: JobQueue) -> None:
    """A key's training does not hold back its analyze jobs (the pools claim apart)."""
    add(queue, JobKind.TRAIN, key=1)
    assert claim_ids(queue, 1, JobKind.TRAIN)
    mine, theirs = add(queue, JobKind.ANALYZE, key=1), add(queue, JobKind.ANALYZE, key=2)
    assert claim_ids(queue, 2) == [mine, theirs]


def test_a_claim_passes_over_the_keys_it_is_told_to(queue: JobQueue) -> None:
    first, unnamed = add(queue, JobKind.ANALYZE, key=1), add(queue, JobKind.ANALYZE)
    assert queue.claim("w", [JobKind.ANALYZE], skip_keys=[1, 2, None]) is None
    claimed = queue.claim("w", [JobKind.ANALYZE], skip_keys=[1])
    assert claimed is not None and claimed.id == unnamed
    claimed = queue.claim("w", [JobKind.ANALYZE], skip_keys=[None])
    assert claimed is not None and claimed.id == first


def test_concurrent_claimers_never_share_a_job(queue: JobQueue) -> None:
    jobs = {add(queue, key=index % 3 or None) for index in range(40)}
    claims: dict[str, list[str]] = {}
    start = threading.Barrier(4)

    def claimer(owner: str) -> None:
        start.wait()
        mine = claims.setdefault(owner, [])
        while (row := queue.claim(owner, [JobKind.TRAIN])) is not None:
            assert status(queue, row.id).lease_owner == owner
            mine.append(row.id)

    threads = [threading.Thread(target=claimer, args=(f"w{index}",)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive(), f"{thread.name} still claiming after 30 s"
    every_claim = [job_id for owned in claims.values() for job_id in owned]
    assert sorted(every_claim) == sorted(jobs)  # each job once, none left behind


def test_an_expired_lease_requeues_then_fails_after_max_attempts(
    queue: JobQueue, clock: FakeClock
) -> None:
    job_id = add(queue)
    assert queue.claim("dead-1", [JobKind.TRAIN]) is not None
    clock.advance(LEASE_S - 1)
    assert queue.recover_expired_leases() == 0  # lease still valid
    clock.advance(2)
    assert queue.recover_expired_leases() == 1
    assert status(queue, job_id).status == JobStatus.NOT_STARTED.value

    again = queue.claim("dead-2", [JobKind.TRAIN])
    assert again is not None and again.attempts == 2
    clock.advance(LEASE_S + 1)
    queue.recover_expired_leases()
    failed = status(queue, job_id)
    assert failed.status == JobStatus.FAILED.value
    assert "stopped 2 times" in failed.errors[0]["message"]
    # The dead worker's late answer is ignored.
    assert not queue.finish(job_id, "dead-2", JobOutcome(JobStatus.SUCCEEDED))
    assert status(queue, job_id).status == JobStatus.FAILED.value


def test_a_dead_worker_of_this_host_loses_its_jobs_before_its_lease_expires(
    queue: JobQueue,
) -> None:
    dead, alive, elsewhere = add(queue), add(queue), add(queue)
    for owner in ("here:101:authoring:a:0", "here:102:authoring:b:0", "there:101:authoring:c:0"):
        assert queue.claim(owner, [JobKind.TRAIN]) is not None
    # Which process owns which job follows claim order (oldest first).
    dead_pids = {"101"}  # pid 101 is gone on this host ("here"), 102 runs
    local = LocalOwners(prefix="here:", is_dead=lambda owner: owner.split(":")[1] in dead_pids)
    assert queue.recover_expired_leases() == 0  # every lease is valid
    assert queue.recover_expired_leases(local) == 1
    assert status(queue, dead).status == JobStatus.NOT_STARTED.value
    assert status(queue, dead).attempts == 1  # the claim counted; the next one is attempt 2
    # A live local owner keeps its job; another host's owner is not this host's to judge,
    # even though its pid matches a dead one here.
    assert status(queue, alive).status == JobStatus.RUNNING.value
    assert status(queue, elsewhere).status == JobStatus.RUNNING.value


def test_work_stops_once_its_worker_lost_the_job(queue: JobQueue, clock: FakeClock) -> None:
    job_id = add(queue)
    assert queue.claim("slow", [JobKind.TRAIN]) is not None
    assert not queue.should_stop(job_id, "slow")
    clock.advance(LEASE_S + 1)  # "slow" missed its heartbeats
    assert queue.recover_expired_leases() == 1
    assert queue.claim("fresh", [JobKind.TRAIN]) is not None
    assert queue.should_stop(job_id, "slow")  # it must not write its model or result
    assert not queue.should_stop(job_id, "fresh")


def test_a_released_job_is_claimed_again_at_once_and_keeps_its_attempts(queue: JobQueue) -> None:
    job_id = add(queue)
    assert queue.claim("stopping", [JobKind.TRAIN]) is not None
    assert not queue.release(job_id, "somebody-else")
    assert queue.release(job_id, "stopping")
    row = status(queue, job_id)
    assert (row.status, row.lease_owner, row.attempts) == (JobStatus.NOT_STARTED.value, None, 0)

    again = queue.claim("w2", [JobKind.TRAIN])
    assert again is not None and again.id == job_id and again.attempts == 1
    # The stopping worker's late answer and a second release change nothing.
    assert not queue.release(job_id, "stopping")
    assert not queue.finish(job_id, "stopping", JobOutcome(JobStatus.SUCCEEDED, result={"a": 1}))
    assert queue.finish(job_id, "w2", JobOutcome(JobStatus.SUCCEEDED, result={"b": 2}))
    assert status(queue, job_id).result == {"b": 2}


def test_a_job_released_while_being_cancelled_ends_cancelled(queue: JobQueue) -> None:
    job_id = add(queue)
    queue.claim("stopping", [JobKind.TRAIN])
    assert queue.request_cancel(job_id) is JobStatus.CANCELLING
    assert queue.release(job_id, "stopping")
    assert status(queue, job_id).status == JobStatus.CANCELLED.value
    assert queue.claim("w2", [JobKind.TRAIN]) is None


def finish_while_recovering(
    queue: JobQueue, job_id: str, result: dict[str, int]
) -> tuple[bool, int]:
    """``finish`` by the job's owner and ``recover_expired_leases`` at the same moment."""
    start = threading.Barrier(2)
    answers: dict[str, Any] = {}

    def finish() -> None:
        start.wait()
        outcome = JobOutcome(JobStatus.SUCCEEDED, result=result)
        answers["finished"] = queue.finish(job_id, "slow", outcome)

    def recover() -> None:
        start.wait()
        answers["recovered"] = queue.recover_expired_leases()

    threads = [threading.Thread(target=finish), threading.Thread(target=recover)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers["finished"], answers["recovered"]


def test_a_finish_racing_the_recovery_of_its_lease_has_one_outcome(
    queue: JobQueue, clock: FakeClock
) -> None:
    """The worker records its outcome just as another process finds its lease expired: either
    the outcome stands, or the job is re-queued and the outcome refused, never both."""
    for round_ in range(15):
        job_id = add(queue)
        assert queue.claim("slow", [JobKind.TRAIN]) is not None
        clock.advance(LEASE_S + 1)
        finished, recovered = finish_while_recovering(queue, job_id, {"round": round_})
        row = status(queue, job_id)
        if finished:
            assert recovered == 0
            assert (row.status, row.result) == (JobStatus.SUCCEEDED.value, {"round": round_})
        else:
            assert recovered == 1
            assert row.status == JobStatus.NOT_STARTED.value and row.result is None
            queue.request_cancel(job_id)  # out of the way of the next round's claim


def test_heartbeat_keeps_the_lease(queue: JobQueue, clock: FakeClock) -> None:
    job_id = add(queue)
    queue.claim("w1", [JobKind.TRAIN])
    for _ in range(4):  # two leases' time in all, a heartbeat every half lease
        clock.advance(LEASE_S / 2)
        assert queue.heartbeat(job_id, "w1")
    assert queue.recover_expired_leases() == 0
    assert not queue.heartbeat(job_id, "somebody-else")


def test_finish_records_outcome_only_for_the_owner(queue: JobQueue) -> None:
    job_id = add(queue)
    queue.claim("w1", [JobKind.TRAIN])
    assert not queue.finish(job_id, "w2", JobOutcome(JobStatus.SUCCEEDED))
    assert queue.finish(job_id, "w1", JobOutcome(JobStatus.SUCCEEDED, result={"ok": True}))
    row = status(queue, job_id)
    assert row.status == JobStatus.SUCCEEDED.value
    assert row.result == {"ok": True} and row.percent_complete == 100.0


def test_cancel_waiting_and_running_jobs(queue: JobQueue) -> None:
    running, waiting = add(queue), add(queue)
    claimed = queue.claim("w1", [JobKind.TRAIN])  # the older job
    assert claimed is not None and claimed.id == running
    assert queue.request_cancel(waiting) is JobStatus.CANCELLED
    assert queue.request_cancel(running) is JobStatus.CANCELLING
    assert status(queue, waiting).status == JobStatus.CANCELLED.value
    assert status(queue, running).status == JobStatus.CANCELLING.value
    assert queue.should_stop(running, "w1")
    # The worker's success after a cancel request still ends as cancelled.
    assert queue.finish(running, "w1", JobOutcome(JobStatus.SUCCEEDED))
    assert status(queue, running).status == JobStatus.CANCELLED.value
    # A finished job cannot be cancelled.
    assert queue.request_cancel(running) is None


def test_expired_jobs_are_not_found_and_purged(queue: JobQueue, clock: FakeClock) -> None:
    job_id = add(queue, ttl_s=60)
    with queue.database.session() as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(expires_at=clock() - timedelta(seconds=1))
        )
    with queue.database.session() as session, pytest.raises(OperationNotFound):
        queue.get(session, job_id, [JobKind.TRAIN])
    assert queue.purge_expired() == 1


def test_statistics_count_jobs_by_kind_and_status_and_age_the_oldest_waiting(
    queue: JobQueue, clock: FakeClock
) -> None:
    first = add(queue, JobKind.ANALYZE)
    clock.advance(40)
    add(queue, JobKind.ANALYZE)
    add(queue, JobKind.TRAIN)
    clock.advance(2)
    claimed = queue.claim("w1", [JobKind.TRAIN])
    assert claimed is not None
    clock.advance(3)
    statistics = queue.statistics()
    assert statistics.counts == {
        (JobKind.ANALYZE, JobStatus.NOT_STARTED): 2,
        (JobKind.TRAIN, JobStatus.RUNNING): 1,
    }
    assert set(statistics.oldest_waiting) == {JobKind.ANALYZE}
    waited = (statistics.taken_at - statistics.oldest_waiting[JobKind.ANALYZE]).total_seconds()
    assert waited == pytest.approx(45, abs=0.01)
    assert queue.finish(claimed.id, "w1", JobOutcome(JobStatus.SUCCEEDED))
    oldest = queue.claim("w2", [JobKind.ANALYZE])
    assert oldest is not None and oldest.id == first  # the other one waits longest now
    statistics = queue.statistics()
    assert statistics.counts[(JobKind.TRAIN, JobStatus.SUCCEEDED)] == 1
    assert statistics.counts[(JobKind.ANALYZE, JobStatus.RUNNING)] == 1
    waited = (statistics.taken_at - statistics.oldest_waiting[JobKind.ANALYZE]).total_seconds()
    assert waited == pytest.approx(5, abs=0.01)
