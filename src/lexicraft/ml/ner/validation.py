"""Checks every NER backend makes on its training examples before it trains."""

from __future__ import annotations

from collections.abc import Sequence

from lexicraft.domain.spans import span_problem
from lexicraft.ml.base import NerExample


def check_examples(examples: Sequence[NerExample], labels: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the first example whose spans break the span rule.

    The rule is the domain's (:func:`lexicraft.domain.spans.span_problem`): the same one
    imports and the Studio check, so a trainer never sees spans a project could not hold.
    """
    if not examples:
        raise ValueError("no training examples; a model needs at least one labelled document")
    for number, example in enumerate(examples):
        problem = span_problem(example.text, example.spans, labels)
        if problem is not None:
            raise ValueError(f"example {number}: {problem}")
