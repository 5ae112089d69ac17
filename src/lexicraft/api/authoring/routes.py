"""Authoring routes: ``/language/authoring/analyze-text/projects…`` (spec §5).

Each route validates its typed body (:mod:`lexicraft.api.authoring.schemas`), calls one
service, renders. Routes are plain ``def``: FastAPI runs them in its threadpool, so database
and file work never blocks the event loop.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import SkipValidation

from lexicraft.api.authoring import render, responses
from lexicraft.api.authoring.schemas import (
    DeploymentBody,
    ProjectFileBody,
    ProjectPatchBody,
    SwapBody,
    TrainingBody,
)
from lexicraft.api.dependencies import ApiVersion, Context
from lexicraft.api.errors import ERRORS
from lexicraft.api.jobs import accepted, wake_workers
from lexicraft.api.requests import absolute_url
from lexicraft.api.runtime.responses import ACCEPTED
from lexicraft.domain.jobs import Job, JobKind
from lexicraft.domain.projects import ProjectKind
from lexicraft.domain.text import StringIndexType
from lexicraft.errors import InvalidParameterValue
from lexicraft.services import authoring_jobs, deployments, projects, training
from lexicraft.services.context import ServiceContext
from lexicraft.wire.base import parse
from lexicraft.wire.project_file import render_project_file

PREFIX = "/language/authoring/analyze-text/projects"
router = APIRouter(prefix=PREFIX, tags=["authoring"], responses=ERRORS)

_LANGUAGES = {
    "en": "English", "en-us": "English (United States)", "de": "German", "fr": "French",
    "es": "Spanish", "it": "Italian", "pt": "Portuguese", "nl": "Dutch", "pl": "Polish",
    "ru": "Russian", "tr": "Turkish", "ja": "Japanese", "ko": "Korean",
    "zh-hans": "Chinese (Simplified)", "zh-hant": "Chinese (Traditional)", "ar": "Arabic",
    "he": "Hebrew", "hi": "Hindi", "sv": "Swedish", "da": "Danish", "fi": "Finnish",
    "no": "Norwegian", "cs": "Czech", "uk": "Ukrainian",
}  # fmt: skip


def _accepted(request: Request, status_path: str, version: str) -> Response:
    """202 with the absolute ``Operation-Location`` of a job's status; wake the workers."""
    wake_workers(request, JobKind.TRAIN)  # every authoring kind shares one pool
    return accepted(absolute_url(request, f"{PREFIX}{status_path}", f"api-version={version}"))


#: ``stringIndexType`` of exports and evaluation results: required, and only UTF-16 code
#: units (spec §5). Any letter case is accepted; the docs name the one spelling.
Utf16IndexType = Annotated[
    str,
    Query(
        alias="stringIndexType",
        description="Offsets in the result count UTF-16 code units; the only value allowed.",
        json_schema_extra={"enum": [StringIndexType.UTF16.value]},
    ),
]


def _require_utf16(index_type: str, what: str) -> None:
    if StringIndexType.parse(index_type, StringIndexType.UTF16) is not StringIndexType.UTF16:
        raise InvalidParameterValue(
            f"stringIndexType must be 'Utf16CodeUnit' for {what}", target="stringIndexType"
        )


def _job(
    context: ServiceContext,
    job_id: str,
    kinds: list[JobKind],
    project_name: str | None,
    target: str | None = None,
) -> Job:
    return authoring_jobs.get_job(context, job_id, kinds, project_name=project_name, target=target)


# -- global ----------------------------------------------------------------------------------


@router.get("/global/languages", responses=responses.ok(responses.LanguagesPage))
def list_languages(request: Request, context: Context, _version: ApiVersion) -> dict[str, Any]:
    items = [{"languageName": name, "languageCode": code} for code, name in _LANGUAGES.items()]
    return render.page(request, items, lambda item: item, context.settings.default_page_size)


@router.get(
    "/global/training-config-versions",
    responses=responses.ok(responses.TrainingConfigVersionsPage),
)
def list_training_config_versions(
    request: Request, context: Context, _version: ApiVersion
) -> dict[str, Any]:
    kind_filter = request.query_params.get("projectKind")
    kind = ProjectKind.parse(kind_filter) if kind_filter else None
    items = [
        {
            "trainingConfigVersion": version.name,
            "modelExpirationDate": version.model_expiration_date.isoformat(),
        }
        for version in training.training_config_versions(kind)
    ]
    return render.page(request, items, lambda item: item, context.settings.default_page_size)


@router.get("/global/deletion-jobs/{job_id}", responses=responses.ok(responses.JobState))
def get_deletion_job(job_id: str, context: Context, _version: ApiVersion) -> dict[str, Any]:
    return render.render_job(_job(context, job_id, [JobKind.DELETE_PROJECT], None))


# -- projects --------------------------------------------------------------------------------


@router.get("", responses=responses.ok(responses.ProjectsPage))
def list_projects(request: Request, context: Context, _version: ApiVersion) -> dict[str, Any]:
    return render.page(
        request,
        projects.list_projects(context),
        render.render_project,
        context.settings.default_page_size,
    )


@router.patch(
    "/{project_name}", response_model=None, responses=responses.created(responses.ProjectMetadata)
)
def upsert_project(
    project_name: str, body: ProjectPatchBody, context: Context, _version: ApiVersion
) -> JSONResponse:
    patch = body.to_patch(project_name)
    project, created = projects.upsert_project(context, project_name, patch)
    return JSONResponse(render.render_project(project), status_code=201 if created else 200)


@router.get("/{project_name}", responses=responses.ok(responses.ProjectMetadata))
def get_project(project_name: str, context: Context, _version: ApiVersion) -> dict[str, Any]:
    return render.render_project(projects.get_project(context, project_name))


@router.delete("/{project_name}", status_code=202, response_class=Response, responses=ACCEPTED)
def delete_project(
    project_name: str, request: Request, context: Context, version: ApiVersion
) -> Response:
    job = projects.submit_delete(context, project_name)
    return _accepted(request, f"/global/deletion-jobs/{job.id}", version)


@router.post(
    "/{project_name}/:import", status_code=202, response_class=Response, responses=ACCEPTED
)
def import_project(
    project_name: str,
    # Validated here, in the threadpool, not by FastAPI on the event loop: a project file
    # can hold tens of thousands of documents. The schema is documented all the same.
    body: Annotated[SkipValidation[ProjectFileBody], Body()],
    request: Request,
    context: Context,
    version: ApiVersion,
) -> Response:
    project_file = parse(ProjectFileBody, body).to_project_file(project_name)
    job = projects.submit_import(context, project_name, project_file)
    return _accepted(request, f"/{project_name}/import/jobs/{job.id}", version)


@router.get("/{project_name}/import/jobs/{job_id}", responses=responses.ok(responses.JobState))
def get_import_job(
    project_name: str, job_id: str, context: Context, _version: ApiVersion
) -> dict[str, Any]:
    return render.render_job(_job(context, job_id, [JobKind.IMPORT], project_name))


@router.post(
    "/{project_name}/:export", status_code=202, response_class=Response, responses=ACCEPTED
)
def export_project(
    project_name: str,
    index_type: Utf16IndexType,
    request: Request,
    context: Context,
    version: ApiVersion,
) -> Response:
    _require_utf16(index_type, "exports")
    job = projects.submit_export(context, project_name)
    return _accepted(request, f"/{project_name}/export/jobs/{job.id}", version)


@router.get("/{project_name}/export/jobs/{job_id}", responses=responses.ok(responses.JobState))
def get_export_job(
    project_name: str, job_id: str, request: Request, context: Context, version: ApiVersion
) -> dict[str, Any]:
    result_url = absolute_url(
        request,
        f"{PREFIX}/{project_name}/export/jobs/{job_id}/result",
        f"api-version={version}",
    )
    return render.render_job(
        _job(context, job_id, [JobKind.EXPORT], project_name), result_url=result_url
    )


@router.get(
    "/{project_name}/export/jobs/{job_id}/result",
    responses=responses.ok(responses.ExportedProject, "The exported project file."),
)
def get_export_result(
    project_name: str, job_id: str, context: Context, _version: ApiVersion
) -> dict[str, Any]:
    return render_project_file(projects.read_export(context, project_name, job_id))


# -- training and models ---------------------------------------------------------------------


@router.post("/{project_name}/:train", status_code=202, response_class=Response, responses=ACCEPTED)
def train(
    project_name: str, body: TrainingBody, request: Request, context: Context, version: ApiVersion
) -> Response:
    job = training.submit_training(context, project_name, body.to_request())
    return _accepted(request, f"/{project_name}/train/jobs/{job.id}", version)


@router.get("/{project_name}/train/jobs", responses=responses.ok(responses.JobsPage))
def list_training_jobs(
    project_name: str, request: Request, context: Context, _version: ApiVersion
) -> dict[str, Any]:
    jobs = training.list_training_jobs(context, project_name)
    return render.page(request, jobs, render.render_job, context.settings.default_page_size)


@router.get("/{project_name}/train/jobs/{job_id}", responses=responses.ok(responses.JobState))
def get_training_job(
    project_name: str, job_id: str, context: Context, _version: ApiVersion
) -> dict[str, Any]:
    return render.render_job(_job(context, job_id, [JobKind.TRAIN], project_name))


@router.post(
    "/{project_name}/train/jobs/{job_id}/:cancel",
    status_code=202,
    response_class=Response,
    responses=ACCEPTED,
)
def cancel_training_job(
    project_name: str, job_id: str, request: Request, context: Context, version: ApiVersion
) -> Response:
    training.cancel_training(context, project_name, job_id)
    return _accepted(request, f"/{project_name}/train/jobs/{job_id}", version)


@router.get("/{project_name}/models", responses=responses.ok(responses.ModelsPage))
def list_models(
    project_name: str, request: Request, context: Context, _version: ApiVersion
) -> dict[str, Any]:
    models = training.list_models(context, project_name)
    return render.page(request, models, render.render_model, context.settings.default_page_size)


@router.get("/{project_name}/models/{label}", responses=responses.ok(responses.TrainedModel))
def get_model(
    project_name: str, label: str, context: Context, _version: ApiVersion
) -> dict[str, Any]:
    return render.render_model(training.get_model(context, project_name, label))


@router.delete(
    "/{project_name}/models/{label}", status_code=204, responses={204: {"description": "Deleted."}}
)
def delete_model(project_name: str, label: str, context: Context, _version: ApiVersion) -> Response:
    training.delete_model(context, project_name, label)
    return Response(status_code=204)


@router.get(
    "/{project_name}/models/{label}/evaluation/summary-result",
    responses=responses.ok(responses.EvaluationSummary),
)
def get_evaluation_summary(
    project_name: str, label: str, context: Context, _version: ApiVersion
) -> dict[str, Any]:
    return render.render_evaluation_summary(*training.get_evaluation(context, project_name, label))


@router.get(
    "/{project_name}/models/{label}/evaluation/result",
    responses=responses.ok(responses.DocumentEvaluationsPage),
)
def list_evaluation_results(
    project_name: str,
    label: str,
    index_type: Utf16IndexType,
    request: Request,
    context: Context,
    _version: ApiVersion,
) -> dict[str, Any]:
    _require_utf16(index_type, "evaluation results")
    documents = training.get_evaluation(context, project_name, label)[1].documents
    return render.page(request, documents, lambda item: item, context.settings.default_page_size)


# -- deployments -----------------------------------------------------------------------------


@router.get("/{project_name}/deployments", responses=responses.ok(responses.DeploymentsPage))
def list_deployments(
    project_name: str, request: Request, context: Context, version: ApiVersion
) -> dict[str, Any]:
    return render.page(
        request,
        deployments.list_deployments(context, project_name),
        lambda deployment: render.render_deployment(deployment, version),
        context.settings.default_page_size,
    )


@router.post(
    "/{project_name}/deployments/:swap",
    status_code=202,
    response_class=Response,
    responses=ACCEPTED,
)
def swap_deployments(
    project_name: str, body: SwapBody, request: Request, context: Context, version: ApiVersion
) -> Response:
    job = deployments.submit_swap(
        context, project_name, body.first_deployment_name, body.second_deployment_name
    )
    return _accepted(request, f"/{project_name}/deployments/swap/jobs/{job.id}", version)


@router.get(
    "/{project_name}/deployments/swap/jobs/{job_id}", responses=responses.ok(responses.JobState)
)
def get_swap_job(
    project_name: str, job_id: str, context: Context, _version: ApiVersion
) -> dict[str, Any]:
    return render.render_job(_job(context, job_id, [JobKind.SWAP], project_name))


@router.get(
    "/{project_name}/deployments/{deployment_name}", responses=responses.ok(responses.Deployment)
)
def get_deployment(
    project_name: str, deployment_name: str, context: Context, version: ApiVersion
) -> dict[str, Any]:
    return render.render_deployment(
        deployments.get_deployment(context, project_name, deployment_name), version
    )


@router.put(
    "/{project_name}/deployments/{deployment_name}",
    status_code=202,
    response_class=Response,
    responses=ACCEPTED,
)
def deploy(
    project_name: str,
    deployment_name: str,
    body: DeploymentBody,
    request: Request,
    context: Context,
    version: ApiVersion,
) -> Response:
    label = body.trained_model_label
    job = deployments.submit_deploy(context, project_name, deployment_name, label)
    return _accepted(
        request, f"/{project_name}/deployments/{deployment_name}/jobs/{job.id}", version
    )


@router.delete(
    "/{project_name}/deployments/{deployment_name}",
    status_code=202,
    response_class=Response,
    responses=ACCEPTED,
)
def delete_deployment(
    project_name: str,
    deployment_name: str,
    request: Request,
    context: Context,
    version: ApiVersion,
) -> Response:
    job = deployments.submit_delete(context, project_name, deployment_name)
    return _accepted(
        request, f"/{project_name}/deployments/{deployment_name}/jobs/{job.id}", version
    )


@router.get(
    "/{project_name}/deployments/{deployment_name}/jobs/{job_id}",
    responses=responses.ok(responses.JobState),
)
def get_deployment_job(
    project_name: str, deployment_name: str, job_id: str, context: Context, _version: ApiVersion
) -> dict[str, Any]:
    kinds = [JobKind.DEPLOY, JobKind.DELETE_DEPLOYMENT]
    return render.render_job(_job(context, job_id, kinds, project_name, deployment_name))
