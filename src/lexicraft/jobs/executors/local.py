"""The local executor: trainings run in the job's thread, predictions with this process's models.

Implements :class:`lexicraft.services.compute.Compute`. :func:`train_model` and
:func:`load_model` are also what the Ray executor runs on its workers, so both executors
train and load with the same code.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from lexicraft.domain.projects import ProjectKind
from lexicraft.jobs.scheduler import FairScheduler
from lexicraft.ml.base import (
    ClassExample,
    ClassificationPredictor,
    ConversationExample,
    ConversationPredictor,
    Examples,
    ModelTraining,
    NerExample,
    NerPredictor,
    Progress,
)
from lexicraft.ml.cache import PredictorCache
from lexicraft.ml.checksums import ModelVerifier, write_checksums
from lexicraft.storage.artifacts.base import ModelStore

T = TypeVar("T")


def train_model(
    kind: ProjectKind,
    backend: str,
    examples: Examples,
    labels: Sequence[str],
    out_dir: Path,
    progress: Progress,
) -> None:
    """Train the ``kind`` backend named ``backend`` into ``out_dir``."""
    # Imported here: the registry loads every ML backend (PyTorch), which composing a
    # context (every CLI command) does not need.
    from lexicraft.ml import registry

    if kind is ProjectKind.ENTITY_RECOGNITION:
        registry.get_ner_backend(backend).train(
            cast(Sequence[NerExample], examples), labels, out_dir, progress
        )
    elif kind is ProjectKind.CONVERSATION:
        registry.get_conversation_backend(backend).train(
            cast(Sequence[ConversationExample], examples), labels, out_dir, progress
        )
    else:
        registry.get_classification_backend(backend).train(
            cast(Sequence[ClassExample], examples), labels, out_dir, progress
        )


def load_model(
    kind: ProjectKind, model_dir: Path
) -> NerPredictor | ClassificationPredictor | ConversationPredictor:
    """The ``kind`` model in ``model_dir``, loaded (``ModelFormatError`` if unreadable)."""
    from lexicraft.ml import registry

    if kind is ProjectKind.ENTITY_RECOGNITION:
        return registry.load_ner_predictor(model_dir)
    if kind is ProjectKind.CONVERSATION:
        return registry.load_conversation_predictor(model_dir)
    return registry.load_classification_predictor(model_dir)


def train_and_publish(models: ModelStore, training: ModelTraining, progress: Progress) -> None:
    """Train into this host's staging folder for the model's key, then publish it whole,
    with the checksums of its files (``checksums.json``), which every load checks.

    The staging folder never outlives the call: a model exists only once published.
    """
    staging = models.staging_dir(training.key, training.attempt)
    try:
        train_model(
            training.kind, training.backend, training.examples, training.labels, staging, progress
        )
        write_checksums(staging)
        models.publish(training.key, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class LocalCompute:
    """Trains in the calling thread; predicts with the models this process has loaded."""

    def __init__(
        self,
        models: ModelStore,
        predict_concurrency: int,
        loaded_models: int = 8,
        verifier: ModelVerifier | None = None,
        *,
        model_budget_bytes: int = 0,
    ) -> None:
        self.models = models
        #: Checks every use of a model against its checksums (``verifier``: the process's);
        #: keeps at most ``loaded_models`` models and ``model_budget_bytes`` (0: any) loaded.
        self.predictors = PredictorCache(
            capacity=loaded_models, verifier=verifier, budget_bytes=model_budget_bytes
        )
        #: Batches predicted (and rendered) at the same time in this process. A forward pass
        #: already spreads over every core, and CPU work beside it stalls its thread team, so
        #: the CPU-bound steps take turns; other work (loading a model, database) goes on
        #: outside this gate, so a slow load still holds nobody up. Turns go fairly across
        #: clients (analyze jobs' keys), weighted by characters: jobs/scheduler.py.
        self.prediction_slots = FairScheduler(predict_concurrency)

    def train(self, training: ModelTraining, progress: Progress) -> None:
        """Train in this thread; ``progress`` raising stops the trainer where it calls it."""
        train_and_publish(self.models, training, progress)

    def predict(
        self,
        kind: ProjectKind,
        artifact: str,
        texts: Sequence[str],
        then: Callable[[list[Any]], T],
        *,
        client: Hashable = None,
    ) -> T:
        """Load the model (cached per process) outside the slot, then predict and ``then``
        in ``client``'s turn at a slot."""
        model_dir = self.models.local_dir(artifact)
        predictor = self.predictors.get(model_dir, lambda folder: load_model(kind, folder))
        with self.prediction_slots.turn(client, sum(len(text) for text in texts)):
            return then(predictor.predict(texts))

    def forget(self, artifact: str) -> None:
        """Drop the loaded model ``artifact`` from this process's cache."""
        self.predictors.discard(self.models.local_path(artifact))
