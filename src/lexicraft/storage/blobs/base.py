"""The blob store protocol: where a project's storage container keeps document files."""

from __future__ import annotations

from typing import Protocol


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

    def check_reachable(self) -> None:
        """Raise StorageUnavailable unless the store can be read and written now.

        ``/health/ready`` calls it on every probe, so it must be cheap (no listing, no
        file contents). The error's message names no internals (paths, URLs, account names).
        """
        ...
