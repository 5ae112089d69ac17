"""The demo NER project imported as "people" into a fresh embedded context, and jobs run in
the test's own thread: what the service tests that train and deploy start from."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from lexicraft.bootstrap import open_context
from lexicraft.domain.jobs import Job, JobOutcome, JobStatus
from lexicraft.jobs.worker import LeasedJob
from lexicraft.services import projects
from lexicraft.services.context import ServiceContext
from lexicraft.services.jobs import JOB_WORK
from lexicraft.settings import Settings
from lexicraft.wire.project_file import parse_project_file

FAST = "2022-05-01-fast"


def run(context: ServiceContext, submitted: Job) -> JobOutcome:
    """Claim ``submitted`` and run it here, as a worker would; it must succeed."""
    claimed = context.queue.claim("test", [submitted.kind])
    assert claimed is not None and claimed.id == submitted.id
    outcome = JOB_WORK[claimed.kind](context, LeasedJob(claimed, context.queue, "test"))
    assert context.queue.finish(claimed.id, "test", outcome)
    assert outcome.status is JobStatus.SUCCEEDED, outcome
    return outcome


def people_context(data_dir: Path) -> ServiceContext:
    """A context on ``data_dir`` holding the demo NER project as "people"."""
    context = open_context(Settings(data_dir=data_dir))
    project_file: dict[str, Any] = json.loads(
        resources.files("lexicraft.demo").joinpath("data/demo-ner.json").read_text("utf-8")
    )
    project_file["metadata"].update(projectName="people", storageInputContainerName="people")
    run(
        context,
        projects.submit_import(context, "people", parse_project_file(project_file, "people")),
    )
    return context
