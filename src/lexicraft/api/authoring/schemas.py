"""Typed authoring request bodies (spec §5): projects, import, training, deployments.

Each model validates one body and turns it into the domain value its service takes. Field
types carry the plain rules, worded as Azure errors by
:func:`lexicraft.api.errors.validation_error`; rules with their own Azure code raise that
error from a validator or from the domain. The project file itself (``:import``) is
:class:`lexicraft.wire.project_file.ProjectFileBody`, shared with the file formats and the CLI.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

from lexicraft.domain.projects import ProjectPatch
from lexicraft.domain.training import EvaluationOptions, TrainingRequest
from lexicraft.errors import InvalidRequestBody
from lexicraft.wire.base import WireModel
from lexicraft.wire.project_file import Kind, ProjectFileBody, check_project_name, project_patch

__all__ = [
    "DeploymentBody",
    "EvaluationOptionsBody",
    "ProjectFileBody",
    "ProjectPatchBody",
    "SwapBody",
    "TrainingBody",
]

#: Fields of ``CreateProjectOptions`` that a merge-patch cannot remove: every project has them.
_REQUIRED = {
    "projectKind": "project_kind",
    "storageInputContainerName": "storage_input_container_name",
    "language": "language",
}


class ProjectPatchBody(WireModel):
    """``PATCH …/projects/{projectName}``: ``CreateProjectOptions`` as a JSON merge-patch.

    Every field is optional; ``null`` removes ``description``, ``multilingual`` or
    ``settings``. A new project needs ``projectKind``, ``storageInputContainerName`` and
    ``language``.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "projectKind": "CustomEntityRecognition",
                    "storageInputContainerName": "my-container",
                    "language": "en",
                    "description": "Names and places in support tickets.",
                }
            ]
        }
    )

    project_kind: Kind | None = None
    storage_input_container_name: StrictStr | None = None
    project_name: StrictStr | None = None
    multilingual: StrictBool | None = None
    description: StrictStr | None = None
    language: StrictStr | None = None
    settings: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _required_stay(self) -> ProjectPatchBody:
        for wire_name, name in _REQUIRED.items():
            if name in self.model_fields_set and getattr(self, name) is None:
                raise InvalidRequestBody(f"{wire_name} is required", target=wire_name)
        return self

    def to_patch(self, project_name: str) -> ProjectPatch:
        """The domain patch; the body's ``projectName``, if any, must be the URL's."""
        check_project_name(self.project_name, project_name, "projectName")
        given = self.model_fields_set
        return project_patch(
            self,
            cleared=frozenset(
                wire_name
                for wire_name in ProjectPatch.REMOVABLE
                if wire_name in given and getattr(self, wire_name) is None
            ),
        )


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
        default=None, description="Accepted and ignored: Lexicraft has one training mode."
    )

    def to_request(self) -> TrainingRequest:
        options = self.evaluation_options
        return TrainingRequest(
            model_label=self.model_label,
            training_config_version=self.training_config_version,
            evaluation_options=EvaluationOptions() if options is None else options.to_options(),
        )


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
