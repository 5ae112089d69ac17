"""Authoring routes: ``/language/authoring/analyze-text/projects…`` (spec §5).

Each route validates its typed body (:mod:`lexicraft.api.authoring.schemas`), calls one
service, renders. The routes custom text shares with conversation projects (deletion, jobs,
models, deployments, swap, globals) are :func:`lexicraft.api.authoring.shared.add_shared_routes`;
this module adds custom text's own: the project merge-patch, ``:import``, the export result
and ``:train``. Routes are plain ``def``: FastAPI runs them in its threadpool, so database and
file work never blocks the event loop.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Request, Response
from fastapi.responses import JSONResponse
from pydantic import SkipValidation

from lexicraft.api.authoring import render, responses
from lexicraft.api.authoring.schemas import ProjectFileBody, ProjectPatchBody, TrainingBody
from lexicraft.api.authoring.shared import TEXT, accepted_job, add_shared_routes, family_router
from lexicraft.api.dependencies import ApiVersion, Context
from lexicraft.api.runtime.responses import ACCEPTED
from lexicraft.services import projects, training
from lexicraft.wire.base import parse
from lexicraft.wire.project_file import render_project_file

PREFIX = TEXT.prefix
router = family_router(TEXT)
add_shared_routes(router, TEXT)


@router.patch(
    "/{project_name}", response_model=None, responses=responses.created(responses.ProjectMetadata)
)
def upsert_project(
    project_name: str, body: ProjectPatchBody, context: Context, _version: ApiVersion
) -> JSONResponse:
    patch = body.to_patch(project_name)
    project, created = projects.upsert_project(context, project_name, patch)
    return JSONResponse(render.render_project(project), status_code=201 if created else 200)


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
    return accepted_job(request, TEXT, f"/{project_name}/import/jobs/{job.id}", version)


@router.get(
    "/{project_name}/export/jobs/{job_id}/result",
    responses=responses.ok(responses.ExportedProject, "The exported project file."),
)
def get_export_result(
    project_name: str, job_id: str, context: Context, _version: ApiVersion
) -> dict[str, Any]:
    return render_project_file(projects.read_export(context, project_name, job_id))


@router.post("/{project_name}/:train", status_code=202, response_class=Response, responses=ACCEPTED)
def train(
    project_name: str, body: TrainingBody, request: Request, context: Context, version: ApiVersion
) -> Response:
    job = training.submit_training(context, project_name, body.to_request())
    return accepted_job(request, TEXT, f"/{project_name}/train/jobs/{job.id}", version)
