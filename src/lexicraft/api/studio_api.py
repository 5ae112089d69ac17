"""Labeling routes the Studio needs (a Lexicraft extension): ``/language/lexicraft/projects/…``.

Azure's authoring API only imports whole projects; these routes change one document or the
label list at a time. Offsets are code points (``"stringIndexType": "UnicodeCodePoint"``),
lengths too. They live under ``/language/`` so the subscription key protects them. Each route
parses, calls one service, renders.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lexicraft.api.authoring.render import page
from lexicraft.api.dependencies import Context
from lexicraft.api.requests import json_object
from lexicraft.domain.projects import Dataset, Document, ProjectKind
from lexicraft.domain.spans import Span
from lexicraft.domain.text import StringIndexType
from lexicraft.errors import InvalidRequestBody
from lexicraft.services import documents
from lexicraft.services.documents import (
    DatasetFilter,
    DocumentChange,
    DocumentQuery,
    LabeledDocument,
    LabelList,
    LabelStatus,
    NewDocument,
)

PREFIX = "/language/lexicraft/projects"
router = APIRouter(prefix=PREFIX, tags=["studio"])


# -- wire → values -----------------------------------------------------------------------------


def _field(body: dict[str, Any], key: str, kind: type, *, required: bool = False) -> Any:
    value = body.get(key)
    if value is None:
        if required:
            raise InvalidRequestBody(f"{key} is required", target=key)
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidRequestBody(
            f"{key} must be a {kind.__name__}, not {type(value).__name__}", target=key
        )
    return value


def _int(item: dict[str, Any], key: str, where: str) -> int:
    value = item.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidRequestBody(f"{where}.{key} must be an integer", target=f"{where}.{key}")
    return value


def _parse_spans(raw: list[Any]) -> tuple[Span, ...]:
    """``[{"category", "offset", "length"}, …]`` in code points → spans."""
    spans: list[Span] = []
    for index, item in enumerate(raw):
        where = f"entities[{index}]"
        if not isinstance(item, dict):
            raise InvalidRequestBody(f"{where} must be an object", target=where)
        category = item.get("category")
        if not isinstance(category, str):
            raise InvalidRequestBody(f"{where}.category is required", target=f"{where}.category")
        offset, length = _int(item, "offset", where), _int(item, "length", where)
        spans.append(Span(offset, offset + length, category))
    return tuple(spans)


def _parse_categories(raw: list[Any], key: str) -> tuple[str, ...]:
    """``[{"category": …}, …]`` (or plain strings) → names."""
    names: list[str] = []
    for index, item in enumerate(raw):
        category = item.get("category") if isinstance(item, dict) else item
        if not isinstance(category, str):
            where = f"{key}[{index}]"
            raise InvalidRequestBody(f"{where} must be {{'category': '…'}} or a name", target=where)
        names.append(category)
    return tuple(names)


def _parse_labels(raw: list[Any]) -> tuple[str, ...]:
    return _parse_categories(raw, "labels")


def _check_index_type(body: dict[str, Any]) -> None:
    declared = StringIndexType.parse(body.get("stringIndexType"), StringIndexType.CODE_POINT)
    if declared is not StringIndexType.CODE_POINT:
        raise InvalidRequestBody(
            "these routes count offsets in code points; stringIndexType must be "
            "'UnicodeCodePoint' or absent",
            target="stringIndexType",
        )


def _parse_change(body: dict[str, Any]) -> DocumentChange:
    _check_index_type(body)
    entities = _field(body, "entities", list)
    classes = _field(body, "classes", list)
    return DocumentChange(
        spans=None if entities is None else _parse_spans(entities),
        classes=None if classes is None else _parse_categories(classes, "classes"),
        change_dataset="dataset" in body,
        dataset=Dataset.parse(body.get("dataset")),
        language=_field(body, "language", str),
    )


def _parse_new(body: dict[str, Any]) -> NewDocument:
    return NewDocument(
        text=_field(body, "text", str, required=True),
        language=_field(body, "language", str),
        dataset=Dataset.parse(body.get("dataset")),
        location=_field(body, "location", str),
    )


def _parse_query(request: Request) -> DocumentQuery:
    status = request.query_params.get("status")
    dataset = request.query_params.get("dataset")
    return DocumentQuery(
        status=LabelStatus.parse(status) if status else None,
        dataset=DatasetFilter.parse(dataset) if dataset else None,
    )


# -- values → wire -----------------------------------------------------------------------------


def _render_document(kind: ProjectKind, document: Document) -> dict[str, Any]:
    body: dict[str, Any] = {
        "location": document.location,
        "language": document.language,
        "dataset": document.dataset.value if document.dataset else None,
        "labeled": documents.is_labeled(document),
        "text": document.text,
    }
    if kind.is_classification:
        body["classes"] = [{"category": category} for category in document.classes]
    else:
        body["entities"] = [
            {"category": span.category, "offset": span.start, "length": span.end - span.start}
            for span in document.spans
        ]
    return body


def _render_labeled(labeled: LabeledDocument) -> dict[str, Any]:
    body = _render_document(labeled.kind, labeled.document)
    body["stringIndexType"] = StringIndexType.CODE_POINT.value
    return body


def _render_labels(found: LabelList) -> dict[str, Any]:
    return {
        "projectKind": found.kind.value,
        "labels": [
            {"category": usage.category, "documentCount": usage.documents} for usage in found.labels
        ],
    }


# -- routes ------------------------------------------------------------------------------------


@router.get("/{project_name}/documents")
def list_documents(project_name: str, request: Request, context: Context) -> dict[str, Any]:
    found = documents.list_documents(context, project_name, _parse_query(request))
    kind = found.project.kind
    body = page(
        request,
        found.documents,
        lambda document: _render_document(kind, document),
        context.settings.default_page_size,
    )
    counts = found.counts
    return {
        "projectKind": kind.value,
        "stringIndexType": StringIndexType.CODE_POINT.value,
        "labels": list(found.labels),
        "counts": {
            "total": counts.total,
            "labeled": counts.labeled,
            "unlabeled": counts.unlabeled,
            "train": counts.train,
            "test": counts.test,
            "unassigned": counts.unassigned,
        },
        **body,
    }


@router.post("/{project_name}/documents")
async def add_document(project_name: str, request: Request, context: Context) -> JSONResponse:
    body = await json_object(request, max_bytes=context.settings.max_request_bytes)
    # Services write files and rows; keep that off the event loop.
    added = await run_in_threadpool(documents.add_document, context, project_name, _parse_new(body))
    return JSONResponse(_render_labeled(added), status_code=201)


@router.get("/{project_name}/documents/{location:path}")
def get_document(project_name: str, location: str, context: Context) -> dict[str, Any]:
    return _render_labeled(documents.get_document(context, project_name, location))


@router.patch("/{project_name}/documents/{location:path}")
async def update_document(
    project_name: str, location: str, request: Request, context: Context
) -> dict[str, Any]:
    change = _parse_change(await json_object(request))
    updated = await run_in_threadpool(
        documents.update_document, context, project_name, location, change
    )
    return _render_labeled(updated)


@router.delete("/{project_name}/documents/{location:path}", status_code=204)
def delete_document(project_name: str, location: str, context: Context) -> Response:
    documents.delete_document(context, project_name, location)
    return Response(status_code=204)


@router.get("/{project_name}/labels")
def list_labels(project_name: str, context: Context) -> dict[str, Any]:
    return _render_labels(documents.list_labels(context, project_name))


@router.put("/{project_name}/labels")
async def set_labels(project_name: str, request: Request, context: Context) -> dict[str, Any]:
    labels = _parse_labels(_field(await json_object(request), "labels", list, required=True))
    return _render_labels(
        await run_in_threadpool(documents.set_labels, context, project_name, labels)
    )
