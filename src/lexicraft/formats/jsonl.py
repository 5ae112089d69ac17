"""JSON Lines in the neutral shape of the shared datasets.

NER: ``{"id", "text", "entities": [{"category", "offset", "length"}]}``; classification:
``{"id", "text", "classes": [str, …]}``. Offsets and lengths count code points. Optional
``"language"`` and ``"dataset"`` (``Train``/``Test``) are read and written; other keys are ignored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lexicraft.domain.projects import Document, ProjectKind
from lexicraft.domain.spans import Span
from lexicraft.formats.base import (
    Collector,
    KindVote,
    LabeledData,
    RecordError,
    check_classes,
    check_integer,
    check_spans,
    check_text,
    generated_location,
    load_text,
    optional_string,
    parse_dataset,
    write_text,
)

NAME = "jsonl"


def json_lines(content: str) -> list[tuple[int, str]]:
    """Every non-blank line with its 1-based number."""
    return [
        (number, line)
        for number, line in enumerate(content.split("\n"), start=1)
        if line.strip(" \t\r")
    ]


def parse_object(line: str) -> dict[str, Any]:
    """One line as a JSON object, else a RecordError."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise RecordError(f"is not valid JSON: {error.msg} at column {error.colno}") from error
    if not isinstance(record, dict):
        raise RecordError(f"must be a JSON object, not {type(record).__name__}")
    return record


def record_id(record: dict[str, Any], number: int, key: str = "id") -> str:
    """The record's id as a string (a whole number is accepted), or a generated one."""
    value = record.get(key)
    if value is None:
        return generated_location(number)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RecordError(f"must be a string, not {type(value).__name__}", key)
    return str(value)


def read(
    source: Path | str, *, kind: ProjectKind | None = None, skip_invalid: bool = False
) -> LabeledData:
    """Documents of a JSON Lines file (``source``: a path, or the content itself)."""
    content, _folder = load_text(source)
    collector = Collector(requested=kind, skip_invalid=skip_invalid)
    vote = KindVote(kind, "JSON Lines")
    for index, (number, line) in enumerate(json_lines(content), start=1):
        with collector.record(number):
            record = parse_object(line)
            document = _document(record, index, vote, number)
            collector.add(document, line=number)
    return collector.result(vote.kind(collector))


def _document(record: dict[str, Any], index: int, vote: KindVote, line: int) -> Document:
    location = record_id(record, index)
    text = check_text(record.get("text"), "text")
    has_entities = record.get("entities") is not None
    has_classes = record.get("classes") is not None
    if has_entities and has_classes:
        raise RecordError("has both 'entities' and 'classes'; give one of them", "classes")
    spans: tuple[Span, ...] = ()
    classes: tuple[str, ...] = ()
    if has_entities:
        vote.check(False, line, "entities")
        spans = _spans(record["entities"], text)
    elif has_classes:
        vote.check(True, line, "classes")
        classes = check_classes(record["classes"], "classes")
    return Document(
        location=location,
        text=text,
        language=optional_string(record, "language"),
        dataset=parse_dataset(record.get("dataset"), "dataset"),
        spans=spans,
        classes=classes,
    )


def _spans(raw: object, text: str) -> tuple[Span, ...]:
    if not isinstance(raw, list):
        raise RecordError(f"must be a list, not {type(raw).__name__}", "entities")
    spans: list[tuple[Span, str]] = []
    for index, entity in enumerate(raw):
        where = f"entities[{index}]"
        if not isinstance(entity, dict):
            raise RecordError(f"must be an object, not {type(entity).__name__}", where)
        category = entity.get("category")
        if not isinstance(category, str) or not category or category.strip() != category:
            raise RecordError(
                f"must be a non-empty string without surrounding spaces, not {category!r}",
                f"{where}.category",
            )
        offset = check_integer(entity.get("offset"), f"{where}.offset")
        length = check_integer(entity.get("length"), f"{where}.length")
        field_name = f"{where}.offset" if offset < 0 or offset > len(text) else f"{where}.length"
        spans.append((Span(offset, offset + length, category), field_name))
    return check_spans(text, spans)


def render_record(document: Document, kind: ProjectKind) -> dict[str, Any]:
    """One document as a JSON Lines record."""
    record: dict[str, Any] = {"id": document.location, "text": document.text}
    if kind is ProjectKind.ENTITY_RECOGNITION:
        record["entities"] = [
            {"category": span.category, "offset": span.start, "length": span.end - span.start}
            for span in document.spans
        ]
    else:
        record["classes"] = list(document.classes)
    if document.language is not None:
        record["language"] = document.language
    if document.dataset is not None:
        record["dataset"] = document.dataset.value
    return record


def dumps(data: LabeledData) -> str:
    """The JSON Lines content for ``data`` (one record per line, UTF-8 as is)."""
    return "".join(
        json.dumps(render_record(document, data.kind), ensure_ascii=False) + "\n"
        for document in data.documents
    )


def write(data: LabeledData, destination: Path) -> list[Path]:
    """Write ``data`` to ``destination``."""
    return write_text(destination, dumps(data))
