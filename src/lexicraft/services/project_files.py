"""The Azure project file (spec §5.4): parse and validate on import, render on export.

Project files count offsets in UTF-16 code units; Lexicraft stores code points. Conversion
happens here, through :mod:`lexicraft.ml.offsets` only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lexicraft.domain.projects import (
    Dataset,
    Document,
    Project,
    ProjectAssets,
    ProjectKind,
    check_name,
)
from lexicraft.domain.spans import Span, span_problem
from lexicraft.domain.text import StringIndexType
from lexicraft.errors import InvalidParameterValue, InvalidProjectContent, InvalidRequestBody
from lexicraft.ml.offsets import OffsetMap

PROJECT_FILE_VERSION = "2022-05-01"


@dataclass(frozen=True, slots=True)
class RawLabel:
    """A label as written in the file: UTF-16 offset and length."""

    category: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class DocumentEntry:
    """A document entry of the file, before its text is read."""

    location: str
    language: str | None
    dataset: Dataset | None
    inline_text: str | None
    labels: tuple[RawLabel, ...]
    classes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProjectFile:
    """A parsed, schema-valid project file whose documents still need their texts."""

    project: Project
    labels: tuple[str, ...]
    entries: tuple[DocumentEntry, ...]


def _require(mapping: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = mapping.get(key)
    if value is None:
        raise InvalidRequestBody(f"{where}.{key} is required", target=f"{where}.{key}")
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidRequestBody(
            f"{where}.{key} must be a {kind.__name__}, not {type(value).__name__}",
            target=f"{where}.{key}",
        )
    return value


def _optional(mapping: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if mapping.get(key) is None:
        return None
    return _require(mapping, key, kind, where)


def parse_project_metadata(
    body: Mapping[str, Any], project_name: str, where: str = "metadata"
) -> Project:
    """``CreateProjectOptions`` → :class:`Project`; the name must equal the path's."""
    name = _optional(body, "projectName", str, where) or project_name
    if name != project_name:
        raise InvalidParameterValue(
            f"{where}.projectName {name!r} does not match the project name in the URL "
            f"{project_name!r}",
            target=f"{where}.projectName",
        )
    check_name(project_name, "projectName")
    container = _require(body, "storageInputContainerName", str, where)
    settings = _optional(body, "settings", dict, where) or {}
    return Project(
        name=project_name,
        kind=ProjectKind.parse(_require(body, "projectKind", str, where)),
        language=_require(body, "language", str, where),
        storage_container=container,
        multilingual=bool(_optional(body, "multilingual", bool, where) or False),
        description=_optional(body, "description", str, where),
        settings=settings,
    )


def parse_project_file(body: Mapping[str, Any], project_name: str) -> ProjectFile:
    """Check the schema and label rules that need no document text."""
    version = body.get("projectFileVersion", body.get("project-file-version"))
    if not isinstance(version, str):
        raise InvalidRequestBody("projectFileVersion is required", target="projectFileVersion")
    index_type = body.get("stringIndexType")
    if index_type is None or StringIndexType.parse(index_type, StringIndexType.UTF16) != (
        StringIndexType.UTF16
    ):
        raise InvalidParameterValue(
            f"stringIndexType {index_type!r} is not supported in project files; use "
            "'Utf16CodeUnit'",
            target="stringIndexType",
        )
    project = parse_project_metadata(_require(body, "metadata", dict, "$"), project_name)
    assets = _optional(body, "assets", dict, "$") or {}
    assets_kind = assets.get("projectKind")
    if assets_kind is not None and ProjectKind.parse(assets_kind) is not project.kind:
        raise InvalidParameterValue(
            f"assets.projectKind {assets_kind!r} does not match metadata.projectKind "
            f"{project.kind.value!r}",
            target="assets.projectKind",
        )
    label_key = "classes" if project.kind.is_classification else "entities"
    labels = _parse_label_list(assets.get(label_key) or [], f"assets.{label_key}")
    raw_documents = assets.get("documents") or []
    if not isinstance(raw_documents, list):
        raise InvalidRequestBody("assets.documents must be a list", target="assets.documents")
    entries: list[DocumentEntry] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_documents):
        entry = _parse_document(raw, project.kind, set(labels), f"assets.documents[{index}]")
        if entry.location in seen:
            raise InvalidProjectContent(
                f"document location {entry.location!r} appears more than once",
                target=f"assets.documents[{index}].location",
            )
        seen.add(entry.location)
        entries.append(entry)
    return ProjectFile(project=project, labels=labels, entries=tuple(entries))


def _parse_label_list(raw: object, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise InvalidRequestBody(f"{where} must be a list", target=where)
    labels: list[str] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidRequestBody(f"{where}[{index}] must be an object", target=where)
        category = _require(item, "category", str, f"{where}[{index}]")
        if category in labels:
            raise InvalidProjectContent(f"{where} lists {category!r} twice", target=where)
        labels.append(category)
    return tuple(labels)


def _parse_document(raw: object, kind: ProjectKind, labels: set[str], where: str) -> DocumentEntry:
    if not isinstance(raw, dict):
        raise InvalidRequestBody(f"{where} must be an object", target=where)
    location = _require(raw, "location", str, where)
    inline_text = _optional(raw, "text", str, where)
    raw_labels: list[RawLabel] = []
    classes: list[str] = []
    if kind is ProjectKind.ENTITY_RECOGNITION:
        regions = _optional(raw, "entities", list, where) or []
        for region_index, region in enumerate(regions):
            region_where = f"{where}.entities[{region_index}]"
            if not isinstance(region, dict):
                raise InvalidRequestBody(f"{region_where} must be an object", target=region_where)
            for label_index, label in enumerate(
                _optional(region, "labels", list, region_where) or []
            ):
                label_where = f"{region_where}.labels[{label_index}]"
                if not isinstance(label, dict):
                    raise InvalidRequestBody(f"{label_where} must be an object", target=label_where)
                raw_labels.append(
                    RawLabel(
                        category=_require(label, "category", str, label_where),
                        offset=_require(label, "offset", int, label_where),
                        length=_require(label, "length", int, label_where),
                    )
                )
    elif kind is ProjectKind.SINGLE_LABEL_CLASSIFICATION:
        single = _optional(raw, "class", dict, where)
        if single is not None:
            classes.append(_require(single, "category", str, f"{where}.class"))
    else:
        for class_index, item in enumerate(_optional(raw, "classes", list, where) or []):
            item_where = f"{where}.classes[{class_index}]"
            if not isinstance(item, dict):
                raise InvalidRequestBody(f"{item_where} must be an object", target=item_where)
            category = _require(item, "category", str, item_where)
            if category in classes:
                raise InvalidProjectContent(f"{where} has class {category!r} twice", target=where)
            classes.append(category)
    for category in [label.category for label in raw_labels] + classes:
        if category not in labels:
            what = "class list" if kind.is_classification else "entity list"
            raise InvalidProjectContent(
                f"label {category!r} of {location!r} is not in the project's {what} "
                f"{sorted(labels)}",
                target=where,
            )
    return DocumentEntry(
        location=location,
        language=_optional(raw, "language", str, where),
        dataset=Dataset.parse(raw.get("dataset")),
        inline_text=inline_text,
        labels=tuple(raw_labels),
        classes=tuple(classes),
    )


def resolve_documents(
    project_file: ProjectFile, read_text: Callable[[DocumentEntry], str]
) -> ProjectAssets:
    """Read every document's text and turn its UTF-16 labels into checked code-point spans."""
    documents: list[Document] = []
    for entry in project_file.entries:
        text = read_text(entry)
        offsets = OffsetMap(text)
        spans: list[Span] = []
        for label in entry.labels:
            try:
                start, end = offsets.span_from_unit(
                    label.offset, label.length, StringIndexType.UTF16
                )
            except ValueError as error:
                raise InvalidProjectContent(
                    f"label {label.category!r} at offset {label.offset}, length {label.length} "
                    f"of {entry.location!r} does not fit the document: {error}",
                    target="assets.documents",
                ) from error
            spans.append(Span(start, end, label.category))
        problem = span_problem(text, spans, project_file.labels)
        if problem is not None:
            raise InvalidProjectContent(f"{entry.location!r}: {problem}", target="assets.documents")
        documents.append(
            Document(
                location=entry.location,
                text=text,
                language=entry.language,
                dataset=entry.dataset,
                spans=tuple(sorted(spans, key=lambda span: span.start)),
                classes=entry.classes,
            )
        )
    return ProjectAssets(labels=project_file.labels, documents=tuple(documents))


def render_metadata(project: Project) -> dict[str, Any]:
    """The ``CreateProjectOptions`` block of a project."""
    metadata: dict[str, Any] = {
        "projectKind": project.kind.value,
        "storageInputContainerName": project.storage_container,
        "projectName": project.name,
        "multilingual": project.multilingual,
        "description": project.description or "",
        "language": project.language,
        "settings": project.settings,
    }
    return metadata


def render_project_file(
    project: Project, labels: Sequence[str], documents: Iterable[Document]
) -> dict[str, Any]:
    """The Azure project file (GA spellings, UTF-16 offsets)."""
    label_key = "classes" if project.kind.is_classification else "entities"
    return {
        "projectFileVersion": PROJECT_FILE_VERSION,
        "stringIndexType": StringIndexType.UTF16.value,
        "metadata": render_metadata(project),
        "assets": {
            "projectKind": project.kind.value,
            label_key: [{"category": label} for label in labels],
            "documents": [_render_document(project.kind, document) for document in documents],
        },
    }


def _render_document(kind: ProjectKind, document: Document) -> dict[str, Any]:
    rendered: dict[str, Any] = {"location": document.location}
    if document.language is not None:
        rendered["language"] = document.language
    if document.dataset is not None:
        rendered["dataset"] = document.dataset.value
    if kind is ProjectKind.ENTITY_RECOGNITION:
        offsets = OffsetMap(document.text)
        labels = []
        for span in document.spans:
            offset, length = offsets.span_to_unit(span.start, span.end, StringIndexType.UTF16)
            labels.append({"category": span.category, "offset": offset, "length": length})
        rendered["entities"] = [
            {
                "regionOffset": 0,
                "regionLength": offsets.length_in(StringIndexType.UTF16),
                "labels": labels,
            }
        ]
    elif kind is ProjectKind.SINGLE_LABEL_CLASSIFICATION:
        if document.classes:
            rendered["class"] = {"category": document.classes[0]}
    else:
        rendered["classes"] = [{"category": category} for category in document.classes]
    return rendered
