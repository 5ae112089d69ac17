"""Trained model folders in a local (or shared) folder: ``{root}/{project}/{label}-{id}``."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from lexicraft.storage.artifacts.base import (
    STAGING_SUFFIX,
    Leftover,
    LeftoverKind,
    find_leftovers,
    key_path,
    legacy_folder,
    staging_path,
)


class LocalModelStore:
    """A :class:`~lexicraft.storage.artifacts.base.ModelStore` over a folder.

    Publishing is a rename, so a folder named by a key is always complete.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def staging_dir(self, key: str, attempt: str) -> Path:
        staging = staging_path(self.root, key, attempt)
        staging.parent.mkdir(parents=True, exist_ok=True)
        # A re-run of the job trains under another key: find the dead attempt by its tag.
        for stale in staging.parent.glob(f"*.{attempt}{STAGING_SUFFIX}"):
            shutil.rmtree(stale, ignore_errors=True)
        return staging

    def publish(self, key: str, staging: Path) -> None:
        staging.replace(key_path(self.root, key))

    def local_path(self, artifact_dir: str) -> Path:
        return legacy_folder(artifact_dir) or key_path(self.root, artifact_dir)

    def local_dir(self, artifact_dir: str) -> Path:
        return self.local_path(artifact_dir)

    def share_additions(self, artifact_dir: str) -> None:
        """Nothing to do: every host that uses this store reads the folder itself."""

    def delete(self, artifact_dir: str) -> None:
        shutil.rmtree(self.local_path(artifact_dir), ignore_errors=True)

    def leftovers(self) -> list[Leftover]:
        return find_leftovers(self.root)

    def discard(self, leftover: Leftover) -> None:
        discard_path(leftover)

    def forget_project(self, project: str) -> None:
        with contextlib.suppress(OSError):  # not empty (a new project's training), or gone
            (self.root / project).rmdir()


def discard_path(leftover: Leftover) -> None:
    """Delete a leftover's file or folder (an empty project folder only while empty)."""
    path = leftover.path
    if leftover.kind is LeftoverKind.EMPTY_FOLDER:
        with contextlib.suppress(OSError):
            path.rmdir()
    elif path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
