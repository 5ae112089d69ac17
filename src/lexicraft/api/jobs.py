"""What every route that starts a job shares: the 202 answer and waking the workers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool

from lexicraft.domain.jobs import JobKind, JobStatus
from lexicraft.services import analysis
from lexicraft.services.context import ServiceContext

#: On a 202 for a job already finished, for clients that sleep before their first poll (scripts
#: that honour ``Retry-After``, older azure-core pollers): azure-core reads ``retry-after-ms``
#: instead of its own interval (5 s for text analytics) and takes 0 as absent, so 1 ms is the
#: shortest wait it honours. Today's azure-core polls once at once anyway and finds the results.
POLL_NOW = {"retry-after-ms": "1"}


def accepted(location: str, headers: dict[str, str] | None = None) -> Response:
    """``202`` with the job's absolute ``Operation-Location`` and no body (spec §0).

    No ``Location`` header: the 5.x SDK would take it as the final resource and GET it.
    """
    return Response(status_code=202, headers={"Operation-Location": location} | (headers or {}))


def wake_workers(request: Request, kind: JobKind) -> None:
    """Have this process's workers for ``kind`` look for the new job now, not at their next poll.

    The pools are the app's (``app.state.worker_pools``); a server without workers has none
    and the job waits for a ``lexicraft`` worker elsewhere to poll.
    """
    for pool in getattr(request.app.state, "worker_pools", ()):
        if kind in pool.kinds:
            pool.wake()


class Completions(Protocol):
    """What a route waits on for a job of its process's pool (``jobs/completions.py``)."""

    async def wait(self, job_id: str, timeout_s: float) -> bool: ...


class LocalPool(Protocol):
    """What a route sees of a worker pool of its process (``jobs/worker.WorkerPool``; the
    API layer does not import the job layer, see tests/unit/test_architecture.py)."""

    kinds: tuple[JobKind, ...]
    threads: int
    completions: Completions

    def runs(self, job_id: str) -> bool: ...


def local_pool(request: Request, kind: JobKind) -> LocalPool | None:
    """The pool of this process whose threads run jobs of ``kind``; None when none does."""
    for pool in getattr(request.app.state, "worker_pools", ()):
        if kind in pool.kinds and pool.threads > 0:
            found: LocalPool = pool
            return found
    return None


async def accepted_after(
    request: Request, kind: JobKind, job_id: str, location: str, wait_s: float
) -> Response:
    """Wake the workers for the new job, wait up to ``wait_s`` for this process's pool to
    finish it, and answer ``202``; one that finished in time tells the client to poll now.

    A short job's client then needs one poll rather than several, and the SDKs skip their
    first sleep. Where no pool of this process runs ``kind``, the job is left to other
    workers and the answer comes at once.
    """
    wake_workers(request, kind)
    pool = local_pool(request, kind)
    if pool is not None and await pool.completions.wait(job_id, wait_s):
        return accepted(location, POLL_NOW)
    return accepted(location)


async def await_local_end(request: Request, job_id: str, status: JobStatus, wait_s: float) -> bool:
    """Wait up to ``wait_s`` for analyze job ``job_id``, read as ``status``, to end, where
    this process's workers will claim it (it is queued) or run it; whether it ended.

    A job another process runs is not waited for: no event of this process would say that
    it ended, and its poll is answered at once.
    """
    pool = local_pool(request, JobKind.ANALYZE)
    if pool is None or status.is_terminal:
        return False
    here = status is JobStatus.NOT_STARTED or await run_in_threadpool(pool.runs, job_id)
    # One it ran and finished since the read is seen at once.
    return await pool.completions.wait(job_id, wait_s if here else 0)


async def answer_poll(
    request: Request,
    context: ServiceContext,
    job_id: str,
    answer: Callable[[], tuple[Response, JobStatus]],
) -> Response:
    """A poll of analyze job ``job_id``: ``answer`` (run in the threadpool) reads and renders
    it; a job this process's workers will end soon is waited for, up to
    ``Settings.poll_wait_s`` (see :func:`await_local_end`), and read again once it ended."""
    response, status = await run_in_threadpool(answer)
    if await await_local_end(request, job_id, status, context.settings.poll_wait_s):
        response, _status = await run_in_threadpool(answer)
    return response


async def accept_analysis(
    request: Request,
    context: ServiceContext,
    body: analysis.AnalysisRequest,
    key_id: int | None,
    location: Callable[[str], str],
) -> Response:
    """Queue an analyze request (both runtime families) and answer as :func:`accepted_after`
    does; ``location`` gives the job's absolute ``Operation-Location`` from its id.

    The submit routes are ``async`` so that the wait holds no thread; the database work runs
    in the threadpool, as the plain routes' does.
    """
    job = await run_in_threadpool(analysis.submit_analysis, context, body, api_key_id=key_id)
    return await accepted_after(
        request, JobKind.ANALYZE, job.id, location(job.id), context.settings.submit_wait_s
    )
