"""Fixed training schedules for the contract tests.

The encoder backends' defaults take at least 150 optimiser steps and may run for minutes: right
for a user's project, more than these tests need. A fixed number of steps (no wall-clock budget)
also makes a test's model the same however busy the machine is, so a quality check cannot pass
on an idle machine and fail on a loaded one.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

#: Steps on a tiny corpus (one batch per epoch): the encoders fit each corpus here exactly and
#: still read the German and French documents (checked at 30 and 60 steps).
TINY_CORPUS_STEPS = 60

Backend = TypeVar("Backend")


def on_fixed_schedule(backend: Backend, steps: int) -> Backend:
    """``backend`` trained for exactly ``steps`` optimiser steps, if it has a schedule."""
    settings = getattr(backend, "hyperparameters", None)
    if not dataclasses.is_dataclass(settings) or not hasattr(settings, "min_steps"):
        return backend
    fixed = dataclasses.replace(  # type: ignore[type-var]
        settings, epochs=1, min_steps=steps, time_budget_s=None
    )
    return type(backend)(fixed)  # type: ignore[call-arg]


def on_tiny_schedule(backend: Backend) -> Backend:
    """``backend`` on the ``TINY_CORPUS_STEPS``-step schedule of the tiny corpora."""
    return on_fixed_schedule(backend, TINY_CORPUS_STEPS)
