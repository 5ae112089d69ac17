"""The legacy Text Analytics analyze API over raw HTTP (spec §2): v3.2-preview.x and ct.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.integration.databases import Databases
from tests.integration.runtime_fixtures import (
    JOBS,
    MULTI,
    MULTI_CASES,
    NER,
    NER_TEXT,
    PRODUCTION,
    SINGLE,
    classification_predictor,
    error_of,
    ner_predictor,
    slice_in,
    submit,
    task,
)
from tests.integration.server import LiveServer

LEGACY_JOB_KEYS = {
    "jobId", "createdDateTime", "expirationDateTime", "lastUpdateDateTime", "status", "errors",
    "tasks",
}  # fmt: skip


@pytest.fixture(scope="module")
def deployed(trained_data_dir: Path, databases: Databases) -> Iterator[LiveServer]:
    """A server with the NER, single- and multi-label projects deployed."""
    with databases.serve(trained_data_dir) as live:
        yield live


def analyze_path(version: str) -> str:
    return f"/text/analytics/{version}/analyze"


def run_legacy(server: LiveServer, version: str, body: Any) -> tuple[str, dict[str, Any]]:
    response = server.client.post(analyze_path(version), json=body)
    assert response.status_code == 202, response.text
    location = response.headers["Operation-Location"]
    return location, server.wait_job(location)


def legacy_documents(*texts: str) -> dict[str, Any]:
    return {"documents": [{"id": f"doc{i}", "text": text} for i, text in enumerate(texts, 1)]}


def assert_legacy_envelope(body: dict[str, Any], display_name: str | None) -> None:
    assert set(body) == LEGACY_JOB_KEYS | ({"displayName"} if display_name else set())
    assert body.get("displayName") == display_name
    for key in ("createdDateTime", "expirationDateTime", "lastUpdateDateTime"):
        assert body[key].endswith("Z")
        datetime.fromisoformat(body[key].replace("Z", "+00:00"))


@pytest.mark.parametrize("version", ["v3.2-preview.2", "v3.2-preview.1"])
def test_custom_ner_how_to_request(deployed: LiveServer, version: str) -> None:
    """The v3.2-preview body of the old custom NER how-to page."""
    texts = [f"\U0001f44b\U0001f3fd {NER_TEXT}", "Amara Diallo joined Solace Pharma."]
    body = {
        "displayName": "Extracting entities",
        "analysisInput": legacy_documents(*texts),
        "tasks": {
            "customEntityRecognitionTasks": [
                {
                    "parameters": {
                        "project-name": NER,
                        "deployment-name": PRODUCTION,
                        "stringIndexType": "TextElement_v8",
                    }
                }
            ]
        },
    }
    response = deployed.client.post(analyze_path(version), json=body)
    assert response.status_code == 202
    assert "location" not in response.headers
    location = response.headers["Operation-Location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == deployed.base_url
    assert parts.path.startswith(f"/text/analytics/{version}/analyze/jobs/")
    assert parts.query == ""

    final = deployed.wait_job(location)
    assert_legacy_envelope(final, "Extracting entities")
    assert final["status"] == "succeeded"
    assert final["errors"] == []
    tasks = final["tasks"]
    assert set(tasks) == {
        "completed",
        "failed",
        "inProgress",
        "total",
        "customEntityRecognitionTasks",
    }
    assert (tasks["completed"], tasks["failed"], tasks["inProgress"], tasks["total"]) == (
        1,
        0,
        0,
        1,
    )
    (item,) = tasks["customEntityRecognitionTasks"]
    assert set(item) == {"taskName", "lastUpdateDateTime", "status", "results"}
    assert item["status"] == "succeeded"
    results = item["results"]
    assert set(results) == {"documents", "errors", "projectName", "deploymentName"}
    assert (results["projectName"], results["deploymentName"]) == (NER, PRODUCTION)
    predicted = ner_predictor(deployed, NER, "m1").predict(texts)
    for document, text, spans in zip(results["documents"], texts, predicted, strict=True):
        assert set(document) == {"id", "entities", "warnings"}
        assert [e["text"] for e in document["entities"]] == [text[s.start : s.end] for s in spans]
        for entity in document["entities"]:
            assert set(entity) == {"text", "category", "offset", "length", "confidenceScore"}
            assert (
                slice_in(text, entity["offset"], entity["length"], "TextElements_v8")
                == (entity["text"])
            )
    marcus = next(e for e in results["documents"][0]["entities"] if e["text"] == "Marcus Bell")
    assert (marcus["category"], marcus["offset"]) == ("Person", 2)


def test_custom_classification_how_to_request(deployed: LiveServer) -> None:
    """Multi- and single-label lists in one job: ``classifications`` and ``classification``."""
    texts = [text for text, _classes in MULTI_CASES]
    body = {
        "displayName": "Classifying documents",
        "analysisInput": legacy_documents(*texts),
        "tasks": {
            "customMultiClassificationTasks": [
                {"parameters": {"project-name": MULTI, "deployment-name": PRODUCTION}}
            ],
            "customSingleClassificationTasks": [
                {
                    "taskName": "single",
                    "parameters": {"project-name": SINGLE, "deployment-name": PRODUCTION},
                }
            ],
        },
    }
    _location, final = run_legacy(deployed, "v3.2-preview.2", body)
    assert_legacy_envelope(final, "Classifying documents")
    tasks = final["tasks"]
    assert (tasks["completed"], tasks["total"]) == (2, 2)
    (multi,) = tasks["customMultiClassificationTasks"]
    (single,) = tasks["customSingleClassificationTasks"]
    assert single["taskName"] == "single"
    assert multi["results"]["projectName"] == MULTI
    found = [
        {c["category"] for c in document["classifications"]}
        for document in multi["results"]["documents"]
    ]
    assert found == [expected for _text, expected in MULTI_CASES]
    expected_single = classification_predictor(deployed, SINGLE, "m1").predict(texts)
    for document, scores in zip(single["results"]["documents"], expected_single, strict=True):
        assert set(document) == {"id", "classification", "warnings"}
        assert set(document["classification"]) == {"category", "confidenceScore"}
        assert document["classification"]["category"] == scores[0].category


def test_ct1_preview_with_model_id_and_classification_tasks(deployed: LiveServer) -> None:
    """v3.1-preview.ct.1: ``customClassificationTasks`` and ``modelId``, read leniently."""
    model_id = deployed.client.get(
        f"/language/authoring/analyze-text/projects/{SINGLE}/models/m1",
        params={"api-version": "2023-04-01"},
    ).json()["modelId"]
    body = {
        "analysisInput": legacy_documents("I was charged twice on my invoice, please refund."),
        "tasks": {
            "customClassificationTasks": [{"parameters": {"modelId": model_id}}],
            "customEntityRecognitionTasks": [
                {
                    "parameters": {
                        "project-name": NER,
                        "deployment-name": PRODUCTION,
                        "stringIndexType": "TextElements_v8",
                    }
                }
            ],
        },
    }
    _location, final = run_legacy(deployed, "v3.1-preview.ct.1", body)
    assert final["status"] == "succeeded", final
    (classify,) = final["tasks"]["customClassificationTasks"]
    (document,) = classify["results"]["documents"]
    assert document["classification"]["category"] == "Billing"
    assert document["classes"] == [document["classification"]]
    assert classify["results"]["projectName"] == SINGLE


def test_paging_with_dollar_top_skip_and_at_next_link(deployed: LiveServer) -> None:
    texts = [f"Note {index}: {NER_TEXT}" for index in range(25)]
    body = {
        "analysisInput": legacy_documents(*texts),
        "tasks": {
            "customEntityRecognitionTasks": [
                {"parameters": {"project-name": NER, "deployment-name": PRODUCTION}}
            ]
        },
    }
    location, first = run_legacy(deployed, "v3.2-preview.2", body)
    # The legacy default page is 20 documents ($top), as the v3.2-preview swagger says.
    results = first["tasks"]["customEntityRecognitionTasks"][0]["results"]
    assert len(results["documents"]) == 20
    link = first["@nextLink"]
    assert "nextLink" not in first
    assert urlsplit(link).path == urlsplit(location).path
    assert "$skip=20" in link and "$top=20" in link
    second = deployed.client.get(link).json()
    assert "@nextLink" not in second
    rest = second["tasks"]["customEntityRecognitionTasks"][0]["results"]["documents"]
    assert [d["id"] for d in results["documents"] + rest] == [f"doc{i}" for i in range(1, 26)]
    explicit = deployed.client.get(f"{location}?$top=5&$skip=10&showStats=true").json()
    page = explicit["tasks"]["customEntityRecognitionTasks"][0]["results"]
    assert [d["id"] for d in page["documents"]] == [f"doc{i}" for i in range(11, 16)]
    assert explicit["statistics"]["documentsCount"] == 25
    assert all(d["statistics"]["transactionsCount"] == 1 for d in page["documents"])
    assert "$skip=15" in explicit["@nextLink"]


def test_language_api_jobs_are_not_found_under_legacy_paths(deployed: LiveServer) -> None:
    response = submit(
        deployed,
        {
            "analysisInput": {"documents": [{"id": "1", "text": NER_TEXT}]},
            "tasks": [task("CustomEntityRecognition", NER, PRODUCTION)],
        },
    )
    job_id = urlsplit(response.headers["Operation-Location"]).path.rsplit("/", 1)[1]
    legacy = deployed.client.get(f"/text/analytics/v3.2-preview.2/analyze/jobs/{job_id}")
    assert legacy.status_code == 404
    assert deployed.client.get(f"{JOBS}/{job_id}?api-version=2023-04-01").status_code == 200


@pytest.mark.parametrize(
    ("path", "method", "body", "expected"),
    [
        pytest.param(
            "/text/analytics/v3.1/analyze", "POST", {}, (404, "NotFound", None), id="v3.1-post"
        ),
        pytest.param(
            "/text/analytics/v9.9-preview.1/analyze/jobs/x", "GET", None, (404, "NotFound", None),
            id="unknown-version-get",
        ),
        pytest.param(
            analyze_path("v3.2-preview.2"), "POST",
            {"analysisInput": {"documents": []}, "tasks": {"customEntityRecognitionTasks": [
                {"parameters": {"project-name": NER, "deployment-name": PRODUCTION}}]}},
            (400, "InvalidRequest", "MissingInputRecords"), id="no-documents",
        ),
        pytest.param(
            analyze_path("v3.2-preview.2"), "POST",
            {"analysisInput": legacy_documents("x"), "tasks": {"entityRecognitionTasks": [
                {"parameters": {"model-version": "latest"}}]}},
            (400, "InvalidRequest", "InvalidParameterValue"), id="prebuilt-task-list",
        ),
        pytest.param(
            analyze_path("v3.2-preview.2"), "POST",
            {"analysisInput": legacy_documents("x"), "tasks": {"customEntityRecognitionTasks": []}},
            (400, "InvalidRequest", "InvalidRequestBodyFormat"), id="no-tasks",
        ),
        pytest.param(
            analyze_path("v3.2-preview.2"), "POST",
            {"analysisInput": legacy_documents("x"), "tasks": {"customEntityRecognitionTasks": [
                {"parameters": {"project-name": NER}}]}},
            (400, "InvalidRequest", "InvalidRequestBodyFormat"), id="no-deployment-name",
        ),
        pytest.param(
            analyze_path("v3.2-preview.2"), "POST",
            {"analysisInput": legacy_documents("x"), "tasks": {"customEntityRecognitionTasks": [
                {"parameters": {"project-name": NER, "deployment-name": "nowhere"}}]}},
            (404, "NotFound", None), id="unknown-deployment",
        ),
        pytest.param(
            analyze_path("v3.2-preview.2"), "POST",
            {"analysisInput": legacy_documents(*["x"] * 26), "tasks": {
                "customEntityRecognitionTasks": [
                    {"parameters": {"project-name": NER, "deployment-name": PRODUCTION}}]}},
            (400, "InvalidRequest", "InvalidDocumentBatch"), id="26-documents",
        ),
        pytest.param(
            f"{analyze_path('v3.2-preview.2')}/jobs/no-such-job", "GET", None,
            (404, "OperationNotFound", None), id="unknown-job",
        ),
    ],
)  # fmt: skip
def test_legacy_errors(
    deployed: LiveServer,
    path: str,
    method: str,
    body: Any,
    expected: tuple[int, str, str | None],
) -> None:
    response = deployed.client.request(method, path, json=body)
    assert error_of(response) == expected, response.text
