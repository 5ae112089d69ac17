"""Placeholder until the runtime service lands."""

from __future__ import annotations

from lexicraft.jobs.queue import JobOutcome
from lexicraft.jobs.worker import JobContext
from lexicraft.services.context import ServiceContext


def run_analysis(context: ServiceContext, job: JobContext) -> JobOutcome:
    raise NotImplementedError
