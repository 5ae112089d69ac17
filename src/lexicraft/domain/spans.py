"""Entity spans: half-open code-point ranges into a document's original text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A labelled entity span ``[start, end)`` in code points."""

    start: int
    end: int
    category: str


def span_problem(text: str, spans: Iterable[Span], labels: Iterable[str]) -> str | None:
    """Why ``spans`` are not valid on ``text`` with the allowed ``labels``; None when they are.

    Valid spans are non-empty, inside the text, use a declared label, and do not overlap.
    """
    allowed = set(labels)
    previous: Span | None = None
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if span.category not in allowed:
            return f"label '{span.category}' is not in the project's entity list {sorted(allowed)}"
        if not 0 <= span.start < span.end <= len(text):
            return (
                f"span of '{span.category}' at [{span.start}, {span.end}) is outside the "
                f"document (length {len(text)} code points) or empty"
            )
        if previous is not None and span.start < previous.end:
            return (
                f"spans '{previous.category}' [{previous.start}, {previous.end}) and "
                f"'{span.category}' [{span.start}, {span.end}) overlap"
            )
        previous = span
    return None
