"""The ASGI application: routes, error map, authentication, and the job workers' lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi_offline import FastAPIOffline

from lexicraft import __version__
from lexicraft.api.auth import SubscriptionKeyMiddleware, document_key
from lexicraft.api.authoring.conversations import router as conversation_authoring_router
from lexicraft.api.authoring.routes import router as authoring_router
from lexicraft.api.authoring.storage import router as storage_router
from lexicraft.api.dependencies import storable_parameters
from lexicraft.api.errors import install_error_handlers
from lexicraft.api.headers import SecurityHeadersMiddleware
from lexicraft.api.limits import BodyLimitMiddleware
from lexicraft.api.operations import METRICS_PATH, MODELS_HEALTH_PATH
from lexicraft.api.operations import router as operations_router
from lexicraft.api.permissions import undeclared_routes
from lexicraft.api.rate_limits import RateLimitMiddleware
from lexicraft.api.runtime.analyze_text import router as analyze_text_router
from lexicraft.api.runtime.conversations import router as conversations_router
from lexicraft.api.runtime.legacy import router as legacy_router
from lexicraft.api.studio_api import router as studio_api_router
from lexicraft.api.studio_conversations import router as studio_conversations_router
from lexicraft.api.studio_imports import router as studio_imports_router
from lexicraft.api.studio_review import router as studio_review_router
from lexicraft.api.studio_training import router as studio_training_router
from lexicraft.api.users import router as users_router
from lexicraft.bootstrap import (
    import_backends_in_background,
    job_wakeups,
    metrics_registry,
    open_context,
    recover_stopped_workers,
    stop_workers,
    sweep_data_dir,
    worker_pools,
)
from lexicraft.services.keys import KeyVerifier
from lexicraft.settings import Settings
from lexicraft.studio.routes import STATIC_PATH, static_files
from lexicraft.studio.routes import router as studio_router

OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"


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
        # Jobs whose worker died with the previous process go back to the queue first; then
        # what killed processes left in the data dir goes.
        recover_stopped_workers(context)
        await run_in_threadpool(sweep_data_dir, context)
        for pool in pools:
            pool.start()
        if pools:
            import_backends_in_background()
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

    # Swagger UI and ReDoc with their scripts served from the fastapi-offline package (under
    # /docs/static), so the docs work without reaching any other host.
    app = FastAPIOffline(
        title="Lexicraft",
        version=__version__,
        description="Custom NER and text classification with the Azure AI Language API.",
        lifespan=lifespan,
        openapi_url=OPENAPI_PATH,
        docs_url=DOCS_PATH if settings.docs_enabled else None,
        redoc_url=REDOC_PATH if settings.docs_enabled else None,
        static_url=DOCS_PATH + "/static",
        # Swagger UI's default sends the spec to validator.swagger.io for a badge.
        swagger_ui_parameters={"validatorUrl": None},
        # Every route's path and query strings pass the string rule before anything else.
        dependencies=[Depends(storable_parameters)],
    )
    app.state.context = context
    app.state.metrics_registry = metrics_registry(context)
    install_error_handlers(app, retry_after_s=settings.unavailable_retry_after_s)
    app.include_router(operations_router)
    app.include_router(authoring_router)
    app.include_router(conversation_authoring_router)
    app.include_router(storage_router)
    app.include_router(analyze_text_router)
    app.include_router(conversations_router)
    app.include_router(legacy_router)
    # Before the labeling routes: their document GET ({location:path}) would take
    # ".../annotations" too.
    app.include_router(studio_review_router)
    app.include_router(studio_api_router)
    app.include_router(studio_conversations_router)
    app.include_router(studio_training_router)
    app.include_router(users_router)
    app.include_router(studio_imports_router)
    app.include_router(studio_router)
    app.mount(STATIC_PATH, static_files(), name="studio-static")
    # Every route behind the key says which permission it needs (api/permissions.py): an app
    # with a route that forgot to is not built at all.
    undeclared = undeclared_routes(app)
    if undeclared:
        raise RuntimeError(f"routes without a declared permission: {undeclared}")
    # Middleware runs outside in: security headers on every answer, then the key check
    # (before any body is read), then the key's rate limit, then the body limits (before
    # any route reads a body).
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    app.add_middleware(RateLimitMiddleware, settings=settings)
    # The models report names every project and deployment: always behind the key.
    protected: tuple[str, ...] = (MODELS_HEALTH_PATH,)
    if settings.metrics_require_key:
        protected += (METRICS_PATH,)
    if not settings.docs_public:
        # The API's shape is no secret, but a self-hosted server need not describe itself
        # to anyone who can reach it; the scripts under /docs/static stay public.
        protected += (OPENAPI_PATH, DOCS_PATH, REDOC_PATH)
    # On the app's state too: the users routes drop its remembered checks after a change.
    app.state.key_verifier = KeyVerifier(
        context.database, settings.api_key, settings.key_cache_ttl_s
    )
    app.add_middleware(
        SubscriptionKeyMiddleware,
        verifier=app.state.key_verifier,
        retry_after_s=settings.unavailable_retry_after_s,
        protected_paths=protected,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI builds the document once and keeps it; the key is documented on that first build.
        if app.openapi_schema is None:
            document_key(build_openapi(), protected)
        return app.openapi_schema or build_openapi()

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
