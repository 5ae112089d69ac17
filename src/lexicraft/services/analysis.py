"""Analyze jobs: check and queue a request, run its tasks against deployed models, read them back.

Everything here is wire-neutral. Routes parse their api family's body into an
:class:`AnalysisRequest` and render an :class:`AnalysisJob` with their own field names; the
stored results use code-point-free offsets already converted to each task's ``stringIndexType``
and neutral keys (``entities`` / ``classes``) that every renderer maps to its spelling.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from lexicraft.domain.jobs import Job, JobCancelled, JobKind, JobOutcome, JobStatus
from lexicraft.domain.projects import Project, ProjectKind
from lexicraft.domain.text import StringIndexType
from lexicraft.errors import (
    DocumentTooLarge,
    InvalidDocument,
    InvalidDocumentBatch,
    InvalidParameterValue,
    InvalidRequestBody,
    LexicraftError,
    MissingInputDocuments,
    ModelNotFound,
    ServiceUnavailable,
    internal_failure,
)
from lexicraft.ml.base import ClassScore, PredictedSpan
from lexicraft.ml.offsets import OffsetMap
from lexicraft.services import cancellation, training
from lexicraft.services.compute import ModelOutput
from lexicraft.services.context import ServiceContext
from lexicraft.services.job_context import JobContext
from lexicraft.storage.sql import models as model_store
from lexicraft.storage.sql import projects as project_store
from lexicraft.telemetry.metrics import DOCUMENTS_ANALYZED
from lexicraft.timeutil import format_datetime, utcnow

logger = logging.getLogger(__name__)

#: Characters per billed transaction ("text record"), spec §4.
CHARACTERS_PER_TRANSACTION = 1000

#: The message Azure gives a document without text (spec §1.4).
EMPTY_DOCUMENT_MESSAGE = "Document text is empty."

# Progress is a database write; a job reports it at most this often.
_PROGRESS_INTERVAL_S = 1.0


class ApiFamily(StrEnum):
    """Which wire family submitted a job; a job is found only under its own family's URLs."""

    LANGUAGE = "language"
    LEGACY = "legacy"


@dataclass(frozen=True, slots=True)
class InputDocument:
    """A document to analyze, as sent."""

    id: str
    text: str
    language: str | None = None

    @property
    def is_empty(self) -> bool:
        """Whether the document has no text to analyze (a per-document error, not a 400)."""
        return not self.text.strip()


@dataclass(frozen=True, slots=True)
class AnalysisTask:
    """One task of a request: which kind of model, addressed by deployment (or legacy model id)."""

    kind: ProjectKind
    task_name: str
    project_name: str
    deployment_name: str | None
    string_index_type: StringIndexType = StringIndexType.TEXT_ELEMENTS
    #: v3.1-preview.ct.1 addressed a trained model by id instead of a deployment.
    model_id: str | None = None
    #: The legacy task list the task came in (``customEntityRecognitionTasks``…), echoed back.
    group: str | None = None

    def to_payload(self) -> dict[str, Any]:
        """The task as stored in the job payload."""
        return {
            "kind": self.kind.value,
            "taskName": self.task_name,
            "projectName": self.project_name,
            "deploymentName": self.deployment_name,
            "modelId": self.model_id,
            "stringIndexType": self.string_index_type.value,
            "group": self.group,
        }

    @classmethod
    def from_payload(cls, raw: dict[str, Any]) -> AnalysisTask:
        """A task back from the job payload."""
        return cls(
            kind=ProjectKind(raw["kind"]),
            task_name=raw["taskName"],
            project_name=raw["projectName"],
            deployment_name=raw.get("deploymentName"),
            string_index_type=StringIndexType(raw["stringIndexType"]),
            model_id=raw.get("modelId"),
            group=raw.get("group"),
        )


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    """A parsed analyze request, independent of the wire family that sent it."""

    documents: tuple[InputDocument, ...]
    tasks: tuple[AnalysisTask, ...]
    family: ApiFamily = ApiFamily.LANGUAGE
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentStatistics:
    """Per-document statistics (``showStats``)."""

    characters: int
    transactions: int


@dataclass(frozen=True, slots=True)
class RequestStatistics:
    """Request-level statistics (``showStats``), the same for the job and each task."""

    documents: int
    valid_documents: int
    erroneous_documents: int
    transactions: int


@dataclass(frozen=True, slots=True)
class TaskState:
    """A task of a job as a renderer sees it.

    ``documents`` is None while the task has no results (waiting, running, failed as a whole);
    each document is ``{"id", "entities" | "classes", "warnings"?}`` with offsets already in
    the task's ``stringIndexType``.
    """

    task: AnalysisTask
    status: JobStatus
    updated_at: str
    documents: tuple[dict[str, Any], ...] | None
    errors: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class AnalysisJob:
    """An analyze job as a renderer sees it."""

    job_id: str
    display_name: str | None
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    errors: tuple[dict[str, Any], ...]
    documents: tuple[InputDocument, ...]
    tasks: tuple[TaskState, ...]
    _statistics: dict[str, DocumentStatistics] | None = field(default=None, repr=False)

    def document_statistics(self) -> dict[str, DocumentStatistics]:
        """Statistics of each valid document by id (counted on first use: only showStats pays)."""
        if self._statistics is None:
            computed = {
                document.id: _document_statistics(document.text)
                for document in self.documents
                if not document.is_empty
            }
            object.__setattr__(self, "_statistics", computed)
            return computed
        return self._statistics

    def request_statistics(self) -> RequestStatistics:
        """Statistics of the whole request."""
        per_document = self.document_statistics()
        return RequestStatistics(
            documents=len(self.documents),
            valid_documents=len(per_document),
            erroneous_documents=len(self.documents) - len(per_document),
            transactions=sum(stats.transactions for stats in per_document.values()),
        )


def count_characters(text: str) -> int:
    """``text``'s length in text elements (extended grapheme clusters).

    Spec §4 counts the character limits in text elements, so a family emoji or a letter with
    combining marks is one character, as Azure counts it.
    """
    return OffsetMap(text).length_in(StringIndexType.TEXT_ELEMENTS)


def _document_statistics(text: str) -> DocumentStatistics:
    characters = count_characters(text)
    return DocumentStatistics(characters, math.ceil(characters / CHARACTERS_PER_TRANSACTION))


# -- submit ------------------------------------------------------------------------------------


def submit_analysis(
    context: ServiceContext, request: AnalysisRequest, *, api_key_id: int | None = None
) -> Job:
    """Check a request against the limits and the deployed models, then queue it.

    ``api_key_id`` is the stored key that sent it (None: the configured key): the job records
    it, and workers share their time fairly between keys. The job row is committed when this
    returns, so the caller may answer ``202``.
    """
    characters = _check_documents(context, request.documents)
    if not request.tasks:
        raise InvalidRequestBody("tasks must contain at least one task", target="tasks")
    limit = context.settings.max_tasks_per_request
    if len(request.tasks) > limit:
        # Each task runs every document through a model: without a bound one request could
        # hold the analyze workers for minutes (LEXICRAFT_MAX_TASKS_PER_REQUEST).
        raise InvalidParameterValue(
            f"The request has {len(request.tasks)} tasks; the limit is {limit} tasks per "
            "request (setting LEXICRAFT_MAX_TASKS_PER_REQUEST).",
            target="tasks",
        )
    _check_cost(context, request, characters)
    with context.database.session() as session:
        tasks = [_check_task(session, task, index) for index, task in enumerate(request.tasks)]
        payload = {
            "family": request.family.value,
            "documents": [
                {"id": document.id, "text": document.text, "language": document.language}
                for document in request.documents
            ],
            "tasks": [task.to_payload() for task in tasks],
        }
        return context.queue.add(
            session,
            JobKind.ANALYZE,
            payload,
            ttl_s=context.settings.analyze_job_ttl_s,
            target=request.family.value,
            display_name=request.display_name,
            api_key_id=api_key_id,
        )


def _check_documents(context: ServiceContext, documents: Sequence[InputDocument]) -> int:
    """The request-level document rules of spec §4 (an empty text is a per-document error).

    Returns the request's characters: code points, or text elements where the limits needed
    the exact count (a text has at most as many text elements as code points).
    """
    settings = context.settings
    if not documents:
        raise MissingInputDocuments(
            "the request has no documents; send at least one in analysisInput.documents",
            target="analysisInput.documents",
        )
    if len(documents) > settings.max_documents_per_request:
        raise InvalidDocumentBatch(
            f"Batch request contains too many records: {len(documents)} documents. Max "
            f"{settings.max_documents_per_request} records are permitted.",
            target="analysisInput.documents",
        )
    seen: set[str] = set()
    for document in documents:
        if document.id in seen:
            raise InvalidDocumentBatch(
                f"Request contains duplicated document id {document.id!r}; ids must be unique.",
                target="analysisInput.documents",
            )
        seen.add(document.id)
    # A text has at most as many text elements as code points, so only texts longer than a
    # limit in code points need the (slower) grapheme count.
    per_document = settings.max_characters_per_document
    total = 0
    for index, document in enumerate(documents):
        characters = len(document.text)
        if characters > per_document:
            characters = count_characters(document.text)
            if characters > per_document:
                raise DocumentTooLarge(
                    f"Document {document.id!r} has {characters} characters (text elements); "
                    f"the limit is {per_document} characters per document.",
                    target=f"analysisInput.documents[{index}]",
                )
        total += characters
    if total > settings.max_characters_per_request:
        total = sum(count_characters(document.text) for document in documents)
        if total > settings.max_characters_per_request:
            raise InvalidDocumentBatch(
                f"The request has {total} characters (text elements); the limit is "
                f"{settings.max_characters_per_request} characters per request.",
                target="analysisInput.documents",
            )
    return total


def _check_cost(context: ServiceContext, request: AnalysisRequest, characters: int) -> None:
    """Refuse a request that costs more than ``max_request_cost`` task-characters.

    Every task runs every character through a model, so tasks x characters is what a request
    costs the workers; without a bound one request could hold a prediction slot for minutes.
    """
    limit = context.settings.max_request_cost
    tasks = len(request.tasks)
    if tasks * characters <= limit:
        return
    # ``characters`` may be code points; the limit counts text elements, as the others do.
    characters = sum(count_characters(document.text) for document in request.documents)
    if tasks * characters > limit:
        raise InvalidParameterValue(
            f"The request costs {tasks * characters} task-characters ({tasks} tasks x "
            f"{characters} characters); the limit is {limit} task-characters per request "
            "(setting LEXICRAFT_MAX_REQUEST_COST). Send fewer tasks or fewer characters per "
            "request.",
            target="tasks",
        )


def _check_task(session: Session, task: AnalysisTask, index: int) -> AnalysisTask:
    """``task`` if its project and deployment exist and serve its kind, else 404 / 400."""
    if task.model_id is not None:
        found = model_store.find_model_by_id(session, task.model_id)
        if found is None:
            raise ModelNotFound(f"trained model with modelId {task.model_id!r} was not found")
        model, kind = found
        _check_kind(model.project_name, kind, task, index)
        return AnalysisTask(
            kind=task.kind,
            task_name=task.task_name,
            project_name=model.project_name,
            deployment_name=None,
            string_index_type=task.string_index_type,
            model_id=model.model_id,
            group=task.group,
        )
    if task.deployment_name is not None:
        # Every submit asks this: the usual answer in one narrow query (the deployment and its
        # project's kind); the checks below name what is missing when there is none.
        served = model_store.served_model(session, task.project_name, task.deployment_name)
        if served is not None:
            _check_kind(task.project_name, served[1], task, index)
            return task
    project: Project = project_store.get_project(session, task.project_name)
    _check_kind(project.name, project.kind, task, index)
    if task.deployment_name is None:
        raise InvalidParameterValue(
            "deploymentName is required", target=f"tasks[{index}].parameters.deploymentName"
        )
    model_store.get_deployment(session, project.name, task.deployment_name)
    return task


def _check_kind(project_name: str, kind: ProjectKind, task: AnalysisTask, index: int) -> None:
    if kind is not task.kind:
        raise InvalidParameterValue(
            f"project {project_name!r} is a {kind.value} project; a {task.kind.value} task "
            "cannot use it",
            target=f"tasks[{index}]",
        )


# -- run ---------------------------------------------------------------------------------------


def run_analysis(context: ServiceContext, job: JobContext) -> JobOutcome:
    """Run every task of an analyze job; a task that cannot run fails alone (spec §1.6).

    The job ``succeeded`` when every task did (per-document errors included),
    ``partiallyCompleted`` when some tasks failed and ``failed`` when all did.
    """
    payload = job.job.payload
    documents = tuple(
        InputDocument(raw["id"], raw["text"], raw.get("language")) for raw in payload["documents"]
    )
    tasks = [AnalysisTask.from_payload(raw) for raw in payload["tasks"]]
    run = _JobRun(context, job, documents, len(tasks))
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for index, task in enumerate(tasks):
        failure: LexicraftError
        try:
            results.append(run.run_task(task))
            continue
        except ServiceUnavailable:
            # An outage is not the task's failure: the worker hands the whole job out again.
            raise
        except JobCancelled:
            stamp = format_datetime(utcnow())
            results.extend(
                {"status": JobStatus.CANCELLED.value, "lastUpdateDateTime": stamp}
                for _ in tasks[index:]
            )
            return JobOutcome(JobStatus.CANCELLED, result={"tasks": results}, errors=tuple(errors))
        except LexicraftError as error:
            # The worker's rule for a job's failure, for this task alone: the error's message
            # is written for clients; the log keeps one line of it.
            logger.info("task %d of analyze job %s failed: %s", index, job.job.id, error.message)
            failure = error
        except Exception:
            # A fault: clients read a stable message; the traceback is logged under the job.
            logger.exception("task %d of analyze job %s failed", index, job.job.id)
            failure = internal_failure(f"Task {index}", job.job.id)
        errors.append({**failure.to_error(), "target": f"#/tasks/items/{index}"})
        results.append(_failed_task())
    failed = sum(1 for result in results if result["status"] == JobStatus.FAILED.value)
    if failed == 0:
        status = JobStatus.SUCCEEDED
    elif failed == len(results):
        status = JobStatus.FAILED
    else:
        status = JobStatus.PARTIALLY_COMPLETED
    return JobOutcome(status, result={"tasks": results}, errors=tuple(errors))


def _failed_task() -> dict[str, Any]:
    return {"status": JobStatus.FAILED.value, "lastUpdateDateTime": format_datetime(utcnow())}


class _JobRun:
    """The state of one run of a job: documents in predict order and batches, progress,
    cancellation.

    Each batch (one task over a few documents) is one turn at a prediction slot: the compute
    hands the slots out fairly between the keys whose jobs wait for them (the job's
    ``api_key_id`` is the client), so a small batch bounds how long another key's new job
    waits, whatever this job's size.
    """

    def __init__(
        self,
        context: ServiceContext,
        job: JobContext,
        documents: tuple[InputDocument, ...],
        task_count: int,
    ) -> None:
        self.context = context
        self.job = job
        self.documents = documents
        # Shortest first: batches of similar length waste less padding in windowed models.
        self.order = sorted(
            (index for index, document in enumerate(documents) if not document.is_empty),
            key=lambda index: len(documents[index].text),
        )
        self.empty_errors = [
            {"id": document.id, "error": InvalidDocument(EMPTY_DOCUMENT_MESSAGE).to_error()}
            for document in documents
            if document.is_empty
        ]
        self.batches_of_documents = _cut_batches(
            [len(documents[index].text) for index in self.order],
            context.settings.predict_batch_size,
            context.settings.predict_batch_characters,
        )
        self.client = job.job.api_key_id
        self.total_work = max(1, len(self.order) * task_count)
        self.done = 0
        self.batches = 0
        self.last_progress = time.monotonic()
        self.offset_maps: dict[int, OffsetMap] = {}

    def run_task(self, task: AnalysisTask) -> dict[str, Any]:
        """Predict every valid document with the task's deployment; raises if it cannot run."""
        rendered = self._predict(task, self._artifact_dir(task))
        DOCUMENTS_ANALYZED.labels(task.project_name, task.deployment_name or "").inc(len(rendered))
        return {
            "status": JobStatus.SUCCEEDED.value,
            "lastUpdateDateTime": format_datetime(utcnow()),
            "documents": [rendered[index] for index in sorted(rendered)],
            "errors": list(self.empty_errors),
        }

    def _artifact_dir(self, task: AnalysisTask) -> str:
        """The model the task's deployment serves *now* (swaps take effect)."""
        with self.context.database.session() as session:
            return _resolve_artifact_dir(session, task)

    def _predict(self, task: AnalysisTask, artifact: str) -> dict[int, dict[str, Any]]:
        """Each valid document's result by index, in batches; whole texts, never truncated."""
        rendered: dict[int, dict[str, Any]] = {}
        for positions in self.batches_of_documents:
            # The claim just saw the job waiting, so the first batch needs no cancel check.
            if self.batches:
                self.job.check_cancelled()
            self.batches += 1
            indexes = [self.order[position] for position in positions]

            # Rendering is handed to the compute: in-process, it shares the forward pass's
            # turn (CPU work beside a forward pass stalls PyTorch's thread team).
            def render(outputs: list[ModelOutput], indexes: list[int] = indexes) -> None:
                for index, output in zip(indexes, outputs, strict=True):
                    rendered[index] = self._render(task, index, output)

            texts = [self.documents[index].text for index in indexes]
            training.run_model(self.context, task.kind, artifact, texts, render, self.client)
            self._advance(len(indexes))
        return rendered

    def _render(self, task: AnalysisTask, index: int, output: Any) -> dict[str, Any]:
        """One document's result, offsets in the task's ``stringIndexType``."""
        document_id = self.documents[index].id
        if task.kind is ProjectKind.ENTITY_RECOGNITION:
            spans: list[PredictedSpan] = output
            entities = [self._entity(index, span, task.string_index_type) for span in spans]
            return {"id": document_id, "entities": entities}
        scores: list[ClassScore] = output
        classes = [
            {"category": score.category, "confidenceScore": _score(score.confidence)}
            for score in scores
        ]
        return {"id": document_id, "classes": classes}

    def _advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last_progress >= _PROGRESS_INTERVAL_S:
            self.last_progress = now
            self.job.progress(100.0 * self.done / self.total_work)

    def _entity(self, index: int, span: PredictedSpan, unit: StringIndexType) -> dict[str, Any]:
        offsets = self.offset_maps.get(index)
        if offsets is None:
            offsets = self.offset_maps[index] = OffsetMap(self.documents[index].text)
        offset, length = offsets.span_to_unit(span.start, span.end, unit)
        # The entity's text is what offset/length cover in the caller's unit: a text-element
        # span may have widened to whole clusters.
        start, end = offsets.span_from_unit(offset, length, unit)
        return {
            "text": offsets.text[start:end],
            "category": span.category,
            "offset": offset,
            "length": length,
            "confidenceScore": _score(span.confidence),
        }


def _cut_batches(lengths: Sequence[int], size: int, characters: int) -> list[range]:
    """Consecutive positions of ``lengths`` in batches of at most ``size`` texts and
    ``characters`` characters; a text longer than ``characters`` is a batch of its own."""
    size, characters = max(1, size), max(1, characters)
    batches: list[range] = []
    start, total = 0, 0
    for position, length in enumerate(lengths):
        if position > start and (position - start >= size or total + length > characters):
            batches.append(range(start, position))
            start, total = position, 0
        total += length
    if start < len(lengths):
        batches.append(range(start, len(lengths)))
    return batches


def _resolve_artifact_dir(session: Session, task: AnalysisTask) -> str:
    """The model folder (its model-store key) ``task`` addresses: its deployment's pinned run.

    Every job asks this once per task, so it reads few columns (a model's evaluation JSON is
    deferred). When nothing matches, the slower checks of submit time name what is missing.
    """
    if task.model_id is not None:
        found = model_store.find_model_by_id(session, task.model_id)
        served = None if found is None else (found[0].artifact_dir, found[1])
    elif task.deployment_name is not None:
        served = model_store.served_model(session, task.project_name, task.deployment_name)
    else:
        served = None
    if served is None:
        _check_task(session, task, 0)
        raise ModelNotFound(
            f"deployment {task.deployment_name!r} of project {task.project_name!r} serves no "
            "trained model"
        )
    artifact_dir, kind = served
    if kind is not task.kind:
        raise InvalidParameterValue(
            f"project {task.project_name!r} is a {kind.value} project; a {task.kind.value} task "
            "cannot use it"
        )
    return artifact_dir


def _score(value: float) -> float:
    return round(min(1.0, max(0.0, float(value))), 4)


# -- read and cancel ---------------------------------------------------------------------------


def get_analysis(context: ServiceContext, job_id: str, family: ApiFamily) -> AnalysisJob:
    """The job ``job_id`` of ``family`` (OperationNotFound once it expired)."""
    with context.database.session() as session:
        job = context.queue.get(session, job_id, [JobKind.ANALYZE], target=family.value)
    return _to_analysis_job(job)


def _to_analysis_job(job: Job) -> AnalysisJob:
    payload = job.payload
    status = job.status
    documents = tuple(
        InputDocument(raw["id"], raw["text"], raw.get("language")) for raw in payload["documents"]
    )
    stored: list[dict[str, Any]] = (job.result or {}).get("tasks", [])
    updated = format_datetime(job.updated_at)
    states = []
    for index, raw_task in enumerate(payload["tasks"]):
        task = AnalysisTask.from_payload(raw_task)
        if index < len(stored):
            result = stored[index]
            task_status = JobStatus(result["status"])
            raw_documents = result.get("documents")
            states.append(
                TaskState(
                    task=task,
                    status=task_status,
                    updated_at=result.get("lastUpdateDateTime", updated),
                    documents=None
                    if raw_documents is None and task_status is JobStatus.FAILED
                    else tuple(raw_documents or ()),
                    errors=tuple(result.get("errors", ())),
                )
            )
        else:
            states.append(_pending_task(task, status, updated))
    return AnalysisJob(
        job_id=job.id,
        display_name=job.display_name,
        status=status,
        created_at=job.created_at,
        updated_at=job.updated_at,
        expires_at=job.expires_at,
        errors=job.errors,
        documents=documents,
        tasks=tuple(states),
    )


def _pending_task(task: AnalysisTask, job_status: JobStatus, updated: str) -> TaskState:
    """A task without stored results: waiting, running, or ended with its job."""
    if job_status is JobStatus.NOT_STARTED:
        return TaskState(task, JobStatus.NOT_STARTED, updated, None, ())
    if job_status in (JobStatus.RUNNING, JobStatus.CANCELLING):
        return TaskState(task, JobStatus.RUNNING, updated, None, ())
    if job_status is JobStatus.CANCELLED:
        # Empty results, not none: the 5.x SDK then reports "no result" per document (§1.6).
        return TaskState(task, JobStatus.CANCELLED, updated, (), ())
    return TaskState(task, JobStatus.FAILED, updated, None, ())


def cancel_analysis(context: ServiceContext, job_id: str, family: ApiFamily) -> None:
    """Cancel a waiting job at once or ask a running one to stop; a finished job is a 400."""
    cancellation.cancel_job(context, job_id, [JobKind.ANALYZE], target=family.value)
