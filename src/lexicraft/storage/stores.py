"""The storage adapters that the settings choose: document containers and model folders.

One function builds both from :class:`~lexicraft.settings.Settings`, so the composition root
and code that runs elsewhere with only the settings (a training task on another host) agree
on where models live.
"""

from __future__ import annotations

from dataclasses import dataclass

from lexicraft.settings import Settings
from lexicraft.storage.artifacts.base import ModelStore
from lexicraft.storage.artifacts.local import LocalModelStore
from lexicraft.storage.blobs.base import BlobStore
from lexicraft.storage.blobs.filesystem import FilesystemBlobStore


@dataclass(frozen=True, slots=True)
class Stores:
    """Where documents (storage containers) and trained model folders are kept."""

    blobs: BlobStore
    models: ModelStore


def open_stores(settings: Settings) -> Stores:
    """The stores of ``settings.storage_backend``: folders in the data dir, or Blob Storage."""
    if settings.storage_backend == "azure":
        # Imported here: the Azure SDK is not loaded by hosts that do not use it.
        from lexicraft.storage.artifacts.azure import AzureModelStore
        from lexicraft.storage.blobs.azure import AzureBlobStore, open_account

        secret = settings.azure_storage_connection_string
        assert secret is not None  # the settings refuse the azure backend without one
        account = open_account(secret.get_secret_value(), retries=settings.azure_storage_retries)
        return Stores(
            blobs=AzureBlobStore(account),
            models=AzureModelStore(
                account,
                settings.azure_models_container,
                cache=settings.model_cache_dir,
                capacity=settings.model_cache_size,
            ),
        )
    settings.storage_dir.mkdir(parents=True, exist_ok=True)
    return Stores(
        blobs=FilesystemBlobStore(settings.storage_dir),
        models=LocalModelStore(settings.models_dir),
    )
