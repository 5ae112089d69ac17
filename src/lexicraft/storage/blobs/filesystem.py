"""Storage containers as folders: ``{root}/{container}/{location}``.

A file is written whole or not at all: into a temporary file of ``{root}/~partial/`` (no
container can have that name: ``~`` is not allowed in one), then renamed into place. What a
killed write leaves there is deleted by the start-up sweep; any name inside a container may be
a user's file, so nothing there ever is.
"""

from __future__ import annotations

import errno
import os
import uuid
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

#: The folder of in-progress writes, beside the containers.
SCRATCH = "~partial"


class FilesystemBlobStore:
    """A :class:`~lexicraft.storage.blobs.base.BlobStore` over a local folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scratch = root / SCRATCH

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
        self.scratch.mkdir(parents=True, exist_ok=True)
        temporary = self.scratch / f"{uuid.uuid4().hex}.partial"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            try:
                temporary.replace(path)
            except OSError as error:
                if error.errno != errno.EXDEV:
                    raise
                # A container that is a link to another file system: write beside the file.
                beside = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
                beside.write_bytes(temporary.read_bytes())
                beside.replace(path)
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as error:
            # "a" and "a/b" cannot both exist in a folder (they can as blob names).
            raise Conflict(
                f"document location {location!r} clashes with a file or folder of the same "
                f"name in storage container {container!r}",
                target="location",
            ) from error
        finally:
            temporary.unlink(missing_ok=True)

    def exists(self, container: str, location: str) -> bool:
        return self.resolve(container, location).is_file()

    def check_reachable(self) -> None:
        # A folder on a lost volume or mount, or one another process deleted, stops being a
        # directory the process may read, enter and write.
        if not self.root.is_dir() or not os.access(self.root, os.R_OK | os.W_OK | os.X_OK):
            raise StorageUnavailable("The document storage cannot be reached right now.")

    def sweep_temporaries(self, older_than: float) -> list[str]:
        """Delete the temporary files of writes that started before ``older_than`` (epoch
        seconds) and never finished (their process was killed); their names."""
        removed = []
        for path in self.scratch.glob("*.partial"):
            with suppress(FileNotFoundError):
                if path.stat().st_mtime < older_than:
                    path.unlink()
                    removed.append(f"{SCRATCH}/{path.name}")
        return removed

    def delete(self, container: str, location: str) -> None:
        """Delete the file (absent: nothing to do), and the folders it leaves empty up to
        the container's (which stays: other writers may be about to use it)."""
        path = self.resolve(container, location)
        path.unlink(missing_ok=True)
        container_dir = self._container_dir(container)
        folder = path.parent
        while folder != container_dir and container_dir in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                break  # not empty
            folder = folder.parent
