"""A project deleted while it trains leaves no model folder behind (issue 22, finding 9)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from lexicraft.domain.jobs import Job
from lexicraft.domain.training import EvaluationOptions, TrainingRequest
from lexicraft.errors import ProjectNotFound
from lexicraft.jobs.worker import LeasedJob
from lexicraft.services import projects, training
from lexicraft.services.context import ServiceContext
from tests.unit.services.people import FAST, people_context, run


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
            run(self._context, projects.submit_delete(self._context, "people"))
        self._leased.check_cancelled()


@pytest.fixture
def context(tmp_path: Path) -> ServiceContext:
    return people_context(tmp_path)


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
