"""A deployment pins the training run it was given: retraining changes production only on deploy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lexicraft.bootstrap import open_context
from lexicraft.domain.training import EvaluationOptions, TrainingRequest
from lexicraft.errors import Conflict, ModelUnavailable
from lexicraft.ml.checksums import write_checksums
from lexicraft.services import deployments, predictions, training
from lexicraft.services.context import ServiceContext
from tests.unit.services.people import FAST, people_context, run


def train(context: ServiceContext) -> str:
    request = TrainingRequest("m1", FAST, EvaluationOptions.create("manual"))
    run(context, training.submit_training(context, "people", request))
    return training.get_model(context, "people", "m1").model_id


def deploy(context: ServiceContext, name: str) -> None:
    run(context, deployments.submit_deploy(context, "people", name, "m1"))


@pytest.fixture
def context(tmp_path: Path) -> ServiceContext:
    return people_context(tmp_path)


def test_retraining_a_deployed_label_changes_production_only_when_deployed_again(
    context: ServiceContext,
) -> None:
    first_id = train(context)
    deploy(context, "production")
    first_dir = context.models.local_dir(
        deployments.get_deployment(context, "people", "production").model.artifact_dir
    )
    # Stands for the serving files a deploy writes (serving.onnx for encoder models).
    (first_dir / "deployed-marker").write_text("served", encoding="utf-8")

    second_id = train(context)

    assert second_id != first_id
    pinned = deployments.get_deployment(context, "people", "production")
    assert pinned.model.model_id == first_id
    served = predictions.resolve_deployment(context, "people", "production").artifact_dir
    assert context.models.local_dir(served) == first_dir
    assert (first_dir / "deployed-marker").is_file()  # its files were not dropped
    assert predictions.predict(context, "people", "production", ["Ana met Bob in Lisbon."])

    deploy(context, "production")

    assert deployments.get_deployment(context, "people", "production").model.model_id == second_id
    assert not first_dir.exists()  # nothing uses the first run any more


def test_swap_exchanges_the_pinned_runs(context: ServiceContext) -> None:
    first_id = train(context)
    deploy(context, "production")
    second_id = train(context)
    deploy(context, "staging")

    run(
        context,
        deployments.submit_swap(
            context,
            "people",
            "production",
            "staging",
        ),
    )

    production = deployments.get_deployment(context, "people", "production")
    staging = deployments.get_deployment(context, "people", "staging")
    assert (production.model.model_id, staging.model.model_id) == (second_id, first_id)
    assert context.models.local_dir(staging.model.artifact_dir).is_dir()


def test_a_deployed_model_cannot_be_deleted_and_an_undeployed_run_is_cleaned_up(
    context: ServiceContext,
) -> None:
    train(context)
    deploy(context, "production")
    with pytest.raises(Conflict, match="production"):
        training.delete_model(context, "people", "m1")

    train(context)  # the second run replaces the label; production keeps the first
    pinned_dir = context.models.local_dir(
        deployments.get_deployment(context, "people", "production").model.artifact_dir
    )
    run(context, deployments.submit_delete(context, "people", "production"))
    assert not pinned_dir.exists()
    training.delete_model(context, "people", "m1")
    assert training.list_models(context, "people") == []


def test_a_model_folder_this_version_cannot_read_is_a_clear_error(context: ServiceContext) -> None:
    train(context)
    deploy(context, "production")
    folder = context.models.local_dir(
        deployments.get_deployment(context, "people", "production").model.artifact_dir
    )
    config = json.loads((folder / "config.json").read_text("utf-8"))
    (folder / "config.json").write_text(json.dumps({**config, "format_version": 99}), "utf-8")
    write_checksums(folder)  # as a newer Lexicraft writes it: intact, in a newer format
    fresh = open_context(context.settings)  # nothing loaded yet in this "process"

    with pytest.raises(ModelUnavailable, match="cannot be loaded by this version") as raised:
        predictions.predict(fresh, "people", "production", ["Ana met Bob."])
    assert str(folder.parent) not in raised.value.message  # no server paths for clients
