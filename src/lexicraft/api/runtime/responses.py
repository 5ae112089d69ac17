"""The runtime's response shapes, for ``/openapi.json`` (spec §0.1, §1.3, §1.4, §2.1).

The renderers in :mod:`lexicraft.api.runtime.render` build the bodies: their spellings differ
by wire family and api-version, so these models document the shapes rather than produce them.
A unit test validates rendered bodies against them so the two cannot drift.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from lexicraft.api.errors import ERRORS, Error
from lexicraft.api.requests import WireModel
from lexicraft.domain.jobs import JobStatus


class _Shape(WireModel):
    # Our own output: any field not listed here is a bug in the renderer or in the docs.
    model_config = ConfigDict(extra="forbid")


class RequestStatistics(_Shape):
    """``showStats=true``: the request's counts."""

    documents_count: int
    valid_documents_count: int
    erroneous_documents_count: int
    transactions_count: int


class DocumentStatistics(_Shape):
    """``showStats=true``: one document's counts."""

    characters_count: int
    transactions_count: int


class DocumentWarning(_Shape):
    """A document warning."""

    code: str
    message: str
    target_ref: str | None = None


class DocumentError(_Shape):
    """A document that could not be analyzed (the others are)."""

    id: str
    error: Error


class Entity(_Shape):
    """A recognized entity; offsets in the task's ``stringIndexType``."""

    text: str
    category: str
    offset: int
    length: int
    confidence_score: float


class ClassScore(_Shape):
    """A predicted class."""

    category: str
    confidence_score: float


class _Document(_Shape):
    id: str
    warnings: list[DocumentWarning]
    statistics: DocumentStatistics | None = None


class EntitiesDocument(_Document):
    """A document's entities."""

    entities: list[Entity]


class ClassificationDocument(_Document):
    """A document's classes: one for single-label, any number for multi-label."""

    class_: list[ClassScore] = Field(alias="class")


class _Results(_Shape):
    errors: list[DocumentError]
    project_name: str
    deployment_name: str | None
    statistics: RequestStatistics | None = None


class EntitiesResults(_Results):
    """A custom NER task's results."""

    documents: list[EntitiesDocument]


class ClassificationResults(_Results):
    """A custom classification task's results."""

    documents: list[ClassificationDocument]


class _TaskResult(_Shape):
    task_name: str
    last_update_date_time: str
    status: JobStatus


class EntityRecognitionTaskResult(_TaskResult):
    """A custom NER task; ``results`` once it succeeded."""

    kind: Literal["CustomEntityRecognitionLROResults"]
    results: EntitiesResults | None = None


class SingleLabelTaskResult(_TaskResult):
    """A custom single-label classification task; ``results`` once it succeeded."""

    kind: Literal["CustomSingleLabelClassificationLROResults"]
    results: ClassificationResults | None = None


class MultiLabelTaskResult(_TaskResult):
    """A custom multi-label classification task; ``results`` once it succeeded."""

    kind: Literal["CustomMultiLabelClassificationLROResults"]
    results: ClassificationResults | None = None


class _TaskCounts(_Shape):
    completed: int
    failed: int
    in_progress: int
    total: int


class LanguageTasksState(_TaskCounts):
    """The tasks: counts and one item per submitted task, in order."""

    items: list[EntityRecognitionTaskResult | SingleLabelTaskResult | MultiLabelTaskResult] = Field(
        default_factory=list
    )


class _JobState(_Shape):
    job_id: str
    display_name: str | None = None
    created_date_time: str
    expiration_date_time: str
    # The old previews' "partiallySucceeded" is in no JobStatus (see LanguageJobState).
    status: JobStatus | Literal["partiallySucceeded"]
    errors: list[Error]
    statistics: RequestStatistics | None = None


class LanguageJobState(_JobState):
    """``GET /language/analyze-text/jobs/{jobId}`` (spec §1.3).

    ``2022-02-01-preview`` and ``2022-03-01-preview`` spell the job's time
    ``lastUpdateDateTime`` (later versions ``lastUpdatedDateTime``) and call a partial job
    ``partiallySucceeded`` (later ``partiallyCompleted``), as Azure's swagger for them does.
    """

    last_updated_date_time: str | None = None
    last_update_date_time: str | None = Field(
        default=None, description="2022-02-01-preview and 2022-03-01-preview only."
    )
    tasks: LanguageTasksState
    next_link: str | None = None


class LegacyDocument(_Document):
    """A legacy document: ``entities``, ``classification`` (single-label) or
    ``classifications`` (multi-label); ct.1's ``customClassificationTasks`` add ``classes``."""

    entities: list[Entity] | None = None
    classification: ClassScore | None = None
    classifications: list[ClassScore] | None = None
    classes: list[ClassScore] | None = None


class LegacyResults(_Results):
    """A legacy task's results."""

    documents: list[LegacyDocument]


class LegacyTaskResult(_Shape):
    """A task of a legacy task list; ``results`` once it succeeded."""

    task_name: str
    last_update_date_time: str
    status: JobStatus
    results: LegacyResults | None = None


class LegacyTasksState(_TaskCounts):
    """The tasks: counts and one list per task list of the request."""

    custom_entity_recognition_tasks: list[LegacyTaskResult] | None = None
    custom_single_classification_tasks: list[LegacyTaskResult] | None = None
    custom_classification_tasks: list[LegacyTaskResult] | None = None
    custom_multi_classification_tasks: list[LegacyTaskResult] | None = None


class LegacyJobState(_JobState):
    """``GET /text/analytics/{v3.x-preview…}/analyze/jobs/{jobId}`` (spec §2.1)."""

    last_update_date_time: str
    tasks: LegacyTasksState
    next_link: str | None = Field(default=None, alias="@nextLink")


#: A job submitted or cancelled: ``202`` with no body.
ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Accepted; poll the job at Operation-Location.",
        "headers": {
            "Operation-Location": {
                "description": "The job's absolute URL.",
                "schema": {"type": "string"},
            }
        },
    },
    **ERRORS,
}


def job_state(model: type[WireModel]) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a job poll answered with ``model``."""
    return {
        200: {
            "model": model,
            "description": "The job's state; results once its tasks finished.",
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before the next poll, while it runs.",
                    "schema": {"type": "integer"},
                }
            },
        },
        **ERRORS,
    }
