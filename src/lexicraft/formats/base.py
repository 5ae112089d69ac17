"""What every interchange format reads into and writes from, and the checks they share.

Readers turn a file into :class:`LabeledData`: documents with half-open code-point spans (NER)
or classes (classification), checked record by record. A bad record stops the read with an
:class:`~lexicraft.errors.InvalidFileRecord` naming its line and field, so nothing of a file
with a bad record is imported; with ``skip_invalid`` the bad records are left out and listed
in :attr:`LabeledData.skipped` instead.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from lexicraft.domain.projects import (
    Dataset,
    Document,
    Project,
    ProjectAssets,
    ProjectKind,
    location_problem,
)
from lexicraft.domain.spans import Span, first_span_problem
from lexicraft.domain.text import string_problem
from lexicraft.errors import InvalidFileRecord, InvalidParameterValue, LexicraftError


class RecordError(Exception):
    """A problem with one record, raised while parsing it; the reader adds the line."""

    def __init__(self, problem: str, field: str | None = None, line: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.field = field
        self.line = line


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """A record left out by ``skip_invalid``, and why."""

    line: int | None
    field: str | None
    problem: str

    def describe(self) -> str:
        """One line: where the record is and what is wrong with it."""
        return InvalidFileRecord(self.problem, line=self.line, field=self.field).message


@dataclass(frozen=True, slots=True)
class LabeledData:
    """Labeled documents of one project kind, as a format reads or writes them."""

    kind: ProjectKind
    labels: tuple[str, ...]
    documents: tuple[Document, ...]
    skipped: tuple[SkippedRecord, ...] = ()
    #: Project metadata, for formats that carry it (the Azure project file) or exports.
    project: Project | None = None

    @property
    def assets(self) -> ProjectAssets:
        """Labels and documents as the project store takes them."""
        return ProjectAssets(labels=self.labels, documents=self.documents)


class Reader(Protocol):
    """``read(source, kind=…, skip_invalid=…)``: a file (Path) or its content (str)."""

    def __call__(
        self, source: Path | str, *, kind: ProjectKind | None = None, skip_invalid: bool = False
    ) -> LabeledData: ...


class Writer(Protocol):
    """``write(data, destination)``: write the file(s); returns every path written."""

    def __call__(self, data: LabeledData, destination: Path) -> list[Path]: ...


def load_text(source: Path | str) -> tuple[str, Path | None]:
    """The content of ``source`` and the folder it came from (None for content given inline).

    Files are UTF-8; a byte-order mark is dropped. Newlines are kept exactly as written.
    """
    if isinstance(source, str):
        return source, None
    try:
        raw = source.read_bytes()
    except OSError as error:
        raise InvalidParameterValue(
            f"cannot read {str(source)!r}: {error.strerror or error}", target="file"
        ) from error
    try:
        return raw.decode("utf-8-sig"), source.parent
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InvalidFileRecord(
            f"the file is not UTF-8 text (byte {error.start}: {error.reason}); save it as UTF-8",
            line=line,
        ) from error


def write_text(destination: Path, content: str) -> list[Path]:
    """Write ``content`` as UTF-8 without newline translation; returns ``[destination]``."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with destination.open("w", encoding="utf-8", newline="") as handle:
        handle.write(content)
    return [destination]


def generated_location(number: int) -> str:
    """The location given to the ``number``-th document (1-based) of a format without ids."""
    return f"doc-{number:06d}"


def check_location(location: str, field_name: str) -> str:
    """``location`` if it can name a file inside a storage container, else a RecordError.

    Ids with surrounding spaces are refused too: in a file they are a mistake, not a name.
    """
    problem = location_problem(location)
    if problem is None and location.strip() != location:
        problem = "must not start or end with spaces"
    if problem is not None:
        raise RecordError(
            f"id {location!r} cannot be used as a document location: it {problem}", field_name
        )
    return location


def check_text(text: object, field_name: str) -> str:
    """``text`` if it is a non-empty string that can be stored, else a RecordError."""
    if not isinstance(text, str):
        raise RecordError(f"must be a string, not {type(text).__name__}", field_name)
    if not text:
        raise RecordError("is empty; every document needs text", field_name)
    problem = string_problem(text)
    if problem is not None:
        raise RecordError(problem, field_name)
    return text


def check_spans(text: str, spans: Sequence[tuple[Span, str]]) -> tuple[Span, ...]:
    """Spans sorted by start, checked: named, non-empty, inside the text, not overlapping.

    Each span comes with the field it was read from, so the error can name it.
    """
    for span, where in spans:
        if not span.category or span.category.strip() != span.category:
            raise RecordError(
                f"category {span.category!r} must be non-empty, without surrounding spaces", where
            )
    found = first_span_problem(text, [span for span, _ in spans])
    if found is not None:
        index, problem = found
        raise RecordError(problem, spans[index][1])
    return tuple(sorted((span for span, _ in spans), key=lambda span: (span.start, span.end)))


def check_classes(classes: object, field_name: str) -> tuple[str, ...]:
    """A list of distinct, non-empty class names, else a RecordError."""
    if not isinstance(classes, list):
        raise RecordError(
            f"must be a list of class names, not {type(classes).__name__}", field_name
        )
    seen: list[str] = []
    for index, category in enumerate(classes):
        where = f"{field_name}[{index}]"
        if not isinstance(category, str):
            raise RecordError(f"must be a string, not {type(category).__name__}", where)
        if not category or category.strip() != category:
            raise RecordError(
                f"class {category!r} must be non-empty, without surrounding spaces", where
            )
        if category in seen:
            raise RecordError(f"class {category!r} is listed twice", where)
        seen.append(category)
    return tuple(seen)


def parse_dataset(value: object, field_name: str) -> Dataset | None:
    """``Train``/``Test`` (any case) or absent, else a RecordError."""
    try:
        return Dataset.parse(value)
    except LexicraftError as error:
        raise RecordError(error.message, field_name) from error


def optional_string(record: dict[str, object], key: str) -> str | None:
    """``record[key]`` when it is a string, None when absent, else a RecordError."""
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"must be a string, not {type(value).__name__}", key)
    return value


def check_integer(value: object, field_name: str) -> int:
    """``value`` if it is an int (not a bool), else a RecordError."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise RecordError(f"must be a whole number, not {value!r}", field_name)
    return value


def ensure_kind_supported(
    requested: ProjectKind | None, format_name: str, classification: bool
) -> None:
    """Refuse a requested kind that a single-task format cannot hold."""
    if requested is None:
        return
    if classification and not requested.is_classification:
        raise InvalidParameterValue(
            f"{format_name} files hold classes, not entities; import them into a single- or "
            "multi-label classification project",
            target="kind",
        )
    if not classification and requested.is_classification:
        raise InvalidParameterValue(
            f"{format_name} files hold entities, not classes; import them into a custom entity "
            "recognition project",
            target="kind",
        )


class Collector:
    """Collects checked documents record by record, applying the ``skip_invalid`` rule.

    Use ``with collector.record(line):`` around the parsing of one record: a RecordError inside
    stops the read (InvalidFileRecord) or, with ``skip_invalid``, is remembered and the record
    left out.
    """

    def __init__(self, *, requested: ProjectKind | None, skip_invalid: bool) -> None:
        self.requested = requested
        self.skip_invalid = skip_invalid
        self.documents: list[Document] = []
        self.skipped: list[SkippedRecord] = []
        self._locations: dict[str, int | None] = {}
        self._labels: dict[str, None] = {}

    @contextmanager
    def record(self, line: int | None) -> Iterator[None]:
        """Parse one record; its RecordError is raised or (``skip_invalid``) remembered."""
        try:
            yield
        except RecordError as error:
            where = error.line if error.line is not None else line
            if not self.skip_invalid:
                raise InvalidFileRecord(error.problem, line=where, field=error.field) from None
            self.skipped.append(SkippedRecord(where, error.field, error.problem))

    def add(self, document: Document, *, line: int | None, id_field: str = "id") -> None:
        """Keep ``document`` (read from ``line``); a location seen before is a RecordError."""
        if document.location in self._locations:
            first = self._locations[document.location]
            where = f" (first on line {first})" if first is not None else ""
            raise RecordError(f"id {document.location!r} appears twice{where}", id_field)
        check_location(document.location, id_field)
        if self.requested is ProjectKind.SINGLE_LABEL_CLASSIFICATION and len(document.classes) > 1:
            raise RecordError(
                f"has {len(document.classes)} classes {list(document.classes)}, but a "
                "single-label project takes at most one; import into a multi-label project",
                "classes",
            )
        self._locations[document.location] = line
        self.documents.append(document)

    def declare_labels(self, labels: Iterable[str]) -> None:
        """Labels a file declares up front (kept first, in their order)."""
        for label in labels:
            self._labels.setdefault(label, None)

    def result(
        self,
        kind: ProjectKind,
        project: Project | None = None,
    ) -> LabeledData:
        """The collected documents with the labels they use, in first-seen order."""
        for document in self.documents:
            for span in document.spans:
                self._labels.setdefault(span.category, None)
            for category in document.classes:
                self._labels.setdefault(category, None)
        return LabeledData(
            kind=kind,
            labels=tuple(self._labels),
            documents=tuple(self.documents),
            skipped=tuple(self.skipped),
            project=project,
        )

    def classification_kind(self) -> ProjectKind:
        """The requested classification kind, or multi-label when a document has two classes."""
        if self.requested is not None:
            return self.requested
        if any(len(document.classes) > 1 for document in self.documents):
            return ProjectKind.MULTI_LABEL_CLASSIFICATION
        return ProjectKind.SINGLE_LABEL_CLASSIFICATION


@dataclass
class KindVote:
    """Decides NER vs classification for formats that can hold either, from the records."""

    requested: ProjectKind | None
    format_name: str
    decided: bool | None = field(default=None)  # True: classification
    decided_on: int | None = None

    def __post_init__(self) -> None:
        if self.requested is not None:
            self.decided = self.requested.is_classification

    def check(self, classification: bool, line: int | None, field_name: str) -> None:
        """Record that a record holds classes (or entities); a mismatch is a RecordError."""
        if self.decided is None:
            self.decided = classification
            self.decided_on = line
            return
        if self.decided != classification:
            has = "classes" if classification else "entities"
            holds = "classes" if self.decided else "entities"
            since = (
                f"line {self.decided_on} holds {holds}"
                if self.decided_on is not None
                else f"the project holds {holds}"
            )
            raise RecordError(f"has {has}, but {since}; a file holds one or the other", field_name)

    def kind(self, collector: Collector) -> ProjectKind:
        """The project kind the records (or the request) point to."""
        if self.decided is None:
            raise InvalidParameterValue(
                f"the {self.format_name} file has no labels that tell whether it holds entities "
                "or classes; pass --kind ner, single or multi",
                target="kind",
            )
        if not self.decided:
            return ProjectKind.ENTITY_RECOGNITION
        return collector.classification_kind()


def require_kind(data: LabeledData, classification: bool, format_name: str) -> None:
    """Refuse to write ``data`` in a format that cannot hold its kind."""
    if data.kind.is_classification != classification:
        holds = "classes" if classification else "entities"
        raise InvalidParameterValue(
            f"{format_name} files hold {holds} only; this project is a {data.kind.value} project",
            target="format",
        )


def csv_rows(content: str) -> list[tuple[int, list[str]]]:
    """Rows of CSV ``content`` with the line each starts on (quoted newlines are kept)."""
    reader = csv.reader(io.StringIO(content, newline=""))
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as error:
        raise InvalidFileRecord(f"is not valid CSV: {error}", line=reader.line_num) from None
    return rows


def csv_text(rows: list[list[str]]) -> str:
    """CSV content of ``rows`` (\\n line ends; quoting where needed)."""
    buffer = io.StringIO(newline="")
    # \n line ends: the reader accepts any, and texts keep their own \r\n untouched (quoted).
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
