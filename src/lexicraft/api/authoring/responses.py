"""The authoring response shapes, for ``/openapi.json`` (spec §5).

:mod:`lexicraft.api.authoring.render` builds the bodies (some spellings depend on the
api-version), so these models document the shapes rather than produce them. A unit test
validates rendered bodies against them so the two cannot drift.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from lexicraft.api.errors import ERRORS, Error
from lexicraft.api.requests import WireModel
from lexicraft.domain.jobs import JobStatus
from lexicraft.wire.conversation_file import ConversationFileBody
from lexicraft.wire.project_file import ProjectFileBody


class _Shape(WireModel):
    # Our own output: any field not listed here is a bug in the renderer or in the docs.
    model_config = ConfigDict(extra="forbid")


class ConversationProjectMetadata(_Shape):
    """A conversation project (spec CLU §2.3): no storage container."""

    project_kind: str
    project_name: str
    multilingual: bool
    description: str
    language: str
    settings: dict[str, Any]
    created_date_time: str | None = None
    last_modified_date_time: str | None = None
    last_trained_date_time: str | None = None
    last_deployed_date_time: str | None = None


class ProjectMetadata(ConversationProjectMetadata):
    """A custom text project (spec §5.3): its documents' storage container as well."""

    storage_input_container_name: str


class SubTrainingJobState(_Shape):
    """The training or the evaluation phase of a training job."""

    percent_complete: int
    start_date_time: str | None = None
    end_date_time: str | None = None
    status: str


class TrainingJobResult(_Shape):
    """A training job's ``result``; ``trainingConfigVersion`` is resolved, never ``latest``."""

    model_label: str
    training_config_version: str
    training_mode: str | None = Field(default=None, description="Conversation projects.")
    estimated_end_date_time: str | None = None
    training_status: SubTrainingJobState
    evaluation_status: SubTrainingJobState | None = None


class JobState(_Shape):
    """An authoring job (spec §5.2): import, export, training, deployment, swap, deletion."""

    job_id: str
    created_date_time: str
    last_updated_date_time: str
    expiration_date_time: str
    status: JobStatus
    warnings: list[Error]
    errors: list[Error]
    result: TrainingJobResult | None = Field(default=None, description="Training jobs only.")
    result_url: str | None = Field(
        default=None, description="Export jobs that succeeded: where to GET the project file."
    )


class TrainedModel(_Shape):
    """A trained model (spec §5.6)."""

    label: str
    model_id: str
    last_trained_date_time: str
    last_training_duration_in_seconds: int
    model_expiration_date: str
    model_training_config_version: str
    has_snapshot: bool


class AssignedResource(_Shape):
    """A resource a deployment is assigned to (2023-04-15-preview on; always none here)."""

    resource_id: str
    region: str


class Deployment(_Shape):
    """A deployment (spec §5.8); ``assignedResources`` from api-version 2023-04-15-preview."""

    deployment_name: str
    model_id: str
    last_trained_date_time: str
    last_deployed_date_time: str
    deployment_expiration_date: str
    model_training_config_version: str
    assigned_resources: list[AssignedResource] | None = None


class EvaluationOptions(_Shape):
    """How the documents were split."""

    kind: Literal["percentage", "manual"]
    training_split_percentage: int
    testing_split_percentage: int


class EvaluationSummary(_Shape):
    """``…/evaluation/summary-result`` (spec §5.7): the metrics under the kind's own key."""

    model_config = ConfigDict(extra="allow")

    project_kind: str
    evaluation_options: EvaluationOptions
    custom_entity_recognition_evaluation: dict[str, Any] | None = None
    custom_single_label_classification_evaluation: dict[str, Any] | None = None
    custom_multi_label_classification_evaluation: dict[str, Any] | None = None


class DocumentEvaluation(_Shape):
    """One test document's expected and predicted labels (UTF-16 offsets)."""

    project_kind: str
    location: str
    language: str | None
    custom_entity_recognition_result: dict[str, Any] | None = None
    custom_single_label_classification_result: dict[str, Any] | None = None
    custom_multi_label_classification_result: dict[str, Any] | None = None


class Language(_Shape):
    """A supported language."""

    language_name: str
    language_code: str


class TrainingConfigVersion(_Shape):
    """A training configuration version."""

    training_config_version: str
    model_expiration_date: str


class _Page(_Shape):
    next_link: str | None = None


class ProjectsPage(_Page):
    value: list[ProjectMetadata]


class JobsPage(_Page):
    value: list[JobState]


class ModelsPage(_Page):
    value: list[TrainedModel]


class DeploymentsPage(_Page):
    value: list[Deployment]


class DocumentEvaluationsPage(_Page):
    value: list[DocumentEvaluation]


class LanguagesPage(_Page):
    value: list[Language]


class TrainingConfigVersionsPage(_Page):
    value: list[TrainingConfigVersion]


#: The exported project file (``…/export/jobs/{jobId}/result``): the ``:import`` body's shape.
ExportedProject = ProjectFileBody


# -- conversation (CLU) projects: the shapes that differ from custom text (spec CLU §2) ------


class ConversationProjectsPage(_Page):
    value: list[ConversationProjectMetadata]


class ConversationEvaluationSummary(_Shape):
    """``…/evaluation/summary-result`` of a conversation model (spec CLU §2.7)."""

    intents_evaluation: dict[str, Any] = Field(
        description="confusionMatrix, intents (seven metrics each), micro and macro P/R/F1."
    )
    entities_evaluation: dict[str, Any] = Field(
        description="confusionMatrix (with $none), entities, micro and macro P/R/F1."
    )
    evaluation_options: EvaluationOptions | None = None


class UtteranceEvaluation(_Shape):
    """One test utterance's expected and predicted intent and entities (UTF-16 offsets)."""

    text: str
    language: str | None
    intents_result: dict[str, Any]
    entities_result: dict[str, Any]


class UtteranceEvaluationsPage(_Page):
    value: list[UtteranceEvaluation]


class PrebuiltEntity(_Shape):
    """A prebuilt entity a conversation project's entities may use."""

    category: str
    description: str
    examples: str


class PrebuiltEntitiesPage(_Page):
    value: list[PrebuiltEntity]


#: The exported conversation project file: the ``:import`` body's shape.
ExportedConversationProject = ConversationFileBody


def ok(model: type[Any], description: str = "OK.") -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route answering 200 with ``model``."""
    return {200: {"model": model, "description": description}, **ERRORS}


def created(model: type[Any]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of the project merge-patch: 201 when created, 200 when updated."""
    return {
        200: {"model": model, "description": "Updated."},
        201: {"model": model, "description": "Created."},
        **ERRORS,
    }
