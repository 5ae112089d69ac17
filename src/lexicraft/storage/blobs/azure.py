"""Storage containers as Azure Blob Storage containers (or Azurite's), as Azure reads them.

A project's ``storageInputContainerName`` names a Blob container of the account; a document's
location is its blob name. Azure errors become :mod:`lexicraft.errors` types that name the
container and never the credentials: the SDK's own messages (request URLs, account details)
go to the log only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings, ExponentialRetry

from lexicraft.domain.projects import location_problem
from lexicraft.errors import (
    DocumentFileMissing,
    LexicraftError,
    StorageAccessDenied,
    StorageContainerMissing,
    StoragePathError,
    StorageUnavailable,
)
from lexicraft.storage.blobs.base import decode_document

logger = logging.getLogger(__name__)

#: Azure's rule for container names: 3-63 lowercase letters, digits and single hyphens.
_CONTAINER_NAME = re.compile(r"(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_TEXT = ContentSettings(content_type="text/plain; charset=utf-8")


def open_account(connection_string: str, *, retries: int) -> BlobServiceClient:
    """A client of the storage account (no request is made yet).

    The SDK's default backoff starts at 15 s; a job or a readiness check should not hang
    that long on a lost connection, so retries come 1 s, 3 s, 7 s … apart.
    """
    policy = ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=retries)
    return BlobServiceClient.from_connection_string(connection_string, retry_policy=policy)


def is_not_found(error: AzureError, code: str) -> bool:
    """Whether ``error`` is Azure's 404 with error code ``code`` (e.g. ``BlobNotFound``)."""
    # The storage SDK sets error_code (from the x-ms-error-code header) on the errors it raises.
    return isinstance(error, ResourceNotFoundError) and getattr(error, "error_code", None) == code


@contextmanager
def storage_errors(container: str) -> Iterator[None]:
    """Turn the Azure errors of requests on ``container`` into Lexicraft's, naming it."""
    try:
        yield
    except AzureError as error:
        raise storage_error(error, container) from error


def storage_error(error: AzureError, container: str) -> LexicraftError:
    """The Lexicraft error for ``error`` of a request on ``container`` (the detail is logged)."""
    logger.warning("Blob request on container %r failed: %s", container, error)
    if is_not_found(error, "ContainerNotFound"):
        return StorageContainerMissing(
            f"storage container {container!r} does not exist in the storage account",
            target="storageInputContainerName",
        )
    status = getattr(error, "status_code", None)
    if isinstance(error, ClientAuthenticationError) or status in (401, 403):
        return StorageAccessDenied(
            f"the storage account refused access to storage container {container!r}: check "
            "the account's connection string (LEXICRAFT_AZURE_STORAGE_CONNECTION_STRING)"
        )
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return StorageUnavailable(
            f"cannot reach the storage account of storage container {container!r}"
        )
    if isinstance(error, HttpResponseError):
        return StorageUnavailable(
            f"the storage account failed a request on storage container {container!r} "
            f"(HTTP {status})"
        )
    return StorageUnavailable(f"storage container {container!r} cannot be used now")


class AzureBlobStore:
    """A :class:`~lexicraft.storage.blobs.base.BlobStore` over a Blob Storage account."""

    def __init__(self, account: BlobServiceClient) -> None:
        self.account = account

    def _container(self, container: str) -> ContainerClient:
        if not _CONTAINER_NAME.fullmatch(container):
            raise StoragePathError(
                f"storage container {container!r} is not a valid Blob container name: use 3-63 "
                "lowercase letters, digits and single hyphens",
                target="container",
            )
        return self.account.get_container_client(container)

    @staticmethod
    def blob_name(location: str) -> str:
        """The blob of ``location``: the same rule and the same separators as the folder store
        (``\\`` is a separator, ``.`` parts fall away), so a location names one document in
        either store."""
        problem = location_problem(location)
        if problem is not None:
            raise StoragePathError(f"document location {location!r} {problem}", target="location")
        return "/".join(PurePosixPath(location.replace("\\", "/")).parts)

    def check_location(self, container: str, location: str) -> None:
        self._container(container)
        self.blob_name(location)

    def read_text(self, container: str, location: str) -> str:
        client = self._container(container)
        name = self.blob_name(location)
        try:
            data = client.download_blob(name).readall()
        except ResourceNotFoundError as error:
            if not is_not_found(error, "BlobNotFound"):
                raise storage_error(error, container) from error
            raise DocumentFileMissing(
                f"document {location!r} was not found in storage container {container!r}",
                target="location",
            ) from error
        except AzureError as error:
            raise storage_error(error, container) from error
        return decode_document(data, location)

    def write_text(self, container: str, location: str, text: str) -> None:
        client = self._container(container)
        name = self.blob_name(location)
        # One upload replaces the blob whole: readers see the old text or the new one.
        with storage_errors(container):
            client.upload_blob(name, text.encode("utf-8"), overwrite=True, content_settings=_TEXT)

    def exists(self, container: str, location: str) -> bool:
        client = self._container(container)
        name = self.blob_name(location)
        try:
            client.get_blob_client(name).get_blob_properties()
        except ResourceNotFoundError as error:
            # The SDK's exists() says False for a missing container too; that is an error.
            if is_not_found(error, "BlobNotFound"):
                return False
            raise storage_error(error, container) from error
        except AzureError as error:
            raise storage_error(error, container) from error
        return True

    def delete(self, container: str, location: str) -> None:
        client = self._container(container)
        name = self.blob_name(location)
        try:
            client.delete_blob(name)
        except ResourceNotFoundError as error:
            if is_not_found(error, "BlobNotFound"):
                return  # deleted already
            raise storage_error(error, container) from error
        except AzureError as error:
            raise storage_error(error, container) from error

    def sweep_temporaries(self, older_than: float) -> list[str]:
        """Nothing to sweep: an upload replaces a blob whole, and a cut-off one leaves none."""
        return []

    def check_reachable(self) -> None:
        try:
            self.account.get_account_information()
        except AzureError as error:
            logger.warning("the storage account does not answer: %s", error)
            raise StorageUnavailable(
                "the storage account does not answer or refuses Lexicraft's credentials"
            ) from error
