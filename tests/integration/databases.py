"""The database under the integration suites: each runs once on SQLite, once on PostgreSQL.

A test module gets a :class:`Databases` of one kind (the ``databases`` fixture, whose
parameter shows in every test id). It gives each data dir the module uses a database: on
SQLite the data dir's own file (the embedded default), on PostgreSQL a fresh database of the
test server (see ``tests/postgres.py``) that is dropped when the module ends.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from pathlib import Path
from types import TracebackType
from typing import Any

from alembic import command
from sqlalchemy import Connection

from lexicraft.settings import Settings
from lexicraft.storage.sql.engine import alembic_config, make_engine, migrate
from tests.integration.server import LiveServer, run_server
from tests.postgres import fresh_database

#: The database kinds every integration suite runs on, as they show in the test ids.
KINDS = ("sqlite", "postgresql")


class Databases:
    """The databases of the data dirs of one scope (a test module, or the session)."""

    def __init__(self, kind: str, server_url: str | None = None) -> None:
        assert kind in KINDS and (kind == "sqlite") == (server_url is None), (kind, server_url)
        self.kind = kind
        self.server_url = server_url
        self._urls: dict[Path, str] = {}
        self._drops = ExitStack()

    def url(self, data_dir: Path) -> str | None:
        """The database URL of ``data_dir``: None for its SQLite file (a server migrates it),
        else its own PostgreSQL database, made and migrated (as ``lexicraft migrate`` does
        before servers start) when first asked for."""
        if self.server_url is None:
            return None
        key = data_dir.resolve()
        if key not in self._urls:
            url = self._drops.enter_context(fresh_database(self.server_url))
            engine = make_engine(url)
            migrate(engine)
            engine.dispose()
            self._urls[key] = url
        return self._urls[key]

    def copy(
        self,
        source: Path,
        target: Path,
        *,
        source_databases: Databases | None = None,
        ignore: Callable[[str, list[str]], set[str]] | None = None,
    ) -> None:
        """Copy data dir ``source`` to ``target`` with its database (``source_databases``
        holds it when another scope made it). No server may be using it meanwhile."""
        # The SQLite file goes with the folder; a link (to shared model folders) stays a link.
        shutil.copytree(source, target, ignore=ignore, symlinks=True)
        if self.server_url is not None:
            origin = (source_databases or self)._urls[source.resolve()]
            self._urls[target.resolve()] = self._drops.enter_context(
                fresh_database(self.server_url, template=origin)
            )

    @contextmanager
    def serve(self, data_dir: Path, **overrides: Any) -> Iterator[LiveServer]:
        """:func:`run_server` over ``data_dir`` and its database."""
        with run_server(data_dir, database_url=self.url(data_dir), **overrides) as live:
            yield live

    def close(self) -> None:
        """Drop the PostgreSQL databases made here."""
        self._drops.close()

    def __enter__(self) -> Databases:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


@contextmanager
def database_at(
    revision: str, data_dir: Path, databases: Databases, seed: Callable[[Connection], None]
) -> Iterator[str | None]:
    """A database for ``data_dir`` migrated only to ``revision``, with the rows ``seed`` writes
    there (what an older version left), then migrated on as ``lexicraft migrate`` does before
    PostgreSQL servers start (a server migrates its SQLite file itself). Its URL: None for the
    data dir's own SQLite file, else a fresh PostgreSQL database, dropped afterwards."""
    with _fresh_url(databases) as url:
        engine = make_engine(url or Settings(data_dir=data_dir).resolved_database_url)
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        with engine.begin() as connection:
            seed(connection)
        if url is not None:
            migrate(engine)
        engine.dispose()
        yield url


def _fresh_url(databases: Databases) -> AbstractContextManager[str | None]:
    """None on SQLite (the data dir's own file), else a fresh PostgreSQL database."""
    if databases.server_url is None:
        return nullcontext(None)
    return fresh_database(databases.server_url)
