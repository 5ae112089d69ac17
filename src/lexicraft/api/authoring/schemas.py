"""Typed authoring request bodies (spec §5): projects, import, training, deployments.

Each model validates one body and turns it into the domain value its service takes. Field
types carry the plain rules, worded as Azure errors by
:func:`lexicraft.api.errors.validation_error`; rules with their own Azure code raise that
error from a validator or from the domain. The project file itself (``:import``) is
:class:`lexicraft.wire.project_file.ProjectFileBody`, shared with the file formats and the CLI.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, StrictInt, StrictStr

from lexicraft.domain.training import EvaluationOptions, TrainingRequest
from lexicraft.errors import InvalidParameterValue
from lexicraft.wire.base import WireModel
from lexicraft.wire.project_file import ProjectFileBody, ProjectPatchBody

#: ``trainingConfigVersion``'s name for the newest version (``ml.registry.LATEST``; the API
#: does not import the ML package).
LATEST = "latest"

__all__ = [
    "ConversationTrainingBody",
    "DeploymentBody",
    "EvaluationOptionsBody",
    "ProjectFileBody",
    "ProjectPatchBody",
    "SwapBody",
    "TrainingBody",
]


class EvaluationOptionsBody(WireModel):
    """How to split the documents into training and test sets."""

    kind: StrictStr | None = Field(
        default=None, description="``percentage`` (default) or ``manual``, any letter case."
    )
    training_split_percentage: StrictInt | None = None
    testing_split_percentage: StrictInt | None = None

    def to_options(self) -> EvaluationOptions:
        return EvaluationOptions.create(
            self.kind, self.training_split_percentage, self.testing_split_percentage
        )


class TrainingBody(WireModel):
    """``POST …/projects/{projectName}/:train``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "modelLabel": "m1",
                    "trainingConfigVersion": "latest",
                    "evaluationOptions": {
                        "kind": "percentage",
                        "trainingSplitPercentage": 80,
                        "testingSplitPercentage": 20,
                    },
                }
            ]
        }
    )

    model_label: StrictStr
    training_config_version: StrictStr = Field(
        description="From ``global/training-config-versions``, or ``latest``."
    )
    evaluation_options: EvaluationOptionsBody | None = None
    training_mode: StrictStr | None = Field(
        default=None, description="Accepted and ignored: custom text has one training mode."
    )

    def to_request(self) -> TrainingRequest:
        options = self.evaluation_options
        return TrainingRequest(
            model_label=self.model_label,
            training_config_version=self.training_config_version,
            evaluation_options=EvaluationOptions() if options is None else options.to_options(),
        )


def _training_mode(value: object) -> str:
    if isinstance(value, str) and value.lower() in ("standard", "advanced"):
        return value.lower()
    raise InvalidParameterValue(
        f"trainingMode {value!r} is not valid; use 'standard' or 'advanced'",
        target="trainingMode",
    )


class ConversationTrainingBody(TrainingBody):
    """``POST …/analyze-conversations/projects/{projectName}/:train`` (spec CLU §2.5):
    ``trainingMode`` required, ``trainingConfigVersion`` optional (``latest``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "modelLabel": "m1",
                    "trainingMode": "standard",
                    "trainingConfigVersion": "latest",
                    "evaluationOptions": {"kind": "percentage", "trainingSplitPercentage": 80},
                }
            ]
        }
    )

    training_config_version: StrictStr = Field(
        default=LATEST, description="From ``global/training-config-versions``, or ``latest``."
    )
    training_mode: Annotated[str, BeforeValidator(_training_mode)] = Field(
        description="``standard`` or ``advanced``: both train Lexicraft's one model."
    )

    def to_request(self) -> TrainingRequest:
        return replace(super().to_request(), training_mode=self.training_mode)


class DeploymentBody(WireModel):
    """``PUT …/projects/{projectName}/deployments/{deploymentName}``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"trainedModelLabel": "m1"}]})

    trained_model_label: StrictStr
    assigned_resources: list[Any] | None = Field(
        default=None,
        description="2023-04-15-preview on: accepted and ignored (one local resource).",
    )


class SwapBody(WireModel):
    """``POST …/projects/{projectName}/deployments/:swap``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"firstDeploymentName": "production", "secondDeploymentName": "staging"}]
        }
    )

    first_deployment_name: StrictStr
    second_deployment_name: StrictStr
