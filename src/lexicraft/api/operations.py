"""Endpoints for the platform that runs the server: liveness, readiness, Prometheus metrics.

None needs a subscription key, except ``/metrics`` when ``metrics_require_key`` is set (its
labels name projects and deployments) and ``/health/models`` (it names them always).
Failures are Azure envelopes like everywhere else.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from lexicraft.api.dependencies import Context
from lexicraft.api.errors import ERRORS
from lexicraft.api.requests import WireModel
from lexicraft.services.health import check_models, check_ready

router = APIRouter(tags=["operations"], responses=ERRORS)

METRICS_PATH = "/metrics"
MODELS_HEALTH_PATH = "/health/models"


class DeploymentModelHealth(WireModel):  # documents the shape; the route renders it
    """A deployment and the state of its model's files on the host that answered."""

    project_name: str
    deployment_name: str
    model_id: str
    #: ``verified``: the files match their checksums; ``unverified``: the model was trained
    #: by a Lexicraft without checksums; ``absent``: this host has no copy of it.
    model_files: Literal["verified", "unverified", "absent"]


class ModelsHealth(WireModel):
    """``/health/models`` when no deployment serves a damaged model."""

    status: Literal["ok"]
    deployments: list[DeploymentModelHealth]


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
    MODELS_HEALTH_PATH,
    responses={200: {"model": ModelsHealth, "description": "No deployed model is damaged."}},
)
def models_health(context: Context) -> dict[str, Any]:
    """Every deployment's model files checked against the checksums written with them.

    200 when none is damaged; else 503 whose ``error.details`` name each damaged deployment
    (``target``: ``project/deployment``): its analyze jobs fail until another model is
    deployed, the model is trained again or its folder restored. Files are hashed only when
    they changed since this process last checked them.
    """
    return {
        "status": "ok",
        "deployments": [
            {
                "projectName": entry.project_name,
                "deploymentName": entry.deployment_name,
                "modelId": entry.model_id,
                "modelFiles": entry.status.value,
            }
            for entry in check_models(context)
        ],
    }


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
