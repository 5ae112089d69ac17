"""Amazon Comprehend training files.

Classification (``comprehend``): a CSV without header, one document per row,
``LABEL,text``; multi-label rows join their labels with ``|`` (Comprehend's default
delimiter): ``A|B,text``.

NER (``comprehend-ner``): an annotations CSV with the header
``File,Line,Begin Offset,End Offset,Type`` next to the documents it names. With a ``Line``
column each line of a documents file is one document (``ONE_DOC_PER_LINE``; offsets count from
the start of the line); without it each file is one document (``ONE_DOC_PER_FILE``). Offsets
count code points; ``End Offset`` is exclusive. Every line of a named documents file is read,
so documents without entities come back too (empty lines are not documents).

Written NER exports are ``ONE_DOC_PER_LINE`` with the documents in ``<name>.documents.txt``
beside the CSV, unless a text holds a line break: then each document gets its own file
``<name>-<n>.txt`` (``ONE_DOC_PER_FILE``, where a document without entities is not listed).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lexicraft.domain.projects import Document, ProjectKind
from lexicraft.domain.spans import Span
from lexicraft.errors import InvalidFileRecord, UnrepresentableDocument
from lexicraft.formats.base import (
    Collector,
    LabeledData,
    RecordError,
    check_text,
    csv_rows,
    csv_text,
    ensure_kind_supported,
    generated_location,
    load_text,
    require_kind,
    write_text,
)

NAME = "comprehend"
NER_NAME = "comprehend-ner"
LABEL_DELIMITER = "|"
_NER_COLUMNS = ("File", "Line", "Begin Offset", "End Offset", "Type")


# -- classification ------------------------------------------------------------------------


def read(
    source: Path | str, *, kind: ProjectKind | None = None, skip_invalid: bool = False
) -> LabeledData:
    """Documents of a Comprehend classification CSV (``source``: a path, or the content)."""
    ensure_kind_supported(kind, "Comprehend classification CSV", classification=True)
    content, _folder = load_text(source)
    collector = Collector(requested=kind, skip_invalid=skip_invalid)
    split = kind is not ProjectKind.SINGLE_LABEL_CLASSIFICATION
    number = 0
    for line, row in csv_rows(content):
        if not row:
            continue
        number += 1
        with collector.record(line):
            if len(row) != 2:
                raise RecordError(
                    f"has {len(row)} columns; expected 2 (label,text) - quote texts that contain "
                    "commas",
                    "text",
                )
            label, text = row
            labels = label.split(LABEL_DELIMITER) if split else [label]
            for category in labels:
                if not category or category.strip() != category:
                    raise RecordError(
                        f"class {category!r} must be non-empty, without surrounding spaces",
                        "label",
                    )
            if len(set(labels)) != len(labels):
                raise RecordError(f"lists a class twice: {label!r}", "label")
            document = Document(
                location=generated_location(number),
                text=check_text(text, "text"),
                classes=tuple(labels),
            )
            collector.add(document, line=line)
    return collector.result(collector.classification_kind())


def dumps(data: LabeledData) -> str:
    """Comprehend classification CSV content for ``data``."""
    require_kind(data, classification=True, format_name="Comprehend classification CSV")
    rows: list[list[str]] = []
    for document in data.documents:
        if not document.classes:
            raise UnrepresentableDocument(
                f"document {document.location!r} has no class; Comprehend CSV rows need one"
            )
        if len(document.classes) > 1 or data.kind is ProjectKind.MULTI_LABEL_CLASSIFICATION:
            bad = [c for c in document.classes if LABEL_DELIMITER in c]
            if bad:
                raise UnrepresentableDocument(
                    f"class {bad[0]!r} of {document.location!r} contains the multi-label "
                    f"delimiter {LABEL_DELIMITER!r}"
                )
        rows.append([LABEL_DELIMITER.join(document.classes), document.text])
    return csv_text(rows)


def write(data: LabeledData, destination: Path) -> list[Path]:
    """Write ``data`` to ``destination``."""
    return write_text(destination, dumps(data))


# -- NER -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Annotation:
    line: int
    start: int
    end: int
    category: str


def _header(row: list[str]) -> dict[str, int]:
    found = {name.strip().lower(): index for index, name in enumerate(row)}
    columns: dict[str, int] = {}
    for name in _NER_COLUMNS:
        index = found.get(name.lower())
        if index is None and name != "Line":
            raise InvalidFileRecord(
                f"the header has no {name!r} column; a Comprehend annotations CSV starts with "
                f"{','.join(_NER_COLUMNS)}",
                line=1,
                field=name,
            )
        if index is not None:
            columns[name] = index
    return columns


def _cell(row: list[str], columns: dict[str, int], name: str) -> str:
    index = columns[name]
    if index >= len(row):
        raise RecordError("is missing", name)
    return row[index].strip()


def _number(row: list[str], columns: dict[str, int], name: str) -> int:
    value = _cell(row, columns, name)
    if not value.isdigit():
        raise RecordError(f"must be a whole number >= 0, not {value!r}", name)
    return int(value)


def _document_key(row: list[str], columns: dict[str, int]) -> tuple[str, int | None]:
    """``(file, line)`` of the document an annotation row points at."""
    file_name = _cell(row, columns, "File")
    parts = PurePosixPath(file_name.replace("\\", "/")).parts
    if not file_name or file_name.startswith(("/", "\\")) or ".." in parts:
        raise RecordError(f"{file_name!r} must name a file beside the annotations CSV", "File")
    return file_name, _number(row, columns, "Line") if "Line" in columns else None


def _annotation(line: int, row: list[str], columns: dict[str, int]) -> _Annotation:
    category = _cell(row, columns, "Type")
    if not category:
        raise RecordError("is empty", "Type")
    start = _number(row, columns, "Begin Offset")
    end = _number(row, columns, "End Offset")
    if end <= start:
        raise RecordError(f"{end} must be greater than Begin Offset {start}", "End Offset")
    return _Annotation(line=line, start=start, end=end, category=category)


def _documents_of(folder: Path, file_name: str, per_line: bool) -> dict[int | None, str]:
    path = folder / file_name
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise RecordError(
            f"documents file {file_name!r} cannot be read ({error.strerror or error}); put it "
            "beside the annotations CSV",
            "File",
        ) from None
    except UnicodeDecodeError as error:
        raise RecordError(
            f"documents file {file_name!r} is not UTF-8 ({error.reason})", "File"
        ) from None
    if not per_line:
        return {None: content}
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # A Windows line end belongs to the line break, not to the document.
    return {
        index: line.removesuffix("\r")
        for index, line in enumerate(lines)
        if line.removesuffix("\r")
    }


def _checked_spans(text: str, annotations: list[_Annotation]) -> tuple[Span, ...]:
    """The annotations of one document as spans; a bad one is a RecordError on its line."""
    previous: _Annotation | None = None
    for annotation in sorted(annotations, key=lambda a: (a.start, a.end)):
        if annotation.end > len(text):
            raise RecordError(
                f"{annotation.end} is past the end of the document ({len(text)} code points)",
                "End Offset",
                annotation.line,
            )
        if previous is not None and annotation.start < previous.end:
            raise RecordError(
                f"entity {annotation.category!r} [{annotation.start}, {annotation.end}) overlaps "
                f"{previous.category!r} [{previous.start}, {previous.end}) of line "
                f"{previous.line}; Lexicraft spans must not overlap",
                "Begin Offset",
                annotation.line,
            )
        previous = annotation
    return tuple(
        Span(a.start, a.end, a.category) for a in sorted(annotations, key=lambda a: a.start)
    )


def read_ner(
    source: Path | str, *, kind: ProjectKind | None = None, skip_invalid: bool = False
) -> LabeledData:
    """Documents of a Comprehend annotations CSV and the documents files it names.

    With content given as a string, documents files are looked up in the working directory.
    A bad annotation row makes its whole document bad, so ``skip_invalid`` never imports a
    document with some of its entities missing.
    """
    ensure_kind_supported(kind, "Comprehend annotations CSV", classification=False)
    content, folder = load_text(source)
    folder = folder or Path.cwd()
    rows = [(line, row) for line, row in csv_rows(content) if row]
    collector = Collector(requested=ProjectKind.ENTITY_RECOGNITION, skip_invalid=skip_invalid)
    if not rows:
        return collector.result(ProjectKind.ENTITY_RECOGNITION)
    columns = _header(rows[0][1])
    per_line = "Line" in columns
    annotations: dict[tuple[str, int | None], list[_Annotation]] = defaultdict(list)
    problems: dict[tuple[str, int | None], RecordError] = {}
    files: dict[str, dict[int | None, str]] = {}
    for line, row in rows[1:]:
        with collector.record(line):
            key = _document_key(row, columns)
            if key[0] not in files:
                files[key[0]] = _documents_of(folder, key[0], per_line)
            if key[1] not in files[key[0]]:
                raise RecordError(f"line {key[1]} of {key[0]!r} is empty or missing", "Line")
            try:
                annotations[key].append(_annotation(line, row, columns))
            except RecordError as error:
                if not skip_invalid:
                    raise
                # Reported once, with its document, below.
                problems.setdefault(key, RecordError(error.problem, error.field, line))
    for file_name, documents in files.items():
        for document_line, text in documents.items():
            key = (file_name, document_line)
            found = annotations.get(key, [])
            location = file_name if document_line is None else f"{file_name}#{document_line}"
            first_line = found[0].line if found else None
            with collector.record(first_line):
                if key in problems:
                    raise problems[key]
                checked = check_text(text, "File")
                collector.add(
                    Document(location=location, text=checked, spans=_checked_spans(checked, found)),
                    line=first_line,
                    id_field="File",
                )
    return collector.result(ProjectKind.ENTITY_RECOGNITION)


def write_ner(data: LabeledData, destination: Path) -> list[Path]:
    """Write the annotations CSV to ``destination`` and the documents beside it."""
    require_kind(data, classification=False, format_name="Comprehend annotations CSV")
    per_line = not any("\n" in d.text or "\r" in d.text for d in data.documents)
    stem = destination.stem
    written: list[Path] = []
    rows: list[list[str]] = []
    if per_line:
        documents_name = f"{stem}.documents.txt"
        rows.append(list(_NER_COLUMNS))
        for index, document in enumerate(data.documents):
            for span in document.spans:
                rows.append(
                    [documents_name, str(index), str(span.start), str(span.end), span.category]
                )
        written += write_text(
            destination.with_name(documents_name),
            "".join(document.text + "\n" for document in data.documents),
        )
    else:
        rows.append([name for name in _NER_COLUMNS if name != "Line"])
        for index, document in enumerate(data.documents, start=1):
            document_name = f"{stem}-{index:06d}.txt"
            written += write_text(destination.with_name(document_name), document.text)
            for span in document.spans:
                rows.append([document_name, str(span.start), str(span.end), span.category])
    return [*write_text(destination, csv_text(rows)), *written]
