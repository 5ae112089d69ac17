"""What the Studio tells people before they train and while they read an evaluation (a
Lexicraft extension).

``GET /language/lexicraft/projects/{p}/training-estimates``: each training config version
that trains the project, what it does, and how long it should take on the project's
documents, from the speed measured on this server's earlier trainings (``null`` when nothing
was measured yet). ``GET /language/lexicraft/evaluation-thresholds``: below how many test
documents, or test examples of a label, an evaluation is too small to trust (settings
``evaluation_min_test_documents`` and ``evaluation_min_test_examples_per_label``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lexicraft.api.authoring.responses import ok
from lexicraft.api.dependencies import Context
from lexicraft.api.errors import ERRORS
from lexicraft.api.permissions import needs
from lexicraft.api.studio_api import PREFIX, ResponseShape
from lexicraft.domain.users import Permission
from lexicraft.services import training

router = APIRouter(tags=["studio"], responses=ERRORS)


class TrainingEstimateRead(ResponseShape):
    """One training config version for the project, and how long it should take."""

    training_config_version: str
    description: str
    backend: str
    is_default: bool
    estimated_duration_in_seconds: float | None
    measured_trainings: int
    seconds_per_document: float | None


class TrainingEstimatesRead(ResponseShape):
    """The project's training config versions with their estimated durations."""

    project_kind: str
    document_count: int
    default_training_config_version: str
    value: list[TrainingEstimateRead]


class EvaluationThresholdsRead(ResponseShape):
    """Below these an evaluation is too small to trust."""

    min_test_documents: int
    min_test_examples_per_label: int


@router.get(
    PREFIX + "/{project_name}/training-estimates",
    dependencies=[needs(Permission.VIEW)],
    responses=ok(TrainingEstimatesRead),
)
def training_estimates(project_name: str, context: Context) -> dict[str, Any]:
    found = training.training_estimates(context, project_name)
    default = training.default_training_config_version()
    return {
        "projectKind": found.kind.value,
        "documentCount": found.documents,
        "defaultTrainingConfigVersion": default,
        "value": [
            {
                "trainingConfigVersion": estimate.version.name,
                "description": estimate.version.description,
                "backend": estimate.backend,
                "isDefault": estimate.version.name == default,
                "estimatedDurationInSeconds": estimate.estimated_s,
                "measuredTrainings": estimate.measured_trainings,
                "secondsPerDocument": estimate.seconds_per_document,
            }
            for estimate in found.estimates
        ],
    }


@router.get(
    "/language/lexicraft/evaluation-thresholds",
    dependencies=[needs(Permission.VIEW)],
    responses=ok(EvaluationThresholdsRead),
)
def evaluation_thresholds(context: Context) -> dict[str, Any]:
    settings = context.settings
    return {
        "minTestDocuments": settings.evaluation_min_test_documents,
        "minTestExamplesPerLabel": settings.evaluation_min_test_examples_per_label,
    }
