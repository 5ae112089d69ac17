"""Use cases for deployments: deploy (or redeploy), delete, swap."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lexicraft.domain.jobs import JobKind, JobStatus
from lexicraft.domain.projects import check_name
from lexicraft.errors import InvalidParameterValue, InvalidRequestBody
from lexicraft.jobs.queue import JobOutcome
from lexicraft.jobs.worker import JobContext
from lexicraft.ml import registry
from lexicraft.services.context import ServiceContext
from lexicraft.storage.sql import projects as project_store
from lexicraft.storage.sql import trained_models as model_store
from lexicraft.storage.sql.tables import DeploymentRow, JobRow
from lexicraft.timeutil import utcnow

logger = logging.getLogger(__name__)


def submit_deploy(
    context: ServiceContext, project_name: str, deployment_name: str, body: dict[str, Any]
) -> JobRow:
    """Queue deploying a trained model under ``deployment_name`` (replacing what it served)."""
    check_name(deployment_name, "deploymentName")
    label = body.get("trainedModelLabel")
    if not isinstance(label, str):
        raise InvalidRequestBody("trainedModelLabel is required", target="trainedModelLabel")
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        model_store.get_model(session, project, label)
        return context.queue.add(
            session,
            JobKind.DEPLOY,
            {"trainedModelLabel": label},
            ttl_s=context.settings.authoring_job_ttl_s,
            project_name=project_name,
            target=deployment_name,
        )


def run_deploy(context: ServiceContext, job: JobContext) -> JobOutcome:
    """Make the model ready to serve, then point the deployment at it (creating it if needed)."""
    assert job.job.project_name is not None and job.job.target is not None
    label = job.job.payload["trainedModelLabel"]
    with context.database.session() as session:
        project = project_store.get_project(session, job.job.project_name)
        artifact_dir = Path(model_store.get_model(session, project, label).artifact_dir)
    # Outside any transaction: writing the network as ONNX takes seconds.
    warnings = _prepare_serving(context, artifact_dir)
    with context.database.session() as session:
        project = project_store.get_project(session, job.job.project_name)
        model_store.get_model(session, project, label)
        row = model_store.find_deployment(session, project, job.job.target)
        now = utcnow()
        if row is None:
            row = DeploymentRow(project_id=project.id, name=job.job.target)
            session.add(row)
        row.model_label = label
        row.deployed_at = now
        project.last_deployed_at = now
    return JobOutcome(JobStatus.SUCCEEDED, warnings=warnings)


def _prepare_serving(context: ServiceContext, artifact_dir: Path) -> tuple[dict[str, Any], ...]:
    """Write the model's serving files (ONNX); a failure costs speed only, so it is a warning."""
    try:
        if registry.prepare_for_serving(artifact_dir):
            # Training's evaluation left the model loaded in PyTorch in the cache.
            context.predictors.discard(artifact_dir)
    except Exception as error:
        logger.exception("could not write the serving files of %s", artifact_dir)
        return (
            {
                "code": "ServingNotOptimized",
                "message": (
                    "The model is deployed and served by PyTorch: writing its network for "
                    f"ONNX Runtime failed ({type(error).__name__}: {error})."
                ),
            },
        )
    return ()


def submit_delete(context: ServiceContext, project_name: str, deployment_name: str) -> JobRow:
    """Queue deleting a deployment."""
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        model_store.get_deployment(session, project, deployment_name)
        return context.queue.add(
            session,
            JobKind.DELETE_DEPLOYMENT,
            {},
            ttl_s=context.settings.authoring_job_ttl_s,
            project_name=project_name,
            target=deployment_name,
        )


def run_delete(context: ServiceContext, job: JobContext) -> JobOutcome:
    """Delete the deployment (idempotent)."""
    assert job.job.project_name is not None and job.job.target is not None
    with context.database.session() as session:
        project = project_store.find_project(session, job.job.project_name)
        row = (
            None
            if project is None
            else model_store.find_deployment(session, project, job.job.target)
        )
        if row is not None:
            session.delete(row)
    return JobOutcome(JobStatus.SUCCEEDED)


def submit_swap(context: ServiceContext, project_name: str, body: dict[str, Any]) -> JobRow:
    """Queue swapping the models of two deployments."""
    first, second = body.get("firstDeploymentName"), body.get("secondDeploymentName")
    if not isinstance(first, str) or not isinstance(second, str):
        raise InvalidRequestBody(
            "firstDeploymentName and secondDeploymentName are required", target="body"
        )
    if first == second:
        raise InvalidParameterValue("cannot swap a deployment with itself", target="body")
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        model_store.get_deployment(session, project, first)
        model_store.get_deployment(session, project, second)
        return context.queue.add(
            session,
            JobKind.SWAP,
            {"firstDeploymentName": first, "secondDeploymentName": second},
            ttl_s=context.settings.authoring_job_ttl_s,
            project_name=project_name,
            target="swap",
        )


def run_swap(context: ServiceContext, job: JobContext) -> JobOutcome:
    """Exchange the two deployments' models in one transaction."""
    assert job.job.project_name is not None
    payload = job.job.payload
    with context.database.session() as session:
        project = project_store.get_project(session, job.job.project_name)
        first = model_store.get_deployment(session, project, payload["firstDeploymentName"])
        second = model_store.get_deployment(session, project, payload["secondDeploymentName"])
        first.model_label, second.model_label = second.model_label, first.model_label
        now = utcnow()
        first.deployed_at = second.deployed_at = now
        project.last_deployed_at = now
    return JobOutcome(JobStatus.SUCCEEDED)
