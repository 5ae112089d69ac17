"""Engine, sessions and migrations."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from lexicraft.errors import DatabaseUnavailable
from lexicraft.storage.sql.sqlite_turns import TurnTakingConnection

logger = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).with_name("migrations")
#: How long a PostgreSQL connection attempt may take: without a limit, a host that drops
#: packets keeps a starting server or worker silent for minutes instead of failing.
_CONNECT_TIMEOUT_S = 10


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        # Writers of this process queue on a lock rather than sleep in SQLite's busy handler
        # (storage/sql/sqlite_turns.py).
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": 30,
                "factory": TurnTakingConnection,
            },
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets the API read while a worker writes; foreign keys make cascades real.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL survives a crash of the process (what job recovery relies on) and
            # skips an fsync per commit; only a power loss may drop the last transactions.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    connect_args: dict[str, Any] = {}
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = _CONNECT_TIMEOUT_S
    # pool_pre_ping: a connection the server dropped (restart, failover) is replaced when it
    # is checked out, so a server reconnects by itself once the database is back.
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def is_unreachable(error: BaseException) -> bool:
    """Whether ``error`` says the database could not be reached, not that a statement was wrong.

    ``OperationalError`` is what the drivers raise for a refused or dropped connection, a
    server shutting down or out of resources (psycopg's ``OperationalError`` family, SQLite's
    unopenable or locked file); SQLAlchemy marks any other error that cost the connection as
    ``connection_invalidated``. Integrity and programming errors are neither.
    """
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


#: What a client reads when the database is out of reach; the driver's text is logged instead.
UNAVAILABLE_MESSAGE = "The database cannot be reached right now; retry later."


def masked_url(engine: Engine) -> str:
    """The engine's URL as it may be shown and logged: the password is ``***``."""
    return engine.url.render_as_string(hide_password=True)


class DatabaseNotReady(RuntimeError):
    """A process cannot start on this database; the message says why and what to do."""


class DatabaseUnreachable(DatabaseNotReady):
    """No connection to the database could be opened."""


class SchemaOutOfDate(DatabaseNotReady):
    """The database's schema is not the one this code needs; ``lexicraft migrate`` fixes it."""


def connect(engine: Engine) -> Connection:
    """A connection of ``engine``, or :class:`DatabaseUnreachable` naming the (masked) URL.

    Only opening the connection is translated: an error of a statement run on it later is
    not a sign that the database is out of reach.
    """
    try:
        return engine.connect()
    except OperationalError as error:
        raise _unreachable(engine, error) from error


def _unreachable(engine: Engine, error: DBAPIError) -> DatabaseUnreachable:
    # The driver's first line says what failed (refused, unknown host, bad password);
    # the lines after it are hints for psql users.
    reason = (str(error.orig or error).strip().splitlines() or ["no answer"])[0]
    return DatabaseUnreachable(f"cannot reach the database at {masked_url(engine)} ({reason})")


def alembic_config() -> Config:
    """Alembic's configuration for the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    config = alembic_config()
    with connect(engine) as connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@functools.cache
def _head_revision() -> str | None:
    # Read once: the migration scripts do not change while the process runs, and
    # /health/ready checks the schema on every probe.
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def check_schema(engine: Engine) -> None:
    """Raise :class:`SchemaOutOfDate` unless the schema is at the newest revision.

    One cheap query (the Alembic revision), so it also tells whether the database answers:
    :class:`DatabaseUnreachable` when it does not.
    """
    head = _head_revision()
    with connect(engine) as connection:
        try:
            current = MigrationContext.configure(connection).get_current_revision()
        except DBAPIError as error:
            if not is_unreachable(error):
                raise
            # The connection came from the pool and the server went away since.
            raise _unreachable(engine, error) from error
    if current != head:
        found = "an empty database" if current is None else f"schema revision {current}"
        raise SchemaOutOfDate(
            f"the database at {masked_url(engine)} has {found}; "
            f"this version of Lexicraft needs revision {head}. Run 'lexicraft migrate' once "
            "(with the same LEXICRAFT_DATABASE_URL), then start the servers and workers."
        )


class Database:
    """An engine plus its session factory."""

    def __init__(self, url: str) -> None:
        try:
            self.engine = make_engine(url)
        except NoSuchModuleError as error:
            raise DatabaseNotReady(
                f"the database URL names a dialect or driver that is not installed ({error})"
            ) from None
        except ArgumentError:
            # Not chained: SQLAlchemy's message repeats the URL, password included.
            raise DatabaseNotReady(
                "the database URL cannot be parsed; it looks like "
                "postgresql+psycopg://USER:PASSWORD@HOST:5432/NAME"
            ) from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_embedded(self) -> bool:
        """Whether this is a SQLite file (owned by one host) rather than a database server."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self, *, lock_timeout_s: float | None = None) -> Iterator[Session]:
        """A session committed on success and rolled back on any error.

        ``lock_timeout_s``: on PostgreSQL, a statement that waits longer than this for a lock
        another session holds fails instead (for work that may give up, such as housekeeping;
        SQLite's own busy timeout bounds its waits already).

        An error that says the database is out of reach becomes
        :class:`~lexicraft.errors.DatabaseUnavailable`: the API answers it with 503 and
        ``Retry-After``, workers back off, and job work does not mistake it for its own failure.
        """
        session = self._sessions()
        try:
            if lock_timeout_s is not None and not self.is_embedded:
                milliseconds = max(1, round(lock_timeout_s * 1000))
                session.execute(text(f"SET LOCAL lock_timeout = {milliseconds}"))
            yield session
            session.commit()
        except BaseException as error:
            try:
                session.rollback()
            except DBAPIError as rollback_error:
                # A connection lost without SQLAlchemy noticing fails its ROLLBACK too; the
                # error to report is the first one.
                if not is_unreachable(rollback_error):
                    raise
            if is_unreachable(error):
                logger.debug("database unreachable: %s", error)
                raise DatabaseUnavailable(UNAVAILABLE_MESSAGE) from error
            raise
        finally:
            session.close()
