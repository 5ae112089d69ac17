"""Use cases over authoring jobs of every kind: list, read, cancel (for the CLI and tools).

The Azure API addresses each job under its own URL (``…/train/jobs/{id}``, …); locally one
list of import, export, train, deploy and delete jobs is handier.
"""

from __future__ import annotations

from sqlalchemy import select

from lexicraft.domain.jobs import JobKind, JobStatus
from lexicraft.errors import InvalidParameterValue
from lexicraft.services.context import ServiceContext
from lexicraft.storage.sql.tables import JobRow
from lexicraft.timeutil import utcnow

AUTHORING_KINDS = tuple(kind for kind in JobKind if kind is not JobKind.ANALYZE)


def list_jobs(
    context: ServiceContext,
    project_name: str | None = None,
    *,
    unfinished_only: bool = False,
    limit: int = 50,
) -> list[JobRow]:
    """Authoring jobs that have not expired, newest first (of one project, if named)."""
    query = select(JobRow).where(
        JobRow.kind.in_([kind.value for kind in AUTHORING_KINDS]), JobRow.expires_at > utcnow()
    )
    if project_name is not None:
        query = query.where(JobRow.project_name == project_name)
    if unfinished_only:
        query = query.where(
            JobRow.status.in_(
                [JobStatus.NOT_STARTED.value, JobStatus.RUNNING.value, JobStatus.CANCELLING.value]
            )
        )
    with context.database.session() as session:
        return list(session.scalars(query.order_by(JobRow.created_at.desc()).limit(limit)))


def get_job(context: ServiceContext, job_id: str) -> JobRow:
    """The authoring job ``job_id`` (OperationNotFound when unknown or expired)."""
    with context.database.session() as session:
        return context.queue.get(session, job_id, AUTHORING_KINDS)


def cancel_job(context: ServiceContext, job_id: str) -> JobRow:
    """Cancel a waiting job at once, or ask the worker running it to stop."""
    status = get_job(context, job_id).status
    if context.queue.request_cancel(job_id) is None:
        raise InvalidParameterValue(
            f"job {job_id!r} has already {status}; only waiting or running jobs can be cancelled"
        )
    return get_job(context, job_id)
