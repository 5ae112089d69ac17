"""The authoring routes both families share: custom text (``…/analyze-text/projects``) and
conversations (``…/analyze-conversations/projects``).

Azure's two authoring APIs differ in the project file, the create and train bodies and the
evaluation shapes; deletion, jobs, models, deployments, swap, paging and the globals are the
same protocol. :func:`add_shared_routes` registers that protocol once per
:class:`RouteFamily`, on the family's router, over the same services; the family modules
(:mod:`.routes`, :mod:`.conversations`) add what differs. A project of the other family is
not found under a family's routes (:func:`family_guard`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, cast

from fastapi import APIRouter, Depends, Query, Request, Response

from lexicraft.api.authoring import render, responses
from lexicraft.api.authoring.schemas import DeploymentBody, SwapBody
from lexicraft.api.dependencies import ApiVersion, Context, service_context
from lexicraft.api.errors import ERRORS
from lexicraft.api.jobs import accepted, wake_workers
from lexicraft.api.permissions import reads_and_writes
from lexicraft.api.requests import absolute_url
from lexicraft.api.runtime.responses import ACCEPTED
from lexicraft.domain.jobs import Job, JobKind
from lexicraft.domain.projects import CONVERSATION_KINDS, TEXT_KINDS, ProjectKind
from lexicraft.domain.text import StringIndexType
from lexicraft.domain.users import Permission
from lexicraft.errors import InvalidParameterValue
from lexicraft.services import authoring_jobs, deployments, projects, training
from lexicraft.services.context import ServiceContext

T = TypeVar("T")

_LANGUAGES = {
    "en": "English", "en-us": "English (United States)", "de": "German", "fr": "French",
    "es": "Spanish", "it": "Italian", "pt": "Portuguese", "nl": "Dutch", "pl": "Polish",
    "ru": "Russian", "tr": "Turkish", "ja": "Japanese", "ko": "Korean",
    "zh-hans": "Chinese (Simplified)", "zh-hant": "Chinese (Traditional)", "ar": "Arabic",
    "he": "Hebrew", "hi": "Hindi", "sv": "Swedish", "da": "Danish", "fi": "Finnish",
    "no": "Norwegian", "cs": "Czech", "uk": "Ukrainian",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class RouteFamily:
    """One authoring API: its path prefix, the project kinds it serves, and the documented
    shapes that differ between the families."""

    prefix: str
    kinds: frozenset[ProjectKind]
    tag: str
    project_shape: type[Any]
    projects_page_shape: type[Any]
    evaluation_summary_shape: type[Any]
    evaluation_results_shape: type[Any]


TEXT = RouteFamily(
    prefix="/language/authoring/analyze-text/projects",
    kinds=TEXT_KINDS,
    tag="authoring",
    project_shape=responses.ProjectMetadata,
    projects_page_shape=responses.ProjectsPage,
    evaluation_summary_shape=responses.EvaluationSummary,
    evaluation_results_shape=responses.DocumentEvaluationsPage,
)
CONVERSATIONS = RouteFamily(
    prefix="/language/authoring/analyze-conversations/projects",
    kinds=CONVERSATION_KINDS,
    tag="conversation authoring",
    project_shape=responses.ConversationProjectMetadata,
    projects_page_shape=responses.ConversationProjectsPage,
    evaluation_summary_shape=responses.ConversationEvaluationSummary,
    evaluation_results_shape=responses.UtteranceEvaluationsPage,
)


def family_guard(family: RouteFamily) -> Callable[[Request], None]:
    """A router dependency: a project named in the path must be of ``family``'s kinds (a
    create or import of a name the other family holds is a conflict, anything else 404)."""

    def guard(request: Request) -> None:
        project_name = request.path_params.get("project_name")
        if not isinstance(project_name, str) or project_name == "global":
            return
        writes = request.method == "PATCH" or request.url.path.endswith("/:import")
        projects.check_family(service_context(request), project_name, family.kinds, writes=writes)

    return guard


def family_router(family: RouteFamily) -> APIRouter:
    """The router of ``family``'s routes, guarded by :func:`family_guard`.

    Every read of the authoring API (GET) needs the view permission; every change (create,
    import, export, train, deploy, swap, cancel, delete) needs author. The permission is
    checked first, so a key that may not change a project learns nothing about it.
    """
    return APIRouter(
        prefix=family.prefix,
        tags=[family.tag],
        responses=ERRORS,
        dependencies=[
            reads_and_writes(Permission.VIEW, Permission.AUTHOR),
            Depends(family_guard(family)),
        ],
    )


def accepted_job(request: Request, family: RouteFamily, status_path: str, version: str) -> Response:
    """202 with the absolute ``Operation-Location`` of a job's status; wake the workers."""
    wake_workers(request, JobKind.TRAIN)  # every authoring kind shares one pool
    return accepted(
        absolute_url(request, f"{family.prefix}{status_path}", f"api-version={version}")
    )


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


def require_utf16(index_type: str, what: str) -> None:
    """``stringIndexType`` must be UTF-16 code units."""
    if StringIndexType.parse(index_type, StringIndexType.UTF16) is not StringIndexType.UTF16:
        raise InvalidParameterValue(
            f"stringIndexType must be 'Utf16CodeUnit' for {what}", target="stringIndexType"
        )


def get_job(
    context: ServiceContext,
    job_id: str,
    kinds: list[JobKind],
    project_name: str | None,
    target: str | None = None,
) -> Job:
    """An authoring job of ``kinds`` under its own URL."""
    return authoring_jobs.get_job(context, job_id, kinds, project_name=project_name, target=target)


def _page(
    request: Request,
    context: ServiceContext,
    items: Sequence[T],
    item: Callable[[T], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A page of ``items`` (each rendered by ``item``; as they are when None)."""
    return render.page(
        request,
        items,
        item or cast(Callable[[T], dict[str, Any]], dict),
        context.settings.default_page_size,
    )


def add_shared_routes(router: APIRouter, family: RouteFamily) -> None:
    """Register the routes both authoring APIs share on ``router`` (``family``'s)."""

    def accept(request: Request, status_path: str, version: str) -> Response:
        return accepted_job(request, family, status_path, version)

    # -- global ------------------------------------------------------------------------------

    @router.get("/global/languages", responses=responses.ok(responses.LanguagesPage))
    def list_languages(request: Request, context: Context, _version: ApiVersion) -> dict[str, Any]:
        items = [{"languageName": name, "languageCode": code} for code, name in _LANGUAGES.items()]
        return _page(request, context, items)

    @router.get(
        "/global/training-config-versions",
        responses=responses.ok(responses.TrainingConfigVersionsPage),
    )
    def list_training_config_versions(
        request: Request, context: Context, _version: ApiVersion
    ) -> dict[str, Any]:
        kind_filter = request.query_params.get("projectKind")
        kind = ProjectKind.parse(kind_filter, family.kinds) if kind_filter else None
        items = [
            {
                "trainingConfigVersion": version.name,
                "modelExpirationDate": version.model_expiration_date.isoformat(),
            }
            for version in training.training_config_versions(kind)
            if kind is not None or any(k.value in version.backends for k in family.kinds)
        ]
        return _page(request, context, items)

    @router.get("/global/deletion-jobs/{job_id}", responses=responses.ok(responses.JobState))
    def get_deletion_job(job_id: str, context: Context, _version: ApiVersion) -> dict[str, Any]:
        return render.render_job(get_job(context, job_id, [JobKind.DELETE_PROJECT], None))

    # -- projects ----------------------------------------------------------------------------

    @router.get("", responses=responses.ok(family.projects_page_shape))
    def list_projects(request: Request, context: Context, _version: ApiVersion) -> dict[str, Any]:
        found = projects.list_projects(context, family.kinds)
        return _page(request, context, found, render.render_project)

    @router.get("/{project_name}", responses=responses.ok(family.project_shape))
    def get_project(project_name: str, context: Context, _version: ApiVersion) -> dict[str, Any]:
        return render.render_project(projects.get_project(context, project_name))

    @router.delete("/{project_name}", status_code=202, response_class=Response, responses=ACCEPTED)
    def delete_project(
        project_name: str, request: Request, context: Context, version: ApiVersion
    ) -> Response:
        job = projects.submit_delete(context, project_name)
        return accept(request, f"/global/deletion-jobs/{job.id}", version)

    @router.get("/{project_name}/import/jobs/{job_id}", responses=responses.ok(responses.JobState))
    def get_import_job(
        project_name: str, job_id: str, context: Context, _version: ApiVersion
    ) -> dict[str, Any]:
        return render.render_job(get_job(context, job_id, [JobKind.IMPORT], project_name))

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
        # format, assetKind and trainedModelLabel (CLU, 2023-04-01) are accepted: Lexicraft
        # exports the project's own assets in the one project file format.
        require_utf16(index_type, "exports")
        job = projects.submit_export(context, project_name)
        return accept(request, f"/{project_name}/export/jobs/{job.id}", version)

    @router.get("/{project_name}/export/jobs/{job_id}", responses=responses.ok(responses.JobState))
    def get_export_job(
        project_name: str, job_id: str, request: Request, context: Context, version: ApiVersion
    ) -> dict[str, Any]:
        result_url = absolute_url(
            request,
            f"{family.prefix}/{project_name}/export/jobs/{job_id}/result",
            f"api-version={version}",
        )
        return render.render_job(
            get_job(context, job_id, [JobKind.EXPORT], project_name), result_url=result_url
        )

    # -- training and models -----------------------------------------------------------------

    @router.get("/{project_name}/train/jobs", responses=responses.ok(responses.JobsPage))
    def list_training_jobs(
        project_name: str, request: Request, context: Context, _version: ApiVersion
    ) -> dict[str, Any]:
        jobs = training.list_training_jobs(context, project_name)
        return _page(request, context, jobs, render.render_job)

    @router.get("/{project_name}/train/jobs/{job_id}", responses=responses.ok(responses.JobState))
    def get_training_job(
        project_name: str, job_id: str, context: Context, _version: ApiVersion
    ) -> dict[str, Any]:
        return render.render_job(get_job(context, job_id, [JobKind.TRAIN], project_name))

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
        return accept(request, f"/{project_name}/train/jobs/{job_id}", version)

    @router.get("/{project_name}/models", responses=responses.ok(responses.ModelsPage))
    def list_models(
        project_name: str, request: Request, context: Context, _version: ApiVersion
    ) -> dict[str, Any]:
        models = training.list_models(context, project_name)
        return _page(request, context, models, render.render_model)

    @router.get("/{project_name}/models/{label}", responses=responses.ok(responses.TrainedModel))
    def get_model(
        project_name: str, label: str, context: Context, _version: ApiVersion
    ) -> dict[str, Any]:
        return render.render_model(training.get_model(context, project_name, label))

    @router.delete(
        "/{project_name}/models/{label}",
        status_code=204,
        responses={204: {"description": "Deleted."}},
    )
    def delete_model(
        project_name: str, label: str, context: Context, _version: ApiVersion
    ) -> Response:
        training.delete_model(context, project_name, label)
        return Response(status_code=204)

    @router.get(
        "/{project_name}/models/{label}/evaluation/summary-result",
        responses=responses.ok(family.evaluation_summary_shape),
    )
    def get_evaluation_summary(
        project_name: str, label: str, context: Context, _version: ApiVersion
    ) -> dict[str, Any]:
        kind, evaluation = training.get_evaluation(context, project_name, label)
        return render.render_evaluation_summary(kind, evaluation)

    @router.get(
        "/{project_name}/models/{label}/evaluation/result",
        responses=responses.ok(family.evaluation_results_shape),
    )
    def list_evaluation_results(
        project_name: str,
        label: str,
        index_type: Utf16IndexType,
        request: Request,
        context: Context,
        _version: ApiVersion,
    ) -> dict[str, Any]:
        require_utf16(index_type, "evaluation results")
        documents = training.get_evaluation(context, project_name, label)[1].documents
        return _page(request, context, documents)

    # -- deployments -------------------------------------------------------------------------

    @router.get("/{project_name}/deployments", responses=responses.ok(responses.DeploymentsPage))
    def list_deployments(
        project_name: str, request: Request, context: Context, version: ApiVersion
    ) -> dict[str, Any]:
        return _page(
            request,
            context,
            deployments.list_deployments(context, project_name),
            lambda deployment: render.render_deployment(deployment, version),
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
        return accept(request, f"/{project_name}/deployments/swap/jobs/{job.id}", version)

    @router.get(
        "/{project_name}/deployments/swap/jobs/{job_id}",
        responses=responses.ok(responses.JobState),
    )
    def get_swap_job(
        project_name: str, job_id: str, context: Context, _version: ApiVersion
    ) -> dict[str, Any]:
        return render.render_job(get_job(context, job_id, [JobKind.SWAP], project_name))

    @router.get(
        "/{project_name}/deployments/{deployment_name}",
        responses=responses.ok(responses.Deployment),
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
        return accept(
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
        return accept(
            request, f"/{project_name}/deployments/{deployment_name}/jobs/{job.id}", version
        )

    @router.get(
        "/{project_name}/deployments/{deployment_name}/jobs/{job_id}",
        responses=responses.ok(responses.JobState),
    )
    def get_deployment_job(
        project_name: str,
        deployment_name: str,
        job_id: str,
        context: Context,
        _version: ApiVersion,
    ) -> dict[str, Any]:
        kinds = [JobKind.DEPLOY, JobKind.DELETE_DEPLOYMENT]
        return render.render_job(get_job(context, job_id, kinds, project_name, deployment_name))
