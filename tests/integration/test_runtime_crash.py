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

from lexicraft.ml import registry
from lexicraft.settings import Settings
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


@contextmanager
def lexicraft_serve(
    data_dir: Path, database_url: str | None, log: Path
) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    """``lexicraft serve`` on a free port; yields the process and a client for it."""
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
             "--data-dir", str(data_dir)],
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
    """25 documents of about 330 characters each, different for every job."""
    documents = []
    for slot in range(25):
        start = (job * 25 + slot) * 2
        documents.append(" ".join(texts[(start + k) % len(texts)] for k in range(2)))
    return documents


@pytest.mark.slow  # two cold starts of the server process
def test_every_accepted_job_finishes_after_a_crash(
    tmp_path: Path, trained_data_dir: Path, databases: Databases
) -> None:
    data_dir, database_url = trained_data_dir, databases.url(trained_data_dir)
    log = tmp_path / "server.log"
    project_file = demo_project_file("demo-ner")
    texts = [document["text"] for document in project_file["assets"]["documents"]]
    jobs = [job_documents(texts, job) for job in range(20)]

    with lexicraft_serve(data_dir, database_url, log) as (process, client):
        paths = []
        for documents in jobs:
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
            paths.append(f"{parts.path}?{parts.query}")
        deadline = time.monotonic() + 30
        while True:
            statuses = [client.get(path).json()["status"] for path in paths]
            if "running" in statuses:
                break
            assert "notStarted" in statuses, "every job finished before the crash"
            assert time.monotonic() < deadline, f"no job started within 30 s: {statuses}"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    assert "notStarted" in statuses and "running" in statuses, statuses

    with lexicraft_serve(data_dir, database_url, log) as (_process, client):
        finals = [wait(client, path) for path in paths]

    assert [final["status"] for final in finals] == ["succeeded"] * 20
    settings = Settings(data_dir=data_dir, database_url=database_url)
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
