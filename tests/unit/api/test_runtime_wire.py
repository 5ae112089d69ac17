"""The runtime's typed bodies and job-state renderers, without a server: what the service
receives, the versioned spellings of the job state, and that the documented response models
accept every rendered body (so ``/openapi.json`` and the wire cannot drift)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lexicraft.api.runtime import render, responses
from lexicraft.api.runtime.schemas import AnalyzeTextJobsInput, LegacyAnalyzeInput
from lexicraft.domain.jobs import JobStatus
from lexicraft.domain.projects import ProjectKind
from lexicraft.domain.text import StringIndexType
from lexicraft.services.analysis import (
    AnalysisJob,
    AnalysisRequest,
    AnalysisTask,
    ApiFamily,
    InputDocument,
    TaskState,
)
from lexicraft.timeutil import format_datetime

CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_language_body_becomes_the_service_request() -> None:
    body = {
        "displayName": "job",
        "defaultLanguage": "de",
        "analysisInput": {
            "documents": [{"id": "a", "text": "x"}, {"id": "b", "text": "y", "language": "en"}],
            "unknown": 1,
        },
        "tasks": [
            {
                "kind": "customEntityRecognition",  # any letter case
                "parameters": {
                    "projectName": "p",
                    "deploymentName": "d",
                    "stringIndexType": "utf16CodeUnit",
                    "loggingOptOut": True,
                },
            },
            {
                "kind": "CustomMultiLabelClassification",
                "taskName": "multi",
                "parameters": {"projectName": "q", "deploymentName": "e"},
            },
        ],
        "cancelAfter": 10,
    }
    assert AnalyzeTextJobsInput.model_validate(body).to_request() == AnalysisRequest(
        documents=(InputDocument("a", "x", "de"), InputDocument("b", "y", "en")),
        tasks=(
            AnalysisTask(ProjectKind.ENTITY_RECOGNITION, "0", "p", "d", StringIndexType.UTF16),
            AnalysisTask(ProjectKind.MULTI_LABEL_CLASSIFICATION, "multi", "q", "e"),
        ),
        family=ApiFamily.LANGUAGE,
        display_name="job",
    )


def test_legacy_body_keeps_the_request_order_of_its_lists() -> None:
    body = {
        "analysisInput": {"documents": [{"id": "1", "text": "x"}]},
        "tasks": {
            "customClassificationTasks": [{"parameters": {"modelId": "m-1"}}],
            "entityRecognitionTasks": [],
            "customEntityRecognitionTasks": [
                {"parameters": {"projectName": "p", "deploymentName": "d"}},
                {"taskName": "t", "parameters": {"project-name": "p", "deployment-name": "s"}},
            ],
        },
    }
    tasks = LegacyAnalyzeInput.model_validate(body).to_request().tasks
    assert [(t.task_name, t.group, t.model_id, t.deployment_name) for t in tasks] == [
        ("0", "customClassificationTasks", "m-1", None),
        ("1", "customEntityRecognitionTasks", None, "d"),
        ("t", "customEntityRecognitionTasks", None, "s"),
    ]


def job(status: JobStatus, *, done: bool) -> AnalysisJob:
    stamp = "2026-01-02T03:04:06Z"
    entity = {"text": "x", "category": "A", "offset": 0, "length": 1, "confidenceScore": 0.9}
    score = {"category": "B", "confidenceScore": 0.8}
    error = {"code": "InvalidArgument", "message": "m", "innererror": {"code": "I", "message": "m"}}
    tasks = (
        TaskState(
            AnalysisTask(ProjectKind.ENTITY_RECOGNITION, "ner", "p", "d"),
            JobStatus.SUCCEEDED if done else JobStatus.RUNNING,
            stamp,
            ({"id": "1", "entities": [entity]},) if done else None,
            ({"id": "2", "error": error},) if done else (),
        ),
        TaskState(
            AnalysisTask(ProjectKind.SINGLE_LABEL_CLASSIFICATION, "one", "p", "d", group=None),
            JobStatus.SUCCEEDED if done else JobStatus.NOT_STARTED,
            stamp,
            ({"id": "1", "classes": [score], "warnings": []},) if done else None,
            (),
        ),
        TaskState(
            AnalysisTask(
                ProjectKind.SINGLE_LABEL_CLASSIFICATION,
                "ct1",
                "p",
                None,
                model_id="m",
                group="customClassificationTasks",
            ),
            JobStatus.FAILED if done else JobStatus.RUNNING,
            stamp,
            None,
            (),
        ),
        TaskState(
            AnalysisTask(ProjectKind.MULTI_LABEL_CLASSIFICATION, "multi", "p", "d"),
            JobStatus.SUCCEEDED if done else JobStatus.RUNNING,
            stamp,
            ({"id": "1", "classes": [score, score]},) if done else None,
            (),
        ),
    )
    return AnalysisJob(
        job_id="j",
        display_name="name",
        status=status,
        created_at=CREATED,
        updated_at=CREATED + timedelta(seconds=1),
        expires_at=CREATED + timedelta(days=1),
        errors=({"code": "InvalidRequest", "message": "m", "target": "#/tasks/items/2"},),
        documents=(InputDocument("1", "x"), InputDocument("2", " ")),
        tasks=tasks,
    )


PAGE = render.Page(skip=0, top=1, next_link="http://host/next")


@pytest.mark.parametrize(
    ("version", "updated", "partial"),
    [
        ("2022-02-01-preview", "lastUpdateDateTime", "partiallySucceeded"),
        ("2022-03-01-preview", "lastUpdateDateTime", "partiallySucceeded"),
        ("2022-05-01", "lastUpdatedDateTime", "partiallyCompleted"),
        ("2022-10-01-preview", "lastUpdatedDateTime", "partiallyCompleted"),
        ("2024-11-15-preview", "lastUpdatedDateTime", "partiallyCompleted"),
    ],
)
def test_language_job_state_is_spelled_per_version(
    version: str, updated: str, partial: str
) -> None:
    body = render.render_language_job(
        job(JobStatus.PARTIALLY_COMPLETED, done=True), PAGE, True, version
    )
    stale = ({"lastUpdateDateTime", "lastUpdatedDateTime"} - {updated}).pop()
    assert body[updated] == format_datetime(CREATED + timedelta(seconds=1))
    assert stale not in body
    assert body["status"] == partial
    # Task items say lastUpdateDateTime in every version.
    assert all("lastUpdateDateTime" in item for item in body["tasks"]["items"])
    responses.LanguageJobState.model_validate(body)


@pytest.mark.parametrize("done", [True, False])
@pytest.mark.parametrize("show_stats", [True, False])
def test_rendered_bodies_match_the_documented_models(done: bool, show_stats: bool) -> None:
    state = job(JobStatus.SUCCEEDED if done else JobStatus.RUNNING, done=done)
    language: dict[str, Any] = render.render_language_job(state, PAGE, show_stats, "2023-04-01")
    legacy: dict[str, Any] = render.render_legacy_job(state, PAGE, show_stats)
    # extra="forbid": a field the docs do not name fails here.
    responses.LanguageJobState.model_validate(language)
    responses.LegacyJobState.model_validate(legacy)
    assert "nextLink" in language and "@nextLink" in legacy
