"""Where training and prediction run: the seam between the use cases and the machines.

The use cases gather and store everything (documents, labels, splits, results) through the
database; a :class:`Compute` only runs the heavy step. Models are named by their model-store
key (a model row's ``artifact_dir``), never by a host's folder: a compute trains and
publishes a model through the model store, and predicts with its own host's copy of it, so
the machine that runs the work need not share a file system with the job's worker. The
composition root (``lexicraft.bootstrap``) picks the implementation from ``settings.executor``:
``jobs/executors/local.py`` runs it in this process, ``jobs/executors/ray.py`` on a Ray
cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Protocol, TypeVar

from lexicraft.domain.projects import ProjectKind
from lexicraft.ml.base import ClassScore, ModelTraining, PredictedSpan, Progress

#: What a model finds in one text: entities (NER) or the chosen classes (classification).
ModelOutput = list[PredictedSpan] | list[ClassScore]

T = TypeVar("T")


class Compute(Protocol):
    """Runs trainings and predictions for the use cases."""

    def train(self, training: ModelTraining, progress: Progress) -> None:
        """Run ``training`` and publish its model.

        ``progress`` gets the fraction done, and it may raise (the job was cancelled or lost):
        the training then stops, nothing is published, and that exception comes out of this
        call.
        """
        ...

    def predict(
        self,
        kind: ProjectKind,
        artifact: str,
        texts: Sequence[str],
        then: Callable[[list[ModelOutput]], T],
        *,
        client: Hashable = None,
    ) -> T:
        """``then(outputs)``: one output per text, from the ``kind`` model ``artifact`` (a
        model row's ``artifact_dir``).

        ``then`` (rendering the outputs) is CPU work of this process; a compute that predicts
        in this process runs it in the same turn as the forward pass, so the two never compete
        for the cores. ``client`` is whose work this is (an analyze job's key): a compute
        with a limited number of slots hands them out in turns across clients, so a client
        with much work waiting cannot keep the others' work out.
        """
        ...

    def forget(self, artifact: str) -> None:
        """Drop whatever holds model ``artifact`` loaded (its files changed or go)."""
        ...
