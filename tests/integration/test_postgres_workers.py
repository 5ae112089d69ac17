"""API servers and worker processes sharing one PostgreSQL database (the scale-out set-up).

``lexicraft migrate`` brings up an empty database, two ``lexicraft serve --no-workers``
processes answer the API and three ``lexicraft worker`` processes run the jobs, all as real
processes over one data dir. A worker SIGKILLed while it holds jobs loses nothing: their
leases expire and another worker re-claims them; every accepted job succeeds, is finished by
exactly one write and reads the same from both APIs. A training whose worker is SIGKILLed is
run again by another worker. A worker sent SIGTERM finishes the job it is running, claims no
more and exits 0; sent SIGTERM twice, it puts the running job back in the queue at once.
"""

from __future__ import annotations

import signal
import subprocess
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
from tests.integration.processes import (
    LEXICRAFT,
    lexicraft_env,
    start,
    stop,
    submit_ner,
    wait_ready,
    wait_terminal,
)
from tests.integration.server import (
    API_VERSION,
    AUTHORING,
    FAST,
    HTTP_TIMEOUT_S,
    TEST_KEY,
    LiveServer,
    demo_project_file,
    free_port,
    wait_healthy,
)
from tests.postgres import fresh_database

PROJECT = "pg-ner"
DEPLOYMENT = "production"


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


def job_id(path: str) -> str:
    return urlsplit(path).path.rsplit("/", 1)[-1]


def running_job_of(database: Engine, pid: int, ids: set[str], timeout_s: float = 60) -> str:
    """A job of ``ids`` that the worker process ``pid`` is running now (its lease names it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        held = held_by(database, pid, ids)
        if held:
            return held.pop()
        assert time.monotonic() < deadline, f"worker {pid} ran none of the jobs"
        time.sleep(0.005)


def held_by(database: Engine, pid: int, ids: set[str]) -> set[str]:
    """The jobs of ``ids`` whose lease the worker process ``pid`` holds."""
    return {
        found
        for found, (status, _attempts, owner) in job_rows(database, ids).items()
        if status == "running" and f":{pid}:" in (owner or "")
    }


def job_rows(database: Engine, ids: set[str]) -> dict[str, tuple[str, int, str | None]]:
    """id → (status, attempts, lease_owner) of the jobs ``ids``."""
    with database.connect() as connection:
        rows = connection.execute(text("SELECT id, status, attempts, lease_owner FROM jobs")).all()
    return {row[0]: (row[1], row[2], row[3]) for row in rows if row[0] in ids}


def kill_if_holding(database: Engine, process: subprocess.Popen[bytes], ids: set[str]) -> set[str]:
    """SIGKILL the worker ``process`` if it holds the lease of a job of ``ids``; the jobs it
    left running.

    The worker is frozen (SIGSTOP) while its leases are read, so that none of the jobs it
    holds can finish between the look and the kill; a worker that holds none goes on.
    """
    process.send_signal(signal.SIGSTOP)
    deadline = time.monotonic() + 30
    # A stopped process shows state T after the ")" that ends its command name.
    stat = Path(f"/proc/{process.pid}/stat")
    while stat.read_text().rsplit(")", 1)[1].split()[0] != "T":
        assert time.monotonic() < deadline, "the worker did not stop"
        time.sleep(0.001)
    if not held_by(database, process.pid, ids):
        process.send_signal(signal.SIGCONT)
        return set()
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    # Read again: an outcome whose commit was on its way when the worker froze is not lost.
    return held_by(database, process.pid, ids)


def entities(body: dict[str, Any]) -> list[list[tuple[int, int, str]]]:
    results = body["tasks"]["items"][0]["results"]
    assert results["errors"] == []
    return [
        [(e["offset"], e["length"], e["category"]) for e in document["entities"]]
        for document in results["documents"]
    ]


#: A log of every write that leaves a job in a terminal state: once per job, or the queue
#: wrote a second outcome over the first.
RECORD_FINISHES = [
    "CREATE TABLE job_finishes (job_id text, old_status text, new_status text)",
    """CREATE FUNCTION record_finish() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN INSERT INTO job_finishes VALUES (NEW.id, OLD.status, NEW.status); RETURN NEW; END $$""",
    """CREATE TRIGGER record_finish AFTER UPDATE ON jobs FOR EACH ROW
       WHEN (NEW.status IN ('succeeded', 'failed', 'cancelled', 'partiallyCompleted'))
       EXECUTE FUNCTION record_finish()""",
]


def finishes(database: Engine) -> list[tuple[str, str, str]]:
    with database.connect() as connection:
        rows = connection.execute(text("SELECT job_id, old_status, new_status FROM job_finishes"))
        return [(row[0], row[1], row[2]) for row in rows]


@pytest.fixture
def setup(
    postgres_url: str, tmp_path: Path
) -> Iterator[tuple[dict[str, str], Path, ExitStack, Engine]]:
    env = lexicraft_env(postgres_url, tmp_path / "data")
    database = create_engine(postgres_url)
    with ExitStack() as processes:
        yield env, tmp_path, processes, database
    database.dispose()


def client_for(processes: ExitStack, port: int) -> httpx.Client:
    return processes.enter_context(
        httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Ocp-Apim-Subscription-Key": TEST_KEY},
            timeout=HTTP_TIMEOUT_S,
        )
    )


@pytest.mark.slow  # seven lexicraft processes, 200 jobs and two trainings
def test_two_apis_and_three_workers_survive_sigkill_and_sigterm(
    setup: tuple[dict[str, str], Path, ExitStack, Engine],
) -> None:
    env, tmp_path, processes, database = setup
    log = tmp_path / "processes.log"
    migrated = subprocess.run(
        [str(LEXICRAFT), "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr
    assert "database ready: postgresql+psycopg://" in migrated.stdout
    with database.begin() as connection:
        for statement in RECORD_FINISHES:
            connection.execute(text(statement))

    ports = [free_port(), free_port()]
    apis = [start(["serve", "--no-workers", "--port", str(port)], env, log) for port in ports]
    workers = [start(["worker", "--concurrency", "2"], env, log) for _ in range(3)]
    for process in [*apis, *workers]:
        processes.callback(stop, process)
    for port, api in zip(ports, apis, strict=True):
        wait_healthy(f"http://127.0.0.1:{port}", api, log)
    for process in workers:
        wait_ready(process, log)
    clients = [client_for(processes, port) for port in ports]
    first = LiveServer(
        base_url=f"http://127.0.0.1:{ports[0]}", settings=Settings(), client=clients[0]
    )
    first.import_project(PROJECT, demo_project_file("demo-ner", PROJECT))
    first.train(PROJECT, "m1")
    first.deploy(PROJECT, DEPLOYMENT, "m1")
    with database.connect() as connection:
        artifact_dir = connection.execute(
            text("SELECT model_artifact_dir FROM deployments WHERE name = :name"),
            {"name": DEPLOYMENT},
        ).scalar_one()
    predictor = registry.load_ner_predictor(tmp_path / "data" / "models" / artifact_dir)
    texts = [d["text"] for d in demo_project_file("demo-ner")["assets"]["documents"]]

    # 200 one-document jobs through both APIs in turn; once a third are accepted, the first
    # worker is SIGKILLed the next time it is caught holding a lease.
    batches = [[f"{texts[job % len(texts)]} ({job})"] for job in range(200)]
    paths: list[str] = []
    orphans: set[str] = set()
    killed = workers[0]
    for job, documents in enumerate(batches):
        paths.append(submit_ner(clients[job % 2], PROJECT, DEPLOYMENT, documents))
        if job >= len(batches) // 3 and not orphans:
            orphans = kill_if_holding(database, killed, {job_id(path) for path in paths})
    assert orphans, "the first worker held no job whenever it was looked at"
    ids = [job_id(path) for path in paths]

    finals = [wait_terminal(clients[n % 2], path) for n, path in enumerate(paths)]
    assert [final["status"] for final in finals] == ["succeeded"] * 200
    for documents, final in zip(batches, finals, strict=True):
        expected = [
            [(s.start, s.end - s.start, s.category) for s in spans]
            for spans in predictor.predict(documents)
        ]
        assert entities(final) == expected
    # Both APIs read every job as the client that waited for it did: the result never changed.
    for client in clients:
        assert [client.get(path).json() for path in paths] == finals
    # Each job was finished by exactly one write; the orphans were claimed a second time.
    finished = sorted(row for row in finishes(database) if row[0] in set(ids))
    assert finished == sorted((i, "running", "succeeded") for i in ids)
    rows = job_rows(database, set(ids))
    assert {i: rows[i][1] for i in orphans} == {i: 2 for i in orphans}
    assert all(row[0] == "succeeded" and row[2] is None for row in rows.values())

    # A training whose worker is SIGKILLed runs again on another worker once its lease expires.
    training = clients[1].post(
        f"{AUTHORING}/{PROJECT}/:train",
        params={"api-version": API_VERSION},
        json={
            "modelLabel": "m2",
            "trainingConfigVersion": FAST,
            "evaluationOptions": {"kind": "manual"},
        },
    )
    assert training.status_code == 202, training.text
    parts = urlsplit(training.headers["Operation-Location"])
    training_path = f"{parts.path}?{parts.query}"
    training_id = job_id(training_path)
    alive = workers[1:]
    trainer = None
    deadline = time.monotonic() + 120
    while trainer is None:
        for process in alive:
            if kill_if_holding(database, process, {training_id}):
                trainer = process
                break
        else:
            status = job_rows(database, {training_id})[training_id][0]
            assert status in ("notStarted", "running"), f"the training {status}"
            assert time.monotonic() < deadline, "no worker started the training"
            time.sleep(0.01)
    (survivor,) = [process for process in alive if process is not trainer]
    trained = wait_terminal(clients[0], training_path, timeout_s=180)
    assert trained["status"] == "succeeded", trained
    assert job_rows(database, {training_id})[training_id][:2] == ("succeeded", 2)
    for client in clients:
        model = client.get(f"{AUTHORING}/{PROJECT}/models/m2", params={"api-version": API_VERSION})
        assert model.status_code == 200, model.text
        assert client.get(training_path).json() == trained

    # SIGTERM while the survivor runs a long job: it finishes it, claims nothing more, exits 0.
    long_batches = [job_documents(texts, 100 + job, per_document=4800) for job in range(6)]
    # The survivor is frozen while they are sent, so that it finds all six queued: on a fast
    # machine it would otherwise run the first ones while the last are still being sent, and
    # the SIGTERM would find nothing left to leave in the queue.
    survivor.send_signal(signal.SIGSTOP)
    long_paths = [
        submit_ner(clients[job % 2], PROJECT, DEPLOYMENT, documents)
        for job, documents in enumerate(long_batches)
    ]
    survivor.send_signal(signal.SIGCONT)
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

    # A second SIGTERM ends the grace at once: the running job goes back in the queue. The
    # worker's job is held up (the deployments table is locked) so that it cannot finish first.
    hurried_log = tmp_path / "hurried.log"
    with database.connect() as blocker, blocker.begin():
        blocker.execute(text("LOCK TABLE deployments IN ACCESS EXCLUSIVE MODE"))
        hurried = start(
            ["worker", "--kinds", "analyze", "--concurrency", "1"],
            {**env, "LEXICRAFT_WORKER_STOP_GRACE_S": "600"},
            hurried_log,
        )
        processes.callback(stop, hurried)
        wait_ready(hurried, hurried_log)
        stuck = running_job_of(database, hurried.pid, long_ids)
        hurried.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 60
        while "SIGTERM: finishing the running jobs" not in hurried_log.read_text():
            assert time.monotonic() < deadline and hurried.poll() is None, hurried_log.read_text()
            time.sleep(0.05)
        hurried.send_signal(signal.SIGTERM)
        assert hurried.wait(60) == 0, hurried_log.read_text()
    assert job_rows(database, {stuck})[stuck] == ("notStarted", 0, None)
    assert f"job {stuck} was still running: put back in the queue" in hurried_log.read_text()

    # A worker for analyze jobs only runs what is left.
    last = start(["worker", "--kinds", "analyze"], env, log)
    processes.callback(stop, last)
    wait_ready(last, log)
    finals = [wait_terminal(clients[n % 2], path) for n, path in enumerate(long_paths)]
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
