"""CoNLL-style token-per-line files with BIO tags (IOB1, IOB2, BIOES).

One token per line: the token in the first column, its tag in the last (CoNLL-2003's four
columns work as they are); columns are separated by tabs (then a token may hold spaces) or by
spaces. A blank line ends a
sentence; ``-DOCSTART-`` lines separate source documents and are skipped. Each sentence becomes
one document whose text is its tokens joined by single spaces, so spans are exact code-point
ranges of that text.

Schemes: IOB2 starts every entity with ``B-``; IOB1 uses ``I-`` and ``B-`` only where an entity
directly follows one of the same type; BIOES marks single-token entities ``S-`` and last tokens
``E-`` (BILOU's ``U-``/``L-`` are read as ``S-``/``E-``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from lexicraft.domain.projects import Document, ProjectKind
from lexicraft.domain.spans import Span
from lexicraft.errors import InvalidParameterValue, UnrepresentableDocument
from lexicraft.formats.base import (
    Collector,
    LabeledData,
    RecordError,
    check_spans,
    ensure_kind_supported,
    generated_location,
    load_text,
    require_kind,
    write_text,
)

DOCSTART = "-DOCSTART-"
_OUTSIDE = "O"
_COLUMNS = re.compile(r"[ \t]+")
_TAB_COLUMNS = re.compile(r" *\t[ \t]*")
# Characters a token cannot hold: they separate columns or lines.
_SEPARATORS = frozenset(" \t\n\r")


class Scheme(StrEnum):
    """BIO tagging schemes."""

    IOB1 = "iob1"
    IOB2 = "iob2"
    BIOES = "bioes"


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    prefix: str  # "O", "B", "I", "E", "S"
    category: str
    line: int


def _parse_tag(tag: str, line: int) -> tuple[str, str]:
    if tag == _OUTSIDE:
        return _OUTSIDE, ""
    prefix, dash, category = tag.partition("-")
    prefix = {"U": "S", "L": "E"}.get(prefix, prefix)
    if not dash or prefix not in ("B", "I", "E", "S") or not category:
        raise RecordError(
            f"tag {tag!r} is not 'O' or B-/I-/E-/S- followed by a type (e.g. 'B-PER')",
            "tag",
            line,
        )
    return prefix, category


def _sentences(content: str, collector: Collector) -> list[list[_Token]]:
    """Sentences of tokens; a sentence with a malformed line is reported and dropped."""
    sentences: list[list[_Token]] = []
    current: list[_Token] = []
    broken = False

    def close() -> None:
        nonlocal current, broken
        if current and not broken:
            sentences.append(current)
        current, broken = [], False

    for number, raw in enumerate(content.split("\n"), start=1):
        line = raw.strip(" \t\r")
        if not line:
            close()
            continue
        # Tab-separated files may have tokens with spaces ("New York"); others split on spaces.
        columns = (_TAB_COLUMNS if "\t" in line else _COLUMNS).split(line)
        if columns[0] == DOCSTART:
            close()
            continue
        if broken:
            continue
        with collector.record(number):
            try:
                if len(columns) < 2:
                    raise RecordError(
                        "expected a token and a tag separated by a space or tab", "tag", number
                    )
                prefix, category = _parse_tag(columns[-1], number)
                current.append(_Token(columns[0], prefix, category, number))
            except RecordError:
                broken = True
                raise
    close()
    return sentences


def _detect(sentences: Sequence[Sequence[_Token]]) -> Scheme:
    for sentence in sentences:
        if any(token.prefix in ("E", "S") for token in sentence):
            return Scheme.BIOES
    return Scheme.IOB1  # IOB1 decoding also reads IOB2 correctly


def _chunks(sentence: Sequence[_Token], scheme: Scheme) -> list[tuple[int, int, str]]:
    """``(first token, last token + 1, category)`` of every entity in ``sentence``."""
    chunks: list[tuple[int, int, str]] = []
    open_start: int | None = None
    open_category = ""

    def close(end: int) -> None:
        nonlocal open_start
        if open_start is not None:
            chunks.append((open_start, end, open_category))
        open_start = None

    for index, token in enumerate(sentence):
        if scheme is Scheme.BIOES:
            if token.prefix in ("I", "E"):
                if open_start is None or open_category != token.category:
                    raise RecordError(
                        f"{token.prefix}-{token.category} does not continue a "
                        f"B-{token.category} entity (BIOES)",
                        "tag",
                        token.line,
                    )
                if token.prefix == "E":
                    close(index + 1)
                continue
            if open_start is not None:
                raise RecordError(
                    f"entity B-{open_category} is not closed with E-{open_category} before this "
                    "token (BIOES)",
                    "tag",
                    token.line,
                )
            if token.prefix == "S":
                chunks.append((index, index + 1, token.category))
            elif token.prefix == "B":
                open_start, open_category = index, token.category
            continue
        if token.prefix in ("E", "S"):
            raise RecordError(
                f"tag {token.prefix}-{token.category} belongs to BIOES, not {scheme.value.upper()}",
                "tag",
                token.line,
            )
        if token.prefix == _OUTSIDE:
            close(index)
        elif token.prefix == "B":
            close(index)
            open_start, open_category = index, token.category
        elif open_start is None or open_category != token.category:
            if scheme is Scheme.IOB2:
                raise RecordError(
                    f"I-{token.category} starts an entity; IOB2 starts every entity with "
                    f"B-{token.category} (use IOB1 for files that do not)",
                    "tag",
                    token.line,
                )
            close(index)
            open_start, open_category = index, token.category
    if open_start is not None and scheme is Scheme.BIOES:
        raise RecordError(
            f"entity B-{open_category} is not closed with E-{open_category} at the end of the "
            "sentence (BIOES)",
            "tag",
            sentence[-1].line,
        )
    close(len(sentence))
    return chunks


def read(
    source: Path | str,
    *,
    kind: ProjectKind | None = None,
    skip_invalid: bool = False,
    scheme: Scheme | None = None,
) -> LabeledData:
    """Documents of a CoNLL file, one per sentence; ``scheme`` None detects IOB vs BIOES."""
    ensure_kind_supported(kind, "CoNLL", classification=False)
    content, _folder = load_text(source)
    collector = Collector(requested=ProjectKind.ENTITY_RECOGNITION, skip_invalid=skip_invalid)
    sentences = _sentences(content, collector)
    used = scheme or _detect(sentences)
    for number, sentence in enumerate(sentences, start=1):
        first_line = sentence[0].line
        with collector.record(first_line):
            starts: list[int] = []
            position = 0
            for token in sentence:
                starts.append(position)
                position += len(token.text) + 1
            text = " ".join(token.text for token in sentence)
            spans = [
                (
                    Span(starts[first], starts[last - 1] + len(sentence[last - 1].text), category),
                    "tag",
                )
                for first, last, category in _chunks(sentence, used)
            ]
            document = Document(
                location=generated_location(number), text=text, spans=check_spans(text, spans)
            )
            collector.add(document, line=first_line)
    return collector.result(ProjectKind.ENTITY_RECOGNITION)


def _tokens(document: Document) -> list[tuple[int, int]]:
    """``(start, end)`` of each token of a text made of tokens joined by single spaces."""
    text = document.text
    tokens: list[tuple[int, int]] = []
    position = 0
    for token in text.split(" "):
        bad = next((char for char in token if char in _SEPARATORS), None)
        if not token or bad is not None:
            what = "two spaces in a row or a leading/trailing space"
            if bad is not None:
                what = f"the character {bad!r} inside a token"
            raise UnrepresentableDocument(
                f"document {document.location!r} cannot be written as CoNLL without changing its "
                f"text: it has {what}; export it as jsonl or azure instead"
            )
        tokens.append((position, position + len(token)))
        position += len(token) + 1
    if text.split(" ", 1)[0] == DOCSTART:
        raise UnrepresentableDocument(
            f"document {document.location!r} starts with {DOCSTART}, which CoNLL reserves"
        )
    return tokens


def _tags(document: Document, scheme: Scheme) -> list[str]:
    tokens = _tokens(document)
    starts = {start: index for index, (start, _end) in enumerate(tokens)}
    ends = {end: index for index, (_start, end) in enumerate(tokens)}
    tags = [_OUTSIDE] * len(tokens)
    previous_end: int | None = None
    previous_category = ""
    for span in document.spans:
        first, last = starts.get(span.start), ends.get(span.end)
        if first is None or last is None:
            raise UnrepresentableDocument(
                f"document {document.location!r} cannot be written as CoNLL: entity "
                f"{span.category!r} [{span.start}, {span.end}) does not start and end at token "
                "boundaries (spaces); export it as jsonl or azure instead"
            )
        adjacent = previous_end == first - 1 and previous_category == span.category
        for index in range(first, last + 1):
            if scheme is Scheme.BIOES:
                if first == last:
                    prefix = "S"
                elif index == first:
                    prefix = "B"
                else:
                    prefix = "E" if index == last else "I"
            elif scheme is Scheme.IOB2:
                prefix = "B" if index == first else "I"
            else:
                prefix = "B" if index == first and adjacent else "I"
            tags[index] = f"{prefix}-{span.category}"
        previous_end, previous_category = last, span.category
    return tags


def dumps(data: LabeledData, *, scheme: Scheme = Scheme.IOB2, docstart: bool = False) -> str:
    """CoNLL content for ``data``: ``token TAG`` lines, a blank line after each document."""
    require_kind(data, classification=False, format_name="CoNLL")
    if scheme not in Scheme:
        raise InvalidParameterValue(f"scheme {scheme!r} is not one of {list(Scheme)}")
    parts = [f"{DOCSTART} O\n\n"] if docstart else []
    for document in data.documents:
        tags = _tags(document, scheme)
        tokens = document.text.split(" ")
        parts.append("".join(f"{token} {tag}\n" for token, tag in zip(tokens, tags, strict=True)))
        parts.append("\n")
    return "".join(parts)


def write(
    data: LabeledData, destination: Path, *, scheme: Scheme = Scheme.IOB2, docstart: bool = False
) -> list[Path]:
    """Write ``data`` as CoNLL to ``destination``."""
    return write_text(destination, dumps(data, scheme=scheme, docstart=docstart))
