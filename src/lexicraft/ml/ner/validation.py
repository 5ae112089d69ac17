"""Checks every NER backend makes on its training examples before it trains."""

from __future__ import annotations

from collections.abc import Sequence

from lexicraft.ml.base import NerExample


def check_examples(examples: Sequence[NerExample], labels: list[str]) -> None:
    """Raise ``ValueError`` naming the first example with an unknown label or a bad span."""
    if not examples:
        raise ValueError("no training examples; a model needs at least one labelled document")
    known = set(labels)
    for number, example in enumerate(examples):
        for span in example.spans:
            if span.category not in known:
                raise ValueError(
                    f"example {number}: label {span.category!r} is not in the labels {labels}"
                )
            if not 0 <= span.start < span.end <= len(example.text):
                raise ValueError(
                    f"example {number}: span [{span.start}, {span.end}) is not a non-empty range "
                    f"inside the text of length {len(example.text)}"
                )
