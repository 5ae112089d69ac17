"""The ASGI application: routes, error map, authentication, and the job workers' lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from lexicraft import __version__
from lexicraft.api.auth import SubscriptionKeyMiddleware
from lexicraft.api.authoring.routes import router as authoring_router
from lexicraft.api.authoring.storage import router as storage_router
from lexicraft.api.dependencies import storable_parameters
from lexicraft.api.errors import install_error_handlers
from lexicraft.api.operations import METRICS_PATH
from lexicraft.api.operations import router as operations_router
from lexicraft.api.runtime.analyze_text import router as analyze_text_router
from lexicraft.api.runtime.legacy import router as legacy_router
from lexicraft.api.studio_api import router as studio_api_router
from lexicraft.bootstrap import (
    job_wakeups,
    metrics_registry,
    open_context,
    stop_workers,
    worker_pools,
)
from lexicraft.services.keys import KeyVerifier
from lexicraft.settings import Settings
from lexicraft.studio.routes import STATIC_PATH, static_files
from lexicraft.studio.routes import router as studio_router


def create_app(settings: Settings, *, run_workers: bool = True) -> FastAPI:
    """An app for ``settings``; with ``run_workers`` it also runs the job worker threads.

    This is the API server's composition root: the context built here is the only one.
    """
    context = open_context(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pools = worker_pools(context) if run_workers else []
        # Submit routes wake the analyze pool so a new job starts without waiting for a poll.
        _app.state.worker_pools = pools
        # Jobs whose worker died with the previous process go back to the queue first.
        context.queue.recover_expired_leases()
        for pool in pools:
            pool.start()
        # Jobs submitted to other processes (API replicas) wake these pools at once.
        wakeups = job_wakeups(context, pools)
        if wakeups is not None:
            wakeups.start()
        try:
            yield
        finally:
            if wakeups is not None:
                wakeups.stop()
            stop_workers(context, pools)
            context.database.engine.dispose()

    app = FastAPI(
        title="Lexicraft",
        version=__version__,
        description="Custom NER and text classification with the Azure AI Language API.",
        lifespan=lifespan,
        # Every route's path and query strings pass the string rule before anything else.
        dependencies=[Depends(storable_parameters)],
    )
    app.state.context = context
    app.state.metrics_registry = metrics_registry(context)
    install_error_handlers(app, retry_after_s=settings.unavailable_retry_after_s)
    app.include_router(operations_router)
    app.include_router(authoring_router)
    app.include_router(storage_router)
    app.include_router(analyze_text_router)
    app.include_router(legacy_router)
    app.include_router(studio_api_router)
    app.include_router(studio_router)
    app.mount(STATIC_PATH, static_files(), name="studio-static")
    app.add_middleware(
        SubscriptionKeyMiddleware,
        verifier=KeyVerifier(context.database, settings.api_key, settings.key_cache_ttl_s),
        retry_after_s=settings.unavailable_retry_after_s,
        protected_paths=(METRICS_PATH,) if settings.metrics_require_key else (),
    )

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
