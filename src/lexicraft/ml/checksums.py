"""Model-folder checksums: a SHA-256 manifest written with the folder, checked when it is used.

A trained model folder holds ``checksums.json``: the SHA-256 of each of its files, written when
the folder is written (training, :func:`write_checksums`) and extended when a deploy adds its
serving files (:func:`record_additions`). :func:`verify` compares the files with it. A folder
without the manifest was written by a Lexicraft before checksums: it is *unverified* and keeps
loading; a deploy does not add one to it (the files found then are not known to be the ones
trained).

Hashing a model (up to ~100 MB) costs a noticeable fraction of a second, so a
:class:`ModelVerifier` remembers each folder's verdict with the folder's *stat signature*
(every file's name, size, ``mtime_ns`` and inode): a use of the model costs a few ``stat``
calls, and the files are hashed again only when one of them changed (written, replaced,
deleted, added). A corrupted file is therefore noticed at the next use, not after a restart.
A change that leaves size, mtime and inode as they were (bit rot under the file system) is
found when the folder is next verified from scratch: when a process loads the model.

Names starting with ``.`` are the temporaries of atomic writes (written, then renamed); they
are never part of a model and never listed.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = [
    "CHECKSUMS_FILE",
    "ModelDamagedError",
    "ModelVerifier",
    "Verdict",
    "VerdictKind",
    "file_digest",
    "record_additions",
    "signature",
    "verify",
    "write_checksums",
]

#: The manifest every model folder written by this version holds.
CHECKSUMS_FILE = "checksums.json"
_ALGORITHM = "sha256"
_FORMAT = 1
_CHUNK = 1024 * 1024

#: (relative name, size, mtime_ns, inode) of each file of a folder, sorted.
Signature = tuple[tuple[str, int, int, int], ...]


class ModelDamagedError(ValueError):
    """A model folder whose files do not match its checksums (message: the folder and file,
    for the log; clients get :class:`lexicraft.errors.ModelDamaged`)."""


class VerdictKind(enum.Enum):
    """What checking a model folder found."""

    VERIFIED = "verified"  # every listed file matches its checksum
    UNVERIFIED = "unverified"  # no manifest: written before checksums
    DAMAGED = "damaged"  # a listed file differs, is missing, or the manifest is unreadable
    ABSENT = "absent"  # no such folder


@dataclass(frozen=True, slots=True)
class Verdict:
    """A folder's verdict; ``problem`` says what is wrong (for the log: it names the file)."""

    kind: VerdictKind
    problem: str = ""

    @property
    def damaged(self) -> bool:
        """Whether the folder must not be served."""
        return self.kind is VerdictKind.DAMAGED


def file_digest(path: Path) -> str:
    """The SHA-256 of ``path``'s bytes, hex."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, _ALGORITHM).hexdigest()


def _model_files(model_dir: Path) -> list[str]:
    """The folder's files as relative POSIX names, without temporaries and the manifest."""
    names = []
    for directory, folders, files in os.walk(model_dir):
        folders[:] = [name for name in folders if not name.startswith(".")]
        base = Path(directory)
        for name in files:
            if name.startswith("."):
                continue
            relative = (base / name).relative_to(model_dir).as_posix()
            if relative != CHECKSUMS_FILE:
                names.append(relative)
    return sorted(names)


def _write_manifest(model_dir: Path, digests: dict[str, str]) -> None:
    """Write the manifest atomically: a reader sees the old one or the new one, whole."""
    text = json.dumps(
        {"format": _FORMAT, "algorithm": _ALGORITHM, "files": dict(sorted(digests.items()))},
        indent=2,
    )
    temporary = model_dir / f".{CHECKSUMS_FILE}.{uuid.uuid4().hex}.tmp"
    try:
        temporary.write_text(text + "\n", encoding="utf-8")
        temporary.replace(model_dir / CHECKSUMS_FILE)
    finally:
        temporary.unlink(missing_ok=True)


def write_checksums(model_dir: Path) -> None:
    """Write ``model_dir``'s manifest: the SHA-256 of every file in it now."""
    _write_manifest(
        model_dir, {name: file_digest(model_dir / name) for name in _model_files(model_dir)}
    )


def _read_manifest(model_dir: Path) -> dict[str, str] | None:
    """The listed files and digests; None without a manifest; ModelDamagedError if unreadable."""
    path = model_dir / CHECKSUMS_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelDamagedError(f"{path} cannot be read: {error}") from error
    files = raw.get("files") if isinstance(raw, dict) else None
    if (
        not isinstance(files, dict)
        or raw.get("algorithm") != _ALGORITHM
        or not all(
            isinstance(name, str) and isinstance(digest, str) for name, digest in files.items()
        )
    ):
        raise ModelDamagedError(f"{path} is not a {_ALGORITHM} checksum manifest")
    for name in files:
        parts = PurePosixPath(name).parts
        # The manifest names files inside the folder; anything else is not ours.
        if not parts or name.startswith("/") or ".." in parts or "\\" in name:
            raise ModelDamagedError(f"{path} lists {name!r}, which is not a file of the folder")
    return files


def record_additions(model_dir: Path) -> bool:
    """Add the files missing from ``model_dir``'s manifest (a deploy's serving files).

    Files already listed keep their checksum (re-hashing them would bless a damaged file).
    Without a manifest (a folder from before checksums) nothing is written. True when the
    manifest changed.
    """
    listed = _read_manifest(model_dir)
    if listed is None:
        return False
    added = {
        name: file_digest(model_dir / name)
        for name in _model_files(model_dir)
        if name not in listed
    }
    if not added:
        return False
    _write_manifest(model_dir, {**listed, **added})
    return True


def verify(model_dir: Path) -> Verdict:
    """Hash ``model_dir``'s listed files and compare them with its manifest."""
    if not model_dir.is_dir():
        return Verdict(VerdictKind.ABSENT, f"{model_dir} does not exist")
    try:
        listed = _read_manifest(model_dir)
    except ModelDamagedError as error:
        return Verdict(VerdictKind.DAMAGED, str(error))
    if listed is None:
        return Verdict(VerdictKind.UNVERIFIED)
    for name, expected in sorted(listed.items()):
        path = model_dir / name
        try:
            actual = file_digest(path)
        except FileNotFoundError:
            return Verdict(VerdictKind.DAMAGED, f"{path} is missing")
        except OSError as error:
            return Verdict(VerdictKind.DAMAGED, f"{path} cannot be read: {error}")
        if actual != expected:
            return Verdict(
                VerdictKind.DAMAGED,
                f"{path} has SHA-256 {actual}, not {expected} as when it was written",
            )
    return Verdict(VerdictKind.VERIFIED)


def signature(model_dir: Path) -> Signature:
    """Every file's (name, size, mtime_ns, inode): a change of any file changes it."""
    entries: list[tuple[str, int, int, int]] = []

    def walk(directory: str, prefix: str) -> None:
        try:
            scanned: Iterable[os.DirEntry[str]] = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in scanned:
            if entry.name.startswith("."):
                continue
            name = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                walk(entry.path, name + "/")
                continue
            try:
                stat = entry.stat()
            except FileNotFoundError:
                continue
            entries.append((name, stat.st_size, stat.st_mtime_ns, stat.st_ino))

    walk(str(model_dir), "")
    return tuple(sorted(entries))


class ModelVerifier:
    """Verdicts per model folder, re-computed only when the folder's stat signature changed.

    One per process, shared by whatever uses models there (the predictor cache, the health
    report), so a folder is hashed once per change, not once per user.
    """

    def __init__(self) -> None:
        self._verdicts: dict[str, tuple[Signature, Verdict]] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def check(self, model_dir: Path) -> Verdict:
        """``model_dir``'s verdict: remembered while its files are unchanged, else computed."""
        key = str(model_dir.absolute())
        # Taken before hashing: a change made while hashing shows at the next check.
        current = signature(model_dir)
        with self._lock:
            known = self._verdicts.get(key)
            if known is not None and known[0] == current:
                return known[1]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one hashing per folder at a time; the others wait for its verdict
            with self._lock:
                known = self._verdicts.get(key)
            if known is not None and known[0] == current:
                return known[1]
            verdict = verify(model_dir)
            with self._lock:
                self._verdicts[key] = (current, verdict)
            return verdict

    def forget(self, model_dir: Path) -> None:
        """Drop what is known about ``model_dir`` (its files are deleted)."""
        with self._lock:
            self._verdicts.pop(str(model_dir.absolute()), None)
