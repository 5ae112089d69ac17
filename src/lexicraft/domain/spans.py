"""Entity spans: half-open code-point ranges into a document's original text, and their rule."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A labelled entity span ``[start, end)`` in code points."""

    start: int
    end: int
    category: str


def first_span_problem(
    text: str, spans: Sequence[Span], labels: Iterable[str] | None = None
) -> tuple[int, str] | None:
    """The index in ``spans`` of the first span that breaks the rule, and why; None if none does.

    The rule: every span is non-empty, inside the text, does not overlap another and (when
    ``labels`` is given) uses one of them. Imports, file readers, the Studio and the trainers
    all check spans with this one function.
    """
    allowed = None if labels is None else set(labels)
    for index, span in enumerate(spans):
        if allowed is not None and span.category not in allowed:
            return index, (
                f"label '{span.category}' is not in the project's entity list {sorted(allowed)}"
            )
        if not 0 <= span.start < span.end <= len(text):
            return index, (
                f"span of '{span.category}' at [{span.start}, {span.end}) is empty or outside "
                f"the text (length {len(text)} code points)"
            )
    found = first_overlap(spans)
    if found is not None:
        previous, span = spans[found[0]], spans[found[1]]
        return found[1], (
            f"spans '{previous.category}' [{previous.start}, {previous.end}) and "
            f"'{span.category}' [{span.start}, {span.end}) overlap"
        )
    return None


def first_overlap(spans: Sequence[Span]) -> tuple[int, int] | None:
    """The indices in ``spans`` of the first two that share a code point, in text order (the
    earlier one first); None if none do."""
    order = sorted(range(len(spans)), key=lambda index: (spans[index].start, spans[index].end))
    for before, after in itertools.pairwise(order):
        if spans[after].start < spans[before].end:
            return before, after
    return None


def renamed_spans(spans: Sequence[Span], category: str, name: str) -> tuple[Span, ...]:
    """``spans`` with label ``category`` called ``name``, in order; a span that then
    duplicates another (the same range and name: a merge of two labels) is kept once."""
    return tuple(
        dict.fromkeys(
            Span(span.start, span.end, name) if span.category == category else span
            for span in spans
        )
    )


def span_problem(text: str, spans: Iterable[Span], labels: Iterable[str]) -> str | None:
    """Why ``spans`` are not valid on ``text`` with the allowed ``labels``; None when they are."""
    found = first_span_problem(text, tuple(spans), labels)
    return None if found is None else found[1]
