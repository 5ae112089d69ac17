"""Every interchange format by name, and guessing a file's format from its name and content."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from lexicraft.domain.projects import ProjectKind
from lexicraft.errors import InvalidParameterValue
from lexicraft.formats import (
    azure,
    comprehend,
    conll,
    docbin,
    doccano,
    jsonl,
    label_studio,
    plain_csv,
)
from lexicraft.formats.base import LabeledData, Reader, Writer

Dumps = Callable[[LabeledData], str]


@dataclass(frozen=True, slots=True)
class FileFormat:
    """One interchange format: how to read and write it, and what it can hold."""

    name: str
    title: str
    #: ``"entities"`` and/or ``"classes"``.
    holds: tuple[str, ...]
    extensions: tuple[str, ...]
    read: Reader
    write: Writer
    #: The content as one string; None for formats written as several files.
    dumps: Dumps | None
    #: Whether documents keep their ids (else they are numbered ``doc-000001``, …).
    keeps_ids: bool = True

    def holds_kind(self, kind: ProjectKind) -> bool:
        """Whether the format can hold a ``kind`` project's labels."""
        return ("classes" if kind.is_classification else "entities") in self.holds


def _conll(scheme: conll.Scheme | None) -> tuple[Reader, Writer, Dumps]:
    written = scheme or conll.Scheme.IOB2

    def read(
        source: Path | str, *, kind: ProjectKind | None = None, skip_invalid: bool = False
    ) -> LabeledData:
        return conll.read(source, kind=kind, skip_invalid=skip_invalid, scheme=scheme)

    def write(data: LabeledData, destination: Path) -> list[Path]:
        return conll.write(data, destination, scheme=written)

    def dumps(data: LabeledData) -> str:
        return conll.dumps(data, scheme=written)

    return read, write, dumps


def _conll_format(name: str, scheme: conll.Scheme | None, title: str) -> FileFormat:
    read, write, dumps = _conll(scheme)
    return FileFormat(
        name=name,
        title=title,
        holds=("entities",),
        extensions=(".conll", ".bio", ".iob", ".iob1", ".iob2", ".bioes", ".bilou"),
        read=read,
        write=write,
        dumps=dumps,
        keeps_ids=False,
    )


_FORMATS: tuple[FileFormat, ...] = (
    FileFormat(
        azure.NAME,
        "Azure AI Language project file (UTF-16 offsets; texts inline)",
        ("entities", "classes"),
        (".json",),
        azure.read,
        azure.write,
        azure.dumps,
    ),
    FileFormat(
        jsonl.NAME,
        "JSON Lines: {id, text, entities: [{category, offset, length}]} or {id, text, classes}",
        ("entities", "classes"),
        (".jsonl", ".ndjson"),
        jsonl.read,
        jsonl.write,
        jsonl.dumps,
    ),
    _conll_format("conll", None, "CoNLL token-per-line; reads IOB1/IOB2/BIOES, writes IOB2"),
    _conll_format("conll-iob1", conll.Scheme.IOB1, "CoNLL with IOB1 tags"),
    _conll_format("conll-iob2", conll.Scheme.IOB2, "CoNLL with IOB2 tags"),
    _conll_format("conll-bioes", conll.Scheme.BIOES, "CoNLL with BIOES tags (BILOU read too)"),
    FileFormat(
        label_studio.NAME,
        "Label Studio JSON export (labels / choices results)",
        ("entities", "classes"),
        (".json",),
        label_studio.read,
        label_studio.write,
        label_studio.dumps,
    ),
    FileFormat(
        doccano.NAME,
        "doccano JSONL ({text, label: [[start, end, type]]} or {text, label: [class]})",
        ("entities", "classes"),
        (".jsonl",),
        doccano.read,
        doccano.write,
        doccano.dumps,
    ),
    FileFormat(
        docbin.NAME,
        "spaCy v3 DocBin (.spacy): doc.ents or doc.cats; binary, so written to a file only",
        ("entities", "classes"),
        (".spacy",),
        docbin.read,
        docbin.write,
        None,
    ),
    FileFormat(
        comprehend.NAME,
        "Amazon Comprehend classification CSV (LABEL,text; multi-label A|B,text)",
        ("classes",),
        (".csv",),
        comprehend.read,
        comprehend.write,
        comprehend.dumps,
        keeps_ids=False,
    ),
    FileFormat(
        comprehend.NER_NAME,
        "Amazon Comprehend annotations CSV (File,Line,Begin Offset,End Offset,Type) + documents",
        ("entities",),
        (".csv",),
        comprehend.read_ner,
        comprehend.write_ner,
        None,
    ),
    FileFormat(
        plain_csv.NAME,
        "CSV: text,label[,label…] (header optional)",
        ("classes",),
        (".csv",),
        plain_csv.read,
        plain_csv.write,
        plain_csv.dumps,
        keeps_ids=False,
    ),
)

FORMATS: Mapping[str, FileFormat] = MappingProxyType({f.name: f for f in _FORMATS})


def get_format(name: str) -> FileFormat:
    """The format called ``name``, else an error that lists the supported ones."""
    found = FORMATS.get(name.lower())
    if found is not None:
        return found
    raise InvalidParameterValue(
        f"format {name!r} is not supported; use one of {sorted(FORMATS)}", target="format"
    )


def detect_format(path: Path | None, content: str) -> FileFormat:
    """The format of a file guessed from its extension and first bytes, else an error."""
    suffix = path.suffix.lower() if path is not None else ""
    if suffix == ".spacy":
        return FORMATS[docbin.NAME]
    start = content.lstrip(" \t\r\n\ufeff")[:1]
    if suffix in (".conll", ".bio", ".iob", ".iob1", ".iob2", ".bioes", ".bilou"):
        return FORMATS["conll"]
    if suffix == ".csv":
        first = content.split("\n", 1)[0].lower()
        if "begin offset" in first and "end offset" in first:
            return FORMATS[comprehend.NER_NAME]
        if first.lstrip("\ufeff").split(",", 1)[0].strip().strip('"') == "text":
            return FORMATS[plain_csv.NAME]
    elif suffix in (".json", ".jsonl", ".ndjson", ""):
        if start == "[":
            return FORMATS[label_studio.NAME]
        if start == "{":
            first_line = content.lstrip(" \t\r\n\ufeff").split("\n", 1)[0]
            try:
                record = json.loads(first_line)
            except json.JSONDecodeError:
                record = None
            if record is None or "projectFileVersion" in record or "metadata" in record:
                return FORMATS[azure.NAME]
            if isinstance(record, dict) and ("label" in record or "labels" in record):
                return FORMATS[doccano.NAME]
            if isinstance(record, dict) and any(
                isinstance(entity, dict) and "start_offset" in entity
                for entity in record.get("entities") or []
            ):
                return FORMATS[doccano.NAME]
            return FORMATS[jsonl.NAME]
    where = f"{path.name!r}" if path is not None else "standard input"
    raise InvalidParameterValue(
        f"cannot tell the format of {where}; pass --format with one of {sorted(FORMATS)}",
        target="format",
    )
