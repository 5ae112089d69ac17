"""A server killed with jobs in flight finishes every accepted job after a restart (issue 3).

The server runs as a real ``lexicraft serve`` process, over a copy of the session's trained
data dir and its database (SQLite, or PostgreSQL), with a 2-second job lease. Twenty jobs are accepted, the process is SIGKILLed while
some wait and one runs, and a new process on the same data dir re-claims the dead worker's job
once its lease expires and runs the rest.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from lexicraft.ml import registry
from lexicraft.settings import Settings
from lexicraft.storage.sql.engine import make_engine
from lexicraft.storage.sql.tables import JobRow
from tests.integration.databases import Databases
from tests.integration.runtime_fixtures import JOBS, NER, PRODUCTION, artifact_dir, task
from tests.integration.server import (
    API_VERSION,
    HTTP_TIMEOUT_S,
    NO_RATE_LIMITS_ENV,
    TEST_KEY,
    demo_project_file,
    free_port,
    wait_healthy,
)

LEXICRAFT = Path(sys.executable).with_name("lexicraft")
TERMINAL = ("succeeded", "failed", "cancelled", "partiallyCompleted")
#: Jobs of 25 documents waiting when a server with workers starts (some 250,000 characters:
#: half a second of the CRF's time on a fast machine, and as long again for the jobs' own
#: bookkeeping).
JOBS_SENT = 20


@contextmanager
def lexicraft_serve(
    data_dir: Path, database_url: str | None, log: Path, *, workers: bool = True
) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    """``lexicraft serve`` on a free port (``--no-workers`` unless ``workers``); yields the
    process and a client for it."""
    port = free_port()
    env = {
        **os.environ,
        **NO_RATE_LIMITS_ENV,
        "LEXICRAFT_API_KEY": TEST_KEY,
        "LEXICRAFT_JOB_LEASE_S": "2",
        # Submits answer at once: the crash must find jobs still queued behind the running one.
        "LEXICRAFT_SUBMIT_WAIT_S": "0",
    }
    if database_url is not None:
        env["LEXICRAFT_DATABASE_URL"] = database_url
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [str(LEXICRAFT), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--data-dir", str(data_dir), *([] if workers else ["--no-workers"])],
            env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, process, log)
        with httpx.Client(
            base_url=base_url,
            headers={"Ocp-Apim-Subscription-Key": TEST_KEY},
            timeout=HTTP_TIMEOUT_S,
        ) as client:
            yield process, client
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(30)


def wait(client: httpx.Client, location: str, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get(location)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in TERMINAL:
            return body
        assert time.monotonic() < deadline, f"job still {body['status']}"
        time.sleep(0.05)


def job_documents(texts: list[str], job: int) -> list[str]:
    """25 documents of about 500 characters each, different for every job."""
    documents = []
    for slot in range(25):
        start = (job * 25 + slot) * 3
        documents.append(" ".join(texts[(start + k) % len(texts)] for k in range(3)))
    return documents


@pytest.mark.slow  # three cold starts of the server process
def test_every_accepted_job_finishes_after_a_crash(
    tmp_path: Path, trained_data_dir: Path, databases: Databases
) -> None:
    data_dir, database_url = trained_data_dir, databases.url(trained_data_dir)
    log = tmp_path / "server.log"
    project_file = demo_project_file("demo-ner")
    texts = [document["text"] for document in project_file["assets"]["documents"]]
    jobs = [job_documents(texts, job) for job in range(JOBS_SENT)]

    # The jobs are accepted by a server that runs none: the fast config's CRF predicts half a
    # million characters a second on a fast machine, faster than a server accepts jobs, so a
    # server with workers would have finished each before the next came.
    with lexicraft_serve(data_dir, database_url, log, workers=False) as (process, client):

        def submit(documents: list[str]) -> str:
            response = client.post(
                JOBS,
                params={"api-version": API_VERSION},
                json={
                    "analysisInput": {
                        "documents": [
                            {"id": str(index), "text": text} for index, text in enumerate(documents)
                        ]
                    },
                    "tasks": [
                        task("CustomEntityRecognition", NER, PRODUCTION,
                             stringIndexType="UnicodeCodePoint")
                    ],
                },
            )  # fmt: skip
            assert response.status_code == 202, response.text
            parts = urlsplit(response.headers["Operation-Location"])
            return f"{parts.path}?{parts.query}"

        paths = [submit(documents) for documents in jobs]
        process.send_signal(signal.SIGKILL)  # a crash with every job waiting
        process.wait(30)

    # A server with workers takes them up; it is killed while it runs one and others wait.
    # The statuses are read from the database: a busy server answers a status poll in tens
    # of milliseconds, and one round over every job took longer than the jobs themselves.
    settings = Settings(data_dir=data_dir, database_url=database_url)
    engine = make_engine(settings.resolved_database_url)
    job_ids = [urlsplit(path).path.rsplit("/", 1)[-1] for path in paths]

    def stored_statuses() -> list[str]:
        with engine.connect() as connection:
            query = select(JobRow.status).where(JobRow.id.in_(job_ids))
            return list(connection.execute(query).scalars())

    with lexicraft_serve(data_dir, database_url, log) as (process, client):
        deadline = time.monotonic() + 30
        while True:
            statuses = stored_statuses()
            if "running" in statuses:
                break
            assert "notStarted" in statuses, "every job finished before the crash"
            assert time.monotonic() < deadline, f"no job started within 30 s: {statuses}"
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    engine.dispose()
    assert "notStarted" in statuses and "running" in statuses, statuses

    with lexicraft_serve(data_dir, database_url, log) as (_process, client):
        finals = [wait(client, path) for path in paths]

    assert [final["status"] for final in finals] == ["succeeded"] * JOBS_SENT
    predictor = registry.load_ner_predictor(artifact_dir(settings, NER, "m1"))
    for documents, final in zip(jobs, finals, strict=True):
        results = final["tasks"]["items"][0]["results"]
        assert results["errors"] == []
        expected = predictor.predict(documents)
        got = results["documents"]
        assert [document["id"] for document in got] == [str(i) for i in range(25)]
        for document, text, spans in zip(got, documents, expected, strict=True):
            assert [(e["offset"], e["length"], e["category"], e["text"]) for e in document["entities"]] == [
                (s.start, s.end - s.start, s.category, text[s.start : s.end]) for s in spans
            ]  # fmt: skip
