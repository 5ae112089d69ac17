"""Analyze job life over HTTP: waiting, cancel, task failure, redeploy, expiry (spec §1.6-§1.9).

Each test copies a data dir with trained models and starts the servers it needs.
A server with no analyze workers keeps jobs waiting, so what happens between submit and run
is deterministic: change deployments, then start a server that runs them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from lexicraft.storage.sql.engine import make_engine
from lexicraft.storage.sql.tables import JobRow
from tests.integration.databases import Databases
from tests.integration.runtime_fixtures import (
    JOBS,
    NER,
    NER_TEXT,
    PRODUCTION,
    SINGLE,
    documents,
    error_of,
    ner_predictor,
    submit,
    task,
)
from tests.integration.server import (
    API_VERSION,
    AUTHORING,
    LiveServer,
)


@pytest.fixture(scope="module")
def trained(trained_data_dir: Path, databases: Databases) -> Path:
    """The session's trained data dir, plus deployments this module deletes and redeploys."""
    data_dir = trained_data_dir
    with databases.serve(data_dir) as server:
        for deployment in ("doomed", "switch"):
            server.deploy(NER, deployment, "m1")
        server.deploy(SINGLE, "doomed", "m1")
    return data_dir


@pytest.fixture
def data_dir(trained: Path, tmp_path: Path, databases: Databases) -> Path:
    """A private copy of the trained data dir and its database."""
    copy = tmp_path / "data"
    databases.copy(trained, copy)
    return copy


def relative(location: str) -> str:
    """An ``Operation-Location`` without its origin, to poll it on a restarted server."""
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def job_id_of(location: str) -> str:
    return urlsplit(location).path.rsplit("/", 1)[1]


def poll(server: LiveServer, location: str) -> dict[str, Any]:
    response = server.client.get(location)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_cancel_a_waiting_job(data_dir: Path, databases: Databases) -> None:
    with databases.serve(data_dir, worker_threads=0) as server:
        body = {
            "analysisInput": documents(NER_TEXT, "second"),
            "tasks": [
                task("CustomEntityRecognition", NER, PRODUCTION, "ner"),
                task("CustomSingleLabelClassification", SINGLE, PRODUCTION, "single"),
            ],
        }
        location = submit(server, body).headers["Operation-Location"]
        response = server.client.get(location)
        assert response.headers["Retry-After"] == "1"
        waiting = response.json()
        assert waiting["status"] == "notStarted"
        assert waiting["tasks"] == {
            "completed": 0,
            "failed": 0,
            "inProgress": 2,
            "total": 2,
            "items": [
                {
                    "kind": kind,
                    "taskName": name,
                    "lastUpdateDateTime": waiting["lastUpdatedDateTime"],
                    "status": "notStarted",
                }
                for kind, name in (
                    ("CustomEntityRecognitionLROResults", "ner"),
                    ("CustomSingleLabelClassificationLROResults", "single"),
                )
            ],
        }

        cancel = server.client.post(
            f"{JOBS}/{job_id_of(location)}:cancel", params={"api-version": "2024-11-01"}
        )
        assert cancel.status_code == 202
        assert cancel.headers["Operation-Location"] == location.replace(API_VERSION, "2024-11-01")
        cancelled = poll(server, location)
        assert cancelled["status"] == "cancelled"
        for item in cancelled["tasks"]["items"]:
            assert item["status"] == "cancelled"
            # Present but empty: the 5.x SDK then reports "no result" for each document.
            assert item["results"]["documents"] == []
            assert item["results"]["errors"] == []
        again = server.client.post(
            f"{JOBS}/{job_id_of(location)}:cancel", params={"api-version": API_VERSION}
        )
        assert error_of(again) == (400, "InvalidRequest", "InvalidParameterValue")


def test_tasks_resolve_their_deployment_when_they_run(data_dir: Path, databases: Databases) -> None:
    """Delete and redeploy between submit and run: failed tasks, partiallyCompleted, new model."""
    with databases.serve(data_dir, worker_threads=0) as server:
        mixed = submit(
            server,
            {
                "analysisInput": documents(NER_TEXT),
                "tasks": [
                    task("CustomEntityRecognition", NER, PRODUCTION, "fine"),
                    task("CustomEntityRecognition", NER, "doomed", "gone"),
                ],
            },
        ).headers["Operation-Location"]
        all_gone = submit(
            server,
            {
                "analysisInput": documents(NER_TEXT),
                "tasks": [
                    task("CustomEntityRecognition", NER, "doomed", "a"),
                    task("CustomSingleLabelClassification", SINGLE, "doomed", "b"),
                ],
            },
        ).headers["Operation-Location"]
        legacy = server.client.post(
            "/text/analytics/v3.2-preview.2/analyze",
            json={
                "analysisInput": documents(NER_TEXT),
                "tasks": {
                    "customEntityRecognitionTasks": [
                        {"parameters": {"project-name": NER, "deployment-name": PRODUCTION}}
                    ],
                    "customSingleClassificationTasks": [
                        {"parameters": {"project-name": SINGLE, "deployment-name": "doomed"}}
                    ],
                },
            },
        ).headers["Operation-Location"]
        switched = submit(
            server,
            {
                "analysisInput": documents(NER_TEXT, "Amara Diallo joined Solace Pharma."),
                "tasks": [task("CustomEntityRecognition", NER, "switch")],
            },
        ).headers["Operation-Location"]
        mixed, all_gone, legacy, switched = map(relative, (mixed, all_gone, legacy, switched))
        for project in (NER, SINGLE):
            server.run_job(
                "DELETE",
                f"{AUTHORING}/{project}/deployments/doomed",
                params={"api-version": API_VERSION},
            )
        server.deploy(NER, "switch", "m2")
        assert poll(server, mixed)["status"] == "notStarted"

    with databases.serve(data_dir) as server:
        partial = server.wait_job(mixed)
        assert partial["status"] == "partiallyCompleted"
        assert (partial["tasks"]["completed"], partial["tasks"]["failed"]) == (1, 1)
        fine, gone = partial["tasks"]["items"]
        assert fine["status"] == "succeeded" and fine["results"]["documents"]
        assert gone["status"] == "failed"
        assert "results" not in gone
        (error,) = partial["errors"]
        assert error["code"] == "NotFound"
        assert error["target"] == "#/tasks/items/1"
        assert "doomed" in error["message"]

        failed = server.wait_job(all_gone)
        assert failed["status"] == "failed"
        assert [e["target"] for e in failed["errors"]] == ["#/tasks/items/0", "#/tasks/items/1"]
        assert [item["status"] for item in failed["tasks"]["items"]] == ["failed", "failed"]
        assert failed["tasks"]["failed"] == 2

        old = server.wait_job(legacy)
        assert old["status"] == "partiallyCompleted"
        assert [e["target"] for e in old["errors"]] == ["#/tasks/customSingleClassificationTasks/0"]
        assert old["tasks"]["customSingleClassificationTasks"][0]["status"] == "failed"
        assert old["tasks"]["customEntityRecognitionTasks"][0]["status"] == "succeeded"

        # "switch" served m1 at submit time and m2 when the job ran: m2's answers count.
        done = server.wait_job(switched)
        texts = [NER_TEXT, "Amara Diallo joined Solace Pharma."]
        expected = ner_predictor(server, NER, "m2").predict(texts)
        got = done["tasks"]["items"][0]["results"]["documents"]
        for document, spans in zip(got, expected, strict=True):
            assert [(e["offset"], e["confidenceScore"]) for e in document["entities"]] == [
                (span.start, round(span.confidence, 4)) for span in spans
            ]


def test_cancel_a_running_job(data_dir: Path, databases: Databases) -> None:
    # One document per batch: the job checks for cancellation between every document. 25
    # tasks over 25 long documents (the request's cost limit raised for it) keep the job
    # running for seconds, so the cancel cannot come after it has finished.
    tasks = 25
    long_text = (NER_TEXT + " ") * 80
    cost = tasks * 25 * len(long_text)
    with databases.serve(data_dir, predict_batch_size=1, max_request_cost=cost) as server:
        body = {
            "analysisInput": documents(*[long_text] * 25),
            "tasks": [
                task("CustomEntityRecognition", NER, PRODUCTION, f"task-{number}")
                for number in range(tasks)
            ],
        }
        location = submit(server, body).headers["Operation-Location"]
        deadline = time.monotonic() + 30
        while poll(server, location)["status"] == "notStarted":
            assert time.monotonic() < deadline, "the job did not start within 30 s"
            time.sleep(0.01)
        cancel = server.client.post(
            f"{JOBS}/{job_id_of(location)}:cancel", params={"api-version": API_VERSION}
        )
        assert cancel.status_code == 202, cancel.text
        final = server.wait_job(location)
        assert final["status"] == "cancelled"
        assert [item["status"] for item in final["tasks"]["items"]][-1] == "cancelled"


def test_results_expire(data_dir: Path, databases: Databases) -> None:
    with databases.serve(data_dir, analyze_job_ttl_s=1.0) as server:
        response = submit(
            server,
            {
                "analysisInput": documents(NER_TEXT),
                "tasks": [task("CustomEntityRecognition", NER, PRODUCTION)],
            },
        )
        location = response.headers["Operation-Location"]
        final = server.wait_job(location)
        assert final["status"] == "succeeded"
        expires = final["expirationDateTime"]
        assert expires > final["createdDateTime"]
        deadline = time.monotonic() + 10
        while server.client.get(location).status_code == 200:
            assert time.monotonic() < deadline, "the job did not expire"
            time.sleep(0.05)
        gone = server.client.get(location)
        assert error_of(gone) == (404, "OperationNotFound", None)
        # The worker's housekeeping deletes the row, not just hides it.
        database = make_engine(server.settings.resolved_database_url)
        while True:
            with database.connect() as connection:
                rows = connection.execute(
                    select(func.count()).select_from(JobRow).where(JobRow.id == job_id_of(location))
                ).scalar_one()
            if rows == 0:
                break
            assert time.monotonic() < deadline, "the expired job was not purged"
            time.sleep(0.1)
        database.dispose()
