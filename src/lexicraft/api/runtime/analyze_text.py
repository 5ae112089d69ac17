"""Runtime routes of the Language API: ``/language/analyze-text/jobs…`` (spec §1).

Each route validates its typed body, calls one service, renders. Any dated ``api-version``
is accepted; custom task shapes are identical across them (spec §1.1), only the job state's
spelling differs (see :mod:`lexicraft.api.runtime.render`). Routes are plain ``def``:
FastAPI runs them in its threadpool, so the database work never blocks the event loop; the
submit and poll routes are ``async``, as they may wait for the job (see
:func:`lexicraft.api.jobs.accept_analysis` and :func:`lexicraft.api.jobs.answer_poll`), and
run their database work in the threadpool.
"""

from __future__ import annotations

from typing import NoReturn

from fastapi import APIRouter, Request, Response

from lexicraft.api.dependencies import ApiVersion, CallerKeyId, Context
from lexicraft.api.errors import ERRORS
from lexicraft.api.jobs import accept_analysis, accepted, answer_poll
from lexicraft.api.permissions import needs
from lexicraft.api.requests import absolute_url, bool_query
from lexicraft.api.runtime import render, responses
from lexicraft.api.runtime.schemas import AnalyzeTextInput, AnalyzeTextJobsInput, custom_kind
from lexicraft.domain.jobs import JobStatus
from lexicraft.domain.users import Permission
from lexicraft.errors import InvalidParameterValue
from lexicraft.services import analysis
from lexicraft.services.analysis import ApiFamily

JOBS = "/language/analyze-text/jobs"
SYNC = "/language/:analyze-text"
# Submitting, polling and cancelling analyze jobs all need the analyze permission.
router = APIRouter(tags=["runtime"], dependencies=[needs(Permission.ANALYZE)])


def _job_url(request: Request, job_id: str, version: str) -> str:
    return absolute_url(request, f"{JOBS}/{job_id}", f"api-version={version}")


@router.post(JOBS, status_code=202, response_class=Response, responses=responses.ACCEPTED)
async def submit_job(
    body: AnalyzeTextJobsInput,
    request: Request,
    context: Context,
    version: ApiVersion,
    key_id: CallerKeyId,
) -> Response:
    return await accept_analysis(
        request,
        context,
        body.to_request(),
        key_id,
        lambda job_id: _job_url(request, job_id, version),
    )


@router.get(JOBS + "/{job_id}", responses=responses.job_state(responses.LanguageJobState))
async def get_job(job_id: str, request: Request, context: Context, version: ApiVersion) -> Response:
    show_stats = bool_query(request, "showStats")

    def answer() -> tuple[Response, JobStatus]:
        job = analysis.get_analysis(context, job_id, ApiFamily.LANGUAGE)
        page = render.page(
            request,
            len(job.documents),
            top_name="top",
            skip_name="skip",
            default_top=context.settings.default_page_size,
        )
        rendered = render.render_language_job(job, page, show_stats, version)
        return render.job_response(rendered, job, context.settings.retry_after_s), job.status

    return await answer_poll(request, context, job_id, answer)


@router.post(
    JOBS + "/{job_id}:cancel",
    status_code=202,
    response_class=Response,
    responses=responses.ACCEPTED,
)
def cancel_job(job_id: str, request: Request, context: Context, version: ApiVersion) -> Response:
    analysis.cancel_analysis(context, job_id, ApiFamily.LANGUAGE)
    return accepted(_job_url(request, job_id, version))


@router.post(SYNC, response_model=None, responses=ERRORS)
def analyze_text_sync(body: AnalyzeTextInput, _version: ApiVersion) -> NoReturn:
    """The synchronous API, which Azure does not offer for custom tasks (spec §1.1)."""
    if custom_kind(body.kind) is not None:
        raise InvalidParameterValue(
            f"{body.kind} is only available through the asynchronous API: "
            f"POST {JOBS}?api-version=…",
            target="kind",
        )
    raise InvalidParameterValue(
        f"task kind {body.kind!r} is not supported: Lexicraft serves custom models only, "
        f"through POST {JOBS}",
        target="kind",
    )
