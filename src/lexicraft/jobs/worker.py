"""Worker threads: claim jobs, run their handler, keep the lease alive, record the outcome."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from lexicraft.domain.jobs import Job, JobCancelled, JobKind, JobOutcome, JobStatus
from lexicraft.errors import (
    DatabaseUnavailable,
    LexicraftError,
    ServiceUnavailable,
    internal_failure,
)
from lexicraft.jobs.completions import JobCompletions
from lexicraft.storage.sql.jobs import JobQueue, LocalOwners
from lexicraft.telemetry.metrics import JOB_DURATION

logger = logging.getLogger(__name__)


@dataclass
class LeasedJob:
    """A job this worker holds the lease of: what its work may do besides working.

    Implements :class:`lexicraft.services.job_context.JobContext`.
    """

    job: Job
    queue: JobQueue
    owner: str

    def progress(self, percent: float, estimated_end: datetime | None = None) -> None:
        """Report ``percent`` (0 … 100) done and the estimated end; a lost report is no
        reason to stop the work."""
        try:
            self.queue.report_progress(self.job.id, self.owner, percent, estimated_end)
        except DatabaseUnavailable:
            # The heartbeat tells the outage; the next report carries the progress.
            logger.debug("the progress of job %s was not recorded", self.job.id)

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` if somebody cancelled the job or this worker lost it."""
        if self.queue.should_stop(self.job.id, self.owner):
            raise JobCancelled


Handler = Callable[[LeasedJob], JobOutcome]


def owner_name(pool: str) -> str:
    """A unique lease-owner prefix for a pool of this process: ``host:pid:pool:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{pool}:{uuid.uuid4().hex[:8]}"


def _process_is_gone(owner: str) -> bool:
    """Whether ``owner`` (named by :func:`owner_name` on this host) names a process that no
    longer runs here. A pid in use again by another process reads as alive: the job then
    waits for its lease to expire, as it would have anyway."""
    try:
        pid = int(owner.split(":")[1])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    return False


def local_owners() -> LocalOwners:
    """This host's lease owners, and which of them died: a restarted worker re-queues what
    its predecessor on this host held at once, instead of after the lease."""
    return LocalOwners(prefix=f"{socket.gethostname()}:", is_dead=_process_is_gone)


class Outage:
    """Logs one warning when the database goes out of reach and one line when it is back.

    Shared by the pools of a process, so an outage costs one warning, not one per thread,
    pool or failed try.
    """

    def __init__(self) -> None:
        self._since: float | None = None
        self._lock = threading.Lock()

    def failed(self) -> None:
        """A database call failed because the database could not be reached."""
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
        logger.warning(
            "the database cannot be reached: workers keep retrying with back-off; jobs whose "
            "outcome cannot be recorded run again once their lease expires"
        )

    def succeeded(self) -> None:
        """A database call went through."""
        with self._lock:
            if self._since is None:
                return
            lasted, self._since = time.monotonic() - self._since, None
        logger.warning("the database answers again (after %.0f s): workers carry on", lasted)


class Backoff:
    """Exponential waits between tries against an unreachable database, capped."""

    def __init__(self, first_s: float, max_s: float) -> None:
        self.first_s = first_s
        self.max_s = max_s
        self.next_s = first_s

    def step(self) -> float:
        """The wait before the next try; each one doubles, up to ``max_s``."""
        wait, self.next_s = self.next_s, min(self.next_s * 2, self.max_s)
        return min(wait, self.max_s)

    def reset(self) -> None:
        self.next_s = self.first_s


class Wakeups:
    """Wake-ups of a pool's idle threads.

    :meth:`post` wakes ONE idle thread: a queued job is one thread's to claim. Waking every idle
    thread (an ``Event``) had each of them query the queue and all but one find nothing, one
    after the other behind the claim lock: 16 claims per 1-document job with 16 threads, which
    cost more than the prediction. A post with no thread waiting is kept (at most ``limit``):
    the next thread to go idle looks again at once. :meth:`post_all` wakes them all (stopping).
    """

    def __init__(self, limit: int) -> None:
        self._ready = threading.Condition()
        self._pending = 0
        self._limit = max(1, limit)

    def post(self) -> None:
        """Wake one idle thread."""
        with self._ready:
            self._pending = min(self._pending + 1, self._limit)
            self._ready.notify()

    def post_all(self) -> None:
        """Wake every thread."""
        with self._ready:
            self._pending = self._limit
            self._ready.notify_all()

    def wait(self, timeout_s: float | None) -> bool:
        """Wait up to ``timeout_s`` (None: until one comes) for a wake-up (a pending one is
        taken at once); whether one came."""
        with self._ready:
            if not self._pending:
                self._ready.wait(timeout_s)
            if not self._pending:
                return False
            self._pending -= 1
            return True


class WorkerPool:
    """Threads that each loop: claim a job of their kinds, run it, record the outcome.

    Pools are split by job kind so that a long training never holds up analyze jobs. With
    ``jobs_per_key``, a pool runs at most that many jobs of one key (``Job.api_key_id``) at
    once: its other threads claim only other keys' jobs, so a key with many requests leaves
    room for the next key's job instead of taking every thread.
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
        backoff_max_s: float = 30.0,
        outage: Outage | None = None,
        jobs_per_key: int | None = None,
    ) -> None:
        self.queue = queue
        self.handlers = handlers
        self.name = name
        self.kinds = tuple(kinds)
        self.threads = threads
        self.poll_interval_s = poll_interval_s
        self.backoff_max_s = backoff_max_s
        self.outage = outage or Outage()
        self.jobs_per_key = None if jobs_per_key is None else max(1, jobs_per_key)
        self.owner_prefix = owner_name(name)
        self._stop = threading.Event()
        self._wakeups = Wakeups(limit=threads)
        # What a submit route in this process waits on (see jobs/completions.py).
        self.completions = JobCompletions()
        self._threads: list[threading.Thread] = []
        # owner → the job that thread is running: what a shutdown past its grace releases,
        # and whose keys are at their jobs_per_key.
        self._running: dict[str, Job] = {}
        self._running_lock = threading.Lock()
        # Whether an idle thread polls the queue (see _idle).
        self._poller_taken = False
        self._poller_lock = threading.Lock()
        # A pool's claims take turns, so two threads cannot both take a key's last place.
        self._claim_lock = threading.Lock()
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
        """A job was queued: one idle thread looks for work now rather than at its next poll."""
        self._wakeups.post()

    def stop(self, grace_s: float = 10.0) -> list[str]:
        """Stop this pool as :func:`stop_pools` does; returns the ids of the released jobs."""
        return stop_pools([self], grace_s)

    def request_stop(self) -> None:
        """Claim no more jobs; the jobs running now go on."""
        self._stop.set()
        self._wakeups.post_all()

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
            running = [(owner, job.id) for owner, job in self._running.items()]
        released = []
        for owner, job_id in running:
            if self._release(job_id, owner):
                released.append(job_id)
        return released

    def runs(self, job_id: str) -> bool:
        """Whether a thread of this pool runs job ``job_id`` now.

        A claim in flight is waited for: its job is running in the database a moment before
        the claiming thread has it, and a caller that read the job as running must not be
        told that this pool does not run it. May wait for a database query: not for the
        event loop.
        """
        with self._claim_lock, self._running_lock:
            return any(job.id == job_id for job in self._running.values())

    def running(self) -> int:
        """How many jobs this pool runs now."""
        with self._running_lock:
            return len(self._running)

    def running_keys(self) -> dict[int | None, int]:
        """How many jobs of each key this pool runs now."""
        with self._running_lock:
            return dict(Counter(job.api_key_id for job in self._running.values()))

    def _claim(self, owner: str, announced: bool) -> Job | None:
        """Claim the next job (see :meth:`JobQueue.claim`) for thread ``owner``, passing
        over the keys that already have ``jobs_per_key`` jobs running here."""
        with self._claim_lock:
            full: list[int | None] = []
            if self.jobs_per_key is not None:
                full = [
                    key for key, jobs in self.running_keys().items() if jobs >= self.jobs_per_key
                ]
            job = self.queue.claim(owner, self.kinds, skip_keys=full, probe=not announced)
            if job is not None:
                with self._running_lock:
                    self._running[owner] = job
            return job

    def _release(self, job_id: str, owner: str) -> bool:
        try:
            return self.queue.release(job_id, owner)
        except DatabaseUnavailable:
            self.outage.failed()
            return False
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
            self.queue.recover_expired_leases(local_owners())
            self.queue.purge_expired()
        except DatabaseUnavailable:
            self.outage.failed()  # the claim that follows backs off
        except Exception:
            logger.exception("job queue maintenance failed")

    def _idle(self) -> bool:
        """Wait for work; whether a wake-up (a job queued) ended the wait.

        One idle thread at a time is the pool's poller: it looks at the queue each interval
        (the safety net for jobs no wake-up announced); the others sleep until woken. Sixteen
        threads polling twice a second cost an idle server a tenth of a core in claims.
        """
        with self._poller_lock:
            polling, self._poller_taken = not self._poller_taken, True
        woken = self._wakeups.wait(self.poll_interval_s if polling else None)
        if polling:
            with self._poller_lock:
                self._poller_taken = False
        return woken

    def _keep_a_poller(self) -> None:
        """This thread took a job: if no idle thread polls now (this one did, or all are
        busy), wake one, which looks for more jobs and stays on as the poller. A burst of
        jobs no wake-up announced (from another process) so spreads over the idle threads."""
        if not self._poller_taken:
            self._wakeups.post()

    def _run(self, owner: str) -> None:
        backoff = Backoff(self.poll_interval_s, max(self.backoff_max_s, self.poll_interval_s))
        # Whether a wake-up announced a job: the claim then skips its probe (see JobQueue.claim).
        announced = False
        while not self._stop.is_set():
            self._maintain()
            try:
                job = self._claim(owner, announced)
            except DatabaseUnavailable:
                # Keep trying, less and less often, instead of dying or spinning.
                self.outage.failed()
                self._stop.wait(backoff.step())
                continue
            except Exception:
                logger.exception("claiming a job failed")
                job = None
            else:
                self.outage.succeeded()
                backoff.reset()
            if job is None:
                announced = self._idle()
                continue
            announced = False
            self._keep_a_poller()
            if self._stop.is_set():
                # Told to stop while claiming: the job is another worker's to run.
                self._release(job.id, owner)
                with self._running_lock:
                    self._running.pop(owner, None)
                return
            if not self._execute(job, owner):
                # What the job needed was out of reach: wait before claiming more work.
                self._stop.wait(backoff.step())

    def _execute(self, job: Job, owner: str) -> bool:
        """Run ``job`` and record its outcome; False when the database or storage was out
        of reach (the job then stays leased and runs again once its lease expires)."""
        started = time.monotonic()
        lease_lost = threading.Event()
        done = threading.Event()

        def keep_lease() -> None:
            interval = max(self.queue.lease.total_seconds() / 3, 0.05)
            while not done.wait(interval):
                try:
                    held = self.queue.heartbeat(job.id, owner)
                except DatabaseUnavailable:
                    # The lease may well outlast the outage.
                    self.outage.failed()
                    continue
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
            self._running[owner] = job
        outcome: JobOutcome | None
        try:
            outcome = self.handlers[job.kind](context)
        except ServiceUnavailable:
            # Not the job's fault, so not its outcome: the job stays leased, and once the
            # lease expires it is handed out again (no accepted job is lost or failed by an
            # outage).
            logger.info("job %s stopped: the database or storage is out of reach", job.id)
            outcome = None
        except JobCancelled:
            outcome = JobOutcome(JobStatus.CANCELLED)
        except LexicraftError as error:
            # A LexicraftError's message is written for clients and names no internals, so
            # it is the job's error; the log keeps one line of it (no traceback: no fault).
            logger.info("job %s (%s) failed: %s", job.id, job.kind.value, error.message)
            outcome = JobOutcome(JobStatus.FAILED, errors=(error.to_error(),))
        except Exception:
            # A fault: its text may name paths and memory addresses, so clients read a stable
            # message and the log, under the job's id, has the exception and its traceback.
            logger.exception("job %s (%s) failed", job.id, job.kind.value)
            outcome = JobOutcome(
                JobStatus.FAILED, errors=(internal_failure("The job", job.id).to_error(),)
            )
        finally:
            done.set()
            heartbeat.join()
        try:
            if outcome is None:
                return False
            if lease_lost.is_set() or not self.queue.finish(job.id, owner, outcome):
                logger.warning("job %s finished after its lease was taken over", job.id)
            else:
                self.completions.finished(job.id)
                JOB_DURATION.labels(job.kind.value, outcome.status.value).observe(
                    time.monotonic() - started
                )
        except DatabaseUnavailable:
            self.outage.failed()
            logger.info(
                "the outcome of job %s could not be recorded; it runs again once its lease expires",
                job.id,
            )
            return False
        except Exception:
            # The thread goes on claiming; the job's lease expires and it is run again.
            logger.exception("recording the outcome of job %s failed", job.id)
        finally:
            with self._running_lock:
                self._running.pop(owner, None)
        return True


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
