"""Conversation (CLU) authoring routes: ``/language/authoring/analyze-conversations/projects…``
(spec CLU §2).

What conversation projects share with custom text (deletion, jobs, models, evaluation,
deployments, swap, languages, training config versions) is
:func:`lexicraft.api.authoring.shared.add_shared_routes`, over the same services; this module
adds what differs: the create/patch body, ``:import`` (``format=Conversation|Luis``), the
export result, ``:train`` (``trainingMode``), ``global/prebuilt-entities`` and a model's
``:load-snapshot`` (an import of the project file the model was trained on).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import SkipValidation

from lexicraft.api.authoring import render, responses
from lexicraft.api.authoring.schemas import ConversationTrainingBody
from lexicraft.api.authoring.shared import (
    CONVERSATIONS,
    accepted_job,
    add_shared_routes,
    family_router,
    get_job,
)
from lexicraft.api.dependencies import ApiVersion, Context
from lexicraft.api.runtime.responses import ACCEPTED
from lexicraft.domain.jobs import JobKind
from lexicraft.services import conversations, projects, training
from lexicraft.wire.conversation_file import ConversationFileBody, ConversationPatchBody

PREFIX = CONVERSATIONS.prefix
router = family_router(CONVERSATIONS)


@router.get("/global/prebuilt-entities", responses=responses.ok(responses.PrebuiltEntitiesPage))
def list_prebuilt_entities(
    request: Request,
    context: Context,
    _version: ApiVersion,
    language: Annotated[str | None, Query(description="e.g. en-us; absent: any")] = None,
) -> dict[str, Any]:
    # multilingual=true asks for those usable in every language: the catalog's own answer
    # for no language.
    multilingual = request.query_params.get("multilingual", "").lower() == "true"
    items = conversations.list_prebuilt_entities(None if multilingual else language)
    return render.page(request, items, dict, context.settings.default_page_size)


add_shared_routes(router, CONVERSATIONS)


@router.patch(
    "/{project_name}",
    response_model=None,
    responses=responses.created(responses.ConversationProjectMetadata),
)
def upsert_project(
    project_name: str, body: ConversationPatchBody, context: Context, _version: ApiVersion
) -> JSONResponse:
    project, created = projects.upsert_project(context, project_name, body.to_patch(project_name))
    return JSONResponse(render.render_project(project), status_code=201 if created else 200)


@router.post(
    "/{project_name}/:import", status_code=202, response_class=Response, responses=ACCEPTED
)
def import_project(
    project_name: str,
    # Validated in the threadpool by the service (a project file can hold 50,000
    # utterances; a LUIS app has another shape). The CLU file's schema is documented.
    body: Annotated[SkipValidation[ConversationFileBody], Body()],
    request: Request,
    context: Context,
    version: ApiVersion,
    file_format: Annotated[
        str | None,
        Query(alias="format", description="``Conversation`` (default) or ``Luis``."),
    ] = None,
) -> Response:
    job = conversations.submit_import(
        context, project_name, body, conversations.ImportFormat.parse(file_format)
    )
    return accepted_job(request, CONVERSATIONS, f"/{project_name}/import/jobs/{job.id}", version)


@router.get(
    "/{project_name}/export/jobs/{job_id}/result",
    responses=responses.ok(responses.ExportedConversationProject, "The project file."),
)
def get_export_result(
    project_name: str, job_id: str, context: Context, _version: ApiVersion
) -> dict[str, Any]:
    return conversations.read_export(context, project_name, job_id)


@router.post("/{project_name}/:train", status_code=202, response_class=Response, responses=ACCEPTED)
def train(
    project_name: str,
    body: ConversationTrainingBody,
    request: Request,
    context: Context,
    version: ApiVersion,
) -> Response:
    job = training.submit_training(context, project_name, body.to_request())
    return accepted_job(request, CONVERSATIONS, f"/{project_name}/train/jobs/{job.id}", version)


@router.post(
    "/{project_name}/models/{label}/:load-snapshot",
    status_code=202,
    response_class=Response,
    responses=ACCEPTED,
)
def load_snapshot(
    project_name: str, label: str, request: Request, context: Context, version: ApiVersion
) -> Response:
    job = conversations.submit_load_snapshot(context, project_name, label)
    status_path = f"/{project_name}/models/{label}/load-snapshot/jobs/{job.id}"
    return accepted_job(request, CONVERSATIONS, status_path, version)


@router.get(
    "/{project_name}/models/{label}/load-snapshot/jobs/{job_id}",
    responses=responses.ok(responses.JobState),
)
def get_load_snapshot_job(
    project_name: str, label: str, job_id: str, context: Context, _version: ApiVersion
) -> dict[str, Any]:
    return render.render_job(get_job(context, job_id, [JobKind.IMPORT], project_name, label))
