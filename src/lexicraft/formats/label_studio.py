"""Label Studio's JSON export: a list of tasks with their annotations.

``[{"id", "data": {"text"}, "annotations": [{"result": [...]}]}]``. Entities are results of type
``labels`` (``value.start``/``value.end`` in code points, as Label Studio stores them since
its frontend fix of 2022, with ``value.text`` as a check); classes are results of type
``choices``. The first annotation that was not cancelled counts; predictions are ignored.
Older exports' ``completions`` are read like ``annotations``.

Written files import into a Label Studio project whose labeling config has
``<Text name="text" value="$text"/>`` and ``<Labels name="label" toName="text">`` (NER) or
``<Choices name="choice" toName="text">`` (classification).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lexicraft.domain.projects import Document, ProjectKind
from lexicraft.domain.spans import Span
from lexicraft.errors import InvalidFileRecord
from lexicraft.formats.base import (
    Collector,
    KindVote,
    LabeledData,
    RecordError,
    check_classes,
    check_integer,
    check_spans,
    check_text,
    load_text,
    optional_string,
    parse_dataset,
    write_text,
)
from lexicraft.formats.jsonl import record_id

NAME = "label-studio"
_WHITESPACE = " \t\r\n"


def json_array_items(content: str, what: str) -> list[tuple[int, Any]]:
    """The items of a top-level JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    items: list[tuple[int, Any]] = []
    line = 1
    counted = 0

    def line_at(position: int) -> int:
        nonlocal line, counted
        line += content.count("\n", counted, position)
        counted = position
        return line

    def skip(position: int) -> int:
        while position < len(content) and content[position] in _WHITESPACE:
            position += 1
        return position

    position = skip(0)
    if position >= len(content) or content[position] != "[":
        raise InvalidFileRecord(
            f"a {what} file is a JSON list of tasks and must start with '['",
            line=line_at(position),
        )
    position = skip(position + 1)
    if position < len(content) and content[position] == "]":
        return items
    while True:
        try:
            value, end = decoder.raw_decode(content, position)
        except json.JSONDecodeError as error:
            raise InvalidFileRecord(f"is not valid JSON: {error.msg}", line=error.lineno) from None
        items.append((line_at(position), value))
        position = skip(end)
        if position < len(content) and content[position] == ",":
            position = skip(position + 1)
            continue
        if position < len(content) and content[position] == "]":
            return items
        raise InvalidFileRecord(
            "expected ',' or ']' after a task in the JSON list", line=line_at(position)
        )


def read(
    source: Path | str, *, kind: ProjectKind | None = None, skip_invalid: bool = False
) -> LabeledData:
    """Documents of a Label Studio JSON export (``source``: a path, or the content itself)."""
    content, _folder = load_text(source)
    collector = Collector(requested=kind, skip_invalid=skip_invalid)
    vote = KindVote(kind, "Label Studio")
    for index, (line, task) in enumerate(json_array_items(content, "Label Studio"), start=1):
        with collector.record(line):
            if not isinstance(task, dict):
                raise RecordError(f"a task must be an object, not {type(task).__name__}")
            collector.add(_document(task, index, vote, line), line=line, id_field="id")
    return collector.result(vote.kind(collector))


def _text(data: dict[str, Any]) -> str:
    if "text" in data:
        return check_text(data["text"], "data.text")
    strings = [key for key, value in data.items() if isinstance(value, str)]
    if len(strings) == 1:
        return check_text(data[strings[0]], f"data.{strings[0]}")
    raise RecordError("has no text: put the document in data.text", "data.text")


def _document(task: dict[str, Any], index: int, vote: KindVote, line: int) -> Document:
    data = task.get("data")
    if not isinstance(data, dict):
        raise RecordError("must be an object holding the task's text", "data")
    text = _text(data)
    location = (
        record_id(data, index, "id") if data.get("id") is not None else record_id(task, index)
    )
    annotations = task.get("annotations", task.get("completions")) or []
    key = "annotations" if "annotations" in task else "completions"
    if not isinstance(annotations, list):
        raise RecordError("must be a list", key)
    chosen = next(
        (
            (number, annotation)
            for number, annotation in enumerate(annotations)
            if isinstance(annotation, dict) and not annotation.get("was_cancelled")
        ),
        None,
    )
    spans: list[tuple[Span, str]] = []
    classes: tuple[str, ...] = ()
    if chosen is not None:
        number, annotation = chosen
        results = annotation.get("result") or []
        if not isinstance(results, list):
            raise RecordError("must be a list", f"{key}[{number}].result")
        for result_number, result in enumerate(results):
            where = f"{key}[{number}].result[{result_number}]"
            if not isinstance(result, dict):
                raise RecordError("must be an object", where)
            value = result.get("value")
            if not isinstance(value, dict):
                continue
            result_type = result.get("type")
            if result_type == "labels" and vote.decided is not True:
                vote.check(False, line, f"{where}.type")
                spans.extend(_result_spans(value, text, where))
            elif result_type == "choices" and vote.decided is not False:
                vote.check(True, line, f"{where}.type")
                classes = classes + check_classes(value.get("choices"), f"{where}.value.choices")
    return Document(
        location=location,
        text=text,
        language=optional_string(data, "language"),
        dataset=parse_dataset(data.get("dataset"), "data.dataset"),
        spans=check_spans(text, spans),
        classes=tuple(dict.fromkeys(classes)),
    )


def _result_spans(value: dict[str, Any], text: str, where: str) -> list[tuple[Span, str]]:
    start = check_integer(value.get("start"), f"{where}.value.start")
    end = check_integer(value.get("end"), f"{where}.value.end")
    labels = value.get("labels")
    if not isinstance(labels, list) or not labels:
        raise RecordError("must be a non-empty list of label names", f"{where}.value.labels")
    surface = value.get("text")
    if isinstance(surface, str) and text[start:end] != surface:
        raise RecordError(
            f"value.text {surface!r} is not the text at [{start}, {end}) ({text[start:end]!r}); "
            "offsets must count code points",
            f"{where}.value.start",
        )
    spans = []
    for label_number, label in enumerate(labels):
        if not isinstance(label, str):
            raise RecordError("must be a string", f"{where}.value.labels[{label_number}]")
        spans.append((Span(start, end, label), f"{where}.value"))
    return spans


def render_task(document: Document, kind: ProjectKind, number: int) -> dict[str, Any]:
    """One document as a Label Studio task with one annotation."""
    data: dict[str, Any] = {"text": document.text, "id": document.location}
    if document.language is not None:
        data["language"] = document.language
    if document.dataset is not None:
        data["dataset"] = document.dataset.value
    results: list[dict[str, Any]] = []
    if kind is ProjectKind.ENTITY_RECOGNITION:
        for index, span in enumerate(document.spans):
            results.append(
                {
                    "id": f"{number}-{index}",
                    "from_name": "label",
                    "to_name": "text",
                    "type": "labels",
                    "origin": "manual",
                    "value": {
                        "start": span.start,
                        "end": span.end,
                        "text": document.text[span.start : span.end],
                        "labels": [span.category],
                    },
                }
            )
    elif document.classes:
        results.append(
            {
                "id": f"{number}-0",
                "from_name": "choice",
                "to_name": "text",
                "type": "choices",
                "origin": "manual",
                "value": {"choices": list(document.classes)},
            }
        )
    return {
        "id": number,
        "data": data,
        "annotations": [
            {"id": number, "result": results, "was_cancelled": False, "ground_truth": False}
        ],
        "predictions": [],
    }


def dumps(data: LabeledData) -> str:
    """The Label Studio JSON export for ``data``."""
    tasks = [
        render_task(document, data.kind, number)
        for number, document in enumerate(data.documents, start=1)
    ]
    return json.dumps(tasks, ensure_ascii=False, indent=1) + "\n"


def write(data: LabeledData, destination: Path) -> list[Path]:
    """Write ``data`` to ``destination``."""
    return write_text(destination, dumps(data))
