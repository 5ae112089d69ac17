"""Storage containers as folders: ``{root}/{container}/{location}``."""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path, PurePosixPath

from lexicraft.domain.projects import container_problem, location_problem
from lexicraft.errors import (
    Conflict,
    DocumentFileMissing,
    StoragePathError,
    StorageUnavailable,
)
from lexicraft.storage.blobs.base import decode_document


class FilesystemBlobStore:
    """A :class:`~lexicraft.storage.blobs.base.BlobStore` over a local folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _container_dir(self, container: str) -> Path:
        problem = container_problem(container)
        if problem is not None:
            raise StoragePathError(f"storage container {container!r} {problem}", target="container")
        return self.root / container

    def resolve(self, container: str, location: str) -> Path:
        """The path of ``location``, refusing anything that could leave the container."""
        problem = location_problem(location)
        if problem is not None:
            raise StoragePathError(f"document location {location!r} {problem}", target="location")
        relative = PurePosixPath(location.replace("\\", "/"))
        container_dir = self._container_dir(container)
        path = container_dir.joinpath(*relative.parts)
        # A symlink inside the container could still point outside it.
        real_container = os.path.realpath(container_dir)
        real_path = os.path.realpath(path)
        if os.path.commonpath([real_container, real_path]) != real_container:
            raise StoragePathError(
                f"document location {location!r} leaves the storage container", target="location"
            )
        return path

    def check_location(self, container: str, location: str) -> None:
        self.resolve(container, location)

    def read_text(self, container: str, location: str) -> str:
        path = self.resolve(container, location)
        if not path.is_file():
            raise DocumentFileMissing(
                f"document {location!r} was not found in storage container {container!r}",
                target="location",
            )
        return decode_document(path.read_bytes(), location)

    def write_text(self, container: str, location: str, text: str) -> None:
        path = self.resolve(container, location)
        temporary = path.with_name(path.name + ".partial")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            temporary.replace(path)
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as error:
            # "a" and "a/b" cannot both exist in a folder (they can as blob names).
            with suppress(OSError):  # absent, or below a file
                temporary.unlink()
            raise Conflict(
                f"document location {location!r} clashes with a file or folder of the same "
                f"name in storage container {container!r}",
                target="location",
            ) from error

    def exists(self, container: str, location: str) -> bool:
        return self.resolve(container, location).is_file()

    def check_reachable(self) -> None:
        # A folder on a lost volume or mount, or one another process deleted, stops being a
        # directory the process may read, enter and write.
        if not self.root.is_dir() or not os.access(self.root, os.R_OK | os.W_OK | os.X_OK):
            raise StorageUnavailable("The document storage cannot be reached right now.")
