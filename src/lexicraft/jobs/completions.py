"""Jobs a worker pool has just finished, for a route waiting on one it submitted.

A short analyze job is done a few milliseconds after it is queued, yet its client learns so
only from a later poll: every poll it makes before that costs the server a request, and the
official SDKs, whose first poll comes at once, then sleep ``Retry-After`` (a second). The submit
route therefore waits a moment (``Settings.submit_wait_s``) for its job; a job finished by then
is answered with a 202 that tells the client to poll at once, and that poll has the results
(see :func:`lexicraft.api.jobs.accept_analysis`).

The pool's threads record outcomes; the route waits on the event loop, holding no thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable


class JobCompletions:
    """Finished job ids, and the waiters of jobs not finished yet.

    A job may finish before its route starts waiting (a worker that claimed it on its own
    poll), so the last ``remember`` finished ids are kept and a wait for one returns at once.
    """

    def __init__(self, remember: int = 1024) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, list[Callable[[], None]]] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._remember = remember

    def finished(self, job_id: str) -> None:
        """Job ``job_id``'s outcome is recorded: wake whoever waits for it (any thread)."""
        with self._lock:
            self._recent[job_id] = None
            while len(self._recent) > self._remember:
                self._recent.popitem(last=False)
            waiters = self._waiters.pop(job_id, [])
        for wake in waiters:
            wake()

    async def wait(self, job_id: str, timeout_s: float) -> bool:
        """Whether job ``job_id`` finished within ``timeout_s`` seconds (from now)."""
        if timeout_s <= 0:
            return self._is_recent(job_id)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            loop.call_soon_threadsafe(_resolve, done)

        with self._lock:
            if job_id in self._recent:
                return True
            self._waiters.setdefault(job_id, []).append(wake)
        try:
            await asyncio.wait_for(done, timeout_s)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                waiters = self._waiters.get(job_id)
                if waiters is not None and wake in waiters:
                    waiters.remove(wake)
                    if not waiters:
                        del self._waiters[job_id]

    def _is_recent(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._recent


def _resolve(future: asyncio.Future[None]) -> None:
    # A wait that timed out has cancelled its future; a late wake-up must not fail on it.
    if not future.done():
        future.set_result(None)
