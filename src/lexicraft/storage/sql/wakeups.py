"""New-job wake-ups across processes on PostgreSQL: ``NOTIFY`` on submit, ``LISTEN`` in workers.

A job submitted to one process (an API replica started with ``--no-workers``) would otherwise
wait for a worker process's next poll of the queue (``job_poll_interval_s``); the queue sends
``NOTIFY lexicraft_jobs, '<kind>'`` in the transaction that adds the job, so PostgreSQL delivers
it on commit, and :class:`JobWakeups` hands the kind to the worker pools at once. The poll stays
as the safety net: a notification is a hint, never the only way a job is found (one sent while
a listener reconnects is lost, and a listener that has just reconnected wakes every pool).

SQLite has no such channel; its single host's API process wakes its own pools directly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

#: The channel the queue notifies on; the payload is the job kind's value.
CHANNEL = "lexicraft_jobs"

#: What a listener calls: a job kind's value, or None for "any kind" (after a reconnect).
OnJob = Callable[[str | None], None]


def supports_wakeups(engine: Engine) -> bool:
    """Whether the database can carry wake-ups between processes (PostgreSQL)."""
    return engine.dialect.name == "postgresql"


def notify_new_job(session: Session, kind: str) -> None:
    """Ask PostgreSQL to tell every listener about a ``kind`` job once ``session`` commits."""
    if supports_wakeups(session.get_bind().engine):
        session.execute(select(func.pg_notify(CHANNEL, kind)))


class JobWakeups:
    """A thread holding one ``LISTEN`` connection; calls ``on_job`` for each notification.

    A lost connection is opened again after ``retry_s`` (the pools' own back-off tells the
    operator about an outage; this logs at debug level only).
    """

    def __init__(self, engine: Engine, on_job: OnJob, *, retry_s: float = 1.0) -> None:
        # psycopg's own connection string: the engine's URL without SQLAlchemy's driver part.
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._on_job = on_job
        self._retry_s = retry_s
        self._stop = threading.Event()
        #: Set once the listener is connected (and again after each reconnect).
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-wakeups", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (returns within about a second)."""
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        # Imported here, so only a PostgreSQL deployment loads the driver: it is a tenth of a
        # second of a process's start-up, which every CLI command would pay.
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    # Jobs submitted while this was not listening are waiting now.
                    self._on_job(None)
                    while not self._stop.is_set():
                        # The timeout bounds how long a stop waits for this thread.
                        for notification in conn.notifies(timeout=1.0):
                            self._on_job(notification.payload)
            except psycopg.Error as error:
                self.listening.clear()
                logger.debug("job wake-ups: %s; listening again in %.0f s", error, self._retry_s)
                self._stop.wait(self._retry_s)
