"""Authoring wire shapes (spec §5): projects, jobs, models, deployments, pages.

:mod:`lexicraft.api.authoring.responses` documents each shape; spellings that differ by
api-version are decided here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Request

from lexicraft.api.requests import absolute_url, int_query
from lexicraft.domain.jobs import Job, JobKind, JobStatus
from lexicraft.domain.models import Deployment, ModelEvaluation, TrainedModel
from lexicraft.domain.projects import Project, ProjectKind
from lexicraft.timeutil import format_datetime
from lexicraft.wire.conversation_file import render_conversation_metadata
from lexicraft.wire.project_file import render_metadata

T = TypeVar("T")


def render_project(project: Project) -> dict[str, Any]:
    """Project metadata as GET returns it."""
    body = (
        render_conversation_metadata(project)
        if project.kind.is_conversation
        else render_metadata(project)
    )
    if project.created_at is not None:
        body["createdDateTime"] = format_datetime(project.created_at)
    if project.modified_at is not None:
        body["lastModifiedDateTime"] = format_datetime(project.modified_at)
    if project.last_trained_at is not None:
        body["lastTrainedDateTime"] = format_datetime(project.last_trained_at)
    if project.last_deployed_at is not None:
        body["lastDeployedDateTime"] = format_datetime(project.last_deployed_at)
    return body


def render_job(job: Job, *, result_url: str | None = None) -> dict[str, Any]:
    """The authoring job state (spec §5.2) with each kind's extra fields."""
    body: dict[str, Any] = {
        "jobId": job.id,
        "createdDateTime": format_datetime(job.created_at),
        "lastUpdatedDateTime": format_datetime(job.updated_at),
        "expirationDateTime": format_datetime(job.expires_at),
        "status": job.status.value,
        "warnings": list(job.warnings),
        "errors": list(job.errors),
    }
    if job.kind is JobKind.TRAIN:
        body["result"] = job.result or _training_progress(job)
    if job.kind is JobKind.EXPORT and job.status is JobStatus.SUCCEEDED:
        body["resultUrl"] = result_url
    return body


def _training_progress(job: Job) -> dict[str, Any]:
    """The training ``result`` of a job still running, from its percentComplete."""
    percent = job.percent_complete
    training = min(100.0, percent * 100 / 90)
    evaluation = max(0.0, (percent - 90) * 10)
    started = job.started_at

    def phase(value: float, begun: bool) -> dict[str, Any]:
        status = "notStarted" if not begun else ("succeeded" if value >= 100 else "running")
        if job.status in (JobStatus.FAILED, JobStatus.CANCELLED) and status != "succeeded":
            status = job.status.value
        phase_body: dict[str, Any] = {"percentComplete": int(value), "status": status}
        if started is not None and begun:
            phase_body["startDateTime"] = format_datetime(started)
        return phase_body

    result: dict[str, Any] = {
        "modelLabel": job.payload["modelLabel"],
        "trainingConfigVersion": job.payload["trainingConfigVersion"],
        **({"trainingMode": job.payload["trainingMode"]} if "trainingMode" in job.payload else {}),
        "trainingStatus": phase(training, started is not None),
        "evaluationStatus": phase(evaluation, percent > 90),
    }
    # The worker's estimate from the measured speed of the training steps
    # (services.training.EndEstimate); none before it has measured any.
    if job.estimated_end_at is not None and job.status is JobStatus.RUNNING:
        result["estimatedEndDateTime"] = format_datetime(job.estimated_end_at)
    return result


def render_model(model: TrainedModel) -> dict[str, Any]:
    """A trained model (spec §5.6)."""
    return {
        "label": model.label,
        "modelId": model.model_id,
        "lastTrainedDateTime": format_datetime(model.trained_at),
        "lastTrainingDurationInSeconds": round(model.training_duration_s),
        "modelExpirationDate": model.expiration_date,
        "modelTrainingConfigVersion": model.training_config_version,
        "hasSnapshot": model.has_snapshot,
    }


#: The first api-version whose deployments list the resources they are assigned to.
_ASSIGNED_RESOURCES_SINCE = "2023-04-15"


def render_deployment(deployment: Deployment, version: str) -> dict[str, Any]:
    """A deployment (spec §5.8): the model run it pins, not the label's latest run.

    From 2023-04-15-preview on Azure lists the resources a deployment is assigned to, a
    required field; a local deployment is assigned to none.
    """
    model = deployment.model
    expires = deployment.deployed_at + timedelta(days=365)
    body: dict[str, Any] = {
        "deploymentName": deployment.name,
        "modelId": model.model_id,
        "lastTrainedDateTime": format_datetime(model.trained_at),
        "lastDeployedDateTime": format_datetime(deployment.deployed_at),
        "deploymentExpirationDate": min(expires.date().isoformat(), model.expiration_date),
        "modelTrainingConfigVersion": model.training_config_version,
    }
    if version[:10] >= _ASSIGNED_RESOURCES_SINCE:  # dated versions compare as text
        body["assignedResources"] = []
    return body


def render_evaluation_summary(kind: ProjectKind, evaluation: ModelEvaluation) -> dict[str, Any]:
    """A model's evaluation summary (spec §5.7), its metrics under the kind's key; a
    conversation model's are ``intentsEvaluation`` and ``entitiesEvaluation`` without a
    wrapper (spec CLU §2.7)."""
    if kind.is_conversation:
        return {**evaluation.summary, "evaluationOptions": evaluation.options}
    return {
        "projectKind": kind.value,
        "evaluationOptions": evaluation.options,
        kind.evaluation_key: evaluation.summary,
    }


def page(
    request: Request,
    items: Sequence[T],
    render: Callable[[T], dict[str, Any]],
    default_size: int,
) -> dict[str, Any]:
    """A paged list ``{"value": [...], "nextLink": …}`` honouring top/skip/maxpagesize."""
    skip = int_query(request, "skip", default=0) or 0
    top = int_query(request, "top")
    size = int_query(request, "maxpagesize", default=default_size) or default_size
    end = len(items) if top is None else min(len(items), skip + top)
    stop = min(end, skip + size)
    body: dict[str, Any] = {"value": [render(item) for item in items[skip:stop]]}
    if stop < end:
        query = dict(request.query_params)
        query["skip"] = str(stop)
        if top is not None:
            query["top"] = str(end - stop)
        body["nextLink"] = absolute_url(request, request.url.path, urlencode(query))
    else:
        body["nextLink"] = None
    return body
