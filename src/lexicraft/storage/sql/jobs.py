"""The durable job queue in SQL: submit, claim with a lease, heartbeat, finish, re-claim.

A job row is committed before the API answers ``202``. Workers claim a job by a conditional
``UPDATE … WHERE status = 'notStarted'`` (safe with several processes on SQLite and
PostgreSQL), keep a lease alive while they work, and a job whose lease expired (its worker
died) goes back to ``notStarted`` until it has used up its attempts, then fails with a reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from lexicraft.domain.jobs import (
    UNFINISHED,
    Job,
    JobKind,
    JobOutcome,
    JobStatus,
    can_transition,
    require_transition,
)
from lexicraft.errors import OperationNotFound
from lexicraft.storage.sql.engine import Database
from lexicraft.storage.sql.tables import JobRow
from lexicraft.timeutil import as_utc, dotnet_ticks, utcnow

Clock = Callable[[], datetime]


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
    ) -> Job:
        """Add a ``notStarted`` job to ``session``; it is visible once the caller commits."""
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
        )
        session.add(row)
        session.flush()
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

    def claim(self, owner: str, kinds: Collection[JobKind]) -> Job | None:
        """Take the oldest waiting job of ``kinds`` for ``owner``; None when there is none.

        One conditional ``UPDATE … RETURNING`` (a job costs its worker few round trips). Its
        first step on SQLite is taking the write lock, so two claimers cannot both see the same
        job waiting; on PostgreSQL, ``SKIP LOCKED`` makes a claimer pass over a row that
        another one is taking rather than wait for it.
        """
        oldest = (
            select(JobRow.id)
            .where(
                JobRow.status == JobStatus.NOT_STARTED.value,
                JobRow.kind.in_([kind.value for kind in kinds]),
            )
            .order_by(JobRow.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        now = self.clock()
        claim = (
            update(JobRow)
            .where(JobRow.id == oldest, JobRow.status == JobStatus.NOT_STARTED.value)
            .values(
                status=require_transition(JobStatus.NOT_STARTED, JobStatus.RUNNING).value,
                lease_owner=owner,
                lease_expires_at=now + self.lease,
                attempts=JobRow.attempts + 1,
                started_at=now,
                updated_at=now,
            )
            .returning(JobRow)
            .execution_options(synchronize_session=False)
        )
        with self.database.session() as session:
            row = session.scalars(claim).one_or_none()
            return None if row is None else to_job(row)

    def heartbeat(self, job_id: str, owner: str) -> bool:
        """Extend ``owner``'s lease; False when the job is no longer ``owner``'s."""
        with self.database.session() as session:
            now = self.clock()
            result = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.lease_owner == owner)
                .where(JobRow.status.in_([JobStatus.RUNNING.value, JobStatus.CANCELLING.value]))
                .values(lease_expires_at=now + self.lease)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def report_progress(self, job_id: str, owner: str, percent: float) -> None:
        """Store ``percent`` complete (0 … 100) for a job ``owner`` holds."""
        with self.database.session() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.lease_owner == owner)
                .values(percent_complete=max(0.0, min(100.0, percent)), updated_at=self.clock())
            )

    def cancel_requested(self, job_id: str) -> bool:
        """Whether somebody asked to cancel the job."""
        with self.database.session() as session:
            return bool(session.scalar(select(JobRow.cancel_requested).where(JobRow.id == job_id)))

    def finish(self, job_id: str, owner: str, outcome: JobOutcome) -> bool:
        """Record ``outcome`` if ``owner`` still holds the job; False if it lost the lease."""
        with self.database.session() as session:
            row = session.get(JobRow, job_id, with_for_update=True)
            if row is None or row.lease_owner != owner:
                return False
            current = JobStatus(row.status)
            status = outcome.status
            if current is JobStatus.CANCELLING and status is not JobStatus.FAILED:
                status = JobStatus.CANCELLED
            if not can_transition(current, status):
                return False
            now = self.clock()
            row.status = status.value
            row.result = outcome.result
            row.errors = list(outcome.errors)
            row.warnings = list(outcome.warnings)
            if status is JobStatus.SUCCEEDED:
                row.percent_complete = 100.0
            row.lease_owner = None
            row.lease_expires_at = None
            row.finished_at = now
            row.updated_at = now
            return True

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

    def recover_expired_leases(self) -> int:
        """Re-queue jobs whose worker died (lease expired), or fail them after max attempts."""
        now = self.clock()
        recovered = 0
        with self.database.session() as session:
            stale = session.scalars(
                select(JobRow).where(
                    JobRow.status.in_([JobStatus.RUNNING.value, JobStatus.CANCELLING.value]),
                    JobRow.lease_expires_at < now,
                )
            ).all()
            for row in stale:
                recovered += 1
                current = JobStatus(row.status)
                row.lease_owner = None
                row.lease_expires_at = None
                row.updated_at = now
                if current is JobStatus.CANCELLING:
                    row.status = require_transition(current, JobStatus.CANCELLED).value
                    row.finished_at = now
                elif row.attempts >= self.max_attempts:
                    row.status = require_transition(current, JobStatus.FAILED).value
                    row.finished_at = now
                    row.errors = [
                        {
                            "code": "InternalServerError",
                            "message": (
                                f"The worker running this job stopped {row.attempts} times "
                                "before it finished; the job was given up."
                            ),
                        }
                    ]
                else:
                    row.status = require_transition(current, JobStatus.NOT_STARTED).value
                    row.percent_complete = 0.0
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
