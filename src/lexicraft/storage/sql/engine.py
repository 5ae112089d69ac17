"""Engine, sessions and migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

_MIGRATIONS = Path(__file__).with_name("migrations")
#: How long a PostgreSQL connection attempt may take: without a limit, a host that drops
#: packets keeps a starting server or worker silent for minutes instead of failing.
_CONNECT_TIMEOUT_S = 10


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

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
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


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
        # The driver's first line says what failed (refused, unknown host, bad password);
        # the lines after it are hints for psql users.
        reason = (str(error.orig or error).strip().splitlines() or ["no answer"])[0]
        raise DatabaseUnreachable(
            f"cannot reach the database at {masked_url(engine)} ({reason})"
        ) from error


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


def check_schema(engine: Engine) -> None:
    """Raise :class:`SchemaOutOfDate` unless the schema is at the newest revision."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with connect(engine) as connection:
        current = MigrationContext.configure(connection).get_current_revision()
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
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
