"""``lexicraft worker``: a process that only runs jobs, beside API servers started with
``lexicraft serve --no-workers``. Any number of each may run, on any hosts that share the
database (``LEXICRAFT_DATABASE_URL``) and the data dir's storage and models.

``--metrics-port`` (``LEXICRAFT_WORKER_METRICS_PORT``) serves its Prometheus metrics at
``/metrics`` on that port: the jobs it ran, the models it loaded, the documents it analyzed.

SIGTERM or SIGINT: claim nothing more, let the running jobs finish within
``LEXICRAFT_WORKER_STOP_GRACE_S``, put back in the queue those still running after it, exit 0.
A second SIGTERM or SIGINT (Ctrl-C twice) ends the grace period at once: the running jobs go
back in the queue and the worker exits 0.
A worker killed outright loses nothing either: its jobs' leases expire and other workers take
them over.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from lexicraft.bootstrap import (
    POOL_NAMES,
    database_location,
    import_backends_in_background,
    job_wakeups,
    metrics_registry,
    open_context,
    recover_stopped_workers,
    stop_workers,
    sweep_data_dir,
    worker_pools,
)
from lexicraft.cli.common import load_settings
from lexicraft.cli.metrics_server import serve_metrics
from lexicraft.services.keys import KeyVerifier
from lexicraft.telemetry.logs import configure_logging

logger = logging.getLogger("lexicraft.worker")

#: Seconds between two looks at the stop flag; signals interrupt the wait anyway.
_WAKE_S = 1.0


def parse_pool_names(value: str) -> list[str]:
    """``analyze,authoring`` → the pool names, checked; a usage error names the allowed ones."""
    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in POOL_NAMES]
    if not names or unknown:
        raise typer.BadParameter(
            f"{value!r} names no job kinds this worker can run; use a comma-separated list "
            f"of {', '.join(POOL_NAMES)}"
        )
    return names


def worker(
    kinds: Annotated[
        str,
        typer.Option(
            "--kinds",
            help="Which jobs to run: analyze (runtime), authoring (import, train, deploy, "
            "export, delete, swap), or both, comma-separated.",
        ),
    ] = ",".join(POOL_NAMES),
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            min=1,
            help="Threads per kind (default: LEXICRAFT_WORKER_THREADS for analyze, "
            "LEXICRAFT_AUTHORING_THREADS for authoring).",
            show_default=False,
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="Data folder (default: $LEXICRAFT_DATA_DIR or ./.lexicraft)."
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            min=0,
            max=65535,
            help="Serve Prometheus metrics at /metrics on this port "
            "(default: $LEXICRAFT_WORKER_METRICS_PORT; none when unset).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run jobs from the shared queue until SIGTERM or Ctrl-C (no API; see 'serve --no-workers')."""
    names = parse_pool_names(kinds)
    settings = load_settings(data_dir)
    # An external database is only checked here, never migrated ('lexicraft migrate' does
    # that once for every process); an unreachable one ends as one line (LexicraftGroup).
    context = open_context(settings)
    # Logging starts once the context stands, so that a failed start stays one line.
    configure_logging(settings.log_format)
    pools = worker_pools(context, names=names, threads=concurrency)
    import_backends_in_background()
    port = settings.worker_metrics_port if metrics_port is None else metrics_port
    if port is not None:
        verifier = (
            KeyVerifier(context.database, settings.api_key, settings.key_cache_ttl_s)
            if settings.metrics_require_key
            else None
        )
        metrics = serve_metrics(
            settings.worker_metrics_host,
            port,
            metrics_registry(context),
            verifier,
            settings.unavailable_retry_after_s,
        )
        logger.info(
            "metrics of worker %s at http://%s:%d/metrics",
            os.getpid(),
            settings.worker_metrics_host,
            metrics.server_port,
        )

    stopping = threading.Event()
    hurry = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stopping.is_set():
            logger.warning("%s again: putting the running jobs back in the queue now", name)
            hurry.set()
            return
        logger.info(
            "%s: finishing the running jobs, claiming no more (send it again to stop now)", name
        )
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    # Jobs whose worker died before this one started need not wait for a pool's first round.
    recover_stopped_workers(context)
    sweep_data_dir(context)
    for pool in pools:
        pool.start()
    # A job submitted to an API replica wakes this worker at once (PostgreSQL), not at its
    # next poll of the queue.
    wakeups = job_wakeups(context, pools)
    if wakeups is not None:
        wakeups.start()
    logger.info(
        "worker %s running %s on %s",
        os.getpid(),
        ", ".join(f"{pool.name} ({pool.threads} threads)" for pool in pools),
        database_location(context),
    )
    while not stopping.wait(_WAKE_S):
        pass

    if wakeups is not None:
        wakeups.stop()
    released = stop_workers(context, pools, cut_short=hurry)
    for job_id in released:
        logger.warning("job %s was still running: put back in the queue", job_id)
    logger.info("worker %s stopped", os.getpid())
    if any(pool.busy for pool in pools):
        # Threads of released jobs are still inside their work: waiting for them at interpreter
        # exit would defeat the grace period, and the outcome they might record is refused.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    context.database.engine.dispose()
