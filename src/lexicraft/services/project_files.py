"""Project files and stored documents: UTF-16 code units on one side, code points on the other.

The file's wire shape is :mod:`lexicraft.wire.project_file`; this module converts between its
entries (UTF-16 offsets, texts maybe still in the container) and checked documents. Offsets
are converted through :mod:`lexicraft.ml.offsets` only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from lexicraft.domain.project_files import DocumentEntry, ProjectFile, RawLabel
from lexicraft.domain.projects import Document, Project, ProjectAssets
from lexicraft.domain.spans import Span, span_problem
from lexicraft.domain.text import StringIndexType, string_problem
from lexicraft.errors import InvalidProjectContent
from lexicraft.ml.offsets import OffsetMap


def resolve_documents(
    project_file: ProjectFile, read_text: Callable[[DocumentEntry], str]
) -> ProjectAssets:
    """Read every document's text and turn its UTF-16 labels into checked code-point spans."""
    documents: list[Document] = []
    for entry in project_file.entries:
        text = read_text(entry)
        # A file in the container may hold a NUL, which the documents table cannot store.
        problem = string_problem(text)
        if problem is not None:
            raise InvalidProjectContent(
                f"document {entry.location!r} {problem}", target="assets.documents"
            )
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


def utf16_labels(offsets: OffsetMap, spans: Iterable[Span]) -> tuple[RawLabel, ...]:
    """Code-point spans of ``offsets``' text as the file's labels (UTF-16 offset, length)."""
    labels = []
    for span in spans:
        offset, length = offsets.span_to_unit(span.start, span.end, StringIndexType.UTF16)
        labels.append(RawLabel(span.category, offset, length))
    return tuple(labels)


def project_file_of(
    project: Project,
    labels: Sequence[str],
    documents: Iterable[Document],
    *,
    inline_texts: bool = False,
) -> ProjectFile:
    """Stored documents as a project file's entries (UTF-16 offsets), texts inline if asked."""
    entries = []
    for document in documents:
        offsets = OffsetMap(document.text)
        entries.append(
            DocumentEntry(
                location=document.location,
                language=document.language,
                dataset=document.dataset,
                inline_text=document.text if inline_texts else None,
                labels=utf16_labels(offsets, document.spans),
                classes=document.classes,
                text_length=offsets.length_in(StringIndexType.UTF16),
            )
        )
    return ProjectFile(project=project, labels=tuple(labels), entries=tuple(entries))
