"""doccano's JSONL export and import format.

Sequence labeling: ``{"text", "label": [[start, end, "TYPE"], …]}``, or with relations enabled
``{"text", "entities": [{"start_offset", "end_offset", "label"}]}``; text classification:
``{"text", "label": ["class", …]}`` (older versions: ``"labels"``). Offsets count code points
(doccano's default; projects set to count grapheme clusters must be re-exported without it).
``"id"`` is kept as the document location; other keys are ignored.
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
    load_text,
    optional_string,
    parse_dataset,
    write_text,
)
from lexicraft.formats.jsonl import json_lines, parse_object, record_id

NAME = "doccano"


def read(
    source: Path | str, *, kind: ProjectKind | None = None, skip_invalid: bool = False
) -> LabeledData:
    """Documents of a doccano JSONL file (``source``: a path, or the content itself)."""
    content, _folder = load_text(source)
    collector = Collector(requested=kind, skip_invalid=skip_invalid)
    vote = KindVote(kind, "doccano")
    for index, (number, line) in enumerate(json_lines(content), start=1):
        with collector.record(number):
            record = parse_object(line)
            collector.add(_document(record, index, vote, number), line=number)
    return collector.result(vote.kind(collector))


def _document(record: dict[str, Any], index: int, vote: KindVote, line: int) -> Document:
    text = check_text(record.get("text"), "text")
    spans: tuple[Span, ...] = ()
    classes: tuple[str, ...] = ()
    if record.get("entities") is not None:
        vote.check(False, line, "entities")
        spans = _entity_objects(record["entities"], text)
    else:
        key = "label" if "label" in record else "labels"
        labels = record.get(key)
        if labels is not None:
            if not isinstance(labels, list):
                raise RecordError(f"must be a list, not {type(labels).__name__}", key)
            if labels and all(isinstance(item, list) for item in labels):
                vote.check(False, line, key)
                spans = _triples(labels, text, key)
            elif labels:
                vote.check(True, line, key)
                classes = check_classes(labels, key)
    return Document(
        location=record_id(record, index),
        text=text,
        language=optional_string(record, "language"),
        dataset=parse_dataset(record.get("dataset"), "dataset"),
        spans=spans,
        classes=classes,
    )


def _triples(labels: list[Any], text: str, key: str) -> tuple[Span, ...]:
    spans: list[tuple[Span, str]] = []
    for index, item in enumerate(labels):
        where = f"{key}[{index}]"
        if len(item) != 3 or not isinstance(item[2], str):
            raise RecordError("must be [start, end, label]", where)
        start = check_integer(item[0], f"{where}[0]")
        end = check_integer(item[1], f"{where}[1]")
        spans.append((Span(start, end, item[2]), where))
    return check_spans(text, spans)


def _entity_objects(entities: object, text: str) -> tuple[Span, ...]:
    if not isinstance(entities, list):
        raise RecordError("must be a list", "entities")
    spans: list[tuple[Span, str]] = []
    for index, entity in enumerate(entities):
        where = f"entities[{index}]"
        if not isinstance(entity, dict) or not isinstance(entity.get("label"), str):
            raise RecordError("must be an object with a string 'label'", where)
        start = check_integer(entity.get("start_offset"), f"{where}.start_offset")
        end = check_integer(entity.get("end_offset"), f"{where}.end_offset")
        spans.append((Span(start, end, entity["label"]), where))
    return check_spans(text, spans)


def render_record(document: Document, kind: ProjectKind) -> dict[str, Any]:
    """One document as a doccano record."""
    record: dict[str, Any] = {"id": document.location, "text": document.text}
    if kind is ProjectKind.ENTITY_RECOGNITION:
        record["label"] = [[span.start, span.end, span.category] for span in document.spans]
    else:
        record["label"] = list(document.classes)
    if document.language is not None:
        record["language"] = document.language
    if document.dataset is not None:
        record["dataset"] = document.dataset.value
    return record


def dumps(data: LabeledData) -> str:
    """doccano JSONL content for ``data``."""
    return "".join(
        json.dumps(render_record(document, data.kind), ensure_ascii=False) + "\n"
        for document in data.documents
    )


def write(data: LabeledData, destination: Path) -> list[Path]:
    """Write ``data`` to ``destination``."""
    return write_text(destination, dumps(data))
