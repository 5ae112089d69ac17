"""Checks every conversation backend makes on its training examples before it trains."""

from __future__ import annotations

from collections.abc import Sequence

from lexicraft.domain.spans import span_problem
from lexicraft.ml.base import ConversationExample


def check_examples(examples: Sequence[ConversationExample], labels: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the first example without an intent or with spans that
    break the domain's span rule (the one imports and the Studio check)."""
    if not examples:
        raise ValueError("no training examples; a model needs at least one labelled utterance")
    if not any(example.text.strip() for example in examples):
        raise ValueError("every training utterance is blank; add utterances with text")
    for number, example in enumerate(examples):
        if not example.intent:
            raise ValueError(f"example {number} has no intent")
        problem = span_problem(example.text, example.spans, labels)
        if problem is not None:
            raise ValueError(f"example {number}: {problem}")


def intents_of(examples: Sequence[ConversationExample]) -> tuple[str, ...]:
    """The intents the examples carry, sorted: a model's intents do not depend on the order
    its utterances were listed in."""
    return tuple(sorted({example.intent for example in examples}))
