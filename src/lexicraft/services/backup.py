"""Backups of a data dir, and restoring one (``lexicraft backup`` / ``lexicraft restore``).

A backup is a folder:

- ``backup.json``: the format, Lexicraft's version, the database kind, the schema revision, and
  the SHA-256 of every other file (a restore checks them all before it changes anything);
- ``lexicraft.db``: with the embedded SQLite database, an online copy made with SQLite's
  backup API, safe while servers and workers use the database;
- ``data/``: the data dir's files: storage containers (document files), trained model folders,
  the demo key file. Left out: the database files, the Blob download cache (``model-cache/``),
  and what is being written (staging folders, temporaries).

Files are copied first, then the database; models the database copy names but the file copy
missed (trained meanwhile) are copied after it, so every model the database names is in the
backup. A database server (PostgreSQL) is backed up with its own tools: the backup holds the
files and says how (``pg_dump`` / ``pg_restore``).

Both write into a temporary folder and rename it into place when it is complete: a backup
folder or a data dir is never left half-written. These two use cases take the settings, not a
``ServiceContext``: a restore must not open (or create, or migrate) the database it replaces.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from lexicraft import __version__
from lexicraft.errors import Conflict, InvalidParameterValue
from lexicraft.settings import Settings
from lexicraft.storage.artifacts.base import STAGING_SUFFIX
from lexicraft.storage.blobs.filesystem import SCRATCH
from lexicraft.storage.sql.backup import copy_sqlite, read_snapshot, sqlite_path
from lexicraft.timeutil import format_datetime, utcnow

MANIFEST_FILE = "backup.json"
DATABASE_FILE = "lexicraft.db"
DATA_FOLDER = "data"
FORMAT = 1
_CHUNK = 1024 * 1024
#: Beside a SQLite file: its write-ahead log, shared memory and rollback journal.
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
#: Names the model stores give what is being written (staging, downloads, deletions).
_IN_PROGRESS = (STAGING_SUFFIX, ".download", ".trash")

PG_DUMP_GUIDANCE = (
    "The database is a server: back it up with its own tools, e.g. "
    'pg_dump --format=custom --file=lexicraft.dump "$LEXICRAFT_DATABASE_URL" '
    "(without the +psycopg of the URL). Take it while no training, deploy or delete runs "
    "(e.g. with the authoring workers stopped), so that the models it names are the ones "
    "this backup holds."
)
PG_RESTORE_GUIDANCE = (
    "The backup's database was a server: restore its dump before starting Lexicraft, e.g. "
    'pg_restore --clean --if-exists --no-owner --dbname "$LEXICRAFT_DATABASE_URL" '
    "lexicraft.dump, then run 'lexicraft migrate' if this version is newer."
)
BLOB_GUIDANCE = (
    "Documents and models are in Azure Blob Storage (LEXICRAFT_STORAGE_BACKEND=azure): back "
    "up the storage account with Azure's tools (e.g. azcopy, blob versioning); this backup "
    "holds what the data dir has."
)


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What a backup holds."""

    location: Path
    files: int
    size: int
    database: str  # "sqlite" (in the backup) or "server" (back it up with its tools)
    schema_revision: str | None
    guidance: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What a restore wrote."""

    data_dir: Path
    files: int
    database: str
    guidance: tuple[str, ...]


# -- backup --------------------------------------------------------------------------------------


def backup(settings: Settings, destination: Path) -> BackupResult:
    """Back up ``settings``' data dir (and SQLite database) into the new folder ``destination``."""
    data_dir = settings.data_dir.resolve()
    destination = destination.absolute()
    if not data_dir.is_dir():
        raise InvalidParameterValue(
            f"there is no data dir at {str(data_dir)!r}; pass --data-dir", target="data-dir"
        )
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise Conflict(
            f"{str(destination)!r} already exists and is not an empty folder; choose a new one",
            target="destination",
        )
    if destination.resolve().is_relative_to(data_dir):
        raise InvalidParameterValue(
            f"{str(destination)!r} is inside the data dir; choose a folder outside it",
            target="destination",
        )
    database = sqlite_path(settings.resolved_database_url)
    if database is not None and not database.is_file():
        raise InvalidParameterValue(
            f"there is no database at {str(database)!r}; is this the right data dir?",
            target="data-dir",
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:12]}.partial")
    staging.mkdir()
    try:
        digests: dict[str, str] = {}
        size = 0
        skipped = _skipped(settings, data_dir, database)
        for relative in _data_files(data_dir, skipped):
            digest, length = _copy(data_dir / relative, staging / DATA_FOLDER / relative)
            digests[f"{DATA_FOLDER}/{relative.as_posix()}"] = digest
            size += length
        revision = None
        guidance: list[str] = []
        if database is not None:
            copy_sqlite(database, staging / DATABASE_FILE)
            digest, length = _digest(staging / DATABASE_FILE)
            digests[DATABASE_FILE] = digest
            size += length
            revision, named = read_snapshot(staging / DATABASE_FILE)
            for extra, digest, length in _models_copied_late(settings, data_dir, staging, named):
                digests[extra] = digest
                size += length
        else:
            guidance.append(PG_DUMP_GUIDANCE)
        if settings.storage_backend == "azure":
            guidance.append(BLOB_GUIDANCE)
        manifest = {
            "format": FORMAT,
            "lexicraftVersion": __version__,
            "createdDateTime": format_datetime(utcnow()),
            "database": "sqlite" if database is not None else "server",
            "schemaRevision": revision,
            "storageBackend": settings.storage_backend,
            "files": dict(sorted(digests.items())),
        }
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
        if destination.exists():
            destination.rmdir()  # empty, checked above
        staging.rename(destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BackupResult(
        destination,
        len(digests),
        size,
        str(manifest["database"]),
        revision,
        tuple(guidance),
    )


def _skipped(settings: Settings, data_dir: Path, database: Path | None) -> set[Path]:
    """The data dir's paths that are not backed up: the database files (copied through the
    backup API instead) and the Blob download cache."""
    skipped = {settings.model_cache_dir.resolve()}
    if database is not None:
        base = database.resolve()
        skipped |= {base, *(base.with_name(base.name + suffix) for suffix in _SQLITE_COMPANIONS)}
    return {path for path in skipped if path.is_relative_to(data_dir)}


def _data_files(data_dir: Path, skipped: set[Path]) -> Iterator[Path]:
    """The data dir's files to back up, relative to it, without what is being written."""
    for directory, folders, files in os.walk(data_dir, followlinks=True):
        base = Path(directory)
        relative = base.relative_to(data_dir)
        folders[:] = sorted(
            name
            for name in folders
            if (base / name) not in skipped and not _in_progress(relative / name, folder=True)
        )
        for name in sorted(files):
            path = base / name
            if path not in skipped and not _in_progress(relative / name, folder=False):
                yield relative / name


def _in_progress(relative: Path, *, folder: bool) -> bool:
    """Whether a path of the data dir is something being written: a training's staging
    folder, an interrupted download, a temporary file of an atomic write."""
    parts = relative.parts
    if parts[:1] == ("storage",):
        return parts[1:2] == (SCRATCH,)  # any name inside a container may be a user's file
    if parts[:1] != ("models",):
        return False
    if len(parts) == 3:
        return folder and parts[2].endswith(_IN_PROGRESS)
    # Inside a model folder, dot-names are temporaries (model files are named by code).
    return len(parts) > 3 and parts[-1].startswith(".")


def _models_copied_late(
    settings: Settings, data_dir: Path, staging: Path, named: set[str]
) -> Iterator[tuple[str, str, int]]:
    """Copy the model folders the database copy names that the file copy missed."""
    models = settings.models_dir.resolve()
    for artifact in sorted(named):
        folder = Path(artifact) if Path(artifact).is_absolute() else models / artifact
        folder = folder.resolve()
        if not folder.is_relative_to(data_dir):
            # A row written before model keys naming a folder elsewhere: not in the backup.
            continue
        relative = folder.relative_to(data_dir)
        if (staging / DATA_FOLDER / relative).is_dir():
            continue
        if not folder.is_dir():
            raise Conflict(
                f"trained model {PurePosixPath(artifact).name!r} was deleted while the backup "
                "ran (a training or delete replaced it); run the backup again"
            )
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if path.name.startswith("."):
                continue
            inner = path.relative_to(data_dir)
            digest, length = _copy(path, staging / DATA_FOLDER / inner)
            yield f"{DATA_FOLDER}/{inner.as_posix()}", digest, length


def _copy(source: Path, target: Path) -> tuple[str, int]:
    """Copy a file, hashing what was written; its SHA-256 and size."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    shutil.copystat(source, target)
    return digest.hexdigest(), size


def _digest(path: Path) -> tuple[str, int]:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest(), path.stat().st_size


# -- restore -------------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict[str, Any]:
    """A backup's manifest, checked: every file it names is there with its checksum."""
    path = source / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidParameterValue(
            f"{str(source)!r} is not a Lexicraft backup (it has no {MANIFEST_FILE})",
            target="source",
        ) from None
    except (OSError, ValueError) as error:
        raise InvalidParameterValue(
            f"{str(path)!r} cannot be read ({error}); the backup is damaged", target="source"
        ) from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise InvalidParameterValue(
            f"{str(source)!r} is a backup of format {found!r}; this version restores format "
            f"{FORMAT}",
            target="source",
        )
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise InvalidParameterValue(f"{str(path)!r} lists no files", target="source")
    for name, expected in files.items():
        parts = PurePosixPath(name).parts
        if not parts or name.startswith("/") or ".." in parts:
            raise InvalidParameterValue(
                f"{str(path)!r} names {name!r}, which is outside the backup", target="source"
            )
        try:
            actual, _size = _digest(source / name)
        except FileNotFoundError:
            raise InvalidParameterValue(
                f"the backup is damaged: {name} is missing", target="source"
            ) from None
        if actual != expected:
            raise InvalidParameterValue(
                f"the backup is damaged: {name} does not match its checksum", target="source"
            )
    return manifest


def restore(settings: Settings, source: Path, *, force: bool = False) -> RestoreResult:
    """Make ``settings``' data dir (and SQLite database) the backup ``source``.

    Refuses a data dir (or a SQLite file outside it) that holds anything, unless ``force``
    (then what was there is deleted). The backup is checked whole before anything changes;
    the new data dir is written beside the old one and renamed into place. Stop the servers
    and workers of the data dir first.
    """
    source = source.absolute()
    manifest = read_manifest(source)
    data_dir = settings.data_dir.absolute()
    url = settings.resolved_database_url
    database = sqlite_path(url)
    has_database = manifest.get("database") == "sqlite"
    guidance: list[str] = []
    if has_database and database is None:
        raise InvalidParameterValue(
            "this backup holds a SQLite database, but LEXICRAFT_DATABASE_URL names a database "
            "server; restore it without LEXICRAFT_DATABASE_URL (into the data dir's SQLite "
            "file), then move the data into the server yourself",
            target="database",
        )
    if not has_database:
        guidance.append(PG_RESTORE_GUIDANCE)
    if manifest.get("storageBackend") == "azure":
        guidance.append(BLOB_GUIDANCE)
    database_inside = database is not None and database.absolute().is_relative_to(data_dir)
    occupied = [str(data_dir)] if _holds_anything(data_dir) else []
    outside = has_database and database is not None and not database_inside
    if outside and database is not None and database.exists() and database.stat().st_size:
        occupied.append(str(database))
    if occupied and not force:
        raise Conflict(
            f"{' and '.join(repr(path) for path in occupied)} already hold data; restore into "
            "an empty data dir, or pass --force to replace what is there (it is deleted)",
            target="data-dir",
        )

    staging_root = data_dir if os.path.ismount(data_dir) else data_dir.parent
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = staging_root / f".{data_dir.name}.{uuid.uuid4().hex[:12]}.restoring"
    files = 0
    try:
        data = source / DATA_FOLDER
        if data.is_dir():
            shutil.copytree(data, staging, symlinks=False)
        else:
            staging.mkdir()
        files = sum(1 for name in manifest["files"] if name.startswith(f"{DATA_FOLDER}/"))
        if has_database and database is not None:
            if database_inside:
                target = staging / database.absolute().relative_to(data_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source / DATABASE_FILE, target)
            else:
                _replace_database(source / DATABASE_FILE, database)
            files += 1
        _move_into_place(staging, data_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreResult(data_dir, files, str(manifest.get("database")), tuple(guidance))


def _holds_anything(folder: Path) -> bool:
    if not folder.exists():
        return False
    return not folder.is_dir() or any(folder.iterdir())


def _replace_database(copy: Path, database: Path) -> None:
    """Put a SQLite file in place of ``database``: written beside it, renamed over it; the old
    file's journal and log are removed first (SQLite would apply them to the new file)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    temporary = database.with_name(f".{database.name}.{uuid.uuid4().hex[:12]}.restoring")
    try:
        shutil.copyfile(copy, temporary)
        for suffix in _SQLITE_COMPANIONS:
            database.with_name(database.name + suffix).unlink(missing_ok=True)
        temporary.replace(database)
    finally:
        temporary.unlink(missing_ok=True)


def _move_into_place(staging: Path, data_dir: Path) -> None:
    """Make the complete folder ``staging`` the data dir, replacing what was there.

    Two renames when the data dir is an ordinary folder; when it is a mount point (a volume),
    which cannot be renamed, its entries are moved aside and the new ones moved in, one by one.
    """
    aside = staging.with_name(staging.name.removesuffix(".restoring") + ".replaced")
    if staging.parent != data_dir:
        if data_dir.exists():
            data_dir.rename(aside)
        staging.rename(data_dir)
        shutil.rmtree(aside, ignore_errors=True)
        return
    aside.mkdir()
    for entry in data_dir.iterdir():
        if entry not in (staging, aside):
            entry.rename(aside / entry.name)
    for entry in staging.iterdir():
        entry.rename(data_dir / entry.name)
    shutil.rmtree(aside, ignore_errors=True)
