"""The database side of ``lexicraft backup``: an online copy of a SQLite file, read back.

SQLite's backup API copies a consistent snapshot of the database while other connections
(a running server, its workers) keep reading and writing it; copying the file itself could
catch a write half done, or miss what is still in the write-ahead log. A database server
(PostgreSQL) is backed up with its own tools (``pg_dump``), not here.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, make_url
from sqlalchemy.orm import Session

from lexicraft.storage.sql import models as model_store


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite database URL; None for any other database (or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy the SQLite database ``source`` to the new file ``target``, online and whole."""
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as origin,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        # Pages are copied in steps; a write by another connection meanwhile restarts the
        # copy, so what ends up in ``target`` is one consistent snapshot.
        origin.backup(copy, pages=1024)
        # The copy keeps the source's write-ahead-log mode; a single file is what a backup
        # wants (a server turns the mode on again when it opens the restored file).
        copy.execute("PRAGMA journal_mode=DELETE")


def read_snapshot(database: Path) -> tuple[str | None, set[str]]:
    """The schema revision of a SQLite file and the model folders its rows name.

    Opened read-only and without the server's pragmas: reading must not turn the copy into
    a write-ahead-log database (files beside it) or change it in any way.
    """
    engine = create_engine(f"sqlite:///file:{database.resolve()}?mode=ro&uri=true")
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
        if revision is None:
            return None, set()
        with Session(engine) as session:
            return revision, model_store.all_artifact_dirs(session)
    finally:
        engine.dispose()
