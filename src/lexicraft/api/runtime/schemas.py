"""Analyze request bodies of both runtime wire families, parsed into an ``AnalysisRequest``.

Shapes: spec §1.2 (Language API ``tasks`` list) and §2.1/§2.2 (legacy task lists with
hyphenated ``project-name`` / ``deployment-name``). Parsing is lenient where clients differ
(kind and ``stringIndexType`` spellings, camel-cased legacy parameters, ct.1's ``modelId``)
and strict where a silent guess would hide a mistake.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lexicraft.domain.projects import ProjectKind
from lexicraft.domain.text import StringIndexType
from lexicraft.errors import (
    InvalidParameterValue,
    InvalidRequestBody,
    MissingInputDocuments,
    MissingInputRecords,
)
from lexicraft.services.analysis import AnalysisRequest, AnalysisTask, ApiFamily, InputDocument

_CUSTOM_KINDS = {kind.value.lower(): kind for kind in ProjectKind}
_SUPPORTED = [kind.value for kind in ProjectKind]

#: Legacy task lists (spec §2.1, §2.2) and the project kind each one runs.
LEGACY_GROUPS: Mapping[str, ProjectKind] = {
    "customEntityRecognitionTasks": ProjectKind.ENTITY_RECOGNITION,
    "customSingleClassificationTasks": ProjectKind.SINGLE_LABEL_CLASSIFICATION,
    # v3.1-preview.ct.1's name for single-label classification.
    "customClassificationTasks": ProjectKind.SINGLE_LABEL_CLASSIFICATION,
    "customMultiClassificationTasks": ProjectKind.MULTI_LABEL_CLASSIFICATION,
}


def is_custom_kind(value: object) -> bool:
    """Whether ``value`` names one of the custom task kinds."""
    return isinstance(value, str) and value.lower() in _CUSTOM_KINDS


def parse_language_request(body: Mapping[str, Any]) -> AnalysisRequest:
    """A Language API (``/language/analyze-text/jobs``) submit body (spec §1.2)."""
    default_language = _optional_str(body, "defaultLanguage", "defaultLanguage")
    documents = _parse_documents(body, MissingInputDocuments, default_language)
    raw_tasks = body.get("tasks")
    if not isinstance(raw_tasks, list) or not raw_tasks:
        raise InvalidRequestBody(
            "tasks must be a non-empty list of tasks such as "
            '{"kind": "CustomEntityRecognition", "parameters": {"projectName": …, '
            '"deploymentName": …}}',
            target="tasks",
        )
    tasks = []
    for index, raw in enumerate(raw_tasks):
        where = f"tasks[{index}]"
        if not isinstance(raw, dict):
            raise InvalidRequestBody(f"{where} must be an object", target=where)
        kind = _task_kind(raw.get("kind"), f"{where}.kind")
        parameters = raw.get("parameters")
        if not isinstance(parameters, dict):
            raise InvalidRequestBody(
                f"{where}.parameters must be an object with projectName and deploymentName",
                target=f"{where}.parameters",
            )
        tasks.append(
            AnalysisTask(
                kind=kind,
                task_name=_task_name(raw, index, where),
                project_name=_required_str(parameters, "projectName", f"{where}.parameters"),
                deployment_name=_required_str(parameters, "deploymentName", f"{where}.parameters"),
                string_index_type=_index_type(parameters),
            )
        )
    return AnalysisRequest(
        documents=documents,
        tasks=tuple(tasks),
        family=ApiFamily.LANGUAGE,
        display_name=_optional_str(body, "displayName", "displayName"),
    )


def parse_legacy_request(body: Mapping[str, Any]) -> AnalysisRequest:
    """A legacy ``/text/analytics/v3.x-preview…/analyze`` body (spec §2.1, §2.2)."""
    documents = _parse_documents(body, MissingInputRecords, None)
    raw_groups = body.get("tasks")
    if not isinstance(raw_groups, dict):
        raise InvalidRequestBody(
            "tasks must be an object with task lists such as customEntityRecognitionTasks",
            target="tasks",
        )
    tasks: list[AnalysisTask] = []
    for group, raw_tasks in raw_groups.items():
        kind = LEGACY_GROUPS.get(group)
        if kind is None:
            if raw_tasks:
                raise InvalidParameterValue(
                    f"tasks.{group} is not supported: Lexicraft serves custom models only; "
                    f"use {sorted(LEGACY_GROUPS)}",
                    target=f"tasks.{group}",
                )
            continue
        if not isinstance(raw_tasks, list):
            raise InvalidRequestBody(f"tasks.{group} must be a list", target=f"tasks.{group}")
        for position, raw in enumerate(raw_tasks):
            where = f"tasks.{group}[{position}]"
            if not isinstance(raw, dict):
                raise InvalidRequestBody(f"{where} must be an object", target=where)
            tasks.append(_legacy_task(raw, kind, group, len(tasks), where))
    if not tasks:
        raise InvalidRequestBody(
            f"tasks must contain at least one task in one of {sorted(LEGACY_GROUPS)}",
            target="tasks",
        )
    return AnalysisRequest(
        documents=documents,
        tasks=tuple(tasks),
        family=ApiFamily.LEGACY,
        display_name=_optional_str(body, "displayName", "displayName"),
    )


def _legacy_task(
    raw: Mapping[str, Any], kind: ProjectKind, group: str, index: int, where: str
) -> AnalysisTask:
    parameters = raw.get("parameters")
    if not isinstance(parameters, dict):
        raise InvalidRequestBody(
            f"{where}.parameters must be an object with project-name and deployment-name",
            target=f"{where}.parameters",
        )
    project = _first_str(parameters, ("project-name", "projectName"), f"{where}.parameters")
    deployment = _first_str(
        parameters, ("deployment-name", "deploymentName"), f"{where}.parameters"
    )
    model_id = _first_str(parameters, ("modelId",), f"{where}.parameters")
    if model_id is not None and (project is None or deployment is None):
        # v3.1-preview.ct.1 addressed a trained model directly; the service finds its project.
        return AnalysisTask(
            kind=kind,
            task_name=_task_name(raw, index, where),
            project_name=project or "",
            deployment_name=None,
            string_index_type=_index_type(parameters),
            model_id=model_id,
            group=group,
        )
    if project is None or deployment is None:
        raise InvalidRequestBody(
            f"{where}.parameters needs 'project-name' and 'deployment-name'",
            target=f"{where}.parameters",
        )
    return AnalysisTask(
        kind=kind,
        task_name=_task_name(raw, index, where),
        project_name=project,
        deployment_name=deployment,
        string_index_type=_index_type(parameters),
        group=group,
    )


def _parse_documents(
    body: Mapping[str, Any],
    missing: type[MissingInputDocuments],
    default_language: str | None,
) -> tuple[InputDocument, ...]:
    analysis_input = body.get("analysisInput")
    if analysis_input is not None and not isinstance(analysis_input, dict):
        raise InvalidRequestBody("analysisInput must be an object", target="analysisInput")
    raw_documents = None if analysis_input is None else analysis_input.get("documents")
    if raw_documents is None or raw_documents == []:
        raise missing(
            "the request has no documents; send them in analysisInput.documents",
            target="analysisInput.documents",
        )
    if not isinstance(raw_documents, list):
        raise InvalidRequestBody(
            "analysisInput.documents must be a list", target="analysisInput.documents"
        )
    documents = []
    for index, raw in enumerate(raw_documents):
        where = f"analysisInput.documents[{index}]"
        if not isinstance(raw, dict):
            raise InvalidRequestBody(f"{where} must be an object with id and text", target=where)
        document_id = raw.get("id")
        if not isinstance(document_id, str) or not document_id:
            raise InvalidRequestBody(f"{where}.id must be a non-empty string", target=where)
        text = raw.get("text")
        if not isinstance(text, str):
            raise InvalidRequestBody(f"{where}.text must be a string", target=where)
        language = _optional_str(raw, "language", f"{where}.language") or default_language
        documents.append(InputDocument(document_id, text, language))
    return tuple(documents)


def _task_kind(value: object, where: str) -> ProjectKind:
    if value is None:
        raise InvalidRequestBody(f"{where} is required; use one of {_SUPPORTED}", target=where)
    if isinstance(value, str):
        kind = _CUSTOM_KINDS.get(value.lower())
        if kind is not None:
            return kind
    raise InvalidParameterValue(
        f"task kind {value!r} is not supported: Lexicraft serves custom models only; use one "
        f"of {_SUPPORTED}",
        target=where,
    )


def _task_name(raw: Mapping[str, Any], index: int, where: str) -> str:
    # Clients match results by taskName, so one is always echoed; absent, it is the index.
    name = raw.get("taskName")
    if name is None:
        return str(index)
    if not isinstance(name, str):
        raise InvalidRequestBody(f"{where}.taskName must be a string", target=f"{where}.taskName")
    return name


def _index_type(parameters: Mapping[str, Any]) -> StringIndexType:
    # Every version's default is text elements (spec §3); both spellings are accepted.
    return StringIndexType.parse(parameters.get("stringIndexType"), StringIndexType.TEXT_ELEMENTS)


def _required_str(mapping: Mapping[str, Any], key: str, where: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidRequestBody(f"{where}.{key} is required", target=f"{where}.{key}")
    return value


def _first_str(mapping: Mapping[str, Any], keys: tuple[str, ...], where: str) -> str | None:
    for key in keys:
        value = mapping.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise InvalidRequestBody(
                f"{where}.{key} must be a non-empty string", target=f"{where}.{key}"
            )
        return value
    return None


def _optional_str(mapping: Mapping[str, Any], key: str, where: str) -> str | None:
    value = mapping.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidRequestBody(f"{where} must be a string", target=where)
    return value
