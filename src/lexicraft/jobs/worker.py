"""Worker threads: claim jobs, run their handler, keep the lease alive, record the outcome."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from lexicraft.domain.jobs import Job, JobCancelled, JobKind, JobOutcome, JobStatus
from lexicraft.errors import LexicraftError
from lexicraft.storage.sql.jobs import JobQueue

logger = logging.getLogger(__name__)

#: What a client reads when a job failed on something it did not cause; the detail is logged.
INTERNAL_FAILURE = {
    "code": "InternalServerError",
    "message": "The job failed because of an internal error; the server log has the details.",
}


@dataclass
class LeasedJob:
    """A job this worker holds the lease of: what its work may do besides working.

    Implements :class:`lexicraft.services.job_context.JobContext`.
    """

    job: Job
    queue: JobQueue
    owner: str

    def progress(self, percent: float) -> None:
        """Report ``percent`` (0 … 100) done."""
        self.queue.report_progress(self.job.id, self.owner, percent)

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` if somebody cancelled the job or this worker lost it."""
        if self.queue.should_stop(self.job.id, self.owner):
            raise JobCancelled


Handler = Callable[[LeasedJob], JobOutcome]


class WorkerPool:
    """Threads that each loop: claim a job of their kinds, run it, record the outcome.

    Pools are split by job kind so that a long training never holds up analyze jobs.
    """

    def __init__(
        self,
        queue: JobQueue,
        handlers: Mapping[JobKind, Handler],
        *,
        name: str,
        kinds: Collection[JobKind],
        threads: int,
        poll_interval_s: float,
    ) -> None:
        self.queue = queue
        self.handlers = handlers
        self.name = name
        self.kinds = tuple(kinds)
        self.threads = threads
        self.poll_interval_s = poll_interval_s
        self.owner_prefix = f"{socket.gethostname()}:{os.getpid()}:{name}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        # owner → the job that thread is running; what a shutdown past its grace releases.
        self._running: dict[str, str] = {}
        self._running_lock = threading.Lock()
        # Housekeeping runs while the server does: a job whose worker died while this process
        # was already up (or whose lease had not yet expired when it started) is re-queued,
        # and results past their expirationDateTime are purged.
        self.maintenance_interval_s = max(self.queue.lease.total_seconds() / 2, 0.5)
        self._next_maintenance = 0.0
        self._maintenance_lock = threading.Lock()

    def start(self) -> None:
        """Start the threads (daemons: a killed server must not wait for them)."""
        for index in range(self.threads):
            thread = threading.Thread(
                target=self._run, args=(f"{self.owner_prefix}:{index}",), daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """Look for work now rather than at the next poll."""
        self._wake.set()

    def stop(self, grace_s: float = 10.0) -> list[str]:
        """Stop this pool as :func:`stop_pools` does; returns the ids of the released jobs."""
        return stop_pools([self], grace_s)

    def request_stop(self) -> None:
        """Claim no more jobs; the jobs running now go on."""
        self._stop.set()
        self._wake.set()

    def join(self, deadline: float) -> None:
        """Wait for the threads until ``deadline`` (``time.monotonic()``) at the latest."""
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def busy(self) -> bool:
        """Whether a thread of the pool is still running (a job, after a stop)."""
        return any(thread.is_alive() for thread in self._threads)

    def release_running(self) -> list[str]:
        """Put the jobs still running back in the queue; the ids of those it released."""
        with self._running_lock:
            running = list(self._running.items())
        released = []
        for owner, job_id in running:
            if self._release(job_id, owner):
                released.append(job_id)
        return released

    def _release(self, job_id: str, owner: str) -> bool:
        try:
            return self.queue.release(job_id, owner)
        except Exception:
            # Its lease expires and another worker re-claims the job all the same.
            logger.exception("releasing job %s failed", job_id)
            return False

    def _maintain(self) -> None:
        """Re-queue jobs of dead workers and purge expired ones, once per interval per pool."""
        now = time.monotonic()
        with self._maintenance_lock:
            if now < self._next_maintenance:
                return
            self._next_maintenance = now + self.maintenance_interval_s
        try:
            self.queue.recover_expired_leases()
            self.queue.purge_expired()
        except Exception:
            logger.exception("job queue maintenance failed")

    def _run(self, owner: str) -> None:
        while not self._stop.is_set():
            self._maintain()
            try:
                job = self.queue.claim(owner, self.kinds)
            except Exception:
                logger.exception("claiming a job failed")
                job = None
            if job is None:
                self._wake.wait(self.poll_interval_s)
                self._wake.clear()
                continue
            if self._stop.is_set():
                # Told to stop while claiming: the job is another worker's to run.
                self._release(job.id, owner)
                return
            self._execute(job, owner)

    def _execute(self, job: Job, owner: str) -> None:
        lease_lost = threading.Event()
        done = threading.Event()

        def keep_lease() -> None:
            interval = max(self.queue.lease.total_seconds() / 3, 0.05)
            while not done.wait(interval):
                try:
                    held = self.queue.heartbeat(job.id, owner)
                except Exception:
                    # The database did not answer; the lease may well outlast the blip.
                    logger.exception("the heartbeat of job %s failed", job.id)
                    continue
                if not held:
                    lease_lost.set()
                    return

        heartbeat = threading.Thread(target=keep_lease, daemon=True)
        heartbeat.start()
        context = LeasedJob(job=job, queue=self.queue, owner=owner)
        with self._running_lock:
            self._running[owner] = job.id
        try:
            outcome = self.handlers[job.kind](context)
        except JobCancelled:
            outcome = JobOutcome(JobStatus.CANCELLED)
        except LexicraftError as error:
            outcome = JobOutcome(JobStatus.FAILED, errors=(error.to_error(),))
        except Exception:
            logger.exception("job %s (%s) failed", job.id, job.kind.value)
            outcome = JobOutcome(JobStatus.FAILED, errors=(dict(INTERNAL_FAILURE),))
        finally:
            done.set()
            heartbeat.join()
        try:
            if lease_lost.is_set() or not self.queue.finish(job.id, owner, outcome):
                logger.warning("job %s finished after its lease was taken over", job.id)
        except Exception:
            # The thread goes on claiming; the job's lease expires and it is run again.
            logger.exception("recording the outcome of job %s failed", job.id)
        finally:
            with self._running_lock:
                self._running.pop(owner, None)


#: How often a stop looks whether the running jobs are done or it was told to hurry.
_STOP_STEP_S = 0.05


def stop_pools(
    pools: Collection[WorkerPool], grace_s: float, cut_short: threading.Event | None = None
) -> list[str]:
    """Stop ``pools``: claim nothing more, let running jobs finish, release the rest.

    Jobs still running after ``grace_s`` seconds, or once ``cut_short`` is set (the operator
    asked twice), go back to the queue (another worker claims them at once rather than after
    their lease expires), and their threads are left behind: they are daemons, and the
    outcome they may still record is refused. Every pool is asked to stop before any is
    waited for, so the pools share one grace period. Returns the ids of the released jobs.
    """
    for pool in pools:
        pool.request_stop()
    deadline = time.monotonic() + grace_s
    stop_now = cut_short or threading.Event()
    # Short waits on the event rather than joins: a signal handler that sets it ends the
    # grace period at once.
    while any(pool.busy for pool in pools) and (remaining := deadline - time.monotonic()) > 0:
        if stop_now.wait(min(remaining, _STOP_STEP_S)):
            break
    return [job_id for pool in pools for job_id in pool.release_running()]
