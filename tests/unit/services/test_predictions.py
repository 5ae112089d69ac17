"""The predict use case: deployment → trained model → cached predictor, code-point offsets."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from lexicraft.bootstrap import open_context, worker_pools
from lexicraft.domain.jobs import JobKind
from lexicraft.domain.projects import ProjectKind
from lexicraft.domain.training import EvaluationOptions, TrainingRequest
from lexicraft.errors import DeploymentNotFound, ProjectNotFound
from lexicraft.jobs.executors.local import LocalCompute
from lexicraft.ml import registry
from lexicraft.services import deployments, predictions, projects, training
from lexicraft.services.context import ServiceContext
from lexicraft.services.predictions import Prediction, predict_with
from lexicraft.settings import Settings
from lexicraft.wire.project_file import parse_project_file
from tests.integration.server import FAST, demo_project_file


def wait(context: ServiceContext, job_id: str, timeout_s: float = 120.0) -> None:
    """Block until the job ends (within ``timeout_s``); it must succeed."""
    deadline = time.monotonic() + timeout_s
    while True:
        with context.database.session() as session:
            row = context.queue.get(session, job_id, list(JobKind))
            if row.status in ("succeeded", "failed", "cancelled"):
                assert row.status == "succeeded", row.errors
                return
            status = row.status
        assert time.monotonic() < deadline, f"job {job_id} still {status} after {timeout_s} s"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceContext]:
    """A data dir with demo-ner imported, trained (m1) and deployed (prod)."""
    context = open_context(Settings(data_dir=tmp_path_factory.mktemp("predict")))
    pools = worker_pools(context)
    for pool in pools:
        pool.start()
    try:
        wait(
            context,
            projects.submit_import(
                context, "ner", parse_project_file(demo_project_file("demo-ner", "ner"), "ner")
            ).id,
        )
        # The use case, not a model's quality, is under test: the fast config trains in seconds.
        request = TrainingRequest("m1", FAST, EvaluationOptions.create("manual"))
        wait(context, training.submit_training(context, "ner", request).id)
        wait(
            context,
            deployments.submit_deploy(context, "ner", "prod", "m1").id,
        )
    finally:
        for pool in pools:
            pool.stop()
    yield context
    context.database.engine.dispose()


def test_predict_resolves_the_deployment_and_returns_code_point_spans(
    context: ServiceContext,
) -> None:
    texts = ["😀 Marcus Bell met Henrik Aalto at Ashgrove University.", "nothing here"]
    found = predictions.predict(context, "ner", "prod", texts)
    assert len(found) == 2
    assert all(isinstance(p, Prediction) and p.classes == () for p in found)
    for text, prediction in zip(texts, found, strict=True):
        for span in prediction.entities:
            assert 0 <= span.start < span.end <= len(text)
    deployed = predictions.resolve_deployment(context, "ner", "prod")
    assert (deployed.kind, deployed.model_label) == (ProjectKind.ENTITY_RECOGNITION, "m1")
    # The loaded model is cached per process.
    compute = context.compute
    assert isinstance(compute, LocalCompute)
    model_dir = context.models.local_dir(deployed.artifact_dir)
    cached = compute.predictors.get(model_dir, registry.load_ner_predictor)
    assert compute.predictors.get(model_dir, registry.load_ner_predictor) is cached


def test_batches_do_not_change_predictions(context: ServiceContext) -> None:
    deployed = predictions.resolve_deployment(context, "ner", "prod")
    predictor = registry.load_ner_predictor(context.models.local_dir(deployed.artifact_dir))
    texts = [f"Marcus Bell wrote to Henrik Aalto {n} times." for n in range(7)]
    one_by_one = predict_with(predictor, ProjectKind.ENTITY_RECOGNITION, texts, batch_size=1)
    assert one_by_one == predict_with(
        predictor, ProjectKind.ENTITY_RECOGNITION, texts, batch_size=32
    )


def test_unknown_project_or_deployment(context: ServiceContext) -> None:
    with pytest.raises(ProjectNotFound):
        predictions.predict(context, "nope", "prod", ["x"])
    with pytest.raises(DeploymentNotFound):
        predictions.predict(context, "ner", "staging", ["x"])
