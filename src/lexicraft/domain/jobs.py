"""Jobs: the durable units of asynchronous work, and their legal status transitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    """Azure's job status enum (spec §1.3, §5.2)."""

    NOT_STARTED = "notStarted"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIALLY_COMPLETED = "partiallyCompleted"
    FAILED = "failed"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """Whether the job will never change again."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {JobStatus.SUCCEEDED, JobStatus.PARTIALLY_COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED}
)

#: Statuses of a job that may still change: waiting, running or being cancelled.
UNFINISHED = tuple(status for status in JobStatus if status not in _TERMINAL)

_ALLOWED: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.NOT_STARTED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED}),
    # running → notStarted: a worker died and its lease expired; the job is re-queued.
    JobStatus.RUNNING: frozenset(
        {
            JobStatus.NOT_STARTED,
            JobStatus.SUCCEEDED,
            JobStatus.PARTIALLY_COMPLETED,
            JobStatus.FAILED,
            JobStatus.CANCELLING,
        }
    ),
    JobStatus.CANCELLING: frozenset({JobStatus.CANCELLED, JobStatus.FAILED}),
}


def can_transition(current: JobStatus, new: JobStatus) -> bool:
    """Whether a job in ``current`` may move to ``new``."""
    return new in _ALLOWED.get(current, frozenset())


class IllegalTransition(RuntimeError):
    """A status write that the transition rule forbids: a bug, never a caller's mistake."""


def require_transition(current: JobStatus, new: JobStatus) -> JobStatus:
    """``new`` if a job in ``current`` may move to it, else :class:`IllegalTransition`.

    Every status write goes through this rule (or :func:`can_transition` where a lost race is
    an expected outcome rather than a bug).
    """
    if not can_transition(current, new):
        raise IllegalTransition(f"a {current.value} job cannot become {new.value}")
    return new


class JobKind(StrEnum):
    """What a job does; one handler per kind."""

    ANALYZE = "analyze"
    IMPORT = "import"
    EXPORT = "export"
    TRAIN = "train"
    DEPLOY = "deploy"
    DELETE_DEPLOYMENT = "delete-deployment"
    SWAP = "swap"
    DELETE_PROJECT = "delete-project"


#: Every kind but analyze: they share the authoring workers, so a training never holds up an
#: analyze job.
AUTHORING_KINDS = tuple(kind for kind in JobKind if kind is not JobKind.ANALYZE)


class JobCancelled(Exception):
    """Raised inside a job's work when somebody cancelled the job."""


@dataclass(frozen=True, slots=True)
class Job:
    """A durable unit of asynchronous work, as stored (read-only view)."""

    id: str
    kind: JobKind
    status: JobStatus
    payload: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    project_name: str | None = None
    target: str | None = None
    display_name: str | None = None
    result: dict[str, Any] | None = None
    errors: tuple[dict[str, Any], ...] = ()
    warnings: tuple[dict[str, Any], ...] = ()
    percent_complete: float = 0.0
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    #: The subscription key that submitted the job (its id); None: the configured key, the
    #: CLI. Workers share their time fairly between keys.
    api_key_id: int | None = None
    #: When the worker running the job expects it to end (training: from the measured speed
    #: of its steps); None: no estimate yet.
    estimated_end_at: datetime | None = None

    @property
    def project(self) -> str:
        """The project of a project-level job (every authoring kind names one)."""
        if self.project_name is None:
            raise ValueError(f"job {self.id} ({self.kind.value}) names no project")
        return self.project_name

    @property
    def target_name(self) -> str:
        """What a job acts on inside its project (model label, deployment name, …)."""
        if self.target is None:
            raise ValueError(f"job {self.id} ({self.kind.value}) names no target")
        return self.target


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """What a job's work reports when it is done."""

    status: JobStatus
    result: dict[str, Any] | None = None
    errors: tuple[dict[str, Any], ...] = field(default=())
    warnings: tuple[dict[str, Any], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class QueueStatistics:
    """The job table at one moment, as metrics report it (every process sees the same)."""

    #: Unexpired jobs by kind and status; combinations without a job are absent.
    counts: dict[tuple[JobKind, JobStatus], int]
    #: When the oldest ``notStarted`` job of each kind (that has one) was submitted.
    oldest_waiting: dict[JobKind, datetime]
    #: The queue's clock when the statistics were read (ages are measured from it).
    taken_at: datetime
