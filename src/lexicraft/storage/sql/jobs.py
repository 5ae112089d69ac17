"""The durable job queue in SQL: submit, claim with a lease, heartbeat, finish, re-claim.

A job row is committed before the API answers ``202``. Workers claim a job by a conditional
``UPDATE … WHERE status = 'notStarted'`` (safe with several processes on SQLite and
PostgreSQL), keep a lease alive while they work, and a job whose lease expired (its worker
died) goes back to ``notStarted`` until it has used up its attempts, then fails with a reason.
A worker that shuts down releases its job instead, so that another one takes it at once.

Every write that depends on what a job row held is one conditional ``UPDATE`` (on the status,
lease owner and attempt it was read with): PostgreSQL's READ COMMITTED, and pysqlite, which
reads outside the writing transaction, both let a row change between a read and a write, and
a write on a stale view could record a second outcome or re-queue a finished job. On
PostgreSQL the row is also locked while it is read (``FOR UPDATE``), so a cancel or a recovery
waits for (or skips) an outcome being recorded rather than racing it.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from lexicraft.domain.jobs import (
    UNFINISHED,
    Job,
    JobKind,
    JobOutcome,
    JobStatus,
    QueueStatistics,
    can_transition,
    require_transition,
)
from lexicraft.errors import OperationNotFound
from lexicraft.storage.sql.engine import Database
from lexicraft.storage.sql.tables import JobRow
from lexicraft.storage.sql.wakeups import notify_new_job
from lexicraft.timeutil import as_utc, dotnet_ticks, utcnow

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class LocalOwners:
    """The lease owners of this host (their names start with ``prefix``) and which of them
    are dead (``is_dead(owner)``: their process no longer runs)."""

    prefix: str
    is_dead: Callable[[str], bool]


#: The statuses in which a worker holds a job's lease.
_HELD = (JobStatus.RUNNING.value, JobStatus.CANCELLING.value)


def new_job_id(authoring: bool, now: datetime) -> str:
    """A job id shaped as Azure's: ``<uuid>`` (runtime) or ``<uuid>_<ticks>`` (authoring)."""
    if authoring:
        return f"{uuid.uuid4()}_{dotnet_ticks(now)}"
    return str(uuid.uuid4())


def to_job(row: JobRow) -> Job:
    """The domain view of a job row."""
    return Job(
        id=row.id,
        kind=JobKind(row.kind),
        status=JobStatus(row.status),
        payload=dict(row.payload or {}),
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        expires_at=as_utc(row.expires_at),
        project_name=row.project_name,
        target=row.target,
        display_name=row.display_name,
        result=row.result,
        errors=tuple(row.errors or ()),
        warnings=tuple(row.warnings or ()),
        percent_complete=row.percent_complete,
        attempts=row.attempts,
        started_at=as_utc(row.started_at) if row.started_at else None,
        finished_at=as_utc(row.finished_at) if row.finished_at else None,
        api_key_id=row.api_key_id,
        estimated_end_at=as_utc(row.estimated_end_at) if row.estimated_end_at else None,
    )


#: How often a conditional write is tried again after the row changed under it.
_RETRIES = 3


def _write_if_unchanged(session: Session, row: JobRow, values: dict[str, Any]) -> bool:
    """Write ``values`` to ``row``'s job if it still has the status, lease and attempt read.

    One conditional ``UPDATE``: on PostgreSQL's READ COMMITTED and on SQLite (whose driver
    runs a read outside the writing transaction) a row may change between a read and the
    write that depends on it; the write then changes nothing and says so.
    """
    owner = (
        JobRow.lease_owner.is_(None)
        if row.lease_owner is None
        else JobRow.lease_owner == row.lease_owner
    )
    result = session.execute(
        update(JobRow)
        .where(
            JobRow.id == row.id,
            JobRow.status == row.status,
            JobRow.attempts == row.attempts,
            owner,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _stopped_worker(
    current: JobStatus, attempts: int, now: datetime, *, give_up: bool = False
) -> dict[str, Any]:
    """What becomes of a job whose worker stopped: the one rule for a release and a crash.

    A job being cancelled is cancelled; otherwise it waits to be claimed again, unless
    ``give_up`` (it has used up its attempts), when it fails and says why.
    """
    values: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None, "updated_at": now}
    if current is JobStatus.CANCELLING:
        values["status"] = require_transition(current, JobStatus.CANCELLED).value
        values["finished_at"] = now
    elif give_up:
        values["status"] = require_transition(current, JobStatus.FAILED).value
        values["finished_at"] = now
        values["errors"] = [
            {
                "code": "InternalServerError",
                "message": (
                    f"The worker running this job stopped {attempts} times before it "
                    "finished; the job was given up."
                ),
            }
        ]
    else:
        values["status"] = require_transition(current, JobStatus.NOT_STARTED).value
        values["percent_complete"] = 0.0
        values["estimated_end_at"] = None
    return values


@functools.cache
def _claim_statement(kind_values: tuple[str, ...], *, skipping: bool) -> Any:
    """:meth:`JobQueue.claim`'s ``UPDATE … RETURNING``, built once per pool's kinds.

    Building and keying this statement cost more Python time than the rest of a 1-document
    analyze job's database work; built once, the owner, the clock and the skipped keys are its
    parameters (``claim_owner``, ``claim_now``, ``claim_expires``, ``claim_skip``). Status and
    kind lists are plain comparisons, not ``IN`` lists, which SQLAlchemy would re-render for
    every execution.
    """
    columns = JobRow.__table__.c
    # NULL (the configured key, the CLI) is one client; stored key ids start at 1.
    running_key = func.coalesce(JobRow.api_key_id, 0)
    running = (
        select(running_key.label("key"), func.count().label("jobs"))
        .where(
            or_(*(JobRow.status == status for status in _HELD)),
            or_(*(JobRow.kind == kind for kind in kind_values)),
        )
        .group_by(running_key)
        .subquery()
    )
    waiting = aliased(JobRow)
    waiting_key = func.coalesce(waiting.api_key_id, 0)
    pick = (
        select(waiting.id)
        .outerjoin(running, running.c.key == waiting_key)
        .where(
            waiting.status == JobStatus.NOT_STARTED.value,
            or_(*(waiting.kind == kind for kind in kind_values)),
        )
        .order_by(func.coalesce(running.c.jobs, 0), waiting.created_at)
        .limit(1)
        # Only the waiting row is locked (the counts are an aggregate, and the nullable
        # side of the join).
        .with_for_update(skip_locked=True, of=waiting)
    )
    if skipping:
        pick = pick.where(waiting_key.not_in(bindparam("claim_skip", expanding=True)))
    return (
        update(JobRow)
        .where(
            JobRow.id == pick.scalar_subquery(),
            JobRow.status == JobStatus.NOT_STARTED.value,
        )
        .values(
            status=require_transition(JobStatus.NOT_STARTED, JobStatus.RUNNING).value,
            lease_owner=bindparam("claim_owner", type_=columns.lease_owner.type),
            lease_expires_at=bindparam("claim_expires", type_=columns.lease_expires_at.type),
            attempts=JobRow.attempts + 1,
            started_at=bindparam("claim_now", type_=columns.started_at.type),
            updated_at=bindparam("claim_now", type_=columns.updated_at.type),
        )
        .returning(JobRow)
        .execution_options(synchronize_session=False)
    )


@functools.cache
def _waiting_probe(kind_values: tuple[str, ...]) -> Any:
    """Whether a job of these kinds waits: the read :meth:`JobQueue.claim` makes first."""
    return (
        select(JobRow.id)
        .where(
            JobRow.status == JobStatus.NOT_STARTED.value,
            or_(*(JobRow.kind == kind for kind in kind_values)),
        )
        .limit(1)
    )


class JobQueue:
    """Job rows as a queue; every method runs its own short transaction.

    ``clock`` tells the time for leases and expiry; tests pass their own to move time on
    without sleeping.
    """

    def __init__(
        self, database: Database, *, lease_s: float, max_attempts: int, clock: Clock = utcnow
    ) -> None:
        self.database = database
        self.lease = timedelta(seconds=lease_s)
        self.max_attempts = max_attempts
        self.clock = clock

    def add(
        self,
        session: Session,
        kind: JobKind,
        payload: dict[str, Any],
        *,
        ttl_s: float,
        project_name: str | None = None,
        target: str | None = None,
        display_name: str | None = None,
        api_key_id: int | None = None,
    ) -> Job:
        """Add a ``notStarted`` job to ``session``; it is visible once the caller commits.

        ``api_key_id`` is the key that submitted it: claims share the workers between keys.
        """
        now = self.clock()
        row = JobRow(
            id=new_job_id(kind is not JobKind.ANALYZE, now),
            kind=kind.value,
            project_name=project_name,
            target=target,
            display_name=display_name,
            status=JobStatus.NOT_STARTED.value,
            payload=payload,
            result=None,
            errors=[],
            warnings=[],
            percent_complete=0.0,
            cancel_requested=False,
            attempts=0,
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
            api_key_id=api_key_id,
        )
        session.add(row)
        session.flush()
        # Worker processes elsewhere hear of the job on commit rather than at their next poll.
        notify_new_job(session, kind.value)
        return to_job(row)

    def get(
        self,
        session: Session,
        job_id: str,
        kinds: Collection[JobKind],
        *,
        project_name: str | None = None,
        target: str | None = None,
    ) -> Job:
        """The unexpired job ``job_id`` of one of ``kinds`` (and of that project / target).

        Anything else is OperationNotFound, so a job id is only found under its own URL.
        """
        row = session.get(JobRow, job_id)
        if (
            row is None
            or row.kind not in {kind.value for kind in kinds}
            or as_utc(row.expires_at) <= self.clock()
            or (project_name is not None and row.project_name != project_name)
            or (target is not None and row.target != target)
        ):
            raise OperationNotFound(f"job {job_id!r} was not found or has expired")
        return to_job(row)

    def claim(
        self,
        owner: str,
        kinds: Collection[JobKind],
        *,
        skip_keys: Collection[int | None] = (),
        probe: bool = True,
    ) -> Job | None:
        """Take a waiting job of ``kinds`` for ``owner``: the oldest waiting job of the key
        with the fewest running jobs of ``kinds`` (ties: the oldest job first), passing over
        the keys in ``skip_keys`` (this worker runs as many of their jobs as it may). None
        when there is none.

        Fair across keys and processes: a key that submitted a hundred jobs holds the workers
        it has, and the next free worker anywhere takes another key's waiting job first. One
        conditional ``UPDATE … RETURNING`` (a job costs its worker few round trips). Its first
        step on SQLite is taking the write lock, so two claimers cannot both see the same job
        waiting; on PostgreSQL, ``SKIP LOCKED`` makes a claimer pass over a row that another
        one is taking rather than wait for it. Each claim reads every waiting job of
        ``kinds`` (to order them by their key's running jobs), which costs little at the queue
        lengths a fleet keeps.
        """
        kind_values = tuple(sorted(kind.value for kind in kinds))
        skipped = sorted({key or 0 for key in skip_keys})
        now = self.clock()
        parameters: dict[str, Any] = {
            "claim_owner": owner,
            "claim_now": now,
            "claim_expires": now + self.lease,
        }
        if skipped:
            parameters["claim_skip"] = skipped
        claim = _claim_statement(kind_values, skipping=bool(skipped))
        with self.database.session() as session:
            # Most claims find nothing (a thread that finished its job looks again at once):
            # a read tells so without the write lock the claim takes first on SQLite. A
            # claimer woken for a new job skips it (``probe=False``): a job most likely waits.
            if probe and session.execute(_waiting_probe(kind_values)).first() is None:
                return None
            row = session.scalars(claim, parameters).one_or_none()
            return None if row is None else to_job(row)

    def heartbeat(self, job_id: str, owner: str) -> bool:
        """Extend ``owner``'s lease; False when the job is no longer ``owner``'s."""
        with self.database.session() as session:
            now = self.clock()
            result = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.lease_owner == owner)
                .where(JobRow.status.in_(_HELD))
                .values(lease_expires_at=now + self.lease)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def report_progress(
        self, job_id: str, owner: str, percent: float, estimated_end: datetime | None = None
    ) -> None:
        """Store ``percent`` complete (0 … 100) and the estimated end (None: none yet) for a
        job ``owner`` holds."""
        with self.database.session() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.lease_owner == owner)
                .values(
                    percent_complete=max(0.0, min(100.0, percent)),
                    estimated_end_at=estimated_end,
                    updated_at=self.clock(),
                )
            )

    def should_stop(self, job_id: str, owner: str) -> bool:
        """Whether ``owner``'s work on the job should stop: somebody asked to cancel it, or
        ``owner`` no longer holds its lease (it expired and the job was taken over), so
        whatever the work would still write (a model, a result) must not be written."""
        with self.database.session() as session:
            found = session.execute(
                select(JobRow.cancel_requested, JobRow.lease_owner).where(JobRow.id == job_id)
            ).first()
        return found is None or bool(found[0]) or found[1] != owner

    def finish(self, job_id: str, owner: str, outcome: JobOutcome) -> bool:
        """Record ``outcome`` if ``owner`` still holds the job; False if it lost the lease.

        The outcome is written by one conditional ``UPDATE`` (the job still ``owner``'s, in the
        status it was read in), so a job's result is written at most once even when its lease
        is being taken over at the same moment.
        """
        for _ in range(_RETRIES):
            with self.database.session() as session:
                row = self._held(session, job_id, owner)
                if row is None:
                    return False
                current = JobStatus(row.status)
                status = outcome.status
                if current is JobStatus.CANCELLING and status is not JobStatus.FAILED:
                    status = JobStatus.CANCELLED
                if not can_transition(current, status):
                    return False
                now = self.clock()
                values: dict[str, Any] = {
                    "status": status.value,
                    "result": outcome.result,
                    "errors": list(outcome.errors),
                    "warnings": list(outcome.warnings),
                    "lease_owner": None,
                    "lease_expires_at": None,
                    "finished_at": now,
                    "updated_at": now,
                }
                if status is JobStatus.SUCCEEDED:
                    values["percent_complete"] = 100.0
                if _write_if_unchanged(session, row, values):
                    return True
            # A cancel request changed the status between the read and the write: read again.
        return False

    def release(self, job_id: str, owner: str) -> bool:
        """Hand a job ``owner`` is running back to the queue (its worker is shutting down).

        The job goes back to ``notStarted`` for another worker to claim at once, instead of
        after its lease expires; a job being cancelled ends as ``cancelled``. A release is not
        a failed attempt, so it does not count towards ``max_attempts``. False when the job is
        no longer ``owner``'s (it finished, or its lease was taken over).
        """
        for _ in range(_RETRIES):
            with self.database.session() as session:
                row = self._held(session, job_id, owner)
                if row is None:
                    return False
                values = _stopped_worker(JobStatus(row.status), row.attempts, self.clock())
                values["attempts"] = max(row.attempts - 1, 0)
                if _write_if_unchanged(session, row, values):
                    return True
        return False

    @staticmethod
    def _held(session: Session, job_id: str, owner: str) -> JobRow | None:
        """The job's row if ``owner`` holds its lease; locked on PostgreSQL until commit."""
        return session.scalar(
            select(JobRow)
            .where(JobRow.id == job_id, JobRow.lease_owner == owner)
            .where(JobRow.status.in_(_HELD))
            .with_for_update()
        )

    def request_cancel(self, job_id: str) -> JobStatus | None:
        """Cancel a waiting job at once, or ask its worker to stop a running one.

        Returns the job's new status, or None when it had already finished. Each step is a
        conditional ``UPDATE`` in its own transaction, so a worker claiming the job at the same
        moment cannot make the cancel fail or be lost.
        """
        # The last step changes no status: a second cancel of a job already being
        # cancelled only reports it.
        steps = (
            (JobStatus.NOT_STARTED, require_transition(JobStatus.NOT_STARTED, JobStatus.CANCELLED)),
            (JobStatus.RUNNING, require_transition(JobStatus.RUNNING, JobStatus.CANCELLING)),
            (JobStatus.CANCELLING, JobStatus.CANCELLING),
        )
        with self.database.session() as session:
            for current, new in steps:
                now = self.clock()
                values: dict[str, Any] = {
                    "status": new.value,
                    "cancel_requested": True,
                    "updated_at": now,
                }
                if new is JobStatus.CANCELLED:
                    values["finished_at"] = now
                changed = session.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id, JobRow.status == current.value)
                    .values(**values)
                )
                if changed.rowcount:  # type: ignore[attr-defined]
                    return new
        return None

    def recover_expired_leases(self, local: LocalOwners | None = None) -> int:
        """Re-queue jobs whose worker died, or fail them after max attempts.

        A worker died when its lease expired — or, with ``local``, at once when it ran on this
        host and its process is gone (a restarted worker need not wait out the lease of the
        jobs its predecessor held).
        """
        now = self.clock()
        stopped = JobRow.lease_expires_at < now
        if local is not None:
            stopped = or_(stopped, JobRow.lease_owner.startswith(local.prefix, autoescape=True))
        recovered = 0
        with self.database.session() as session:
            # Rows another transaction holds (a worker recording its outcome, another process
            # recovering) are skipped rather than waited for; the conditional write below
            # leaves alone a job that changed since it was read.
            candidates = session.scalars(
                select(JobRow)
                .where(JobRow.status.in_(_HELD), stopped)
                .with_for_update(skip_locked=True)
            ).all()
            stale = [
                row
                for row in candidates
                if (row.lease_expires_at is not None and as_utc(row.lease_expires_at) < now)
                or (local is not None and local.is_dead(row.lease_owner or ""))
            ]
            for row in stale:
                values = _stopped_worker(
                    JobStatus(row.status),
                    row.attempts,
                    now,
                    give_up=row.attempts >= self.max_attempts,
                )
                if _write_if_unchanged(session, row, values):
                    recovered += 1
        return recovered

    def purge_expired(self) -> int:
        """Delete jobs whose results are past ``expirationDateTime``."""
        with self.database.session() as session:
            result = session.execute(delete(JobRow).where(JobRow.expires_at < self.clock()))
            return int(result.rowcount)  # type: ignore[attr-defined]

    def list_jobs(
        self,
        kinds: Collection[JobKind],
        *,
        project_name: str | None = None,
        unfinished_only: bool = False,
        limit: int | None = None,
    ) -> list[Job]:
        """Unexpired jobs of ``kinds``, newest first (of one project, if named)."""
        query = select(JobRow).where(
            JobRow.kind.in_([kind.value for kind in kinds]), JobRow.expires_at > self.clock()
        )
        if project_name is not None:
            query = query.where(JobRow.project_name == project_name)
        if unfinished_only:
            query = query.where(JobRow.status.in_([status.value for status in UNFINISHED]))
        query = query.order_by(JobRow.created_at.desc())
        if limit is not None:
            query = query.limit(limit)
        with self.database.session() as session:
            return [to_job(row) for row in session.scalars(query)]

    def statistics(self) -> QueueStatistics:
        """Unexpired jobs by kind and status, and each kind's oldest waiting job (read only).

        Two grouped queries, answered from the table every process writes, so any process's
        metrics show the whole queue; the claim index (status, created_at) serves the second.
        """
        now = self.clock()
        counts = (
            select(JobRow.kind, JobRow.status, func.count())
            .where(JobRow.expires_at > now)
            .group_by(JobRow.kind, JobRow.status)
        )
        oldest = (
            select(JobRow.kind, func.min(JobRow.created_at))
            .where(JobRow.status == JobStatus.NOT_STARTED.value)
            .group_by(JobRow.kind)
        )
        with self.database.session() as session:
            by_kind_status = {
                (JobKind(kind), JobStatus(status)): int(count)
                for kind, status, count in session.execute(counts)
            }
            oldest_waiting = {
                JobKind(kind): as_utc(created_at) for kind, created_at in session.execute(oldest)
            }
        return QueueStatistics(by_kind_status, oldest_waiting, now)
