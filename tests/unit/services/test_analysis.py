"""The analysis use case in process: limits, batching, offsets, task failures, cancellation.

Projects, models and deployments are rows written directly; the "model" is a fake predictor
put into the context's predictor cache under the model's artifact folder, so these tests see
exactly which texts the service hands a model and in which batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lexicraft.bootstrap import open_context
from lexicraft.domain.jobs import JobKind, JobOutcome, JobStatus
from lexicraft.domain.models import ModelEvaluation, TrainedModel
from lexicraft.domain.projects import Project, ProjectAssets, ProjectKind
from lexicraft.domain.text import StringIndexType
from lexicraft.errors import (
    DeploymentNotFound,
    DocumentTooLarge,
    InvalidDocumentBatch,
    InvalidParameterValue,
    InvalidRequestBody,
    MissingInputDocuments,
    OperationNotFound,
    ProjectNotFound,
)
from lexicraft.jobs.executors.local import LocalCompute
from lexicraft.jobs.worker import LeasedJob
from lexicraft.ml.base import ClassScore, PredictedSpan
from lexicraft.services import analysis
from lexicraft.services.analysis import AnalysisRequest, AnalysisTask, InputDocument
from lexicraft.services.context import ServiceContext
from lexicraft.settings import Settings
from lexicraft.storage.sql import models as model_store
from lexicraft.storage.sql import projects as project_store
from lexicraft.timeutil import utcnow

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"


class CapitalsModel:
    """Tags every capitalised word as ``Name``; records the batches it was given."""

    labels = ("Name",)

    def __init__(self, on_batch: Any = None) -> None:
        self.batches: list[list[str]] = []
        self.on_batch = on_batch

    def predict(self, texts: Sequence[str]) -> list[list[PredictedSpan]]:
        self.batches.append(list(texts))
        if self.on_batch is not None:
            self.on_batch(len(self.batches))
        results = []
        for text in texts:
            spans, start = [], None
            for index, char in enumerate([*text, " "]):
                if start is None and char.isupper():
                    start = index
                elif start is not None and not char.isalpha():
                    spans.append(PredictedSpan(start, index, "Name", 0.9))
                    start = None
            results.append(spans)
        return results


class TopicModel:
    """Classifies by whether a text mentions money."""

    labels = ("Money", "Other")
    multi_label = False

    def predict(self, texts: Sequence[str]) -> list[list[ClassScore]]:
        return [[ClassScore("Money" if "$" in text else "Other", 0.75)] for text in texts]


@pytest.fixture
def context(tmp_path: Path) -> ServiceContext:
    settings = Settings(data_dir=tmp_path / "data", predict_batch_size=2)
    return open_context(settings)


def add_deployment(
    context: ServiceContext,
    project: str,
    kind: ProjectKind,
    deployment: str,
    model: Any,
    label: str = "m1",
) -> Path:
    """Rows for a project / model / deployment, and ``model`` cached as that model."""
    artifact_dir = context.settings.models_dir / project / label
    artifact_dir.mkdir(parents=True, exist_ok=True)
    now = utcnow()
    with context.database.session() as session:
        if project_store.find_project(session, project) is None:
            project_store.save_metadata(session, Project(project, kind, "en", project))
            project_store.replace_assets(session, project, ProjectAssets(tuple(model.labels), ()))
        trained = model_store.find_model(session, project, label)
        if trained is None:
            trained = TrainedModel(
                project_name=project, label=label, model_id=f"{project}-{label}",
                training_config_version="2022-05-01", artifact_dir=str(artifact_dir),
                trained_at=now, training_duration_s=1.0, expiration_date="2030-01-01",
            )  # fmt: skip
            model_store.save_model(session, trained, ModelEvaluation({}, {}, ()))
        model_store.pin_deployment(session, deployment, trained, now)
    compute = context.compute
    assert isinstance(compute, LocalCompute)
    compute.predictors.get(artifact_dir, lambda _path: model)
    return artifact_dir


def ner_task(
    deployment: str = "prod",
    unit: StringIndexType = StringIndexType.CODE_POINT,
    project: str = "people",
) -> AnalysisTask:
    return AnalysisTask(
        kind=ProjectKind.ENTITY_RECOGNITION,
        task_name=f"ner-{deployment}-{unit.value}",
        project_name=project,
        deployment_name=deployment,
        string_index_type=unit,
    )


def request(*texts: str, tasks: Sequence[AnalysisTask] = ()) -> AnalysisRequest:
    return AnalysisRequest(
        documents=tuple(InputDocument(str(i), text) for i, text in enumerate(texts)),
        tasks=tuple(tasks) or (ner_task(),),
    )


def run_next(context: ServiceContext) -> tuple[str, JobOutcome]:
    """Claim the next analyze job, run it, record its outcome."""
    job = context.queue.claim("test", [JobKind.ANALYZE])
    assert job is not None
    outcome = analysis.run_analysis(context, LeasedJob(job=job, queue=context.queue, owner="test"))
    assert context.queue.finish(job.id, "test", outcome)
    return job.id, outcome


# -- limits ------------------------------------------------------------------------------------


def test_count_characters_counts_text_elements() -> None:
    assert analysis.count_characters(f"a{FAMILY}e\u0301\U0001f1eb\U0001f1f7") == 4
    assert analysis.count_characters("") == 0


@pytest.mark.parametrize(
    ("texts", "error"),
    [
        ((), MissingInputDocuments),
        (("x",) * 26, InvalidDocumentBatch),
        (("a" * 125_001,), DocumentTooLarge),
        (("a" * 70_000, "b" * 60_000), InvalidDocumentBatch),
    ],
)
def test_request_limits(context: ServiceContext, texts: tuple[str, ...], error: type) -> None:
    with pytest.raises(error):
        analysis.submit_analysis(context, request(*texts))


def test_a_request_costs_at_most_max_request_cost_task_characters(
    context: ServiceContext,
) -> None:
    """Tasks x characters: 4 tasks over 125,000 characters fit the default 500,000, a fifth
    task does not; the message names the limit and its setting."""
    add_deployment(context, "people", ProjectKind.ENTITY_RECOGNITION, "prod", CapitalsModel())
    texts = ("a" * 62_500, "b" * 62_500)
    tasks = [replace(ner_task(), task_name=f"task-{index}") for index in range(5)]
    job = analysis.submit_analysis(context, request(*texts, tasks=tasks[:4]))
    assert job.status is JobStatus.NOT_STARTED
    with pytest.raises(InvalidParameterValue) as refused:
        analysis.submit_analysis(context, request(*texts, tasks=tasks))
    assert refused.value.target == "tasks"
    assert "625000 task-characters" in refused.value.message
    assert "LEXICRAFT_MAX_REQUEST_COST" in refused.value.message
    # Counted in text elements, as the other limits: 5 x 100,000 fits.
    assert analysis.submit_analysis(context, request("e\u0301" * 100_000, tasks=tasks))


def test_duplicate_ids_are_refused(context: ServiceContext) -> None:
    duplicate = AnalysisRequest(
        documents=(InputDocument("1", "a"), InputDocument("1", "b")), tasks=(ner_task(),)
    )
    with pytest.raises(InvalidDocumentBatch, match="duplicated document id '1'"):
        analysis.submit_analysis(context, duplicate)


def test_limits_count_text_elements_not_code_points(context: ServiceContext) -> None:
    add_deployment(context, "people", ProjectKind.ENTITY_RECOGNITION, "prod", CapitalsModel())
    # 250,000 code points, 125,000 text elements: exactly at the limit.
    job = analysis.submit_analysis(context, request("e\u0301" * 125_000))
    assert job.status == JobStatus.NOT_STARTED.value


def test_unknown_project_deployment_and_wrong_kind(context: ServiceContext) -> None:
    add_deployment(context, "people", ProjectKind.ENTITY_RECOGNITION, "prod", CapitalsModel())
    with pytest.raises(ProjectNotFound):
        analysis.submit_analysis(context, request("x", tasks=[ner_task(project="nobody")]))
    with pytest.raises(DeploymentNotFound):
        analysis.submit_analysis(context, request("x", tasks=[ner_task("nowhere")]))
    wrong = AnalysisTask(ProjectKind.SINGLE_LABEL_CLASSIFICATION, "c", "people", "prod")
    with pytest.raises(InvalidParameterValue, match="CustomEntityRecognition project"):
        analysis.submit_analysis(context, request("x", tasks=[wrong]))
    with pytest.raises(InvalidRequestBody):
        analysis.submit_analysis(
            context, AnalysisRequest(documents=(InputDocument("1", "x"),), tasks=())
        )


def test_the_job_is_committed_with_a_normalised_payload(context: ServiceContext) -> None:
    add_deployment(context, "people", ProjectKind.ENTITY_RECOGNITION, "prod", CapitalsModel())
    job = analysis.submit_analysis(context, request("Ann met Bob."))
    with context.database.session() as session:
        stored = context.queue.get(session, job.id, [JobKind.ANALYZE], target="language")
        assert stored.payload == {
            "family": "language",
            "documents": [{"id": "0", "text": "Ann met Bob.", "language": None}],
            "tasks": [
                {
                    "kind": "CustomEntityRecognition",
                    "taskName": "ner-prod-UnicodeCodePoint",
                    "projectName": "people",
                    "deploymentName": "prod",
                    "modelId": None,
                    "stringIndexType": "UnicodeCodePoint",
                    "group": None,
                }
            ],
        }
    waiting = analysis.get_analysis(context, job.id, analysis.ApiFamily.LANGUAGE)
    assert [state.status for state in waiting.tasks] == [JobStatus.NOT_STARTED]
    assert waiting.tasks[0].documents is None


# -- running -----------------------------------------------------------------------------------


def test_batches_are_sorted_by_length_and_results_keep_request_order(
    context: ServiceContext,
) -> None:
    model = CapitalsModel()
    add_deployment(context, "people", ProjectKind.ENTITY_RECOGNITION, "prod", model)
    texts = ["Ann and Bob met Carol there", "Dan", "", "Eve saw Fay", "Gus ran"]
    job = analysis.submit_analysis(context, request(*texts))
    _job_id, outcome = run_next(context)
    assert outcome.status is JobStatus.SUCCEEDED
    assert model.batches == [["Dan", "Gus ran"], ["Eve saw Fay", "Ann and Bob met Carol there"]]
    assert outcome.result is not None
    (result,) = outcome.result["tasks"]
    assert [d["id"] for d in result["documents"]] == ["0", "1", "3", "4"]
    assert [e["text"] for e in result["documents"][0]["entities"]] == ["Ann", "Bob", "Carol"]
    assert result["errors"] == [
        {
            "id": "2",
            "error": {
                "code": "InvalidArgument",
                "message": "Document text is empty.",
                "innererror": {"code": "InvalidDocument", "message": "Document text is empty."},
            },
        }
    ]
    done = analysis.get_analysis(context, job.id, analysis.ApiFamily.LANGUAGE)
    assert done.status is JobStatus.SUCCEEDED
    assert done.request_statistics() == analysis.RequestStatistics(5, 4, 1, 4)


def test_batches_are_bounded_in_characters_and_results_are_unchanged(tmp_path: Path) -> None:
    """A batch holds at most predict_batch_characters characters (a longer document alone);
    the results are those of one batch for the lot, in request order. The job records the
    key that submitted it."""
    texts = ["Ann " * 3, "Bob " * 4, "Cy " * 40, "Di " * 2, "Ed " * 5]
    batches, results = {}, {}
    for characters in (20, 1_000):
        settings = Settings(
            data_dir=tmp_path / str(characters), predict_batch_characters=characters
        )
        context = open_context(settings)
        model = CapitalsModel()
        add_deployment(context, "people", ProjectKind.ENTITY_RECOGNITION, "prod", model)
        job = analysis.submit_analysis(context, request(*texts), api_key_id=7)
        claimed_id, outcome = run_next(context)
        assert (claimed_id, job.api_key_id) == (job.id, 7)
        assert outcome.result is not None
        (result,) = outcome.result["tasks"]
        batches[characters] = model.batches
        results[characters] = (result["documents"], result["errors"])
    assert batches[20] == [
        ["Di Di ", "Ann Ann Ann "], ["Ed Ed Ed Ed Ed "], ["Bob Bob Bob Bob "], ["Cy " * 40]
    ]  # fmt: skip
    assert len(batches[1_000]) == 1
    assert results[20] == results[1_000]


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        (StringIndexType.CODE_POINT, [(6, 3), (13, 3)]),
        (StringIndexType.UTF16, [(9, 3), (16, 3)]),
        (StringIndexType.TEXT_ELEMENTS, [(2, 3), (8, 3)]),
    ],
)
def test_entity_offsets_are_converted_per_task(
    context: ServiceContext, unit: StringIndexType, expected: list[tuple[int, int]]
) -> None:
    add_deployment(context, "people", ProjectKind.ENTITY_RECOGNITION, "prod", CapitalsModel())
    text = f"{FAMILY} Ann e\u0301 Bob"
    analysis.submit_analysis(context, request(text, tasks=[ner_task(unit=unit)]))
    _job_id, outcome = run_next(context)
    assert outcome.result is not None
    entities = outcome.result["tasks"][0]["documents"][0]["entities"]
    assert [(e["offset"], e["length"]) for e in entities] == expected
    assert [e["text"] for e in entities] == ["Ann", "Bob"]


def test_long_documents_reach_the_model_whole(context: ServiceContext) -> None:
    model = CapitalsModel()
    add_deployment(context, "people", ProjectKind.ENTITY_RECOGNITION, "prod", model)
    text = "x " * 60_000 + "Zed"
    analysis.submit_analysis(context, request(text))
    _job_id, outcome = run_next(context)
    assert model.batches == [[text]]
    assert outcome.result is not None
    (entity,) = outcome.result["tasks"][0]["documents"][0]["entities"]
    assert (entity["offset"], entity["text"]) == (120_000, "Zed")


def test_a_task_whose_deployment_vanished_fails_alone(context: ServiceContext) -> None:
    add_deployment(context, "people", ProjectKind.ENTITY_RECOGNITION, "prod", CapitalsModel())
    add_deployment(context, "people", ProjectKind.ENTITY_RECOGNITION, "old", CapitalsModel())
    add_deployment(context, "topics", ProjectKind.SINGLE_LABEL_CLASSIFICATION, "prod", TopicModel())
    classify = AnalysisTask(ProjectKind.SINGLE_LABEL_CLASSIFICATION, "topic", "topics", "prod")
    analysis.submit_analysis(
        context, request("Pay Ann $5", tasks=[ner_task(), ner_task("old"), classify])
    )
    analysis.submit_analysis(context, request("Ann", tasks=[ner_task("old")]))
    with context.database.session() as session:
        model_store.delete_deployment(session, "people", "old")

    mixed_id, mixed = run_next(context)
    assert mixed.status is JobStatus.PARTIALLY_COMPLETED
    assert [task["status"] for task in mixed.result["tasks"]] == [  # type: ignore[index]
        "succeeded", "failed", "succeeded",
    ]  # fmt: skip
    (error,) = mixed.errors
    assert (error["code"], error["target"]) == ("NotFound", "#/tasks/items/1")
    assert mixed.result["tasks"][2]["documents"][0]["classes"] == [  # type: ignore[index]
        {"category": "Money", "confidenceScore": 0.75}
    ]
    view = analysis.get_analysis(context, mixed_id, analysis.ApiFamily.LANGUAGE)
    assert view.tasks[1].documents is None

    _failed_id, failed = run_next(context)
    assert failed.status is JobStatus.FAILED
    assert [e["target"] for e in failed.errors] == ["#/tasks/items/0"]


def test_redeploy_between_submit_and_run_takes_effect(context: ServiceContext) -> None:
    first, second = CapitalsModel(), CapitalsModel()
    add_deployment(context, "people", ProjectKind.ENTITY_RECOGNITION, "prod", first, "m1")
    analysis.submit_analysis(context, request("Ann"))
    add_deployment(context, "people", ProjectKind.ENTITY_RECOGNITION, "prod", second, "m2")
    run_next(context)
    assert (first.batches, second.batches) == ([], [["Ann"]])


def test_cancel_between_batches_keeps_finished_tasks(context: ServiceContext) -> None:
    job_ids: list[str] = []

    def cancel_after_first_batch(batches: int) -> None:
        if batches == 3:  # the second task's first batch
            analysis.cancel_analysis(context, job_ids[0], analysis.ApiFamily.LANGUAGE)

    add_deployment(
        context, "people", ProjectKind.ENTITY_RECOGNITION, "prod",
        CapitalsModel(cancel_after_first_batch),
    )  # fmt: skip
    job = analysis.submit_analysis(
        context,
        request("Ann", "Bob", "Cy", tasks=[ner_task(), ner_task(unit=StringIndexType.UTF16)]),
    )
    job_ids.append(job.id)
    _job_id, outcome = run_next(context)
    assert outcome.status is JobStatus.CANCELLED
    assert outcome.result is not None
    assert [task["status"] for task in outcome.result["tasks"]] == ["succeeded", "cancelled"]
    view = analysis.get_analysis(context, job.id, analysis.ApiFamily.LANGUAGE)
    assert view.status is JobStatus.CANCELLED
    assert view.tasks[1].documents == ()
    with pytest.raises(InvalidParameterValue, match="already cancelled"):
        analysis.cancel_analysis(context, job.id, analysis.ApiFamily.LANGUAGE)


def test_a_job_that_ends_while_being_cancelled_is_refused_with_how_it_ended(
    context: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_deployment(context, "people", ProjectKind.ENTITY_RECOGNITION, "prod", CapitalsModel())
    job = analysis.submit_analysis(context, request("Ann"))
    assert context.queue.claim("test", [JobKind.ANALYZE]) is not None  # running when read
    request_cancel = context.queue.request_cancel

    def worker_finishes_first(job_id: str) -> JobStatus | None:
        # The job's worker records its outcome between the cancel's read and its update.
        assert context.queue.finish(job_id, "test", JobOutcome(JobStatus.SUCCEEDED, {}))
        return request_cancel(job_id)

    monkeypatch.setattr(context.queue, "request_cancel", worker_finishes_first)
    with pytest.raises(InvalidParameterValue, match="has already succeeded"):
        analysis.cancel_analysis(context, job.id, analysis.ApiFamily.LANGUAGE)


def test_jobs_are_found_only_under_their_family(context: ServiceContext) -> None:
    add_deployment(context, "people", ProjectKind.ENTITY_RECOGNITION, "prod", CapitalsModel())
    job = analysis.submit_analysis(context, request("Ann"))
    with pytest.raises(OperationNotFound):
        analysis.get_analysis(context, job.id, analysis.ApiFamily.LEGACY)
