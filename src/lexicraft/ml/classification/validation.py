"""Checks every classification backend makes on its training examples before it trains."""

from __future__ import annotations

from collections.abc import Sequence

from lexicraft.ml.base import ClassExample


def check_examples(
    examples: Sequence[ClassExample], labels: tuple[str, ...], multi_label: bool
) -> None:
    """Raise ``ValueError`` naming the first example that does not fit the labels or kind."""
    if not examples:
        raise ValueError("no training examples; a model needs at least one labelled document")
    if not any(example.text.strip() for example in examples):
        raise ValueError("every training example is blank; add documents with text")
    known = set(labels)
    for number, example in enumerate(examples):
        if not multi_label and len(example.classes) != 1:
            raise ValueError(
                f"example {number} has {len(example.classes)} classes; "
                "a single-label model needs exactly one per document"
            )
        for category in example.classes:
            if category not in known:
                raise ValueError(
                    f"example {number}: class {category!r} is not in the labels {list(labels)}"
                )
