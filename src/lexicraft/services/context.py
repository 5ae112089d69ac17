"""The dependencies every use case receives; the edges build them (``lexicraft.bootstrap``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lexicraft.ml.checksums import ModelVerifier
from lexicraft.services.compute import Compute
from lexicraft.services.entity_resolvers import EntityResolvers
from lexicraft.settings import Settings
from lexicraft.storage.artifacts.base import ModelStore
from lexicraft.storage.blobs.base import BlobStore
from lexicraft.storage.sql.engine import Database
from lexicraft.storage.sql.jobs import JobQueue


@dataclass
class ServiceContext:
    """Settings, database, blob store, model store, job queue, and where trainings and
    predictions run."""

    settings: Settings
    database: Database
    blobs: BlobStore
    queue: JobQueue
    models: ModelStore
    compute: Compute
    #: This process's verdicts on model folders against their checksums (shared with the
    #: local executor's predictor cache, so a folder is hashed once per change).
    model_checks: ModelVerifier = field(default_factory=ModelVerifier)
    #: The entity components (list, regex, prebuilt) of the conversation models this process
    #: served, built once per model (``services/conversation_runtime.py``).
    entity_resolvers: EntityResolvers = field(default_factory=EntityResolvers)
