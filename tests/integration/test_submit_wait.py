"""An analyze submit waits for a short job (``Settings.submit_wait_s``) and, when the job is done,
tells the client to poll at once: its first poll has the results, so the SDKs never sleep. A
poll of a job this process's workers run waits for it the same way (``Settings.poll_wait_s``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from azure.ai.textanalytics import TextAnalyticsClient
from azure.core.credentials import AzureKeyCredential
from azure.core.pipeline.transport import RequestsTransport

from tests.integration.databases import Databases
from tests.integration.runtime_fixtures import (
    NER,
    NER_TEXT,
    PRODUCTION,
    RuntimeTemplates,
    documents,
    ner_predictor,
    submit,
    task,
)
from tests.integration.server import TEST_KEY, LiveServer


@pytest.fixture(scope="module")
def patient(trained_data_dir: Path, databases: Databases) -> Iterator[LiveServer]:
    """A server whose submits wait long enough for any of these jobs, however busy the host."""
    with databases.serve(trained_data_dir, submit_wait_s=120) as live:
        yield live


def expected_texts(server: LiveServer, text: str) -> list[tuple[str, str]]:
    [spans] = ner_predictor(server, NER, "m1").predict([text])
    return [(span.category, text[span.start : span.end]) for span in spans]


def test_a_finished_job_is_answered_with_poll_now_and_its_first_poll_has_the_results(
    patient: LiveServer,
) -> None:
    response = submit(
        patient,
        {
            "analysisInput": documents(NER_TEXT),
            "tasks": [task("CustomEntityRecognition", NER, PRODUCTION)],
        },
    )
    assert response.status_code == 202, response.text
    assert response.headers["retry-after-ms"] == "1"
    assert response.content == b""
    state = patient.client.get(response.headers["Operation-Location"]).json()
    assert state["status"] == "succeeded"
    [document] = state["tasks"]["items"][0]["results"]["documents"]
    found = [(entity["category"], entity["text"]) for entity in document["entities"]]
    assert found == expected_texts(patient, NER_TEXT)


def test_the_legacy_route_waits_the_same_way(patient: LiveServer) -> None:
    body = {
        "analysisInput": {"documents": [{"id": "1", "text": NER_TEXT}]},
        "tasks": {
            "customEntityRecognitionTasks": [
                {"parameters": {"project-name": NER, "deployment-name": PRODUCTION}}
            ]
        },
    }
    response = patient.client.post("/text/analytics/v3.2-preview.2/analyze", json=body)
    assert response.status_code == 202, response.text
    assert response.headers["retry-after-ms"] == "1"
    state = patient.client.get(response.headers["Operation-Location"]).json()
    assert state["status"] == "succeeded"


def test_a_refused_submit_waits_for_nothing(patient: LiveServer) -> None:
    response = submit(
        patient,
        {
            **documents(NER_TEXT),
            "tasks": [task("CustomEntityRecognition", "no-such-project", PRODUCTION)],
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidRequest"
    assert "retry-after-ms" not in response.headers


class SleepRecordingTransport(RequestsTransport):  # type: ignore[misc]
    """The requests transport, recording each sleep the poller asks of it."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps: list[float] = []

    def sleep(self, duration: float) -> None:
        self.sleeps.append(duration)
        super().sleep(duration)


def test_the_sdk_has_the_results_from_its_first_poll_and_never_sleeps(
    patient: LiveServer,
) -> None:
    """The 5.x client (default polling interval: 5 s) polls once at once; the job is done."""
    transport = SleepRecordingTransport()
    client = TextAnalyticsClient(
        patient.base_url, AzureKeyCredential(TEST_KEY), transport=transport
    )
    poller = client.begin_recognize_custom_entities(
        [NER_TEXT], project_name=NER, deployment_name=PRODUCTION
    )
    [result] = list(poller.result())
    assert [(e.category, e.text) for e in result.entities] == expected_texts(patient, NER_TEXT)
    assert transport.sleeps == []


def submit_ner(live: LiveServer) -> httpx.Response:
    return submit(
        live,
        {
            "analysisInput": documents(NER_TEXT),
            "tasks": [task("CustomEntityRecognition", NER, PRODUCTION)],
        },
    )


def own_data_dir(request: pytest.FixtureRequest, tmp_path: Path, databases: Databases) -> Path:
    """A data dir of its own: the other server's workers would claim jobs from a shared one."""
    templates: RuntimeTemplates = request.getfixturevalue(f"{databases.kind}_templates")
    return templates.copy_to(databases, tmp_path / "data")


def test_a_poll_waits_for_a_job_the_process_runs_and_has_its_results(
    request: pytest.FixtureRequest, tmp_path: Path, databases: Databases
) -> None:
    data_dir = own_data_dir(request, tmp_path, databases)
    # The submit answers at once; the job (whose model loads first) is not done by the poll.
    with databases.serve(data_dir, submit_wait_s=0, poll_wait_s=120) as live:
        response = submit_ner(live)
        assert response.status_code == 202, response.text
        assert "retry-after-ms" not in response.headers
        state = live.client.get(response.headers["Operation-Location"]).json()
        assert state["status"] == "succeeded"
        [document] = state["tasks"]["items"][0]["results"]["documents"]
        found = [(entity["category"], entity["text"]) for entity in document["entities"]]
        assert found == expected_texts(live, NER_TEXT)


def test_without_workers_in_the_process_the_submit_and_the_poll_answer_at_once(
    request: pytest.FixtureRequest, tmp_path: Path, databases: Databases
) -> None:
    data_dir = own_data_dir(request, tmp_path, databases)
    with databases.serve(data_dir, run_workers=False, submit_wait_s=120, poll_wait_s=120) as live:
        started = time.monotonic()
        response = submit_ner(live)
        assert response.status_code == 202, response.text
        assert "retry-after-ms" not in response.headers
        state = live.client.get(response.headers["Operation-Location"]).json()
        assert state["status"] == "notStarted"
        # Nothing in this process would end the job: neither waited its 120 s.
        assert time.monotonic() - started < 60
