"""The blob store protocol: where a project's storage container keeps document files."""

from __future__ import annotations

from typing import Protocol

from lexicraft.errors import DocumentFileMissing


class BlobStore(Protocol):
    """Reads and writes document files inside named containers."""

    def read_text(self, container: str, location: str) -> str:
        """The UTF-8 text of ``location`` in ``container``.

        Raises StoragePathError for a location leaving the container, DocumentFileMissing when
        there is no such file, StorageContainerMissing when there is no such container (Blob)
        and StorageUnavailable when the storage cannot be used.
        """
        ...

    def write_text(self, container: str, location: str, text: str) -> None:
        """Write ``text`` (UTF-8) to ``location`` in ``container``, creating folders."""
        ...

    def check_location(self, container: str, location: str) -> None:
        """Raise StoragePathError unless ``location`` can name a file of ``container`` here.

        No request is made: imports check inline documents' locations with it.
        """
        ...

    def exists(self, container: str, location: str) -> bool:
        """Whether ``location`` names a file in ``container``."""
        ...

    def delete(self, container: str, location: str) -> None:
        """Delete the file ``location`` of ``container`` (absent: nothing to do)."""
        ...

    def sweep_temporaries(self, older_than: float) -> list[str]:
        """Delete what writes interrupted before ``older_than`` (epoch seconds) left behind
        (a killed process); the names deleted, for the log."""
        ...

    def check_reachable(self) -> None:
        """Raise StorageUnavailable unless the store can be read and written now.

        ``/health/ready`` calls it on every probe, so it must be cheap (no listing, no
        file contents). The error's message names no internals (paths, URLs, account names).
        """
        ...


def decode_document(data: bytes, location: str) -> str:
    """A document file's text: its bytes decoded as UTF-8 as they are (``\r\n`` stays, so
    offsets count every character); DocumentFileMissing naming ``location`` if they are not
    UTF-8 text. The one rule both stores read documents by."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DocumentFileMissing(
            f"document {location!r} is not valid UTF-8 text ({error.reason})",
            target="location",
        ) from error
