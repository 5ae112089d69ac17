"""The Azure AI Language project file (spec §5.4), through :mod:`lexicraft.wire.project_file`.

Offsets in the file count UTF-16 code units; they become code points here. A document's text
is its inline ``"text"`` (a Lexicraft extension, always written on export so the file stands
alone) or the file named by its ``location``, looked up beside the project file and then in a
folder named after ``storageInputContainerName`` beside it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from lexicraft.domain.project_files import DocumentEntry
from lexicraft.domain.projects import Project, ProjectKind
from lexicraft.errors import InvalidFileRecord, InvalidParameterValue, LexicraftError
from lexicraft.formats.base import (
    Collector,
    LabeledData,
    RecordError,
    load_text,
    write_text,
)
from lexicraft.services.project_files import project_file_of, resolve_documents
from lexicraft.wire.project_file import parse_project_file, render_project_file

NAME = "azure"
#: The project name used when a file names none (or for data that has no project).
DEFAULT_PROJECT_NAME = "imported"


def _load_body(content: str) -> dict[str, Any]:
    try:
        body = json.loads(content)
    except json.JSONDecodeError as error:
        raise InvalidFileRecord(
            f"is not valid JSON: {error.msg} at column {error.colno}", line=error.lineno
        ) from None
    if not isinstance(body, dict):
        raise InvalidFileRecord("an Azure project file is a JSON object", line=1)
    return body


def _reindexed(error: LexicraftError, index: int) -> RecordError:
    """An error about the only document of a one-document file, pointed at ``index``."""
    single, actual = "assets.documents[0]", f"assets.documents[{index}]"
    target = (error.target or actual).replace(single, actual)
    if target == "assets.documents":
        target = actual
    return RecordError(error.message.replace(single, actual), target)


def read(
    source: Path | str, *, kind: ProjectKind | None = None, skip_invalid: bool = False
) -> LabeledData:
    """Project metadata, labels and documents of an Azure project file.

    ``kind`` must match the file's kind when given. Documents are checked one by one so that
    ``skip_invalid`` can leave out just the bad ones.
    """
    content, folder = load_text(source)
    body = _load_body(content)
    metadata = body.get("metadata")
    name = DEFAULT_PROJECT_NAME
    if isinstance(metadata, dict) and isinstance(metadata.get("projectName"), str):
        name = metadata["projectName"]
    assets = body.get("assets") if isinstance(body.get("assets"), dict) else None
    raw_documents = assets.get("documents") if assets is not None else None
    documents = raw_documents if isinstance(raw_documents, list) else []
    # The file without its documents: metadata and label rules, checked once.
    shell = dict(body)
    if assets is not None:
        shell["assets"] = {**assets, "documents": []}
    project_file = parse_project_file(shell, name)
    project = project_file.project
    if kind is not None and kind is not project.kind:
        raise InvalidParameterValue(
            f"the project file is a {project.kind.value} project, not {kind.value}",
            target="kind",
        )
    collector = Collector(requested=project.kind, skip_invalid=skip_invalid)
    collector.declare_labels(project_file.labels)
    for index, raw in enumerate(documents):
        with collector.record(None):
            try:
                single = parse_project_file(
                    {**shell, "assets": {**shell["assets"], "documents": [raw]}}, name
                )
                resolved = resolve_documents(single, lambda entry: _read_text(entry, folder, body))
            except LexicraftError as error:
                raise _reindexed(error, index) from None
            except RecordError as error:
                raise RecordError(error.problem, f"assets.documents[{index}].location") from None
            collector.add(resolved.documents[0], line=None, id_field=f"assets.documents[{index}]")
    data = collector.result(project.kind, project=project)
    # Labels the file declares stay declared even when no document uses them.
    return replace(data, labels=project_file.labels or data.labels)


def _read_text(entry: DocumentEntry, folder: Path | None, body: dict[str, Any]) -> str:
    if entry.inline_text is not None:
        return entry.inline_text
    container = body.get("metadata", {}).get("storageInputContainerName")
    candidates = []
    if folder is not None:
        candidates.append(folder / entry.location)
        if isinstance(container, str) and container:
            candidates.append(folder / container / entry.location)
    for path in candidates:
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as handle:
                return handle.read()
    raise RecordError(
        f"document {entry.location!r} has no inline 'text' and no file of that name beside the "
        "project file"
    )


def render(data: LabeledData) -> dict[str, Any]:
    """The project file for ``data`` with every document's text inline."""
    project = data.project or Project(
        name=DEFAULT_PROJECT_NAME,
        kind=data.kind,
        language="en",
        storage_container=DEFAULT_PROJECT_NAME,
    )
    if project.kind is not data.kind:
        project = replace(project, kind=data.kind)
    return render_project_file(
        project_file_of(project, data.labels, data.documents, inline_texts=True)
    )


def dumps(data: LabeledData) -> str:
    """The project file for ``data`` as JSON text."""
    return json.dumps(render(data), ensure_ascii=False, indent=2) + "\n"


def write(data: LabeledData, destination: Path) -> list[Path]:
    """Write ``data`` to ``destination``."""
    return write_text(destination, dumps(data))
