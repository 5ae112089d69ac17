"""Predict with a deployed model in-process: deployment → trained model → cached predictor.

Offsets are code points into the given texts. This is the use case behind ``lexicraft
predict``; the runtime API reaches the same predictors through its analyze jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from lexicraft.domain.projects import ProjectKind
from lexicraft.ml.base import ClassificationPredictor, ClassScore, NerPredictor, PredictedSpan
from lexicraft.services.compute import ModelOutput
from lexicraft.services.context import ServiceContext
from lexicraft.storage.sql import models as model_store
from lexicraft.storage.sql import projects as project_store


@dataclass(frozen=True, slots=True)
class Prediction:
    """What a model found in one text: entities (NER) or chosen classes (classification)."""

    entities: tuple[PredictedSpan, ...] = ()
    classes: tuple[ClassScore, ...] = ()


@dataclass(frozen=True, slots=True)
class DeployedModel:
    """The trained model a deployment serves."""

    project_name: str
    deployment_name: str
    kind: ProjectKind
    model_label: str
    artifact_dir: str  # the model's key in the model store (see ModelStore)


def resolve_deployment(
    context: ServiceContext, project_name: str, deployment_name: str
) -> DeployedModel:
    """The model behind ``deployment_name`` (ProjectNotFound / DeploymentNotFound otherwise)."""
    with context.database.session() as session:
        kind = project_store.get_project(session, project_name).kind
        deployment = model_store.get_deployment(session, project_name, deployment_name)
    return DeployedModel(
        project_name=project_name,
        deployment_name=deployment_name,
        kind=kind,
        model_label=deployment.model.label,
        artifact_dir=deployment.model.artifact_dir,
    )


def predict_with(
    predictor: NerPredictor | ClassificationPredictor,
    kind: ProjectKind,
    texts: Sequence[str],
    batch_size: int,
) -> list[Prediction]:
    """Run a loaded ``kind`` model over ``texts`` in batches of ``batch_size``."""
    return [
        found
        for batch in _batches(texts, batch_size)
        for found in _as_predictions(kind, predictor.predict(batch))
    ]


def predict(
    context: ServiceContext, project_name: str, deployment_name: str, texts: Sequence[str]
) -> list[Prediction]:
    """What the model deployed as ``deployment_name`` finds in each of ``texts``."""
    # Imported here: loading the ML backends is slow, and Prediction is wanted without them.
    from lexicraft.services import training

    deployed = resolve_deployment(context, project_name, deployment_name)
    kind = deployed.kind
    return [
        found
        for batch in _batches(texts, context.settings.predict_batch_size)
        for found in training.run_model(
            context,
            kind,
            deployed.artifact_dir,
            batch,
            lambda outputs: _as_predictions(kind, outputs),
        )
    ]


def _batches(texts: Sequence[str], batch_size: int) -> list[Sequence[str]]:
    size = max(batch_size, 1)
    return [texts[start : start + size] for start in range(0, len(texts), size)]


def _as_predictions(kind: ProjectKind, outputs: Sequence[ModelOutput]) -> list[Prediction]:
    # The outputs are structural lists, so the project kind tells them apart.
    if kind is ProjectKind.ENTITY_RECOGNITION:
        return [Prediction(entities=tuple(cast(list[PredictedSpan], found))) for found in outputs]
    return [Prediction(classes=tuple(cast(list[ClassScore], found))) for found in outputs]
