"""Runtime routes of the Language API: ``/language/analyze-text/jobs…`` (spec §1).

Each route parses, calls one service, renders. Any dated ``api-version`` is accepted; custom
task shapes are identical across them (spec §1.1).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lexicraft.api.dependencies import ApiVersion, Context
from lexicraft.api.jobs import accepted, wake_workers
from lexicraft.api.requests import absolute_url, bool_query, json_object
from lexicraft.api.runtime import render, schemas
from lexicraft.domain.jobs import JobKind
from lexicraft.errors import InvalidParameterValue, InvalidRequestBody
from lexicraft.services import analysis
from lexicraft.services.analysis import ApiFamily

JOBS = "/language/analyze-text/jobs"
router = APIRouter(tags=["runtime"])


def _job_url(request: Request, job_id: str, version: str) -> str:
    return absolute_url(request, f"{JOBS}/{job_id}", f"api-version={version}")


@router.post(JOBS)
async def submit_job(request: Request, context: Context, version: ApiVersion) -> Response:
    body = await json_object(request, max_bytes=context.settings.max_request_bytes)
    parsed = schemas.parse_language_request(body)
    # The service writes to the database; keep that off the event loop.
    job = await run_in_threadpool(analysis.submit_analysis, context, parsed)
    wake_workers(request, JobKind.ANALYZE)
    return accepted(_job_url(request, job.id, version))


@router.get(JOBS + "/{job_id}")
def get_job(job_id: str, request: Request, context: Context, _version: ApiVersion) -> JSONResponse:
    show_stats = bool_query(request, "showStats")
    job = analysis.get_analysis(context, job_id, ApiFamily.LANGUAGE)
    page = render.page(
        request,
        len(job.documents),
        top_name="top",
        skip_name="skip",
        default_top=context.settings.default_page_size,
    )
    return render.job_response(
        render.render_language_job(job, page, show_stats), job, context.settings.retry_after_s
    )


@router.post(JOBS + "/{job_id}:cancel")
def cancel_job(job_id: str, request: Request, context: Context, version: ApiVersion) -> Response:
    analysis.cancel_analysis(context, job_id, ApiFamily.LANGUAGE)
    return accepted(_job_url(request, job_id, version))


@router.post("/language/:analyze-text")
async def analyze_text_sync(request: Request, context: Context, _version: ApiVersion) -> Any:
    """The synchronous API, which Azure does not offer for custom tasks (spec §1.1)."""
    body = await json_object(request, max_bytes=context.settings.max_request_bytes)
    kind = body.get("kind")
    if schemas.is_custom_kind(kind):
        raise InvalidParameterValue(
            f"{kind} is only available through the asynchronous API: POST {JOBS}?api-version=…",
            target="kind",
        )
    if kind is None:
        raise InvalidRequestBody("kind is required", target="kind")
    raise InvalidParameterValue(
        f"task kind {kind!r} is not supported: Lexicraft serves custom models only, through "
        f"POST {JOBS}",
        target="kind",
    )
