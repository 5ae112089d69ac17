"""Trained models and the deployments that pin them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class TrainedModel:
    """A trained model of a project: which run of which config, and where its files are.

    ``model_id`` names one training run; retraining a label gives it a new id and folder.
    """

    project_name: str
    label: str
    model_id: str
    training_config_version: str
    artifact_dir: str
    trained_at: datetime
    training_duration_s: float
    expiration_date: str
    #: The registered ML backend that trained it (e.g. ``ner.crf.v1``); empty when unknown.
    backend: str = ""
    evaluation_options: dict[str, Any] = field(default_factory=dict)
    #: A conversation model keeps the project file it was trained on (``:load-snapshot``).
    has_snapshot: bool = False


@dataclass(frozen=True, slots=True)
class ModelEvaluation:
    """A model's evaluation on its test split: metrics and per-document results."""

    options: dict[str, Any]
    summary: dict[str, Any]
    #: Per test document: Azure's evaluation result shape (UTF-16 offsets).
    documents: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Deployment:
    """A named deployment and the model run it pins.

    The pin is the model as it was deployed: retraining its label does not change what the
    deployment serves until it is deployed again (or swapped).
    """

    project_name: str
    name: str
    model: TrainedModel
    deployed_at: datetime
