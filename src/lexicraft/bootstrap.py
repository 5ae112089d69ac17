"""The composition root: what every edge (API server, CLI, worker) builds from its settings.

Edges call :func:`open_context` once; services receive what it built and never build
engines, stores or queues themselves.
"""

from __future__ import annotations

from collections.abc import Callable

from lexicraft.domain.jobs import JobKind, JobOutcome
from lexicraft.jobs.worker import LeasedJob, WorkerPool
from lexicraft.services.context import ServiceContext
from lexicraft.settings import Settings
from lexicraft.storage.blobs.filesystem import FilesystemBlobStore
from lexicraft.storage.sql.engine import Database, check_schema, migrate
from lexicraft.storage.sql.jobs import JobQueue


def open_context(settings: Settings, *, migrate_schema: bool | None = None) -> ServiceContext:
    """Create the data dir, check (or bring up) the schema, and wire everything.

    ``migrate_schema`` None means: migrate the embedded SQLite file on start (one host owns
    it), but only check an external database, whose upgrades ``lexicraft migrate`` runs
    once for every replica (replicas upgrading at the same time would race).
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.storage_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.resolved_database_url)
    if migrate_schema is None:
        migrate_schema = database.is_embedded
    if migrate_schema:
        migrate(database.engine)
    else:
        check_schema(database.engine)
    return ServiceContext(
        settings=settings,
        database=database,
        blobs=FilesystemBlobStore(settings.storage_dir),
        queue=JobQueue(
            database, lease_s=settings.job_lease_s, max_attempts=settings.job_max_attempts
        ),
    )


def _bind(
    context: ServiceContext, work: Callable[[ServiceContext, LeasedJob], JobOutcome]
) -> Callable[[LeasedJob], JobOutcome]:
    def handle(job: LeasedJob) -> JobOutcome:
        return work(context, job)

    return handle


def worker_pools(context: ServiceContext) -> list[WorkerPool]:
    """The analyze pool and the authoring pool for ``context``'s settings.

    Analyze jobs get their own pool so that a long training never holds them up.
    """
    # Imported here: the job table pulls in every ML backend (PyTorch), which the commands
    # that only read (list, show, keys) and the composition of a context do not need.
    from lexicraft.services.jobs import AUTHORING_KINDS, JOB_WORK

    handlers = {kind: _bind(context, work) for kind, work in JOB_WORK.items()}
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
