"""The model store protocol: where trained model folders live, addressed by relative keys.

A trained model's folder is addressed by a key ``"{project}/{label}-{id}"`` (what a model row
stores in ``artifact_dir``), never by a host's path, so every server and worker finds it:
under the data dir's ``models/`` folder, or in a Blob container with a copy cached per host.
Rows written before keys hold an absolute folder; :func:`legacy_folder` is the one rule that
reads them.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

#: What the folder being trained into ends with; nothing reads such a folder as a model.
STAGING_SUFFIX = ".partial"
#: A published model's folder name: ``{label}-{12 hex digits}`` (see services/training.py).
_MODEL_NAME = re.compile(r"^.+-[0-9a-f]{12}$")
#: A staging folder's name: ``{model name}.{12 hex digits of the job}.partial``.
_STAGING_NAME = re.compile(r"^.+-[0-9a-f]{12}\.[0-9a-f]{12}" + re.escape(STAGING_SUFFIX) + "$")


class LeftoverKind(enum.Enum):
    """What a model store holds besides complete models in use (see ``ModelStore.leftovers``)."""

    STAGING = "staging"  # a training's folder: its job runs, or it was killed
    MODEL = "model"  # a published model: in use, or an orphan (no row names it)
    TEMPORARY = "temporary"  # a file or folder an interrupted atomic write left
    EMPTY_FOLDER = "empty-folder"  # a project's folder without models


@dataclass(frozen=True, slots=True)
class Leftover:
    """One thing a start-up sweep considers; the caller decides, the store deletes."""

    kind: LeftoverKind
    path: Path
    modified: float  # st_mtime, seconds since the epoch
    key: str = ""  # MODEL: the model's key; EMPTY_FOLDER: the project
    attempt: str = ""  # STAGING: the attempt tag of the job that trains into it


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

    def leftovers(self) -> list[Leftover]:
        """Every staging folder, published model folder, temporary and empty project folder
        this host has (read only: the caller decides what goes, with what the database says)."""
        ...

    def discard(self, leftover: Leftover) -> None:
        """Delete ``leftover`` (a MODEL with :meth:`delete`), best effort."""
        ...

    def forget_project(self, project: str) -> None:
        """Remove the project's folder if no model is left in it (the project was deleted)."""
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


def find_leftovers(root: Path, temporary_suffixes: tuple[str, ...] = ()) -> list[Leftover]:
    """The :class:`Leftover` candidates of a ``{root}/{project}/{name}`` tree.

    Names that fit no rule (nothing Lexicraft writes) are never listed, so never deleted.
    Inside a model folder, names starting with ``.`` are the temporaries of atomic writes
    (the serving network, the checksums): model files are named by code, never so.
    """
    found: list[Leftover] = []
    for project in _entries(root):
        if not project.is_dir():
            continue
        entries = _entries(project)
        if not entries:
            found.append(_leftover(LeftoverKind.EMPTY_FOLDER, project, key=project.name))
        for entry in entries:
            name = entry.name
            if temporary_suffixes and name.endswith(temporary_suffixes):
                found.append(_leftover(LeftoverKind.TEMPORARY, entry))
            elif _STAGING_NAME.match(name) and entry.is_dir():
                found.append(_leftover(LeftoverKind.STAGING, entry, attempt=staging_attempt(entry)))
            elif _MODEL_NAME.match(name) and entry.is_dir():
                found.append(_leftover(LeftoverKind.MODEL, entry, key=f"{project.name}/{name}"))
                found.extend(
                    _leftover(LeftoverKind.TEMPORARY, inner)
                    for inner in _entries(entry)
                    if inner.name.startswith(".")
                )
    return [leftover for leftover in found if leftover.modified >= 0]


def _entries(folder: Path) -> list[Path]:
    """``folder``'s entries; none when it went away meanwhile (another process deleted it)."""
    try:
        return list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _leftover(kind: LeftoverKind, path: Path, *, key: str = "", attempt: str = "") -> Leftover:
    try:
        modified = path.lstat().st_mtime
    except FileNotFoundError:
        modified = -1.0  # gone meanwhile: dropped by the caller
    return Leftover(kind, path, modified, key=key, attempt=attempt)
