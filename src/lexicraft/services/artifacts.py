"""Model folders in the model store: deleted once no trained model and no deployment uses them."""

from __future__ import annotations

from collections.abc import Collection

from lexicraft.services.context import ServiceContext
from lexicraft.storage.sql import models as model_store


def release_artifacts(context: ServiceContext, candidates: Collection[str]) -> None:
    """Delete those of ``candidates`` that nothing uses any more (call after committing).

    A deployment pins the folder it was deployed with, so a retrained or deleted model's
    folder stays while a deployment still serves it.
    """
    with context.database.session() as session:
        unused = model_store.unused_artifact_dirs(session, candidates)
    for folder in unused:
        context.compute.forget(folder)
        context.models.delete(folder)
