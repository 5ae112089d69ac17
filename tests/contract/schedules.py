"""A short fixed training schedule for the contract tests' tiny corpora.

The encoder backends' defaults take at least 150 optimiser steps (and may run for minutes): right
for a user's project, more than a 12- or 20-document corpus needs. These tests are about what
a backend's models do, so they train on this schedule; the quality tests keep theirs.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

#: Steps on a tiny corpus (one batch per epoch): the encoders fit each corpus here exactly and
#: still read the German and French documents (checked at 30 and 60 steps).
TINY_CORPUS_STEPS = 60

Backend = TypeVar("Backend")


def on_tiny_schedule(backend: Backend) -> Backend:
    """``backend`` with a fixed ``TINY_CORPUS_STEPS``-step schedule, if it has a schedule."""
    settings = getattr(backend, "hyperparameters", None)
    if not dataclasses.is_dataclass(settings) or not hasattr(settings, "min_steps"):
        return backend
    tiny = dataclasses.replace(  # type: ignore[type-var]
        settings, epochs=1, min_steps=TINY_CORPUS_STEPS, time_budget_s=None
    )
    return type(backend)(tiny)  # type: ignore[call-arg]
