"""One key cannot stall the others (issue 22, finding 1): while key A's two maximal requests
run, key B's one-document job takes at most twice as long as on an idle server.

Latency is what a client sees: the official SDK (``azure-ai-textanalytics``) polls the job,
honouring the ``Retry-After`` the server sends (``retry_after_s``, 1 s), from the call that
submits the job until its results are read. The server runs the shipped defaults (worker
threads, prediction slots, batch bounds), so A's requests are maximal for them: 25 tasks
(``max_tasks_per_request``) over 20,000 characters, 500,000 task-characters
(``max_request_cost``): about 5 s of the fast NER model each here.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from azure.ai.textanalytics import TextAnalyticsClient
from azure.core.credentials import AzureKeyCredential
from sqlalchemy import select

from lexicraft.services import keys
from lexicraft.storage.sql.engine import Database
from lexicraft.storage.sql.tables import JobRow
from tests.integration.databases import Databases
from tests.integration.runtime_fixtures import JOBS, NER, NER_TEXT, PRODUCTION, documents, task
from tests.integration.server import API_VERSION, HTTP_TIMEOUT_S, LiveServer, demo_project_file

#: Idle runs of B's job; the baseline is their median.
IDLE_RUNS = 3
#: B's document: a few pages (about 40 ms of the fast model here). Long enough that even on
#: an idle server the job is not done when the SDK's first poll arrives (right after the
#: ``202``), so both latencies count the same polls: a job finished before that poll would
#: make the baseline a few milliseconds, which no job that waits for a poll can match.
SMALL_TEXT = ((NER_TEXT + " ") * 100)[:4_000]


@dataclass
class Fleet:
    """A server with the NER model deployed, and two keys of different clients."""

    server: LiveServer
    key_a: str
    key_b: str


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Iterator[Fleet]:
    data_dir = tmp_path_factory.mktemp("fair")
    # Submits and polls answer at once (no wait for the job, Settings.submit_wait_s and
    # poll_wait_s): the latencies compared here are a job's wait for its turn plus the
    # client's polling, under load and idle alike. A submit that waits would take the polling
    # out of the idle latency only (key A's jobs outlast any wait), which compares two
    # different things.
    with databases.serve(data_dir, submit_wait_s=0, poll_wait_s=0) as server:
        server.import_project(NER, demo_project_file("demo-ner", NER))
        server.train(NER, "m1")
        server.deploy(NER, PRODUCTION, "m1")
        database = Database(server.settings.resolved_database_url)
        try:
            (_a, key_a), (_b, key_b) = (keys.create_key(database, name) for name in "ab")
        finally:
            database.engine.dispose()
        yield Fleet(server, key_a, key_b)


def maximal_request(settings: Any) -> dict[str, Any]:
    """As many tasks and characters as the server's limits allow in one request."""
    tasks = settings.max_tasks_per_request
    characters = settings.max_request_cost // tasks
    count = settings.max_documents_per_request
    sentence = NER_TEXT + " "
    text = (sentence * (characters // count // len(sentence) + 1))[: characters // count]
    assert tasks * count * len(text) <= settings.max_request_cost
    return {
        "displayName": "maximal",
        "analysisInput": documents(*[text] * count),
        "tasks": [
            task("CustomEntityRecognition", NER, PRODUCTION, f"task-{index}")
            for index in range(tasks)
        ],
    }


def sdk_latency(fleet: Fleet) -> float:
    """Seconds from submitting B's one-document job to reading its result, as the SDK does."""
    client = TextAnalyticsClient(
        fleet.server.base_url, AzureKeyCredential(fleet.key_b), api_version=API_VERSION
    )
    started = time.monotonic()
    poller = client.begin_recognize_custom_entities(
        [SMALL_TEXT], project_name=NER, deployment_name=PRODUCTION, display_name="small"
    )
    (result,) = list(poller.result())
    latency = time.monotonic() - started
    assert not result.is_error, result
    assert {entity.text for entity in result.entities} >= {"Marcus Bell", "Vienna"}
    return latency


def server_times(server: LiveServer) -> list[str]:
    """Each job's created → started → finished times, as the server recorded them."""
    database = Database(server.settings.resolved_database_url)
    try:
        with database.session() as session:
            rows = session.execute(
                select(
                    JobRow.display_name, JobRow.status, JobRow.created_at, JobRow.started_at,
                    JobRow.finished_at,
                )
                .where(JobRow.kind == "analyze")
                .order_by(JobRow.created_at)
            ).all()  # fmt: skip
    finally:
        database.engine.dispose()
    lines = []
    for name, status, created, started, finished in rows:
        waited = (started - created).total_seconds() if started else None
        took = (finished - created).total_seconds() if finished else None
        lines.append(f"{name}: {status}, started after {waited} s, finished after {took} s")
    return lines


def test_a_small_job_of_another_key_waits_at_most_twice_its_idle_latency(fleet: Fleet) -> None:
    idle = [sdk_latency(fleet) for _ in range(IDLE_RUNS)]
    baseline = statistics.median(idle)

    heavy = httpx.Client(
        base_url=fleet.server.base_url,
        headers={"Ocp-Apim-Subscription-Key": fleet.key_a},
        timeout=HTTP_TIMEOUT_S,
    )
    with heavy:
        body = maximal_request(fleet.server.settings)
        locations = []
        for _ in range(2):
            response = heavy.post(JOBS, params={"api-version": API_VERSION}, json=body)
            assert response.status_code == 202, response.text
            locations.append(response.headers["Operation-Location"])
        deadline = time.monotonic() + 60
        while any(heavy.get(location).json()["status"] != "running" for location in locations):
            assert time.monotonic() < deadline, "key A's jobs did not start"
            time.sleep(0.05)

        loaded = sdk_latency(fleet)

        still_running = [heavy.get(location).json()["status"] for location in locations]
        report = "\n".join(
            [
                f"idle latencies {[round(value, 3) for value in idle]} s (median "
                f"{baseline:.3f} s); under key A's load {loaded:.3f} s",
                "server-side, created → finished:",
                *server_times(fleet.server),
            ]
        )
        for location in locations:  # the rest of A's work is not needed
            heavy.post(location.replace("?", ":cancel?", 1))
    for location in locations:
        fleet.server.wait_job(location, timeout_s=120)

    assert loaded <= 2 * baseline, report
    # The comparison means something only if A's requests were still running meanwhile.
    assert still_running == ["running", "running"], report
