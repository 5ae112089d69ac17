"""Which use case runs each job kind, and the worker pools that run them.

Analyze jobs get their own pool so that a long training never holds them up.
"""

from __future__ import annotations

from lexicraft.domain.jobs import JobKind
from lexicraft.jobs.queue import JobOutcome
from lexicraft.jobs.worker import Handler, JobContext, WorkerPool
from lexicraft.services import analysis, deployments, projects, training
from lexicraft.services.context import ServiceContext

AUTHORING_KINDS = tuple(kind for kind in JobKind if kind is not JobKind.ANALYZE)


def job_handlers(context: ServiceContext) -> dict[JobKind, Handler]:
    """One handler per job kind, bound to ``context``."""
    table = {
        JobKind.ANALYZE: analysis.run_analysis,
        JobKind.IMPORT: projects.run_import,
        JobKind.EXPORT: projects.run_export,
        JobKind.DELETE_PROJECT: projects.run_delete,
        JobKind.TRAIN: training.run_training,
        JobKind.DEPLOY: deployments.run_deploy,
        JobKind.DELETE_DEPLOYMENT: deployments.run_delete,
        JobKind.SWAP: deployments.run_swap,
    }

    def bind(run: object) -> Handler:
        def handle(job: JobContext) -> JobOutcome:
            return run(context, job)  # type: ignore[operator, no-any-return]

        return handle

    return {kind: bind(run) for kind, run in table.items()}


def worker_pools(context: ServiceContext) -> list[WorkerPool]:
    """The analyze pool and the authoring pool for ``context``'s settings."""
    handlers = job_handlers(context)
    settings = context.settings
    return [
        WorkerPool(
            context.queue,
            handlers,
            name="analyze",
            kinds=[JobKind.ANALYZE],
            threads=settings.worker_threads,
            poll_interval_s=settings.job_poll_interval_s,
        ),
        WorkerPool(
            context.queue,
            handlers,
            name="authoring",
            kinds=AUTHORING_KINDS,
            threads=settings.authoring_threads,
            poll_interval_s=settings.job_poll_interval_s,
        ),
    ]
