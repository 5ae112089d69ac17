"""A PostgreSQL server for the tests, and a fresh database on it per test module.

The server is, in this order: the one ``LEXICRAFT_TEST_POSTGRES_URL`` names (a URL of a
database whose user may create databases), the one on 127.0.0.1:5432 (user ``postgres``,
trust auth) if it answers, or a throwaway cluster started with Debian's ``initdb`` and
``pg_ctl`` in a temporary folder on a free port (``make test`` installs them when they are
missing). Without any of them the tests that need PostgreSQL fail and say so: the queue and
the workers must be known to work on the database production uses, not skipped quietly.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import OperationalError

ENV_URL = "LEXICRAFT_TEST_POSTGRES_URL"
LOCAL_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: The unprivileged user Debian's package creates; initdb refuses to run as root.
_SYSTEM_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be found or started."""


def answers(url: str, timeout_s: int = 3) -> bool:
    """Whether a server accepts a connection at ``url``."""
    engine = create_engine(url, connect_args={"connect_timeout": timeout_s})
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def _postgres_bin() -> Path | None:
    """The folder of Debian's newest ``initdb``/``pg_ctl`` (they are not on PATH there)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayCluster:
    """A cluster in a temporary folder on a free port, which a test may stop and start again.

    ``durable=False`` trades durability for speed (the cluster is deleted afterwards);
    ``durable=True`` keeps ``synchronous_commit`` on, so a transaction committed before an
    immediate stop (a crash of the server) is still there after the next start.
    """

    def __init__(self, *, durable: bool = False) -> None:
        bin_dir = _postgres_bin()
        if bin_dir is None:
            raise PostgresUnavailable(
                "no PostgreSQL server answers on 127.0.0.1:5432 and initdb is not installed; "
                f"run 'make test' (it installs Debian's postgresql), set {ENV_URL}, or start a "
                "server there"
            )
        self.bin_dir = bin_dir
        self.durable = durable
        self.prefix: list[str] = []
        self.root = Path(tempfile.mkdtemp(prefix="lexicraft-pg-"))
        if os.geteuid() == 0:
            # initdb and postgres refuse to run as root: run them as the package's system user.
            if shutil.which("runuser") is None:
                shutil.rmtree(self.root, ignore_errors=True)
                raise PostgresUnavailable("running as root without runuser: cannot start initdb")
            self.prefix = ["runuser", "-u", _SYSTEM_USER, "--"]
            shutil.chown(self.root, _SYSTEM_USER)
        self.data, self.port = self.root / "data", _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        try:
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--no-locale", "--no-sync", timeout=120,
            )  # fmt: skip
        except PostgresUnavailable:
            self.remove()
            raise

    def _run(self, program: str, *args: str, timeout: float) -> None:
        try:
            subprocess.run(
                [*self.prefix, str(self.bin_dir / program), *args],
                check=True, capture_output=True, timeout=timeout, cwd=self.root,
            )  # fmt: skip
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            detail = getattr(error, "stderr", b"") or b""
            raise PostgresUnavailable(
                f"{program} of a throwaway PostgreSQL cluster with {self.bin_dir} failed: "
                f"{detail.decode(errors='replace').strip()}"
            ) from error

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        # fsync off is safe even when durable: the tests crash the server, never the machine.
        # The socket lives in the temporary folder so no system folder has to be writable.
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        if not self.durable:
            options += " -c synchronous_commit=off -c full_page_writes=off"
        log = self.root / "server.log"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(log), "-o", options, "-w", "-t", "60",
            "start", timeout=90,
        )  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server; ``immediate`` is a crash (no checkpoint, connections cut)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", timeout=60)

    def remove(self) -> None:
        """Stop the server if it runs and delete the cluster."""
        subprocess.run(
            [*self.prefix, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
             "stop"],
            check=False, capture_output=True, timeout=60, cwd=self.root,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def throwaway_cluster(*, durable: bool = False) -> Iterator[ThrowawayCluster]:
    """A started :class:`ThrowawayCluster`, stopped and deleted afterwards."""
    cluster = ThrowawayCluster(durable=durable)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@contextmanager
def postgres_server() -> Iterator[str]:
    """The URL of a server the tests may create databases on (see the module's docstring)."""
    configured = os.environ.get(ENV_URL)
    if configured:
        parsed = make_url(configured)
        if parsed.drivername == "postgresql":  # SQLAlchemy's default driver is psycopg2
            configured = parsed.set(drivername="postgresql+psycopg").render_as_string(
                hide_password=False
            )
        if not answers(configured):
            raise PostgresUnavailable(f"{ENV_URL} is set, but no server answers there")
        yield configured
    elif answers(LOCAL_URL):
        yield LOCAL_URL
    else:
        with throwaway_cluster() as cluster:
            yield cluster.url


def _retried(admin: Engine, statement: str) -> None:
    """Run ``statement`` (AUTOCOMMIT), retried while the database it names is still in use.

    A server process a test stopped or killed may hold its connections a moment longer.
    """
    deadline = time.monotonic() + 30
    while True:
        try:
            with admin.connect() as connection:
                connection.execute(text(statement))
            return
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextmanager
def fresh_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """A new database on ``server_url``'s server, dropped afterwards; yields its URL.

    It is empty, or a copy of the database at the URL ``template`` (same server), which
    nobody may be connected to while it is copied.
    """
    name = f"lexicraft_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        if template is None:
            _retried(admin, f'CREATE DATABASE "{name}"')
        else:
            _retried(admin, f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"')
        url: URL = make_url(server_url).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        # FORCE: a server process a test killed may not have closed its connections yet.
        _retried(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
