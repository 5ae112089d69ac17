"""The local executor: trainings run in the job's thread, predictions with this process's models.

Implements :class:`lexicraft.services.compute.Compute`. :func:`train_model` and
:func:`load_model` are also what the Ray executor runs on its workers, so both executors
train and load with the same code.
"""

from __future__ import annotations

import shutil
import threading
import weakref
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from lexicraft.domain.projects import ProjectKind
from lexicraft.errors import JobFailure
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
from lexicraft.ml.batching import Batcher, BatchingOptions
from lexicraft.ml.cache import PredictorCache
from lexicraft.ml.checksums import ModelVerifier, write_checksums
from lexicraft.ml.e5_build import E5NotBuiltError
from lexicraft.ml.serving import ServingOptions
from lexicraft.settings import Settings
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

    try:
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
    except E5NotBuiltError:
        # An installation step was skipped on this host: say which, not where it looked.
        raise JobFailure(
            "The multilingual encoder this model trains on is not built on the machine that "
            "ran the training; its administrator builds it once with `make e5` (or `python -m "
            "lexicraft.ml.e5_build`)."
        ) from None


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


def serving_options(settings: Settings) -> ServingOptions:
    """How this process's ONNX Runtime sessions run and which graph they load."""
    return ServingOptions(
        intra_op_threads=settings.serving_intra_op_threads,
        prediction_slots=settings.predict_concurrency,
        precision=settings.serving_precision,
        spin_wait=settings.serving_spin_wait,
    )


def batching_options(settings: Settings) -> BatchingOptions:
    """How the local executor batches concurrent analyze jobs of one model."""
    return BatchingOptions(
        window_s=settings.serving_batch_window_ms / 1000,
        max_texts=settings.serving_batch_max_documents,
        max_characters=settings.serving_batch_max_characters,
    )


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
        batching: BatchingOptions | None = None,
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
        #: Concurrent predictions of one model run as one batch (ml/batching.py): a batcher
        #: per model folder, alive while calls use it. It holds no model: each call brings
        #: the predictor the cache gave it, so dropping a model from the cache frees it.
        self.batching = batching or BatchingOptions()
        self._batchers: weakref.WeakValueDictionary[str, Batcher] = weakref.WeakValueDictionary()
        self._batchers_lock = threading.Lock()
        #: How many analyze jobs this process runs now (set by whoever starts the analyze
        #: worker pool); a batch's leader waits for others' calls only while others run.
        self.running_jobs: Callable[[], int] = lambda: 0

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
        in a turn at a slot, batched with the concurrent calls of other jobs for the same
        model (the batch's leader takes the turn as its ``client``)."""
        model_dir = self.models.local_dir(artifact)
        predictor = self.predictors.get(model_dir, lambda folder: load_model(kind, folder))
        batcher = self.batcher(model_dir)
        return batcher.run(
            predictor, texts, then, lambda cost: self.prediction_slots.turn(client, cost)
        )

    def batcher(self, model_dir: Path) -> Batcher:
        """The batcher of the model in ``model_dir`` (shared by every call using it now)."""
        key = str(model_dir)
        with self._batchers_lock:
            batcher = self._batchers.get(key)
            if batcher is None:
                batcher = self._batchers[key] = Batcher(self.batching, lambda: self.running_jobs())
            return batcher

    def forget(self, artifact: str) -> None:
        """Drop the loaded model ``artifact`` from this process's cache."""
        self.predictors.discard(self.models.local_path(artifact))
