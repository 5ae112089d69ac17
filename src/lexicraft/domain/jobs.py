"""Jobs: the durable units of asynchronous work, and their legal status transitions."""

from __future__ import annotations

from enum import StrEnum


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
