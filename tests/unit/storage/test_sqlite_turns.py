"""SQLite writers of one process queue on their database's turn instead of SQLite's busy handler."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lexicraft.storage.sql.sqlite_turns import TurnTakingConnection, _turn_for


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "turns.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE rows (value INTEGER)")
    yield path


def connect(path: Path, timeout: float = 30) -> TurnTakingConnection:
    connection = sqlite3.connect(
        path, timeout=timeout, factory=TurnTakingConnection, check_same_thread=False
    )
    assert isinstance(connection, TurnTakingConnection)
    return connection


def test_a_second_writer_waits_for_the_first_to_commit_then_writes(database: Path) -> None:
    first, second = connect(database), connect(database)
    turn = _turn_for(str(database))
    first.execute("INSERT INTO rows VALUES (1)")
    assert turn.locked()
    wrote = threading.Event()

    def write() -> None:
        second.execute("INSERT INTO rows VALUES (2)")
        second.commit()
        wrote.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert not wrote.wait(0.2)  # queued on the turn, not failing on a locked database
    first.commit()
    writer.join(10)
    assert wrote.is_set()
    assert not turn.locked()
    assert sorted(v for (v,) in first.execute("SELECT value FROM rows")) == [1, 2]


def test_readers_take_no_turn(database: Path) -> None:
    writer, reader = connect(database), connect(database)
    writer.execute("INSERT INTO rows VALUES (1)")
    # WAL: the reader sees the last commit at once, while the write transaction is open.
    assert reader.execute("SELECT count(*) FROM rows").fetchone() == (0,)
    assert not reader.in_transaction
    writer.rollback()
    assert not _turn_for(str(database)).locked()


def test_a_statement_that_opens_no_transaction_gives_the_turn_back(database: Path) -> None:
    connection = connect(database)
    connection.execute("CREATE TABLE other (value INTEGER)")  # DDL runs in autocommit
    assert not _turn_for(str(database)).locked()
    with pytest.raises(sqlite3.OperationalError):
        connection.execute("INSERT INTO missing VALUES (1)")
    assert not _turn_for(str(database)).locked()


def test_rollback_and_close_give_the_turn_back(database: Path) -> None:
    turn = _turn_for(str(database))
    connection = connect(database)
    connection.execute("INSERT INTO rows VALUES (1)")
    connection.rollback()
    assert not turn.locked()
    connection.executemany("INSERT INTO rows VALUES (?)", [(1,), (2,)])
    assert turn.locked()
    connection.close()
    assert not turn.locked()


def test_a_turn_never_taken_back_lets_a_writer_through_after_its_timeout(database: Path) -> None:
    """Past the busy timeout the writer goes ahead and SQLite's own locking decides."""
    holder = connect(database)
    holder.execute("INSERT INTO rows VALUES (1)")
    patient = connect(database, timeout=0.05)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        patient.execute("INSERT INTO rows VALUES (2)")
    holder.commit()
    patient.execute("INSERT INTO rows VALUES (2)")
    patient.commit()
    assert not _turn_for(str(database)).locked()
