"""Import and export jobs stored by the version before the typed wire still run after an upgrade."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from lexicraft.bootstrap import open_context
from lexicraft.domain.jobs import JobKind, JobOutcome, JobStatus
from lexicraft.jobs.worker import LeasedJob
from lexicraft.services import projects
from lexicraft.services.context import ServiceContext
from lexicraft.services.jobs import JOB_WORK
from lexicraft.settings import Settings


def demo_file() -> dict[str, Any]:
    project_file: dict[str, Any] = json.loads(
        resources.files("lexicraft.demo").joinpath("data/demo-ner.json").read_text("utf-8")
    )
    project_file["metadata"].update(projectName="people", storageInputContainerName="people")
    return project_file


def run_next(context: ServiceContext, kind: JobKind) -> JobOutcome:
    claimed = context.queue.claim("test", [kind])
    assert claimed is not None
    outcome = JOB_WORK[kind](context, LeasedJob(claimed, context.queue, "test"))
    assert context.queue.finish(claimed.id, "test", outcome)
    return outcome


def test_an_import_queued_with_the_raw_project_file_still_runs(tmp_path: Path) -> None:
    context = open_context(Settings(data_dir=tmp_path))
    raw = demo_file()
    with context.database.session() as session:
        # What the previous version stored: the request body itself.
        context.queue.add(
            session,
            JobKind.IMPORT,
            {"projectFile": raw},
            ttl_s=60,
            project_name="people",
        )

    assert run_next(context, JobKind.IMPORT).status is JobStatus.SUCCEEDED
    data = projects.get_project_data(context, "people")
    assert len(data.documents) == len(raw["assets"]["documents"])


def test_an_export_result_stored_as_the_raw_project_file_is_served(tmp_path: Path) -> None:
    context = open_context(Settings(data_dir=tmp_path))
    raw = demo_file()
    with context.database.session() as session:
        job = context.queue.add(session, JobKind.EXPORT, {}, ttl_s=60, project_name="people")
    claimed = context.queue.claim("test", [JobKind.EXPORT])
    assert claimed is not None
    old_result = JobOutcome(JobStatus.SUCCEEDED, result={"projectFile": raw})
    assert context.queue.finish(claimed.id, "test", old_result)

    exported = projects.read_export(context, "people", job.id)

    assert exported.project.name == "people"
    assert len(exported.entries) == len(raw["assets"]["documents"])
