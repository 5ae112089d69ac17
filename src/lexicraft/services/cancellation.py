"""Cancelling a job of any kind: the one rule the runtime, authoring and CLI cancels share."""

from __future__ import annotations

from collections.abc import Collection

from lexicraft.domain.jobs import Job, JobKind
from lexicraft.errors import InvalidParameterValue
from lexicraft.services.context import ServiceContext


def cancel_job(
    context: ServiceContext,
    job_id: str,
    kinds: Collection[JobKind],
    *,
    project_name: str | None = None,
    target: str | None = None,
) -> Job:
    """Cancel a waiting job at once, or ask the worker running it to stop; the job after.

    OperationNotFound for a job that is not one of ``kinds`` (of that project / target); a
    job that has ended is an InvalidParameterValue naming how it ended.
    """

    def read() -> Job:
        with context.database.session() as session:
            return context.queue.get(
                session, job_id, kinds, project_name=project_name, target=target
            )

    read()  # unknown, expired or under another URL: 404 before anything changes
    if context.queue.request_cancel(job_id) is None:
        # Read again: the job may have ended between the first read and the cancel, and the
        # answer must say how it ended, not that it was running.
        raise InvalidParameterValue(
            f"job {job_id!r} has already {read().status.value}; only waiting or running jobs "
            "can be cancelled",
            target="jobId",
        )
    return read()
