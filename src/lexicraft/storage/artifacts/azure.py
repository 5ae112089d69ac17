"""Trained model folders as blobs of one container, with a copy per host (LRU-bounded).

Model ``key``'s files are the blobs ``{key}/{file}``; the manifest ``{key}.manifest.json``
(its file names) is uploaded last, so a model without it is one whose upload was cut off,
and nothing downloads it. A host downloads a model once into
``{cache}/{project}/{label}-{id}``: into a temporary folder, renamed when complete, so a folder
of the cache named by a key is always complete. The cache keeps ``capacity`` models; the least
recently used are deleted first.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

from lexicraft.errors import ModelUnavailable
from lexicraft.ml.checksums import CHECKSUMS_FILE
from lexicraft.storage.artifacts.base import (
    STAGING_SUFFIX,
    Leftover,
    LeftoverKind,
    find_leftovers,
    legacy_folder,
    staging_attempt,
)
from lexicraft.storage.artifacts.local import LocalModelStore, discard_path
from lexicraft.storage.blobs.azure import is_not_found, storage_errors

logger = logging.getLogger(__name__)

MANIFEST_SUFFIX = ".manifest.json"
#: Names of the cache's temporary folders (downloads, deletions); a model key never ends so.
_TEMPORARY = (STAGING_SUFFIX, ".download", ".trash")
_INTERRUPTED = (".download", ".trash")


def _files(folder: Path) -> list[str]:
    """The files of ``folder`` as relative POSIX names; dot-files are the temporaries of an
    atomic write (written, then renamed), never part of a model."""
    return sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    )


def _checksummed(folder: Path) -> set[str]:
    """The files ``folder``'s checksums name (none when it has none or they are unreadable:
    the check at load reports that)."""
    try:
        listed = json.loads((folder / CHECKSUMS_FILE).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    names = (
        {name for name in listed if isinstance(name, str)} if isinstance(listed, dict) else set()
    )
    # Only plain relative names: the manifest is read before it is trusted.
    return {name for name in names if ".." not in name.split("/") and not name.startswith("/")}


class AzureModelStore:
    """A :class:`~lexicraft.storage.artifacts.base.ModelStore` over a Blob container."""

    def __init__(
        self, account: BlobServiceClient, container: str, cache: Path, capacity: int
    ) -> None:
        self.container = container
        self.client = account.get_container_client(container)
        self.cache = LocalModelStore(cache)
        self.capacity = max(1, capacity)
        self._created = False
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def staging_dir(self, key: str, attempt: str) -> Path:
        self._forget_attempt(key.split("/", 1)[0], attempt)
        return self.cache.staging_dir(key, attempt)

    def publish(self, key: str, staging: Path) -> None:
        files = _files(staging)
        # The attempt travels with the blobs, so a re-run can find what this one left.
        metadata = {"attempt": staging_attempt(staging)}
        with storage_errors(self.container):
            for name in files:
                with (staging / name).open("rb") as handle:
                    self.client.upload_blob(
                        f"{key}/{name}", handle, overwrite=True, metadata=metadata
                    )
            self._write_manifest(key, files)
        # This host keeps the copy it trained: evaluation and a deploy here read it.
        self.cache.publish(key, staging)
        self._evict(keep=self.cache.local_path(key))

    def local_path(self, artifact_dir: str) -> Path:
        return self.cache.local_path(artifact_dir)

    def local_dir(self, artifact_dir: str) -> Path:
        legacy = legacy_folder(artifact_dir)
        if legacy is not None:
            return legacy
        target = self.cache.local_path(artifact_dir)
        with self._lock:
            key_lock = self._key_locks.setdefault(artifact_dir, threading.Lock())
        with key_lock:
            if target.is_dir():
                os.utime(target)  # last use, for the LRU
                return target
            self._download(artifact_dir, target)
        self._evict(keep=target)
        return target

    def share_additions(self, artifact_dir: str) -> None:
        if legacy_folder(artifact_dir) is not None:
            return
        folder = self.cache.local_path(artifact_dir)
        with storage_errors(self.container):
            shared = set(self._read_manifest(artifact_dir))
            local = _files(folder)
            added = [name for name in local if name not in shared]
            if not added:
                return
            for name in added:
                with (folder / name).open("rb") as handle:
                    self.client.upload_blob(f"{artifact_dir}/{name}", handle, overwrite=True)
            self._write_manifest(artifact_dir, sorted(shared | set(added)))
            # The checksums, which the deploy extended, last: a host that downloads the
            # model meanwhile gets the new files with the old checksums (they are then not
            # checked), never checksums of files it did not get.
            if CHECKSUMS_FILE in shared and (folder / CHECKSUMS_FILE).is_file():
                with (folder / CHECKSUMS_FILE).open("rb") as handle:
                    self.client.upload_blob(
                        f"{artifact_dir}/{CHECKSUMS_FILE}", handle, overwrite=True
                    )

    def delete(self, artifact_dir: str) -> None:
        if legacy_folder(artifact_dir) is not None:
            self.cache.delete(artifact_dir)
            return
        try:
            # The manifest first: from then on no host starts downloading the model.
            self._delete_blobs([artifact_dir + MANIFEST_SUFFIX])
            self._delete_blobs(
                blob.name for blob in self.client.list_blobs(name_starts_with=f"{artifact_dir}/")
            )
        except AzureError as error:
            logger.warning("could not delete model %s from Blob: %s", artifact_dir, error)
        self._remove_copy(self.cache.local_path(artifact_dir))

    def leftovers(self) -> list[Leftover]:
        """This host's cache: its staging folders, copies, and interrupted downloads and
        deletions. Blobs of a model whose upload was cut off (no manifest) are deleted by a
        re-run of its job; orphaned Blob models that no host has a copy of are not listed."""
        return find_leftovers(self.cache.root, _INTERRUPTED)

    def discard(self, leftover: Leftover) -> None:
        if leftover.kind is LeftoverKind.MODEL:
            self.delete(leftover.key)  # an orphan: its blobs too, not only this copy
        else:
            discard_path(leftover)

    def forget_project(self, project: str) -> None:
        self.cache.forget_project(project)

    def _ensure_container(self) -> None:
        """Create the models container the first time this process writes to it."""
        if self._created:
            return
        with contextlib.suppress(ResourceExistsError):
            self.client.create_container()
        self._created = True

    def _forget_attempt(self, project: str, attempt: str) -> None:
        """Delete the blobs that an earlier run of this job uploaded without a manifest."""
        with storage_errors(self.container):
            self._ensure_container()
            listing = self.client.list_blobs(name_starts_with=f"{project}/", include=["metadata"])
            blobs = list(listing)
            names = {blob.name for blob in blobs}
            dead = {
                "/".join(blob.name.split("/", 2)[:2])
                for blob in blobs
                if (blob.metadata or {}).get("attempt") == attempt
            }
            for key in dead:
                if key + MANIFEST_SUFFIX not in names:
                    self._delete_blobs(name for name in names if name.startswith(f"{key}/"))

    def _delete_blobs(self, names: Iterable[str]) -> None:
        for name in names:
            # Deleted meanwhile is what was wanted.
            with contextlib.suppress(ResourceNotFoundError):
                self.client.delete_blob(name)

    def _write_manifest(self, key: str, files: list[str]) -> None:
        self.client.upload_blob(
            key + MANIFEST_SUFFIX, json.dumps({"files": files}).encode("utf-8"), overwrite=True
        )

    def _read_manifest(self, key: str) -> list[str]:
        try:
            data = self.client.download_blob(key + MANIFEST_SUFFIX).readall()
        except ResourceNotFoundError as error:
            if not is_not_found(error, "BlobNotFound"):
                raise
            raise ModelUnavailable(
                f"trained model {key!r} is not complete in storage container "
                f"{self.container!r} (its upload was cut off, or it was deleted); train it again"
            ) from error
        files: list[str] = json.loads(data)["files"]
        return files

    def _download(self, key: str, target: Path) -> None:
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.download")
        try:
            with storage_errors(self.container):
                files = self._read_manifest(key)
                try:
                    for name in files:
                        self._download_file(key, name, temporary)
                    # A deploy that shared its serving files while this download ran may
                    # have replaced the checksums after the file list was read: fetch the
                    # files they name too (uploaded before them), so the copy is whole.
                    for name in _checksummed(temporary) - set(files):
                        self._download_file(key, name, temporary)
                except ResourceNotFoundError as error:
                    if not is_not_found(error, "BlobNotFound"):
                        raise
                    raise ModelUnavailable(
                        f"trained model {key!r} was deleted from storage container "
                        f"{self.container!r} while it was being downloaded"
                    ) from error
            try:
                temporary.rename(target)
            except OSError:
                if not target.is_dir():  # else another process finished the same download
                    raise
        finally:
            shutil.rmtree(temporary, ignore_errors=True)

    def _download_file(self, key: str, name: str, folder: Path) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            self.client.download_blob(f"{key}/{name}").readinto(handle)

    def _evict(self, keep: Path) -> None:
        """Delete the least recently used copies beyond the capacity (never ``keep``)."""
        copies = [
            folder
            for folder in self.cache.root.glob("*/*")
            if folder.is_dir() and not folder.name.endswith(_TEMPORARY)
        ]
        excess = len(copies) - self.capacity
        if excess <= 0:
            return
        oldest = sorted((c for c in copies if c != keep), key=lambda c: c.stat().st_mtime)
        for folder in oldest[:excess]:
            self._remove_copy(folder)

    def _remove_copy(self, folder: Path) -> None:
        """Delete a cached copy; renamed away first, so no reader sees it half deleted."""
        trash = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.trash")
        try:
            folder.rename(trash)
        except OSError:
            return  # gone already
        shutil.rmtree(trash, ignore_errors=True)
