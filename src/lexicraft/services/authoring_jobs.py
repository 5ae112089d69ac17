"""Use cases over authoring jobs of every kind: list, read, cancel (for the CLI and tools).

The Azure API addresses each job under its own URL (``…/train/jobs/{id}``, …); locally one
list of import, export, train, deploy and delete jobs is handier.
"""

from __future__ import annotations

from collections.abc import Collection

from lexicraft.domain.jobs import AUTHORING_KINDS, Job, JobKind
from lexicraft.services import cancellation
from lexicraft.services.context import ServiceContext


def list_jobs(
    context: ServiceContext,
    project_name: str | None = None,
    *,
    unfinished_only: bool = False,
    limit: int = 50,
) -> list[Job]:
    """Authoring jobs that have not expired, newest first (of one project, if named)."""
    return context.queue.list_jobs(
        AUTHORING_KINDS, project_name=project_name, unfinished_only=unfinished_only, limit=limit
    )


def get_job(
    context: ServiceContext,
    job_id: str,
    kinds: Collection[JobKind] = AUTHORING_KINDS,
    *,
    project_name: str | None = None,
    target: str | None = None,
) -> Job:
    """The authoring job ``job_id`` of one of ``kinds`` (and of that project / target).

    OperationNotFound when unknown, expired, or asked for under another job's URL.
    """
    with context.database.session() as session:
        return context.queue.get(session, job_id, kinds, project_name=project_name, target=target)


def cancel_job(context: ServiceContext, job_id: str) -> Job:
    """Cancel a waiting job at once, or ask the worker running it to stop."""
    return cancellation.cancel_job(context, job_id, AUTHORING_KINDS)
