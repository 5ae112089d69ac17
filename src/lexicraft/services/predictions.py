"""Predict with a deployed model in-process: deployment → trained model → cached predictor.

Offsets are code points into the given texts. This is the use case behind ``lexicraft
predict``; the runtime API reaches the same predictors through its analyze jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from lexicraft.domain.projects import ProjectKind
from lexicraft.ml.base import ClassificationPredictor, ClassScore, NerPredictor, PredictedSpan
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
    artifact_dir: Path  # this host's copy of the model folder


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
        artifact_dir=context.models.local_dir(deployment.model.artifact_dir),
    )


def predict_with(
    predictor: NerPredictor | ClassificationPredictor,
    kind: ProjectKind,
    texts: Sequence[str],
    batch_size: int,
) -> list[Prediction]:
    """Run a loaded ``kind`` model over ``texts`` in batches of ``batch_size``."""
    size = max(batch_size, 1)
    batches = [texts[start : start + size] for start in range(0, len(texts), size)]
    # The predictor protocols are structural, so the project kind tells them apart.
    if kind is ProjectKind.ENTITY_RECOGNITION:
        ner = cast(NerPredictor, predictor)
        return [Prediction(entities=tuple(found)) for b in batches for found in ner.predict(b)]
    classifier = cast(ClassificationPredictor, predictor)
    return [Prediction(classes=tuple(found)) for b in batches for found in classifier.predict(b)]


def predict(
    context: ServiceContext, project_name: str, deployment_name: str, texts: Sequence[str]
) -> list[Prediction]:
    """What the model deployed as ``deployment_name`` finds in each of ``texts``."""
    # Imported here: loading the ML backends is slow, and Prediction is wanted without them.
    from lexicraft.services import training

    deployed = resolve_deployment(context, project_name, deployment_name)
    predictor = training.load_predictor(context, deployed.kind, deployed.artifact_dir)
    return predict_with(predictor, deployed.kind, texts, context.settings.predict_batch_size)
