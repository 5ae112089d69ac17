"""The composition root: what every edge (API server, CLI, worker) builds from its settings.

Edges call :func:`open_context` once; services receive what it built and never build
engines, stores or queues themselves. :class:`DatabaseNotReady` (the database cannot be
reached, or its schema is not this version's) is the one error an edge may get from it that
is not a :class:`lexicraft.errors.LexicraftError`; edges print it and exit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection

from prometheus_client import CollectorRegistry

from lexicraft.domain.jobs import AUTHORING_KINDS, JobKind, JobOutcome
from lexicraft.jobs.executors.local import LocalCompute, batching_options, serving_options
from lexicraft.jobs.worker import LeasedJob, Outage, WorkerPool, local_owners, stop_pools
from lexicraft.ml import serving
from lexicraft.ml.cache import MIB
from lexicraft.ml.checksums import ModelVerifier
from lexicraft.services.artifacts import sweep_leftovers
from lexicraft.services.compute import Compute
from lexicraft.services.context import ServiceContext
from lexicraft.services.entity_resolvers import EntityResolvers
from lexicraft.settings import Settings
from lexicraft.storage.artifacts.base import ModelStore
from lexicraft.storage.sql.engine import (
    Database,
    DatabaseNotReady,
    check_schema,
    masked_url,
    migrate,
)
from lexicraft.storage.sql.jobs import JobQueue
from lexicraft.storage.sql.wakeups import JobWakeups, supports_wakeups
from lexicraft.storage.stores import open_stores
from lexicraft.telemetry.metrics import build_registry

logger = logging.getLogger(__name__)

__all__ = [
    "POOL_NAMES",
    "DatabaseNotReady",
    "database_location",
    "job_wakeups",
    "metrics_registry",
    "open_context",
    "recover_stopped_workers",
    "stop_workers",
    "sweep_data_dir",
    "worker_pools",
]


def open_context(settings: Settings, *, migrate_schema: bool | None = None) -> ServiceContext:
    """Create the data dir, check (or bring up) the schema, and wire everything.

    ``migrate_schema`` None means: migrate the embedded SQLite file on start (one host owns
    it), but only check an external database, whose upgrades ``lexicraft migrate`` runs
    once for every replica (replicas upgrading at the same time would race).
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    serving.configure(serving_options(settings))
    database = Database(settings.resolved_database_url)
    if migrate_schema is None:
        migrate_schema = database.is_embedded
    if migrate_schema:
        migrate(database.engine)
    else:
        check_schema(database.engine)
    stores = open_stores(settings)
    verifier = ModelVerifier()
    return ServiceContext(
        settings=settings,
        database=database,
        blobs=stores.blobs,
        models=stores.models,
        queue=JobQueue(
            database, lease_s=settings.job_lease_s, max_attempts=settings.job_max_attempts
        ),
        compute=_build_compute(settings, stores.models, verifier),
        model_checks=verifier,
        # A resolver per served conversation model: as many as the models a process keeps.
        entity_resolvers=EntityResolvers(capacity=settings.loaded_models_per_process),
    )


def _build_compute(settings: Settings, models: ModelStore, verifier: ModelVerifier) -> Compute:
    """Where trainings and predictions run: this process, or the Ray cluster of the settings."""
    if settings.executor == "ray":
        # Imported here: importing Ray takes seconds that the local executor need not pay.
        from lexicraft.jobs.executors.ray import RayCompute

        return RayCompute(settings)
    return LocalCompute(
        models,
        settings.predict_concurrency,
        settings.loaded_models_per_process,
        verifier,
        model_budget_bytes=round(settings.model_memory_budget_mb * MIB),
        batching=batching_options(settings),
    )


def database_location(context: ServiceContext) -> str:
    """Where the context's database is, as it may be shown (the password is ``***``)."""
    return masked_url(context.database.engine)


def metrics_registry(context: ServiceContext) -> CollectorRegistry:
    """The Prometheus registry of a server or worker: its own metrics and the queue's."""
    return build_registry(context.queue.statistics)


def _bind(
    context: ServiceContext, work: Callable[[ServiceContext, LeasedJob], JobOutcome]
) -> Callable[[LeasedJob], JobOutcome]:
    def handle(job: LeasedJob) -> JobOutcome:
        return work(context, job)

    return handle


#: The worker pools, by name: ``analyze`` runs analyze jobs, ``authoring`` every other kind.
POOL_NAMES = ("analyze", "authoring")


def worker_pools(
    context: ServiceContext,
    *,
    names: Collection[str] = POOL_NAMES,
    threads: int | None = None,
) -> list[WorkerPool]:
    """The pools ``names`` for ``context``, ``threads`` each (default: the settings').

    Analyze jobs get their own pool so that a long training never holds them up.
    """
    # Imported here: the job table pulls in every ML backend (PyTorch), which the commands
    # that only read (list, show, keys) and the composition of a context do not need.
    from lexicraft.services.jobs import JOB_WORK

    unknown = sorted(set(names) - set(POOL_NAMES))
    if unknown:
        raise ValueError(f"unknown worker pools {unknown}; the pools are {list(POOL_NAMES)}")
    handlers = {kind: _bind(context, work) for kind, work in JOB_WORK.items()}
    settings = context.settings
    outage = Outage()  # one warning per outage for the whole process
    # (kinds, threads, jobs of one key at once): an analyze pool leaves threads free for
    # other keys; authoring jobs record no key, so a cap there would only idle threads.
    specs = {
        "analyze": ((JobKind.ANALYZE,), settings.worker_threads, settings.worker_jobs_per_key),
        "authoring": (AUTHORING_KINDS, settings.authoring_threads, None),
    }
    pools = [
        WorkerPool(
            context.queue,
            handlers,
            name=name,
            kinds=specs[name][0],
            threads=specs[name][1] if threads is None else threads,
            poll_interval_s=settings.job_poll_interval_s,
            backoff_max_s=settings.worker_backoff_max_s,
            outage=outage,
            jobs_per_key=specs[name][2],
        )
        for name in POOL_NAMES
        if name in names
    ]
    if isinstance(context.compute, LocalCompute):
        for pool in pools:
            if pool.name == "analyze":
                # Batches of concurrent jobs wait for each other only while jobs run.
                context.compute.running_jobs = pool.running
    return pools


def import_backends_in_background() -> threading.Thread:
    """Import the model backends (scikit-learn and the tokenizers; PyTorch only when a job
    trains or deploys) in a daemon thread. A serving process calls it once its workers start:
    it answers at once, and its first job does not wait for the imports (a CLI command never
    pays for them unless it trains or predicts)."""
    from lexicraft.ml import registry

    thread = threading.Thread(target=registry.import_backends, name="import-backends", daemon=True)
    thread.start()
    return thread


def job_wakeups(context: ServiceContext, pools: Collection[WorkerPool]) -> JobWakeups | None:
    """On PostgreSQL, a listener (not started) that wakes ``pools`` as soon as any process
    submits a job of their kinds; None where there is nothing to listen to or for.

    Without it a worker process finds a job submitted to an API replica at its next poll of
    the queue (``job_poll_interval_s``), which then remains the safety net.
    """
    if not pools or not supports_wakeups(context.database.engine):
        return None

    def wake(kind: str | None) -> None:
        for pool in pools:
            if kind is None or any(kind == handled.value for handled in pool.kinds):
                pool.wake()

    return JobWakeups(context.database.engine, wake)


def recover_stopped_workers(context: ServiceContext) -> None:
    """Put back in the queue the jobs of workers that died: leases that expired, and at once
    those held by processes of this host that no longer run (a restart's predecessor)."""
    context.queue.recover_expired_leases(local_owners())


def sweep_data_dir(context: ServiceContext) -> None:
    """Delete what killed processes left in the data dir (``services.artifacts.sweep_leftovers``:
    staging folders of trainings that no longer run, orphaned model folders, old temporaries).

    Housekeeping: a failure is logged, and the process starts anyway.
    """
    try:
        sweep_leftovers(context)
    except Exception:
        logger.exception("could not sweep the data dir at start")


def stop_workers(
    context: ServiceContext,
    pools: Collection[WorkerPool],
    cut_short: threading.Event | None = None,
) -> list[str]:
    """Stop ``pools`` within the settings' grace period, or once ``cut_short`` is set; the
    ids of the jobs put back."""
    return stop_pools(pools, context.settings.worker_stop_grace_s, cut_short)
