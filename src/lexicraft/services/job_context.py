"""What a job's work sees of the worker running it.

The worker (``jobs/worker.py``) implements :class:`JobContext`; services never import the
worker, so the jobs adapter and the use cases do not depend on each other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from lexicraft.domain.jobs import Job


class JobContext(Protocol):
    """A claimed job, as its work sees it: the job, progress reports and cancellation."""

    @property
    def job(self) -> Job:
        """The job being run."""
        ...

    def progress(self, percent: float, estimated_end: datetime | None = None) -> None:
        """Report ``percent`` (0 … 100) done and when the work is expected to end (None: no
        estimate)."""
        ...

    def check_cancelled(self) -> None:
        """Raise :class:`lexicraft.domain.jobs.JobCancelled` if somebody cancelled the job, or
        if this worker no longer holds it (another worker took it over after its lease ran
        out): work must then stop before it writes anything."""
        ...
