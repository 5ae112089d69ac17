"""Use cases for deployments: deploy (or redeploy), read, delete, swap.

A deployment pins the training run it was given: retraining that label changes nothing
in production until the model is deployed again or swapped in.
"""

from __future__ import annotations

import logging
from typing import Any

from lexicraft.domain.jobs import Job, JobKind, JobOutcome, JobStatus
from lexicraft.domain.models import Deployment, TrainedModel
from lexicraft.domain.projects import check_name
from lexicraft.errors import Conflict, InvalidParameterValue
from lexicraft.ml import registry
from lexicraft.services.artifacts import release_artifacts
from lexicraft.services.context import ServiceContext
from lexicraft.services.job_context import JobContext
from lexicraft.services.serving_check import KEPT_FP32, choose_precision
from lexicraft.services.training import damaged_model
from lexicraft.storage.sql import models as model_store
from lexicraft.storage.sql import projects as project_store
from lexicraft.timeutil import utcnow

logger = logging.getLogger(__name__)

#: How often a deploy starts over when the model is retrained while its serving files
#: are being written.
_DEPLOY_ATTEMPTS = 3


def list_deployments(context: ServiceContext, project_name: str) -> list[Deployment]:
    """The project's deployments by name, each with the model it pins."""
    with context.database.session() as session:
        return model_store.list_deployments(session, project_name)


def get_deployment(context: ServiceContext, project_name: str, name: str) -> Deployment:
    """One deployment of the project."""
    with context.database.session() as session:
        return model_store.get_deployment(session, project_name, name)


def submit_deploy(
    context: ServiceContext, project_name: str, deployment_name: str, label: str
) -> Job:
    """Queue deploying trained model ``label`` as ``deployment_name`` (replacing what it served)."""
    check_name(deployment_name, "deploymentName")
    with context.database.session() as session:
        model_store.get_model(session, project_name, label)
        return context.queue.add(
            session,
            JobKind.DEPLOY,
            {"trainedModelLabel": label},
            ttl_s=context.settings.authoring_job_ttl_s,
            project_name=project_name,
            target=deployment_name,
        )


def run_deploy(context: ServiceContext, job: JobContext) -> JobOutcome:
    """Make the model ready to serve, then pin it to the deployment (creating it if needed)."""
    project_name, deployment_name = job.job.project, job.job.target_name
    label = job.job.payload["trainedModelLabel"]
    for _attempt in range(_DEPLOY_ATTEMPTS):
        with context.database.session() as session:
            model = model_store.get_model(session, project_name, label)
        # Outside any transaction: writing the network as ONNX takes seconds.
        warnings = _prepare_serving(context, model)
        with context.database.session() as session:
            current = model_store.get_model(session, project_name, label)
            if current.model_id != model.model_id:
                continue  # retrained meanwhile: prepare the new run instead
            now = utcnow()
            _deployment, previous = model_store.pin_deployment(
                session, deployment_name, current, now
            )
            project_store.mark_deployed(session, project_name, now)
        if previous is not None and previous != current.artifact_dir:
            release_artifacts(context, [previous])
        return JobOutcome(JobStatus.SUCCEEDED, warnings=warnings)
    raise Conflict(
        f"trained model {label!r} was retrained {_DEPLOY_ATTEMPTS} times while it was being "
        "deployed; deploy it again once its training has finished"
    )


def _prepare_serving(context: ServiceContext, model: TrainedModel) -> tuple[dict[str, Any], ...]:
    """Write the model's serving files (ONNX graphs, the int8 check's verdict) and share them
    with every host.

    Failing to write them costs speed only, so it is a warning; failing to share them is a
    storage fault, which fails the deploy.
    """
    artifact_dir = model.artifact_dir
    model_dir = context.models.local_dir(artifact_dir)
    verdict = context.model_checks.check(model_dir)
    if verdict.damaged:
        # Deploying it would make every job of the deployment fail.
        logger.error("not deploying the damaged model %s: %s", artifact_dir, verdict.problem)
        raise damaged_model(artifact_dir)
    try:
        wrote = registry.prepare_for_serving(model_dir)
    except Exception:
        logger.exception("could not write the serving files of %s", artifact_dir)
        return (
            {
                "code": "ServingNotOptimized",
                "message": (
                    "The model is deployed and served by PyTorch: writing its network for "
                    "ONNX Runtime failed (the server log has the details)."
                ),
            },
        )
    warnings: tuple[dict[str, Any], ...] = ()
    try:
        chose, warnings = choose_precision(context, model, model_dir)
    except Exception:
        logger.exception("could not check the int8 network of %s", artifact_dir)
        chose, warnings = False, (_KEPT_FP32_AFTER_FAILURE,)
    if wrote or chose:
        # Training's evaluation left the model loaded in PyTorch wherever it predicts (and
        # a verdict for int8 changes the graph that serves it).
        context.compute.forget(artifact_dir)
        context.models.share_additions(artifact_dir)
    return warnings


#: The deploy's warning when the int8 check itself failed (the model keeps fp32; no verdict is
#: recorded, so the next deploy checks again).
_KEPT_FP32_AFTER_FAILURE = {
    "code": KEPT_FP32,
    "message": (
        "The model is served by its fp32 network: checking the int8 network written beside "
        "it failed (the server log has the details)."
    ),
}


def submit_delete(context: ServiceContext, project_name: str, deployment_name: str) -> Job:
    """Queue deleting a deployment."""
    with context.database.session() as session:
        model_store.get_deployment(session, project_name, deployment_name)
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
    project_name, deployment_name = job.job.project, job.job.target_name
    with context.database.session() as session:
        if project_store.find_project(session, project_name) is None:
            return JobOutcome(JobStatus.SUCCEEDED)
        deleted = model_store.delete_deployment(session, project_name, deployment_name)
    if deleted is not None:
        release_artifacts(context, [deleted.model.artifact_dir])
    return JobOutcome(JobStatus.SUCCEEDED)


def submit_swap(context: ServiceContext, project_name: str, first: str, second: str) -> Job:
    """Queue swapping the models of two deployments."""
    if first == second:
        raise InvalidParameterValue("cannot swap a deployment with itself", target="body")
    with context.database.session() as session:
        model_store.get_deployment(session, project_name, first)
        model_store.get_deployment(session, project_name, second)
        return context.queue.add(
            session,
            JobKind.SWAP,
            {"firstDeploymentName": first, "secondDeploymentName": second},
            ttl_s=context.settings.authoring_job_ttl_s,
            project_name=project_name,
            target="swap",
        )


def run_swap(context: ServiceContext, job: JobContext) -> JobOutcome:
    """Exchange the two deployments' pinned models in one transaction."""
    project_name = job.job.project
    payload = job.job.payload
    with context.database.session() as session:
        now = utcnow()
        model_store.swap_deployments(
            session,
            project_name,
            payload["firstDeploymentName"],
            payload["secondDeploymentName"],
            now,
        )
        project_store.mark_deployed(session, project_name, now)
    return JobOutcome(JobStatus.SUCCEEDED)
