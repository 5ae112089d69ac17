"""The authoring bodies and renderers, without a server: what each service receives, the
versioned spellings, and that the documented response models accept every rendered body (so
``/openapi.json`` and the wire cannot drift)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lexicraft.api.authoring import render, responses
from lexicraft.api.authoring.schemas import (
    DeploymentBody,
    ProjectFileBody,
    ProjectPatchBody,
    SwapBody,
    TrainingBody,
)
from lexicraft.domain.conversation_files import UtteranceEntry
from lexicraft.domain.conversations import ConversationAssets, ConversationEntity
from lexicraft.domain.jobs import Job, JobKind, JobStatus
from lexicraft.domain.models import Deployment, ModelEvaluation, TrainedModel
from lexicraft.domain.project_files import DocumentEntry, ProjectFile, RawLabel
from lexicraft.domain.projects import TEXT_KINDS, Dataset, Project, ProjectKind, ProjectPatch
from lexicraft.domain.training import EvaluationOptions, TrainingRequest
from lexicraft.errors import InvalidParameterValue, InvalidProjectContent, InvalidRequestBody
from lexicraft.timeutil import format_datetime
from lexicraft.wire.conversation_file import parse_conversation_file, render_conversation_file
from lexicraft.wire.project_file import parse_project_file, render_project_file

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
PROJECT = Project("p", ProjectKind.ENTITY_RECOGNITION, "en", "c", created_at=NOW, modified_at=NOW)
MODEL = TrainedModel(
    project_name="p", label="m1", model_id="m1-x", training_config_version="2022-05-01",
    artifact_dir="/x", trained_at=NOW, training_duration_s=12.4, expiration_date="2027-01-01",
)  # fmt: skip


def ner_file(**assets: Any) -> dict[str, Any]:
    return {
        "projectFileVersion": "2022-05-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {"projectKind": "CustomEntityRecognition", "language": "en",
                     "storageInputContainerName": "c", "futureField": 1},
        "assets": {"entities": [{"category": "City"}], **assets},
    }  # fmt: skip


def test_project_file_becomes_domain_entries() -> None:
    body = ner_file(
        projectKind="customNamedEntityRecognition",  # pre-GA spelling, any case
        documents=[
            {"location": "a.txt", "dataset": "train", "text": "Paris",
             "entities": [{"regionOffset": 0, "regionLength": 5,
                           "labels": [{"category": "City", "offset": 0, "length": 5}]}]},
        ],
    )  # fmt: skip
    parsed = ProjectFileBody.model_validate(body).to_project_file("p")
    assert parsed.project == Project("p", ProjectKind.ENTITY_RECOGNITION, "en", "c")
    assert parsed.labels == ("City",)
    assert parsed.entries == (
        DocumentEntry("a.txt", None, Dataset.TRAIN, "Paris", (RawLabel("City", 0, 5),), ()),
    )
    # The payload an import job stores reads back to the same value.
    assert ProjectFile.from_payload(parsed.to_payload()) == parsed
    # Rendering and parsing again keeps the documents (an export renders no description as "").
    again = parse_project_file(render_project_file(parsed), "p")
    assert (again.labels, again.entries) == (parsed.labels, parsed.entries)


@pytest.mark.parametrize(
    ("body", "error", "target"),
    [
        (ner_file(projectKind="CustomMultiLabelClassification"), InvalidParameterValue, "assets.projectKind"),
        (ner_file(documents=[{"location": "a", "entities": [{"labels": [{"category": "X", "offset": 0, "length": 1}]}]}]),
         InvalidProjectContent, "assets.documents[0]"),
        (ner_file(documents=[{"location": "a"}, {"location": "a"}]), InvalidProjectContent, "assets.documents[1].location"),
        (ner_file(documents=[{"location": "a", "entities": [{"labels": [{"category": "City", "offset": "0", "length": 1}]}]}]),
         InvalidRequestBody, "assets.documents[0].entities[0].labels[0].offset"),
        (ner_file(documents=[{"location": "a", "dataset": "Dev"}]), InvalidParameterValue, "dataset"),
        ({**ner_file(), "stringIndexType": "UnicodeCodePoint"}, InvalidParameterValue, "stringIndexType"),
        ({**ner_file(), "metadata": {"projectKind": "CustomEntityRecognition", "language": "en"}},
         InvalidRequestBody, "metadata.storageInputContainerName"),
        ({**ner_file(), "metadata": {**ner_file()["metadata"], "projectName": "q"}}, InvalidParameterValue, "metadata.projectName"),
        ({k: v for k, v in ner_file().items() if k != "projectFileVersion"}, InvalidRequestBody, "projectFileVersion"),
    ],
)  # fmt: skip
def test_project_file_rules_keep_their_codes_and_targets(
    body: dict[str, Any], error: type[Exception], target: str
) -> None:
    with pytest.raises(error) as raised:
        parse_project_file(body, "p")
    assert type(raised.value) is error and raised.value.target == target  # type: ignore[attr-defined]


def test_project_patch_is_a_merge_patch() -> None:
    existing = Project("p", ProjectKind.ENTITY_RECOGNITION, "en", "c", True, "d", {"a": 1})
    body = ProjectPatchBody.model_validate({"description": None, "language": "de", "x": 1})
    patched = body.to_patch("p").apply("p", existing)
    assert (patched.language, patched.description, patched.multilingual) == ("de", None, True)
    assert patched.settings == {"a": 1}
    cleared = ProjectPatchBody.model_validate({"multilingual": None, "settings": None})
    assert cleared.to_patch("p").apply("p", existing).settings == {}
    with pytest.raises(InvalidRequestBody) as raised:
        ProjectPatchBody.model_validate({"language": "en"}).to_patch("p").apply("p", None)
    assert raised.value.target == "storageInputContainerName"
    with pytest.raises(InvalidRequestBody):
        ProjectPatchBody.model_validate({"projectKind": None})
    with pytest.raises(InvalidParameterValue):
        ProjectPatchBody.model_validate({"projectName": "q"}).to_patch("p")
    assert ProjectPatch.of(existing).apply("p", None) == existing


def test_training_deploy_and_swap_bodies() -> None:
    body = TrainingBody.model_validate(
        {"modelLabel": "m", "trainingConfigVersion": "latest", "trainingMode": "advanced",
         "evaluationOptions": {"kind": "Manual", "testingSplitPercentage": 30}}
    )  # fmt: skip
    assert body.to_request() == TrainingRequest("m", "latest", EvaluationOptions("manual", 70, 30))
    with pytest.raises(InvalidParameterValue):
        EvaluationOptions.create("percentage", 70, 20)
    deployment = DeploymentBody.model_validate(
        {"trainedModelLabel": "m1", "assignedResources": [{"resourceId": "r", "region": "x"}]}
    )
    assert deployment.trained_model_label == "m1"
    swap = SwapBody.model_validate({"firstDeploymentName": "a", "secondDeploymentName": "b"})
    assert (swap.first_deployment_name, swap.second_deployment_name) == ("a", "b")


@pytest.mark.parametrize(
    ("version", "assigned"),
    [("2022-05-01", False), ("2023-04-01", False), ("2023-04-15-preview", True),
     ("2024-11-15-preview", True)],
)  # fmt: skip
def test_deployments_list_assigned_resources_from_2023_04_15_preview(
    version: str, assigned: bool
) -> None:
    body = render.render_deployment(Deployment("p", "prod", MODEL, NOW), version)
    assert ("assignedResources" in body) is assigned
    if assigned:
        assert body["assignedResources"] == []
    responses.Deployment.model_validate(body)


def job(kind: JobKind, status: JobStatus, **changes: Any) -> Job:
    fields: dict[str, Any] = {
        "id": "j", "kind": kind, "status": status, "created_at": NOW, "updated_at": NOW,
        "expires_at": NOW + timedelta(days=1), "project_name": "p",
        "payload": {"modelLabel": "m1", "trainingConfigVersion": "2022-05-01"},
    }  # fmt: skip
    return Job(**(fields | changes))


@pytest.mark.parametrize("percent", [0.0, 50.0, 95.0])
def test_training_job_reports_the_resolved_version(percent: float) -> None:
    started = NOW - timedelta(minutes=1) if percent else None
    body = render.render_job(
        job(JobKind.TRAIN, JobStatus.RUNNING, percent_complete=percent, started_at=started)
    )
    state = responses.JobState.model_validate(body)
    assert state.result is not None and state.result.training_config_version == "2022-05-01"


def test_training_job_reports_the_workers_estimated_end() -> None:
    # The worker's estimate from its measured step speed, not an extrapolation of percent.
    end = NOW + timedelta(minutes=7)
    running = job(
        JobKind.TRAIN, JobStatus.RUNNING, percent_complete=50.0,
        started_at=NOW - timedelta(minutes=1), estimated_end_at=end,
    )  # fmt: skip
    without = job(
        JobKind.TRAIN, JobStatus.RUNNING, percent_complete=50.0,
        started_at=NOW - timedelta(minutes=1),
    )  # fmt: skip

    body = render.render_job(running)

    assert body["result"]["estimatedEndDateTime"] == format_datetime(end)
    assert "estimatedEndDateTime" not in render.render_job(without)["result"]
    responses.JobState.model_validate(body)


def test_rendered_bodies_match_the_documented_models() -> None:
    responses.ProjectMetadata.model_validate(render.render_project(PROJECT))
    responses.TrainedModel.model_validate(render.render_model(MODEL))
    export = render.render_job(job(JobKind.EXPORT, JobStatus.SUCCEEDED), result_url="http://x/r")
    assert responses.JobState.model_validate(export).result_url == "http://x/r"
    failed = job(
        JobKind.IMPORT, JobStatus.FAILED,
        errors=({"code": "InvalidRequest", "message": "m", "target": "t",
                 "innererror": {"code": "InvalidParameterValue", "message": "m"}},),
    )  # fmt: skip
    responses.JobState.model_validate(render.render_job(failed))
    options = EvaluationOptions().to_wire()
    for kind in TEXT_KINDS:
        summary = render.render_evaluation_summary(
            kind, ModelEvaluation(options, {"microF1": 1}, ())
        )
        assert responses.EvaluationSummary.model_validate(summary).project_kind == kind.value
    exported = render_project_file(ProjectFile(PROJECT, ("City",), (DocumentEntry("a.txt"),)))
    responses.ExportedProject.model_validate(exported)


def test_rendered_conversation_bodies_match_the_documented_models() -> None:
    clu = Project("c", ProjectKind.CONVERSATION, "en-us", "", created_at=NOW, modified_at=NOW)
    metadata = responses.ConversationProjectMetadata.model_validate(render.render_project(clu))
    assert metadata.project_kind == "Conversation"
    evaluation = {"intentsEvaluation": {"microF1": 1.0}, "entitiesEvaluation": {"microF1": 0.5}}
    summary = render.render_evaluation_summary(
        ProjectKind.CONVERSATION, ModelEvaluation(EvaluationOptions().to_wire(), evaluation, ())
    )
    assert "projectKind" not in summary
    responses.ConversationEvaluationSummary.model_validate(summary)
    assets = ConversationAssets(("None", "Greet"), (ConversationEntity("Person"),))
    utterance = UtteranceEntry("hi ann", "Greet", labels=(RawLabel("Person", 3, 3),))
    exported = render_conversation_file(clu, assets, [utterance])
    responses.ExportedConversationProject.model_validate(exported)
    parsed = parse_conversation_file(exported, "c")
    assert (parsed.assets, parsed.utterances) == (assets, (utterance,))
