"""Fixed training schedules for the contract tests.

The encoder backends' defaults take at least 150 optimiser steps and may run for minutes: right
for a user's project, more than these tests need. A fixed number of steps (no wall-clock budget)
also makes a test's model the same however busy the machine is, so a quality check cannot pass
on an idle machine and fail on a loaded one.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

#: Steps on a tiny corpus (one batch per epoch), measured: the classifiers fit theirs exactly,
#: still read German and French documents, and e5 trained on English classifies German ones
#: at 30 steps; the NER encoders fit theirs at 60 (not at 30).
CLASSIFICATION_TINY_STEPS = 30
NER_TINY_STEPS = 60

Backend = TypeVar("Backend")


def on_fixed_schedule(backend: Backend, steps: int) -> Backend:
    """``backend`` trained for exactly ``steps`` optimiser steps, if it has a schedule."""
    settings = getattr(backend, "hyperparameters", None)
    if not dataclasses.is_dataclass(settings) or not hasattr(settings, "min_steps"):
        return backend
    # One epoch may hold more than ``steps`` batches, and the planner runs whole epochs up to
    # its word-piece cap, never under ``min_steps``: a cap of one piece leaves exactly
    # ``min_steps`` (training_plan.plan_steps).
    fixed = dataclasses.replace(  # type: ignore[type-var]
        settings, epochs=1, min_steps=steps, max_train_pieces=1, time_budget_s=None
    )
    return type(backend)(fixed)  # type: ignore[call-arg]
