"""Endpoints for the platform that runs the server: liveness, readiness, Prometheus metrics.

None needs a subscription key, except ``/metrics`` when ``metrics_require_key`` is set (its
labels name projects and deployments). Failures are Azure envelopes like everywhere else.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from lexicraft.api.dependencies import Context
from lexicraft.api.errors import ERRORS
from lexicraft.services.health import check_ready

router = APIRouter(tags=["operations"], responses=ERRORS)

METRICS_PATH = "/metrics"


@router.get("/health/live")
def live() -> dict[str, str]:
    """200 while the process runs; touches nothing else (a restart would not fix a database)."""
    return {"status": "ok"}


@router.get("/health/ready")
def ready(context: Context) -> dict[str, str]:
    """200 when the database answers with this version's schema and the storage is reachable;
    else 503 (with ``Retry-After``) naming what is not ready in ``error.details``."""
    check_ready(context)
    return {"status": "ready"}


@router.get(
    METRICS_PATH,
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus' text exposition format.",
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
        }
    },
)
def metrics(request: Request) -> Response:
    """This process's metrics and the job queue's, in Prometheus' text format."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
