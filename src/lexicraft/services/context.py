"""The dependencies every use case receives, built once at the edge (app or CLI)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from lexicraft.jobs.queue import JobQueue
from lexicraft.ml.cache import PredictorCache
from lexicraft.settings import Settings
from lexicraft.storage.blobs.base import BlobStore
from lexicraft.storage.blobs.filesystem import FilesystemBlobStore
from lexicraft.storage.sql.engine import Database, migrate


@dataclass
class ServiceContext:
    """Settings, database, blob store, job queue and loaded-model cache."""

    settings: Settings
    database: Database
    blobs: BlobStore
    queue: JobQueue
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

    @classmethod
    def open(cls, settings: Settings) -> ServiceContext:
        """Create the data dir, migrate the database, and wire everything for ``settings``."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.storage_dir.mkdir(parents=True, exist_ok=True)
        database = Database(settings.resolved_database_url)
        migrate(database.engine)
        return cls(
            settings=settings,
            database=database,
            blobs=FilesystemBlobStore(settings.storage_dir),
            queue=JobQueue(
                database, lease_s=settings.job_lease_s, max_attempts=settings.job_max_attempts
            ),
        )
