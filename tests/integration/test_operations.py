"""Operations over real HTTP: liveness, readiness, Prometheus metrics, a worker's metrics port
and its JSON log lines.

The module's server runs no analyze threads, so analyze jobs wait in the queue until a real
``lexicraft worker`` process (``--metrics-port``, JSON logs) runs them: the queue's gauges
are seen with jobs waiting and after they ran, and the worker's counters with the work done.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.operations import scrape, value
from tests.integration.processes import start, stop, wait_terminal
from tests.integration.runtime_fixtures import JOBS, task
from tests.integration.server import (
    API_VERSION,
    HTTP_TIMEOUT_S,
    TEST_KEY,
    LiveServer,
    demo_project_file,
    free_port,
    run_server,
)

PROJECT = "ops-ner"
DEPLOYMENT = "production"
RETRY_AFTER_S = 9


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with a deployed fast NER model that leaves analyze jobs waiting."""
    data_dir = tmp_path_factory.mktemp("ops-data")
    with run_server(data_dir, worker_threads=0) as live:
        live.import_project(PROJECT, demo_project_file("demo-ner", PROJECT))
        live.train(PROJECT, "m1")
        live.deploy(PROJECT, DEPLOYMENT, "m1")
        yield live


def submit(client: httpx.Client, texts: list[str]) -> str:
    response = client.post(
        JOBS,
        params={"api-version": API_VERSION},
        json={
            "analysisInput": {
                "documents": [{"id": str(i), "text": text} for i, text in enumerate(texts)]
            },
            "tasks": [task("CustomEntityRecognition", PROJECT, DEPLOYMENT)],
        },
    )
    assert response.status_code == 202, response.text
    return response.headers["Operation-Location"]


def test_health_endpoints_need_no_key(deployed: LiveServer) -> None:
    for path, body in (
        ("/health/live", {"status": "ok"}),
        ("/health/ready", {"status": "ready"}),
    ):
        response = httpx.get(f"{deployed.base_url}{path}", timeout=HTTP_TIMEOUT_S)
        assert (response.status_code, response.json()) == (200, body)
    assert httpx.get(f"{deployed.base_url}/health", timeout=HTTP_TIMEOUT_S).json()["status"] == "ok"


def test_metrics_follow_the_queue_and_a_worker_serves_its_own(
    deployed: LiveServer, tmp_path: Path
) -> None:
    metrics_url = f"{deployed.base_url}/metrics"
    before = scrape(metrics_url)  # no key needed
    assert value(before, "lexicraft_database_up") == 1
    assert value(before, "lexicraft_jobs", kind="train", status="succeeded") == 1
    assert value(before, "lexicraft_jobs", kind="deploy", status="succeeded") == 1

    texts = [d["text"] for d in demo_project_file("demo-ner")["assets"]["documents"]]
    locations = [submit(deployed.client, texts[:3]), submit(deployed.client, texts[3:5])]
    waiting = scrape(metrics_url)
    assert value(waiting, "lexicraft_queue_depth", kind="analyze") == 2
    assert value(waiting, "lexicraft_jobs", kind="analyze", status="notStarted") == 2
    assert value(waiting, "lexicraft_queue_oldest_job_age_seconds", kind="analyze") >= 0
    assert ("lexicraft_queue_oldest_job_age_seconds", frozenset({("kind", "analyze")})) in waiting
    assert value(waiting, "lexicraft_queue_depth", kind="train") == 0

    # A real worker process over the same data dir runs them, logging JSON lines.
    port = free_port()
    log = tmp_path / "worker.log"
    env = {
        "LEXICRAFT_DATA_DIR": str(deployed.settings.data_dir),
        "LEXICRAFT_API_KEY": TEST_KEY,
        "LEXICRAFT_JOB_POLL_INTERVAL_S": "0.1",
        "LEXICRAFT_LOG_FORMAT": "json",
    }
    worker = start(
        ["worker", "--kinds", "analyze", "--concurrency", "1", "--metrics-port", str(port)],
        {**os.environ, **env},
        log,
    )
    try:
        finals = [wait_terminal(deployed.client, location) for location in locations]
        assert [final["status"] for final in finals] == ["succeeded", "succeeded"]
        worker_metrics = scrape(f"http://127.0.0.1:{port}/metrics")
        assert value(
            worker_metrics, "lexicraft_documents_analyzed_total",
            project=PROJECT, deployment=DEPLOYMENT,
        ) == 5  # fmt: skip
        # The first job loaded the model, the second found it loaded.
        assert value(worker_metrics, "lexicraft_model_cache_loads_total") == 1
        assert value(worker_metrics, "lexicraft_model_cache_hits_total") == 1
        assert value(
            worker_metrics, "lexicraft_job_duration_seconds_count",
            kind="analyze", status="succeeded",
        ) == 2  # fmt: skip
        # Every process reports the whole queue.
        assert value(worker_metrics, "lexicraft_jobs", kind="analyze", status="succeeded") == 2
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
    finally:
        stop(worker)

    after = scrape(metrics_url)
    assert value(after, "lexicraft_queue_depth", kind="analyze") == 0
    assert value(after, "lexicraft_queue_oldest_job_age_seconds", kind="analyze") == 0
    assert value(after, "lexicraft_jobs", kind="analyze", status="succeeded") == 2
    # The server ran no analyze job itself: its own documents counter did not move.
    assert value(
        after, "lexicraft_documents_analyzed_total", project=PROJECT, deployment=DEPLOYMENT
    ) == value(before, "lexicraft_documents_analyzed_total", project=PROJECT, deployment=DEPLOYMENT)

    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records: list[dict[str, Any]] = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    messages = [record["message"] for record in records]
    assert f"worker {worker.pid} stopped" in messages
    assert any(
        message.startswith(f"metrics of worker {worker.pid} at http://") for message in messages
    )


def test_metrics_can_require_the_key(tmp_path: Path) -> None:
    with run_server(tmp_path, metrics_require_key=True) as live:
        denied = httpx.get(f"{live.base_url}/metrics", timeout=HTTP_TIMEOUT_S)
        assert denied.status_code == 401
        assert denied.json()["error"]["code"] == "401"
        assert live.client.get("/metrics").status_code == 200
        assert httpx.get(f"{live.base_url}/health/ready", timeout=HTTP_TIMEOUT_S).status_code == 200


def not_ready(live: LiveServer) -> tuple[list[str], dict[str, Any]]:
    """The targets a 503 from /health/ready names, and its body; liveness stays 200."""
    response = httpx.get(f"{live.base_url}/health/ready", timeout=HTTP_TIMEOUT_S)
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == str(RETRY_AFTER_S)
    body: dict[str, Any] = response.json()
    assert body["error"]["code"] == "ServiceUnavailable"
    assert body["error"]["innererror"]["code"] == "NotReady"
    assert str(live.settings.data_dir) not in response.text  # no paths or URLs
    assert httpx.get(f"{live.base_url}/health/live", timeout=HTTP_TIMEOUT_S).status_code == 200
    return [detail["target"] for detail in body["error"]["details"]], body


def test_not_ready_while_the_storage_folder_is_gone(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", unavailable_retry_after_s=RETRY_AFTER_S) as live:
        storage = live.settings.storage_dir
        shutil.rmtree(storage)
        targets, body = not_ready(live)
        assert targets == ["storage"]
        assert body["error"]["details"][0]["innererror"]["code"] == "StorageUnavailable"
        storage.mkdir()
        assert httpx.get(f"{live.base_url}/health/ready", timeout=HTTP_TIMEOUT_S).status_code == 200


def test_not_ready_while_the_schema_is_not_this_versions(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", unavailable_retry_after_s=RETRY_AFTER_S) as live:
        database = live.settings.data_dir / "lexicraft.db"
        with sqlite3.connect(database) as connection:
            (head,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            # As after another version's migration (or a rollback of ours).
            connection.execute("UPDATE alembic_version SET version_num = '0001'")
        targets, body = not_ready(live)
        assert targets == ["schema"]
        assert "lexicraft migrate" in body["error"]["details"][0]["message"]
        with sqlite3.connect(database) as connection:
            connection.execute("UPDATE alembic_version SET version_num = ?", (head,))
        assert httpx.get(f"{live.base_url}/health/ready", timeout=HTTP_TIMEOUT_S).status_code == 200
