"""A project deleted while it trains leaves no model folder behind (issue 22, finding 9)."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from lexicraft.bootstrap import open_context
from lexicraft.domain.jobs import Job, JobStatus
from lexicraft.domain.training import EvaluationOptions, TrainingRequest
from lexicraft.errors import ProjectNotFound
from lexicraft.jobs.worker import LeasedJob
from lexicraft.services import projects, training
from lexicraft.services.context import ServiceContext
from lexicraft.services.jobs import JOB_WORK
from lexicraft.settings import Settings
from lexicraft.wire.project_file import parse_project_file

FAST = "2022-05-01-fast"


def _run(context: ServiceContext, submitted: Job) -> None:
    claimed = context.queue.claim("test", [submitted.kind])
    assert claimed is not None and claimed.id == submitted.id
    outcome = JOB_WORK[claimed.kind](context, LeasedJob(claimed, context.queue, "test"))
    assert context.queue.finish(claimed.id, "test", outcome)
    assert outcome.status is JobStatus.SUCCEEDED, outcome


class _DeleteOncePublished:
    """The training job's worker, which deletes the project once the model is published (as
    a delete request served meanwhile by another worker would)."""

    def __init__(self, context: ServiceContext, leased: LeasedJob) -> None:
        self._context = context
        self._leased = leased
        self.deleted = False

    @property
    def job(self) -> Job:
        return self._leased.job

    def progress(self, percent: float, estimated_end: datetime | None = None) -> None:
        self._leased.progress(percent, estimated_end)

    def check_cancelled(self) -> None:
        published = list((self._context.settings.models_dir / "people").glob("m1-*"))
        if not self.deleted and any(not p.name.endswith(".partial") for p in published):
            self.deleted = True
            _run(self._context, projects.submit_delete(self._context, "people"))
        self._leased.check_cancelled()


@pytest.fixture
def context(tmp_path: Path) -> ServiceContext:
    context = open_context(Settings(data_dir=tmp_path))
    project_file: dict[str, Any] = json.loads(
        resources.files("lexicraft.demo").joinpath("data/demo-ner.json").read_text("utf-8")
    )
    project_file["metadata"].update(projectName="people", storageInputContainerName="people")
    _run(
        context,
        projects.submit_import(context, "people", parse_project_file(project_file, "people")),
    )
    return context


def test_a_training_whose_project_was_deleted_deletes_its_model(context: ServiceContext) -> None:
    request = TrainingRequest("m1", FAST, EvaluationOptions.create("manual"))
    submitted = training.submit_training(context, "people", request)
    claimed = context.queue.claim("test", [submitted.kind])
    assert claimed is not None
    worker = _DeleteOncePublished(context, LeasedJob(claimed, context.queue, "test"))

    with pytest.raises(ProjectNotFound):
        training.run_training(context, worker)

    assert worker.deleted
    assert not (context.settings.models_dir / "people").exists()
