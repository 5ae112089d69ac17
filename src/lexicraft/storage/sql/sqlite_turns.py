"""SQLite write transactions of one process take turns on a lock, not in SQLite's busy handler.

SQLite lets one writer at a time. A connection that finds the database locked retries in
SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25 … 100 ms between tries, so with
many threads writing at once (analyze jobs claiming and finishing, submits adding jobs) those
sleeps, not the writes (each well under a millisecond), set the latency, and the cores idle
while every writer sleeps. Within a process the writers can queue on a lock instead: each one
gets the database the moment the one before it commits. Writers in other processes (a CLI
command, another server over the same file) still meet in SQLite's own locking.

:class:`TurnTakingConnection` is the ``sqlite3`` connection factory of the engine
(:func:`lexicraft.storage.sql.engine.make_engine`): a connection takes its database's turn
before the first statement that may write outside a transaction, and gives it back when the
transaction ends (commit, rollback, close), or at once if the statement began none.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Self

#: Statements that only read: they never take a turn (a write transaction already holds one).
_READS = ("SELECT", "PRAGMA", "EXPLAIN")

_turns: dict[str, threading.Lock] = {}
_turns_lock = threading.Lock()


def _turn_for(database: str) -> threading.Lock:
    """The one lock of the database file ``database`` in this process."""
    key = database if database.startswith(("file:", ":memory:")) else os.path.realpath(database)
    with _turns_lock:
        return _turns.setdefault(key, threading.Lock())


class TurnTakingConnection(sqlite3.Connection):
    """A ``sqlite3`` connection whose write transactions take their database's turn."""

    def __init__(self, database: str | os.PathLike[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._turn = _turn_for(os.fspath(database))
        self._holding = False
        # Waiting longer than the busy timeout would only hide a deadlock: past it the
        # statement goes ahead and SQLite's own locking decides, as without turns.
        self._patience_s = float(kwargs.get("timeout", 5.0))

    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or _TurnTakingCursor)

    # sqlite3's own shortcuts make a plain cursor, past cursor(): route them through it.
    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        cursor: sqlite3.Cursor = self.cursor()
        return cursor.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        cursor: sqlite3.Cursor = self.cursor()
        return cursor.executemany(sql, parameters)

    def _take_turn(self, statement: str) -> None:
        """Take the turn before ``statement`` if it may begin a write transaction."""
        if self._holding or self.in_transaction:
            return
        if statement.lstrip()[:7].upper().startswith(_READS):
            return
        self._holding = self._turn.acquire(timeout=self._patience_s)

    def _settle(self) -> None:
        """After a statement: a turn taken for one that began no transaction goes back."""
        if self._holding and not self.in_transaction:
            self._give_back()

    @contextmanager
    def turn_for(self, statement: str) -> Iterator[None]:
        """Run ``statement`` inside: with the turn if it may write, settled afterwards."""
        self._take_turn(statement)
        try:
            yield
        finally:
            self._settle()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()

    def _give_back(self) -> None:
        if self._holding:
            self._holding = False
            self._turn.release()


class _TurnTakingCursor(sqlite3.Cursor):
    """Has its connection take the turn before a statement that may write."""

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        with self._connection().turn_for(sql):
            return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Self:
        with self._connection().turn_for(sql):
            return super().executemany(sql, parameters)

    def _connection(self) -> TurnTakingConnection:
        connection: TurnTakingConnection = self.connection  # type: ignore[assignment]
        return connection
