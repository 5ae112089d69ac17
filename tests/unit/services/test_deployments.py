"""Deploying a model: its serving files are written first, and a failure there is a warning."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from lexicraft.bootstrap import open_context
from lexicraft.domain.jobs import JobKind, JobOutcome, JobStatus
from lexicraft.domain.models import ModelEvaluation, TrainedModel
from lexicraft.domain.projects import Dataset, Document, Project, ProjectAssets, ProjectKind
from lexicraft.jobs.executors.local import LocalCompute
from lexicraft.jobs.worker import LeasedJob
from lexicraft.ml import registry
from lexicraft.ml.base import NerExample, Span
from lexicraft.ml.ner.transformer import (
    TransformerNerBackend,
    TransformerNerHyperparameters,
    TransformerNerPredictor,
)
from lexicraft.ml.serving import (
    SERVING_FILE,
    SERVING_INT8_FILE,
    ServingOptions,
    cpu_share,
    current,
    intra_op_threads,
    read_choice,
    session_options,
)
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

    assert outcome.status is JobStatus.SUCCEEDED
    assert deployed_label(context) == "m1"
    assert (artifact_dir / SERVING_FILE).is_file()
    served = loaded_model(context, artifact_dir)
    assert getattr(served, "runtime", None) == "onnxruntime"
    # The project has no documents to check the int8 network on: fp32 serves, as it says.
    (warning,) = outcome.warnings
    assert warning["code"] == "ServingKeptFp32"
    assert "no labeled documents" in warning["message"]


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


# -- int8 serving -------------------------------------------------------------------------------

#: Documents of project ``people``: the model trains on them, and they are its test split too
#: (manual split), so the int8 check has documents to score both networks on.
PEOPLE = (
    ("Bob met Alice in town", ("Bob", "Alice")),
    ("Carol called Dave today", ("Carol", "Dave")),
    ("Erin waved at Frank", ("Erin", "Frank")),
    ("Nobody came home", ()),
)


def people_documents() -> tuple[Document, ...]:
    documents = []
    for index, (text, names) in enumerate(PEOPLE):
        spans = tuple(Span(text.index(name), text.index(name) + len(name), "PER") for name in names)
        documents.append(Document(f"doc-{index}.txt", text, "en", Dataset.TEST, spans))
    return tuple(documents)


@pytest.fixture(scope="module")
def people_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``ner.minilm.v1`` model of :data:`PEOPLE`, trained and its serving graphs written
    once for the module (writing them is the first test's business; these check the choice)."""
    folder = tmp_path_factory.mktemp("people") / "m1"
    documents = people_documents()
    settings = TransformerNerHyperparameters(epochs=1, min_steps=40, batch_size=4)
    TransformerNerBackend(settings).train(
        [NerExample(document.text, document.spans) for document in documents], ["PER"], folder
    )
    assert registry.prepare_for_serving(folder)
    return folder


def deploy_people(context: ServiceContext, people_model: Path) -> tuple[JobOutcome, Path]:
    artifact_dir = context.settings.models_dir / "people" / "m1"
    shutil.copytree(people_model, artifact_dir)
    add_model(context, artifact_dir, "ner.minilm.v1")
    with context.database.session() as session:
        project_store.replace_assets(session, "people", ProjectAssets(("PER",), people_documents()))
    return deploy(context), artifact_dir


def served_graph(context: ServiceContext, artifact_dir: Path) -> str:
    served = loaded_model(context, artifact_dir)
    assert isinstance(served, TransformerNerPredictor)
    assert served.network.path is not None
    return served.network.path.name


def test_an_int8_network_that_fails_its_check_is_not_served_and_the_deploy_says_so(
    tmp_path: Path, people_model: Path
) -> None:
    # A negative tolerance: int8 fails however close it comes to fp32.
    context = open_context(Settings(data_dir=tmp_path / "data", serving_int8_tolerance_points=-1.0))

    outcome, artifact_dir = deploy_people(context, people_model)

    assert outcome.status is JobStatus.SUCCEEDED
    (warning,) = outcome.warnings
    assert warning["code"] == "ServingKeptFp32"
    assert "serving_int8_tolerance_points" in warning["message"]
    assert (artifact_dir / SERVING_INT8_FILE).is_file()
    choice = read_choice(artifact_dir)
    assert choice is not None and choice.precision == "fp32"
    assert served_graph(context, artifact_dir) == SERVING_FILE
    # The verdict is the model's: deploying it again says the same without checking again.
    again = deploy(context)
    assert again.warnings == outcome.warnings
    assert not context.model_checks.check(artifact_dir).damaged


def test_an_int8_network_within_the_tolerance_serves_the_same_entities(
    tmp_path: Path, people_model: Path
) -> None:
    # Timing is not what this test is about: int8 is chosen on accuracy alone.
    context = open_context(Settings(data_dir=tmp_path / "data", serving_int8_speed_check=False))

    outcome, artifact_dir = deploy_people(context, people_model)

    assert outcome.status is JobStatus.SUCCEEDED and outcome.warnings == ()
    choice = read_choice(artifact_dir)
    assert choice is not None and choice.precision == "int8"
    assert choice.measured is not None and choice.measured["documentsFrom"] == "test"
    assert served_graph(context, artifact_dir) == SERVING_INT8_FILE
    texts = [text for text, _names in PEOPLE]
    fp32 = registry.load_with_precision(artifact_dir, "fp32").predict(texts)
    int8 = loaded_model(context, artifact_dir)
    assert isinstance(int8, TransformerNerPredictor)
    found = int8.predict(texts)
    assert any(found), found  # the model finds people: a real comparison
    assert [[(s.start, s.end, s.category) for s in spans] for spans in found] == [
        [(s.start, s.end, s.category) for s in spans] for spans in fp32
    ]
    assert not context.model_checks.check(artifact_dir).damaged


def test_a_forced_precision_skips_the_check_and_serves_that_network(
    tmp_path: Path, people_model: Path
) -> None:
    context = open_context(Settings(data_dir=tmp_path / "data", serving_precision="int8"))

    outcome, artifact_dir = deploy_people(context, people_model)

    assert outcome.warnings == ()
    assert read_choice(artifact_dir) is None
    assert served_graph(context, artifact_dir) == SERVING_INT8_FILE


def test_serving_sessions_take_the_thread_settings() -> None:
    options = ServingOptions(intra_op_threads=0, prediction_slots=2)
    share = cpu_share()
    assert intra_op_threads(options) == max(1, share // 2)
    session = session_options(ServingOptions(intra_op_threads=3, spin_wait=False))
    assert session.intra_op_num_threads == 3
    assert session.inter_op_num_threads == 1
    assert session.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    # The composition root configures the process from the settings.
    open_context(
        Settings(
            data_dir=Path(tempfile.mkdtemp()), serving_intra_op_threads=5, predict_concurrency=2
        )
    )
    assert current().intra_op_threads == 5 and current().prediction_slots == 2
    assert session_options().intra_op_num_threads == 5
