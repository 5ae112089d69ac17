"""The model store protocol: where trained model folders live, addressed by relative keys.

A trained model's folder is addressed by a key ``"{project}/{label}-{id}"`` (what a model row
stores in ``artifact_dir``), never by a host's path, so every server and worker finds it:
under the data dir's ``models/`` folder, or in a Blob container with a copy cached per host.
Rows written before keys hold an absolute folder; :func:`legacy_folder` is the one rule that
reads them.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Protocol

#: What the folder being trained into ends with; nothing reads such a folder as a model.
STAGING_SUFFIX = ".partial"


class ModelStore(Protocol):
    """Trained model folders: trained locally, published whole, read through a local copy."""

    def staging_dir(self, key: str, attempt: str) -> Path:
        """A local folder (not created) to train model ``key`` into.

        ``attempt`` names the job: what an earlier run of it (whose worker died) left behind
        is deleted first.
        """
        ...

    def publish(self, key: str, staging: Path) -> None:
        """Make the complete model in ``staging`` (from :meth:`staging_dir`) readable as
        ``key``, at once: a reader never sees part of it."""
        ...

    def local_path(self, artifact_dir: str) -> Path:
        """Where this host has, or would have, its copy of ``artifact_dir`` (no I/O)."""
        ...

    def local_dir(self, artifact_dir: str) -> Path:
        """A complete local copy of ``artifact_dir``, fetched first if this host has none.

        Raises ModelUnavailable for a model that is not (or no longer) complete in the store.
        """
        ...

    def share_additions(self, artifact_dir: str) -> None:
        """Let every host read the files added to the local copy since it was published
        (the serving files a deploy writes)."""
        ...

    def delete(self, artifact_dir: str) -> None:
        """Delete the model's files, best effort (what is left costs space, nothing else)."""
        ...


def legacy_folder(artifact_dir: str) -> Path | None:
    """The folder itself when ``artifact_dir`` is an absolute path (a row written before model
    keys, read where it is); None for a key."""
    path = Path(artifact_dir)
    return path if path.is_absolute() else None


def key_path(root: Path, key: str) -> Path:
    """``root``'s folder for ``key``, refusing a key that is not ``project/name``."""
    parts = PurePosixPath(key).parts
    if len(parts) != 2 or any(part in (".", "..") for part in parts) or "\\" in key:
        raise ValueError(f"{key!r} is not a model key ('project/name')")
    return root.joinpath(*parts)


def staging_path(root: Path, key: str, attempt: str) -> Path:
    """The folder that training ``key`` in attempt ``attempt`` writes under ``root``."""
    folder = key_path(root, key)
    return folder.with_name(f"{folder.name}.{attempt}{STAGING_SUFFIX}")


def staging_attempt(staging: Path) -> str:
    """The attempt a :func:`staging_path` folder belongs to."""
    return staging.name.removesuffix(STAGING_SUFFIX).rsplit(".", 1)[1]
