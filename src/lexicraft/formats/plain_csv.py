"""Plain CSV for classification: ``text,label[,label…]``, one document per row.

A first row whose first cell is ``text`` (any case) is a header. Rows with more than one label
make a multi-label file. Texts with commas, quotes or line breaks must be quoted (as any CSV
writer does).
"""

from __future__ import annotations

from pathlib import Path

from lexicraft.domain.projects import Document, ProjectKind
from lexicraft.formats.base import (
    Collector,
    LabeledData,
    check_classes,
    check_text,
    csv_rows,
    csv_text,
    ensure_kind_supported,
    generated_location,
    load_text,
    require_kind,
    write_text,
)

NAME = "csv"


def read(
    source: Path | str, *, kind: ProjectKind | None = None, skip_invalid: bool = False
) -> LabeledData:
    """Documents of a plain CSV file (``source``: a path, or the content itself)."""
    ensure_kind_supported(kind, "CSV", classification=True)
    content, _folder = load_text(source)
    rows = [(line, row) for line, row in csv_rows(content) if row]
    if rows and rows[0][1][0].strip().lower() == "text":
        rows = rows[1:]
    collector = Collector(requested=kind, skip_invalid=skip_invalid)
    for number, (line, row) in enumerate(rows, start=1):
        with collector.record(line):
            text = check_text(row[0], "text")
            labels = [label for label in row[1:] if label != ""]
            document = Document(
                location=generated_location(number),
                text=text,
                classes=check_classes(labels, "label"),
            )
            collector.add(document, line=line)
    return collector.result(collector.classification_kind())


def dumps(data: LabeledData) -> str:
    """CSV content for ``data``, with a ``text,label`` header."""
    require_kind(data, classification=True, format_name="CSV")
    rows = [["text", "label"]]
    for document in data.documents:
        rows.append([document.text, *document.classes])
    return csv_text(rows)


def write(data: LabeledData, destination: Path) -> list[Path]:
    """Write ``data`` to ``destination``."""
    return write_text(destination, dumps(data))
