"""Legacy Text Analytics runtime routes: ``/text/analytics/{v3.x-preview…}/analyze`` (spec §2).

The version is a path segment and there is no ``api-version`` query parameter. Only the
previews that carried custom tasks are served; any other version is a 404. The submit and
poll routes are ``async`` (they may wait for the job) and run their database work in the
threadpool, as FastAPI runs the plain ``def`` ones, off the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from lexicraft.api.dependencies import CallerKeyId, Context
from lexicraft.api.jobs import accept_analysis, answer_poll
from lexicraft.api.permissions import needs
from lexicraft.api.requests import absolute_url, bool_query
from lexicraft.api.runtime import render, responses
from lexicraft.api.runtime.schemas import LegacyAnalyzeInput
from lexicraft.domain.jobs import JobStatus
from lexicraft.domain.users import Permission
from lexicraft.errors import NotFound
from lexicraft.services import analysis
from lexicraft.services.analysis import ApiFamily

#: Legacy versions with custom tasks (spec §2.1, §2.2).
LEGACY_VERSIONS = frozenset({"v3.2-preview.1", "v3.2-preview.2", "v3.1-preview.ct.1"})

#: The legacy API's default page size (``$top``), which the v3.2-preview swagger documents.
LEGACY_DEFAULT_TOP = 20

PREFIX = "/text/analytics"
# Every route here is the runtime: a key needs the analyze permission.
router = APIRouter(tags=["runtime-legacy"], dependencies=[needs(Permission.ANALYZE)])


async def legacy_version(version: str) -> str:
    """The path's version, if served. A dependency, so an unserved version is a 404 before
    its body is validated."""
    if version not in LEGACY_VERSIONS:
        raise NotFound(
            f"Resource not found: Text Analytics version {version!r} is not served; use one of "
            f"{sorted(LEGACY_VERSIONS)} or the Language API (/language/analyze-text/jobs)"
        )
    return version


LegacyVersion = Annotated[str, Depends(legacy_version)]


@router.post(
    PREFIX + "/{version}/analyze",
    status_code=202,
    response_class=Response,
    responses=responses.ACCEPTED,
)
async def submit_job(
    version: LegacyVersion,
    body: LegacyAnalyzeInput,
    request: Request,
    context: Context,
    key_id: CallerKeyId,
) -> Response:
    return await accept_analysis(
        request,
        context,
        body.to_request(),
        key_id,
        lambda job_id: absolute_url(request, f"{PREFIX}/{version}/analyze/jobs/{job_id}"),
    )


@router.get(
    PREFIX + "/{version}/analyze/jobs/{job_id}",
    responses=responses.job_state(responses.LegacyJobState),
)
async def get_job(
    version: LegacyVersion, job_id: str, request: Request, context: Context
) -> Response:
    show_stats = bool_query(request, "showStats")

    def answer() -> tuple[Response, JobStatus]:
        job = analysis.get_analysis(context, job_id, ApiFamily.LEGACY)
        page = render.page(
            request,
            len(job.documents),
            top_name="$top",
            skip_name="$skip",
            default_top=LEGACY_DEFAULT_TOP,
        )
        rendered = render.render_legacy_job(job, page, show_stats)
        return render.job_response(rendered, job, context.settings.retry_after_s), job.status

    return await answer_poll(request, context, job_id, answer)
