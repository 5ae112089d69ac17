"""Deploying a model: its serving files are written first, and a failure there is a warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lexicraft.bootstrap import open_context
from lexicraft.domain.jobs import JobKind, JobOutcome, JobStatus
from lexicraft.domain.models import ModelEvaluation, TrainedModel
from lexicraft.domain.projects import Project, ProjectAssets, ProjectKind
from lexicraft.jobs.executors.local import LocalCompute
from lexicraft.jobs.worker import LeasedJob
from lexicraft.ml import registry
from lexicraft.ml.base import NerExample, Span
from lexicraft.ml.ner.transformer import TransformerNerBackend, TransformerNerHyperparameters
from lexicraft.ml.onnx_serving import SERVING_FILE
from lexicraft.services import deployments
from lexicraft.services.context import ServiceContext
from lexicraft.settings import Settings
from lexicraft.storage.sql import models as model_store
from lexicraft.storage.sql import projects as project_store
from lexicraft.timeutil import utcnow


@pytest.fixture
def context(tmp_path: Path) -> ServiceContext:
    return open_context(Settings(data_dir=tmp_path / "data"))


def add_model(context: ServiceContext, artifact_dir: Path, backend: str) -> None:
    """Rows for project ``people`` and its model ``m1`` stored in ``artifact_dir``."""
    now = utcnow()
    with context.database.session() as session:
        project_store.save_metadata(
            session, Project("people", ProjectKind.ENTITY_RECOGNITION, "en", "people")
        )
        project_store.replace_assets(session, "people", ProjectAssets(("PER",), ()))
        model = TrainedModel(
            project_name="people", label="m1", model_id="people-m1",
            training_config_version="2022-05-01", artifact_dir=str(artifact_dir), trained_at=now,
            training_duration_s=1.0, expiration_date="2030-01-01", backend=backend,
        )  # fmt: skip
        model_store.save_model(session, model, ModelEvaluation({}, {}, ()))


def deploy(context: ServiceContext) -> JobOutcome:
    """Submit deploying ``m1`` as ``prod`` and run that job here."""
    submitted = deployments.submit_deploy(context, "people", "prod", "m1")
    job = context.queue.claim("test", [JobKind.DEPLOY])
    assert job is not None and job.id == submitted.id
    outcome = deployments.run_deploy(context, LeasedJob(job=job, queue=context.queue, owner="test"))
    assert context.queue.finish(job.id, "test", outcome)
    return outcome


def deployed_label(context: ServiceContext) -> str | None:
    with context.database.session() as session:
        found = model_store.find_deployment(session, "people", "prod")
        return None if found is None else found.model.label


def loaded_model(context: ServiceContext, artifact_dir: Path) -> object:
    """The model the (local) compute has loaded from ``artifact_dir``, loading it if need be."""
    compute = context.compute
    assert isinstance(compute, LocalCompute)
    return compute.predictors.get(artifact_dir, registry.load_ner_predictor)


def test_deploy_writes_the_onnx_network_and_serves_from_it(context: ServiceContext) -> None:
    artifact_dir = context.settings.models_dir / "people" / "m1"
    settings = TransformerNerHyperparameters(epochs=1, min_steps=1, batch_size=2)
    TransformerNerBackend(settings).train(
        [NerExample("Bob ran home", (Span(0, 3, "PER"),))], ["PER"], artifact_dir
    )
    add_model(context, artifact_dir, "ner.minilm.v1")
    # As after training: its evaluation left the model loaded in PyTorch in the cache.
    assert getattr(loaded_model(context, artifact_dir), "runtime", None) == "pytorch"

    outcome = deploy(context)

    assert outcome.status is JobStatus.SUCCEEDED and outcome.warnings == ()
    assert deployed_label(context) == "m1"
    assert (artifact_dir / SERVING_FILE).is_file()
    served = loaded_model(context, artifact_dir)
    assert getattr(served, "runtime", None) == "onnxruntime"


def test_a_model_that_cannot_be_converted_is_deployed_with_a_warning(
    context: ServiceContext,
) -> None:
    # A config that names the encoder backend beside no weights: conversion fails.
    artifact_dir = context.settings.models_dir / "people" / "m1"
    artifact_dir.mkdir(parents=True)
    (artifact_dir / "config.json").write_text(
        json.dumps({"backend": "ner.minilm.v1", "labels": ["PER"]}), encoding="utf-8"
    )
    add_model(context, artifact_dir, "ner.minilm.v1")

    outcome = deploy(context)

    assert outcome.status is JobStatus.SUCCEEDED
    (warning,) = outcome.warnings
    assert warning["code"] == "ServingNotOptimized"
    assert "served by PyTorch" in warning["message"]
    assert deployed_label(context) == "m1"
    assert not (artifact_dir / SERVING_FILE).exists()
