"""API servers and worker processes sharing one PostgreSQL database (the scale-out set-up).

``lexicraft migrate`` brings up an empty database, ``lexicraft serve --no-workers`` answers
the API and two ``lexicraft worker`` processes run the jobs, all as real processes over one
data dir. A worker SIGKILLed while it holds a job loses nothing: the job's lease expires and
the other worker re-claims it; every accepted job succeeds once, with the right result. A
worker sent SIGTERM finishes the job it is running, claims no more and exits 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from lexicraft.ml import registry
from lexicraft.settings import Settings
from tests.integration.runtime_fixtures import JOBS, task
from tests.integration.server import (
    API_VERSION,
    TEST_KEY,
    LiveServer,
    demo_project_file,
    free_port,
    wait_healthy,
)
from tests.postgres import fresh_database

LEXICRAFT = Path(sys.executable).with_name("lexicraft")
PROJECT = "pg-ner"
DEPLOYMENT = "production"
TERMINAL = ("succeeded", "failed", "cancelled", "partiallyCompleted")


def lexicraft_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """What every process of the set-up shares: the database, the data dir, a short lease."""
    return {
        **os.environ,
        "LEXICRAFT_DATABASE_URL": database_url,
        "LEXICRAFT_DATA_DIR": str(data_dir),
        "LEXICRAFT_API_KEY": TEST_KEY,
        "LEXICRAFT_JOB_LEASE_S": "2",
        "LEXICRAFT_JOB_POLL_INTERVAL_S": "0.1",
    }


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``lexicraft ARGS`` in the background, its output appended to ``log``."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [str(LEXICRAFT), *args], env=env, stdout=output, stderr=subprocess.STDOUT
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(30)


def wait_ready(process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the worker ``process`` has logged that its pools run."""
    deadline = time.monotonic() + 60
    while f"worker {process.pid} running" not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.05)


def job_documents(texts: list[str], job: int, per_document: int) -> list[str]:
    """25 documents of about ``per_document`` characters, different for every job."""
    documents = []
    for slot in range(25):
        parts: list[str] = []
        index = job * 25 + slot
        while sum(len(part) + 1 for part in parts) < per_document:
            parts.append(texts[index % len(texts)])
            index += 7
        documents.append(" ".join(parts)[:per_document])
    return documents


def submit(client: httpx.Client, documents: list[str]) -> str:
    """An analyze job for ``documents``; the path (and query) of its Operation-Location."""
    response = client.post(
        JOBS,
        params={"api-version": API_VERSION},
        json={
            "analysisInput": {
                "documents": [{"id": str(i), "text": text} for i, text in enumerate(documents)]
            },
            "tasks": [
                task(
                    "CustomEntityRecognition",
                    PROJECT,
                    DEPLOYMENT,
                    stringIndexType="UnicodeCodePoint",
                )
            ],
        },
    )
    assert response.status_code == 202, response.text
    parts = urlsplit(response.headers["Operation-Location"])
    return f"{parts.path}?{parts.query}"


def job_id(path: str) -> str:
    return urlsplit(path).path.rsplit("/", 1)[-1]


def wait_terminal(client: httpx.Client, path: str, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        body: dict[str, Any] = client.get(path).json()
        if body["status"] in TERMINAL:
            return body
        assert time.monotonic() < deadline, f"job still {body['status']}"
        time.sleep(0.05)


def running_job_of(database: Engine, pid: int, ids: set[str], timeout_s: float = 60) -> str:
    """A job of ``ids`` that the worker process ``pid`` is running now (its lease names it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with database.connect() as connection:
            rows = connection.execute(
                text("SELECT id, lease_owner FROM jobs WHERE status = 'running'")
            ).all()
        for found, owner in rows:
            if found in ids and f":{pid}:" in (owner or ""):
                return str(found)
        assert time.monotonic() < deadline, f"worker {pid} ran none of the jobs"
        time.sleep(0.005)


def job_rows(database: Engine, ids: set[str]) -> dict[str, tuple[str, int, str | None]]:
    """id → (status, attempts, lease_owner) of the jobs ``ids``."""
    with database.connect() as connection:
        rows = connection.execute(text("SELECT id, status, attempts, lease_owner FROM jobs")).all()
    return {row[0]: (row[1], row[2], row[3]) for row in rows if row[0] in ids}


def entities(body: dict[str, Any]) -> list[list[tuple[int, int, str]]]:
    results = body["tasks"]["items"][0]["results"]
    assert results["errors"] == []
    return [
        [(e["offset"], e["length"], e["category"]) for e in document["entities"]]
        for document in results["documents"]
    ]


@pytest.fixture
def setup(
    postgres_url: str, tmp_path: Path
) -> Iterator[tuple[dict[str, str], Path, ExitStack, Engine]]:
    env = lexicraft_env(postgres_url, tmp_path / "data")
    database = create_engine(postgres_url)
    with ExitStack() as processes:
        yield env, tmp_path, processes, database
    database.dispose()


@pytest.mark.slow  # five lexicraft processes and a training
def test_workers_share_the_queue_and_survive_sigkill_and_sigterm(
    setup: tuple[dict[str, str], Path, ExitStack, Engine],
) -> None:
    env, tmp_path, processes, database = setup
    log = tmp_path / "processes.log"
    migrated = subprocess.run(
        [str(LEXICRAFT), "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr
    assert "database ready: postgresql+psycopg://" in migrated.stdout

    port = free_port()
    server = start(["serve", "--no-workers", "--port", str(port)], env, log)
    processes.callback(stop, server)
    workers = [start(["worker", "--concurrency", "2"], env, log) for _ in range(2)]
    for process in workers:
        processes.callback(stop, process)
    base_url = f"http://127.0.0.1:{port}"
    wait_healthy(base_url, server, log)
    for process in workers:
        wait_ready(process, log)
    client = processes.enter_context(
        httpx.Client(base_url=base_url, headers={"Ocp-Apim-Subscription-Key": TEST_KEY}, timeout=60)
    )
    live = LiveServer(base_url=base_url, settings=Settings(), client=client)
    live.import_project(PROJECT, demo_project_file("demo-ner", PROJECT))
    live.train(PROJECT, "m1")
    live.deploy(PROJECT, DEPLOYMENT, "m1")
    with database.connect() as connection:
        artifact_dir = connection.execute(
            text("SELECT model_artifact_dir FROM deployments WHERE name = :name"),
            {"name": DEPLOYMENT},
        ).scalar_one()
    predictor = registry.load_ner_predictor(tmp_path / "data" / "models" / artifact_dir)
    texts = [d["text"] for d in demo_project_file("demo-ner")["assets"]["documents"]]

    # 40 jobs; the first worker is killed while it holds one of them.
    batches = [job_documents(texts, job, per_document=1000) for job in range(40)]
    paths = [submit(client, documents) for documents in batches]
    ids = {job_id(path) for path in paths}
    killed, survivor = workers
    orphan = running_job_of(database, killed.pid, ids)
    killed.send_signal(signal.SIGKILL)
    killed.wait(30)

    finals = [wait_terminal(client, path) for path in paths]
    assert [final["status"] for final in finals] == ["succeeded"] * 40
    for documents, final in zip(batches, finals, strict=True):
        expected = [
            [(s.start, s.end - s.start, s.category) for s in spans]
            for spans in predictor.predict(documents)
        ]
        assert entities(final) == expected
    rows = job_rows(database, ids)
    assert rows[orphan][:2] == ("succeeded", 2)  # re-claimed once, after its lease expired
    assert all(row[0] == "succeeded" and row[2] is None for row in rows.values())
    # Read again: every job still shows the one result it was given.
    assert [client.get(path).json() for path in paths] == finals

    # SIGTERM while the survivor runs a long job: it finishes it, claims nothing more, exits 0.
    long_batches = [job_documents(texts, 100 + job, per_document=4800) for job in range(6)]
    long_paths = [submit(client, documents) for documents in long_batches]
    long_ids = {job_id(path) for path in long_paths}
    running = running_job_of(database, survivor.pid, long_ids)
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(60) == 0, log.read_text()[-3000:]
    rows = job_rows(database, long_ids)
    assert rows[running] == ("succeeded", 1, None)  # finished by the survivor, not released
    # What it had not started waits for another worker (none started after the signal).
    assert {row[0] for row in rows.values()} <= {"succeeded", "notStarted"}
    assert "notStarted" in {row[0] for row in rows.values()}, rows
    assert all(row[2] is None for row in rows.values())

    # A worker for analyze jobs only runs what is left.
    last = start(["worker", "--kinds", "analyze"], env, log)
    processes.callback(stop, last)
    wait_ready(last, log)
    finals = [wait_terminal(client, path) for path in long_paths]
    assert [final["status"] for final in finals] == ["succeeded"] * 6
    last.send_signal(signal.SIGTERM)
    assert last.wait(60) == 0


def run_lexicraft(
    *args: str, database_url: str, data_dir: Path
) -> subprocess.CompletedProcess[str]:
    env = lexicraft_env(database_url, data_dir)
    return subprocess.run(
        [str(LEXICRAFT), *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("command", [["serve", "--no-workers"], ["worker"]])
def test_a_process_on_a_database_without_the_schema_names_lexicraft_migrate(
    postgres_server_url: str, tmp_path: Path, command: list[str]
) -> None:
    with fresh_database(postgres_server_url) as url:
        done = run_lexicraft(*command, database_url=url, data_dir=tmp_path)
        assert done.returncode == 1
        assert done.stderr.startswith("error: the database at postgresql+psycopg://")
        assert "empty database" in done.stderr and "'lexicraft migrate'" in done.stderr
        # Nothing migrated it behind the operator's back.
        engine = create_engine(url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT to_regclass('jobs')")).scalar() is None
        engine.dispose()


@pytest.mark.parametrize("command", [["serve", "--no-workers"], ["worker"], ["migrate"]])
def test_an_unreachable_database_is_one_line_with_the_password_masked(
    tmp_path: Path, command: list[str]
) -> None:
    port = free_port()  # nobody listens there
    url = f"postgresql+psycopg://postgres:s3cret@127.0.0.1:{port}/lexicraft"
    done = run_lexicraft(*command, database_url=url, data_dir=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"error: cannot reach the database at postgresql+psycopg://postgres:***@127.0.0.1:{port}/lexicraft"
    )
    assert done.stderr.count("\n") == 1 and "s3cret" not in done.stderr + done.stdout
