"""Analyze job bodies, one small renderer per wire family (spec §1.3 to §1.8, §2.1, §6).

The service hands over an :class:`AnalysisJob` with neutral results; only here do the
families' spellings differ: ``lastUpdatedDateTime`` vs ``lastUpdateDateTime``, ``class`` vs
``classification`` / ``classifications``, ``tasks.items`` vs per-kind task lists,
``nextLink`` vs ``@nextLink``, and the task pointers of job errors. Within the Language API
only the first previews differ (:data:`EARLY_PREVIEWS`). The shapes are documented by
:mod:`lexicraft.api.runtime.responses`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse

from lexicraft.api.requests import absolute_url, int_query
from lexicraft.domain.jobs import JobStatus
from lexicraft.domain.projects import ProjectKind
from lexicraft.errors import InvalidParameterValue
from lexicraft.services.analysis import (
    AnalysisJob,
    AnalysisTask,
    DocumentStatistics,
    TaskState,
)
from lexicraft.timeutil import format_datetime

_LANGUAGE_RESULT_KINDS = {
    ProjectKind.ENTITY_RECOGNITION: "CustomEntityRecognitionLROResults",
    ProjectKind.SINGLE_LABEL_CLASSIFICATION: "CustomSingleLabelClassificationLROResults",
    ProjectKind.MULTI_LABEL_CLASSIFICATION: "CustomMultiLabelClassificationLROResults",
}

_LEGACY_DEFAULT_GROUPS = {
    ProjectKind.ENTITY_RECOGNITION: "customEntityRecognitionTasks",
    ProjectKind.SINGLE_LABEL_CLASSIFICATION: "customSingleClassificationTasks",
    ProjectKind.MULTI_LABEL_CLASSIFICATION: "customMultiClassificationTasks",
}

#: The Language API previews whose job state still had the v3.x spellings: ``lastUpdateDateTime``
#: for the job and ``partiallySucceeded`` for a partial job (Azure's swagger and examples for
#: them); ``2022-05-01`` and later say ``lastUpdatedDateTime`` and ``partiallyCompleted``.
EARLY_PREVIEWS = frozenset({"2022-02-01-preview", "2022-03-01-preview"})

_ITEM_POINTER = re.compile(r"^#/tasks/items/(\d+)$")

DocumentRenderer = Callable[
    [AnalysisTask, dict[str, Any], DocumentStatistics | None], dict[str, Any]
]


@dataclass(frozen=True, slots=True)
class Page:
    """Which documents (by request position) a response shows, and the link to the rest."""

    skip: int
    top: int
    next_link: str | None

    def ids(self, job: AnalysisJob) -> frozenset[str]:
        """The ids of the documents on this page."""
        window = job.documents[self.skip : self.skip + self.top]
        return frozenset(document.id for document in window)


def page(request: Request, total: int, *, top_name: str, skip_name: str, default_top: int) -> Page:
    """The page the query asks for; ``next_link`` is absolute and keeps the other parameters."""
    skip = int_query(request, skip_name, default=0) or 0
    top = int_query(request, top_name, default=default_top)
    if top is None or top < 1:
        raise InvalidParameterValue(f"{top_name} must be at least 1", target=top_name)
    next_link = None
    if skip + top < total:
        query = dict(request.query_params)
        query[skip_name] = str(skip + top)
        query[top_name] = str(top)
        # "$" stays literal: the legacy SDK strips it from the raw query before parsing.
        next_link = absolute_url(request, request.url.path, urlencode(query, safe="$"))
    return Page(skip=skip, top=top, next_link=next_link)


def job_response(body: dict[str, Any], job: AnalysisJob, retry_after_s: int) -> JSONResponse:
    """A poll answer; ``Retry-After`` tells clients when to ask again while the job runs.

    A setting of 0 sends no header, leaving the pace to each client's own polling interval
    (azure-core reads ``Retry-After: 0`` as absent anyway).
    """
    waiting = not job.status.is_terminal and retry_after_s > 0
    headers = {"Retry-After": str(retry_after_s)} if waiting else {}
    return JSONResponse(body, headers=headers)


# -- Language API (spec §1) ------------------------------------------------------------------


def render_language_job(
    job: AnalysisJob, page: Page, show_stats: bool, api_version: str
) -> dict[str, Any]:
    """The ``/language/analyze-text/jobs/{id}`` body in ``api_version``'s spelling."""
    early = api_version in EARLY_PREVIEWS
    status = job.status.value
    if early and job.status is JobStatus.PARTIALLY_COMPLETED:
        status = "partiallySucceeded"
    body: dict[str, Any] = {"jobId": job.job_id}
    if job.display_name is not None:
        body["displayName"] = job.display_name
    body |= {
        "createdDateTime": format_datetime(job.created_at),
        "lastUpdateDateTime" if early else "lastUpdatedDateTime": format_datetime(job.updated_at),
        "expirationDateTime": format_datetime(job.expires_at),
        "status": status,
        "errors": [dict(error) for error in job.errors],
    }
    if show_stats:
        body["statistics"] = _request_statistics(job)
    items = []
    for state in job.tasks:
        item: dict[str, Any] = {
            "kind": _LANGUAGE_RESULT_KINDS[state.task.kind],
            "taskName": state.task.task_name,
            "lastUpdateDateTime": state.updated_at,
            "status": state.status.value,
        }
        if state.documents is not None:
            item["results"] = _results(job, state, page, show_stats, _language_document)
        items.append(item)
    body["tasks"] = {**_task_counts(job), "items": items}
    if page.next_link is not None:
        body["nextLink"] = page.next_link
    return body


def _language_document(
    task: AnalysisTask, document: dict[str, Any], statistics: DocumentStatistics | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"id": document["id"]}
    if task.kind is ProjectKind.ENTITY_RECOGNITION:
        body["entities"] = document["entities"]
    else:
        # Both classification kinds use a "class" array (one element for single-label).
        body["class"] = document["classes"]
    body["warnings"] = document.get("warnings", [])
    if statistics is not None:
        body["statistics"] = _document_statistics(statistics)
    return body


# -- legacy Text Analytics v3.x previews (spec §2) -------------------------------------------


def render_legacy_job(job: AnalysisJob, page: Page, show_stats: bool) -> dict[str, Any]:
    """The ``/text/analytics/v3.x-preview…/analyze/jobs/{id}`` body."""
    groups: dict[str, list[dict[str, Any]]] = {}
    pointers: dict[int, str] = {}
    for index, state in enumerate(job.tasks):
        group = state.task.group or _LEGACY_DEFAULT_GROUPS[state.task.kind]
        items = groups.setdefault(group, [])
        pointers[index] = f"#/tasks/{group}/{len(items)}"
        item: dict[str, Any] = {
            "taskName": state.task.task_name,
            "lastUpdateDateTime": state.updated_at,
            "status": state.status.value,
        }
        if state.documents is not None:
            item["results"] = _results(job, state, page, show_stats, _legacy_document)
        items.append(item)
    body: dict[str, Any] = {"jobId": job.job_id}
    if job.display_name is not None:
        body["displayName"] = job.display_name
    body |= {
        "createdDateTime": format_datetime(job.created_at),
        "expirationDateTime": format_datetime(job.expires_at),
        "lastUpdateDateTime": format_datetime(job.updated_at),
        "status": job.status.value,
        "errors": [_legacy_error(error, pointers) for error in job.errors],
    }
    if show_stats:
        body["statistics"] = _request_statistics(job)
    body["tasks"] = {**_task_counts(job), **groups}
    if page.next_link is not None:
        body["@nextLink"] = page.next_link
    return body


def _legacy_error(error: Mapping[str, Any], pointers: Mapping[int, str]) -> dict[str, Any]:
    """A job error whose Language-API task pointer becomes the legacy per-list pointer."""
    rendered = dict(error)
    match = _ITEM_POINTER.match(str(error.get("target", "")))
    if match is not None and int(match.group(1)) in pointers:
        rendered["target"] = pointers[int(match.group(1))]
    return rendered


def _legacy_document(
    task: AnalysisTask, document: dict[str, Any], statistics: DocumentStatistics | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"id": document["id"]}
    if task.kind is ProjectKind.ENTITY_RECOGNITION:
        body["entities"] = document["entities"]
    else:
        classes = document["classes"]
        if task.kind is ProjectKind.SINGLE_LABEL_CLASSIFICATION:
            body["classification"] = classes[0] if classes else None
        else:
            body["classifications"] = classes
        if task.group == "customClassificationTasks":
            # v3.1-preview.ct.1's documents listed "classes"; old scripts may read that.
            body["classes"] = classes
    body["warnings"] = document.get("warnings", [])
    if statistics is not None:
        body["statistics"] = _document_statistics(statistics)
    return body


# -- shared ----------------------------------------------------------------------------------


def _results(
    job: AnalysisJob,
    state: TaskState,
    page: Page,
    show_stats: bool,
    render_document: DocumentRenderer,
) -> dict[str, Any]:
    assert state.documents is not None
    ids = page.ids(job)
    statistics = job.document_statistics() if show_stats else {}
    task = state.task
    results: dict[str, Any] = {
        "documents": [
            render_document(task, document, statistics.get(document["id"]))
            for document in state.documents
            if document["id"] in ids
        ],
        "errors": [dict(error) for error in state.errors if error["id"] in ids],
        "projectName": task.project_name,
        "deploymentName": task.deployment_name or task.model_id,
    }
    if show_stats:
        results["statistics"] = _request_statistics(job)
    return results


def _task_counts(job: AnalysisJob) -> dict[str, int]:
    statuses = [state.status for state in job.tasks]
    return {
        "completed": statuses.count(JobStatus.SUCCEEDED),
        "failed": statuses.count(JobStatus.FAILED),
        "inProgress": statuses.count(JobStatus.NOT_STARTED) + statuses.count(JobStatus.RUNNING),
        "total": len(statuses),
    }


def _request_statistics(job: AnalysisJob) -> dict[str, int]:
    statistics = job.request_statistics()
    return {
        "documentsCount": statistics.documents,
        "validDocumentsCount": statistics.valid_documents,
        "erroneousDocumentsCount": statistics.erroneous_documents,
        "transactionsCount": statistics.transactions,
    }


def _document_statistics(statistics: DocumentStatistics) -> dict[str, int]:
    return {
        "charactersCount": statistics.characters,
        "transactionsCount": statistics.transactions,
    }
