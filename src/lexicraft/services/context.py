"""The dependencies every use case receives; the edges build them (``lexicraft.bootstrap``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from lexicraft.ml.cache import PredictorCache
from lexicraft.settings import Settings
from lexicraft.storage.artifacts.base import ModelStore
from lexicraft.storage.blobs.base import BlobStore
from lexicraft.storage.sql.engine import Database
from lexicraft.storage.sql.jobs import JobQueue


@dataclass
class ServiceContext:
    """Settings, database, blob store, model store, job queue and loaded-model cache."""

    settings: Settings
    database: Database
    blobs: BlobStore
    queue: JobQueue
    models: ModelStore
    predictors: PredictorCache = field(default_factory=PredictorCache)
    #: Batches predicted (and rendered) at the same time in this process. A forward pass
    #: already spreads over every core, and CPU work beside it stalls its thread team, so
    #: the CPU-bound steps take turns; other work (loading a model, database) goes on outside
    #: this gate, so a slow load still holds nobody up.
    prediction_slots: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self.prediction_slots = threading.BoundedSemaphore(
            max(1, self.settings.predict_concurrency)
        )
