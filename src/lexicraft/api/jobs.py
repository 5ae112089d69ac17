"""What every route that starts a job shares: the 202 answer and waking the workers."""

from __future__ import annotations

from fastapi import Request, Response

from lexicraft.domain.jobs import JobKind


def accepted(location: str) -> Response:
    """``202`` with the job's absolute ``Operation-Location`` and no body (spec §0).

    No ``Location`` header: the 5.x SDK would take it as the final resource and GET it.
    """
    return Response(status_code=202, headers={"Operation-Location": location})


def wake_workers(request: Request, kind: JobKind) -> None:
    """Have this process's workers for ``kind`` look for the new job now, not at their next poll.

    The pools are the app's (``app.state.worker_pools``); a server without workers has none
    and the job waits for a ``lexicraft`` worker elsewhere to poll.
    """
    for pool in getattr(request.app.state, "worker_pools", ()):
        if kind in pool.kinds:
            pool.wake()
