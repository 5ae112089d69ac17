"""The Language API analyze jobs over raw HTTP (spec §1, §3, §4): every response field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
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
    STAGING,
    classification_predictor,
    documents,
    error_of,
    ner_predictor,
    run_analysis,
    slice_in,
    submit,
    task,
    text_elements,
)
from tests.integration.server import HTTP_TIMEOUT_S, LiveServer

JOB_KEYS = {
    "jobId", "createdDateTime", "lastUpdatedDateTime", "expirationDateTime", "status", "errors",
    "tasks",
}  # fmt: skip
ENTITY_KEYS = {"text", "category", "offset", "length", "confidenceScore"}


@pytest.fixture(scope="module")
def deployed(trained_data_dir: Path, databases: Databases) -> Iterator[LiveServer]:
    """A server with the NER (production, staging), single- and multi-label projects deployed."""
    with databases.serve(trained_data_dir) as live:
        yield live


def timestamp(value: str) -> datetime:
    """A wire date-time, which must be RFC 3339 UTC with a ``Z``."""
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_job_envelope(body: dict[str, Any], *, display_name: str | None = None) -> None:
    expected = JOB_KEYS | ({"displayName"} if display_name is not None else set())
    assert set(body) == expected
    if display_name is not None:
        assert body["displayName"] == display_name
    created = timestamp(body["createdDateTime"])
    assert created <= timestamp(body["lastUpdatedDateTime"])
    assert timestamp(body["expirationDateTime"]) - created == timedelta(hours=24)


def expected_entities(server: LiveServer, texts: list[str], label: str = "m1") -> list[Any]:
    return ner_predictor(server, NER, label).predict(texts)


# -- the how-to pages' requests ----------------------------------------------------------------


def test_custom_ner_how_to_request(deployed: LiveServer) -> None:
    """The body of Azure's custom NER "send a request" page, with its api-version."""
    texts = [NER_TEXT, "Headcount at Solace Pharma stays flat; Amara Diallo will confirm."]
    body = {
        "displayName": "Extracting entities",
        "analysisInput": {
            "documents": [
                {"id": "1", "language": "en-us", "text": texts[0]},
                {"id": "2", "language": "en-us", "text": texts[1]},
            ]
        },
        "tasks": [
            {
                "kind": "CustomEntityRecognition",
                "taskName": "Entity Recognition",
                "parameters": {"projectName": NER, "deploymentName": PRODUCTION},
            }
        ],
    }
    response = submit(deployed, body, "2022-05-01")
    assert response.status_code == 202
    assert response.content == b""
    assert "location" not in response.headers
    location = response.headers["Operation-Location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == deployed.base_url
    assert parts.path.startswith(f"{JOBS}/")
    assert parse_qs(parts.query) == {"api-version": ["2022-05-01"]}

    final = deployed.wait_job(location)
    assert_job_envelope(final, display_name="Extracting entities")
    assert final["jobId"] == parts.path.rsplit("/", 1)[1]
    assert final["status"] == "succeeded"
    assert final["errors"] == []
    tasks = final["tasks"]
    assert set(tasks) == {"completed", "failed", "inProgress", "total", "items"}
    assert (tasks["completed"], tasks["failed"], tasks["inProgress"], tasks["total"]) == (
        1,
        0,
        0,
        1,
    )
    (item,) = tasks["items"]
    assert set(item) == {"kind", "taskName", "lastUpdateDateTime", "status", "results"}
    assert item["kind"] == "CustomEntityRecognitionLROResults"
    assert item["taskName"] == "Entity Recognition"
    assert item["status"] == "succeeded"
    timestamp(item["lastUpdateDateTime"])
    results = item["results"]
    assert set(results) == {"documents", "errors", "projectName", "deploymentName"}
    assert (results["projectName"], results["deploymentName"]) == (NER, PRODUCTION)
    assert results["errors"] == []
    assert [document["id"] for document in results["documents"]] == ["1", "2"]
    predicted = expected_entities(deployed, texts)
    for document, text, spans in zip(results["documents"], texts, predicted, strict=True):
        assert set(document) == {"id", "entities", "warnings"}
        assert document["warnings"] == []
        assert [(e["category"], e["text"]) for e in document["entities"]] == [
            (span.category, text[span.start : span.end]) for span in spans
        ]
        for entity in document["entities"]:
            assert set(entity) == ENTITY_KEYS
            assert 0.0 <= entity["confidenceScore"] <= 1.0
            assert (
                slice_in(text, entity["offset"], entity["length"], "TextElements_v8")
                == (entity["text"])
            )
    first = {e["text"]: e["category"] for e in results["documents"][0]["entities"]}
    assert first["Marcus Bell"] == "Person"
    assert first["Vienna"] == "City"


@pytest.mark.parametrize(
    ("kind", "project", "task_name"),
    [
        ("CustomSingleLabelClassification", SINGLE, "Single Classification Label"),
        ("CustomMultiLabelClassification", MULTI, "Multi Label Classification"),
    ],
)
def test_custom_classification_how_to_request(
    deployed: LiveServer, kind: str, project: str, task_name: str
) -> None:
    """The body of Azure's custom text classification "send a request" page."""
    texts = [text for text, _classes in MULTI_CASES] + [
        "I was charged twice on my invoice, please refund.",
        "my package never arrived, where is the delivery?",
    ]
    body = {
        "displayName": "Classifying documents",
        "analysisInput": {
            "documents": [
                {"id": str(index), "language": "en-us", "text": text}
                for index, text in enumerate(texts, start=1)
            ]
        },
        "tasks": [
            {
                "kind": kind,
                "taskName": task_name,
                "parameters": {"projectName": project, "deploymentName": PRODUCTION},
            }
        ],
    }
    final = run_analysis(deployed, body, "2022-05-01")
    assert_job_envelope(final, display_name="Classifying documents")
    assert final["status"] == "succeeded"
    (item,) = final["tasks"]["items"]
    assert item["kind"] == f"{kind}LROResults"
    assert item["taskName"] == task_name
    results = item["results"]
    assert (results["projectName"], results["deploymentName"]) == (project, PRODUCTION)
    assert results["errors"] == []
    predicted = classification_predictor(deployed, project, "m1").predict(texts)
    for document, scores in zip(results["documents"], predicted, strict=True):
        assert set(document) == {"id", "class", "warnings"}
        assert isinstance(document["class"], list)
        assert [c["category"] for c in document["class"]] == [s.category for s in scores]
        for chosen in document["class"]:
            assert set(chosen) == {"category", "confidenceScore"}
            assert 0.0 <= chosen["confidenceScore"] <= 1.0
    classes = [{c["category"] for c in document["class"]} for document in results["documents"]]
    if kind == "CustomSingleLabelClassification":
        assert all(len(document["class"]) == 1 for document in results["documents"])
        assert classes[-2:] == [{"Billing"}, {"Shipping"}]
    else:
        assert classes[: len(MULTI_CASES)] == [expected for _text, expected in MULTI_CASES]


# -- several tasks, units, per-document errors, statistics, paging ------------------------------


def test_several_tasks_with_two_of_one_kind_against_different_deployments(
    deployed: LiveServer,
) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    texts = [
        f"{family}\U0001f1eb\U0001f1f7 Marcus Bell met Fran\u00e7ois Dubois in Vienna.",
        "e\u0301\u6f22\u5b57 The quote from Solace Pharma came in at $84.8 million.",
    ]
    body = {
        "analysisInput": documents(*texts),
        "tasks": [
            task("CustomEntityRecognition", NER, PRODUCTION, "ner-prod",
                 stringIndexType="Utf16CodeUnit"),
            task("CustomSingleLabelClassification", SINGLE, PRODUCTION, "single"),
            task("CustomEntityRecognition", NER, STAGING, "ner-staging",
                 stringIndexType="UnicodeCodePoint"),
            task("CustomMultiLabelClassification", MULTI, PRODUCTION, "multi"),
            task("CustomEntityRecognition", NER, PRODUCTION, "ner-elements"),
        ],
    }  # fmt: skip
    final = run_analysis(deployed, body)
    assert final["status"] == "succeeded"
    tasks = final["tasks"]
    assert (tasks["completed"], tasks["failed"], tasks["inProgress"], tasks["total"]) == (
        5,
        0,
        0,
        5,
    )
    items = tasks["items"]
    assert [item["taskName"] for item in items] == [
        "ner-prod", "single", "ner-staging", "multi", "ner-elements",
    ]  # fmt: skip
    assert [item["kind"] for item in items] == [
        "CustomEntityRecognitionLROResults",
        "CustomSingleLabelClassificationLROResults",
        "CustomEntityRecognitionLROResults",
        "CustomMultiLabelClassificationLROResults",
        "CustomEntityRecognitionLROResults",
    ]
    assert items[2]["results"]["deploymentName"] == STAGING
    units = {0: "Utf16CodeUnit", 2: "UnicodeCodePoint", 4: "TextElements_v8"}
    labels = {0: "m1", 2: "m2", 4: "m1"}
    for index, unit in units.items():
        predicted = expected_entities(deployed, texts, labels[index])
        for document, text, spans in zip(
            items[index]["results"]["documents"], texts, predicted, strict=True
        ):
            assert [e["text"] for e in document["entities"]] == [
                text[s.start : s.end] for s in spans
            ]
            for entity in document["entities"]:
                assert slice_in(text, entity["offset"], entity["length"], unit) == entity["text"]
    # The same entity, counted three ways.
    marcus = [
        next(
            e for e in items[i]["results"]["documents"][0]["entities"] if e["text"] == "Marcus Bell"
        )
        for i in (0, 2, 4)
    ]
    assert [entity["offset"] for entity in marcus] == [13, 8, 3]


def test_empty_document_gets_a_document_error_and_the_others_are_processed(
    deployed: LiveServer,
) -> None:
    body = {
        "analysisInput": documents(NER_TEXT, "", "   \n"),
        "tasks": [
            task("CustomEntityRecognition", NER, PRODUCTION, "ner"),
            task("CustomSingleLabelClassification", SINGLE, PRODUCTION, "single"),
        ],
    }
    response = submit(deployed, body)
    final = deployed.wait_job(response.headers["Operation-Location"] + "&showStats=true")
    assert final["status"] == "succeeded"
    assert final["errors"] == []
    assert final["statistics"] == {
        "documentsCount": 3,
        "validDocumentsCount": 1,
        "erroneousDocumentsCount": 2,
        "transactionsCount": 1,
    }
    for item in final["tasks"]["items"]:
        results = item["results"]
        assert [document["id"] for document in results["documents"]] == ["1"]
        assert results["errors"] == [
            {
                "id": document_id,
                "error": {
                    "code": "InvalidArgument",
                    "message": "Document text is empty.",
                    "innererror": {"code": "InvalidDocument", "message": "Document text is empty."},
                },
            }
            for document_id in ("2", "3")
        ]


def test_statistics_only_with_show_stats(deployed: LiveServer) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    long_text = (NER_TEXT + " ") * 40  # 2,320 characters: three transactions
    texts = [long_text, f"{family} {NER_TEXT}"]
    response = submit(
        deployed,
        {
            "analysisInput": documents(*texts),
            "tasks": [task("CustomEntityRecognition", NER, PRODUCTION)],
        },
    )
    location = response.headers["Operation-Location"]
    plain = deployed.wait_job(location)
    assert "statistics" not in plain
    assert "statistics" not in plain["tasks"]["items"][0]["results"]
    assert all("statistics" not in d for d in plain["tasks"]["items"][0]["results"]["documents"])
    for flag in ("True", "true", "TRUE"):
        body = deployed.client.get(f"{location}&showStats={flag}").json()
        request_statistics = {
            "documentsCount": 2,
            "validDocumentsCount": 2,
            "erroneousDocumentsCount": 0,
            "transactionsCount": 4,
        }
        assert body["statistics"] == request_statistics
        results = body["tasks"]["items"][0]["results"]
        assert results["statistics"] == request_statistics
        assert [d["statistics"] for d in results["documents"]] == [
            {"charactersCount": len(long_text), "transactionsCount": 3},
            # Characters are text elements: the family emoji is one.
            {"charactersCount": len(text_elements(texts[1])), "transactionsCount": 1},
        ]
    assert len(text_elements(texts[1])) == len(NER_TEXT) + 2


def test_paging_with_top_skip_and_next_link(deployed: LiveServer) -> None:
    texts = [f"Meeting {index}: {NER_TEXT}" for index in range(5)]
    body = {
        "analysisInput": documents(*texts),
        "tasks": [
            task("CustomEntityRecognition", NER, PRODUCTION, "ner"),
            task("CustomMultiLabelClassification", MULTI, PRODUCTION, "multi"),
        ],
    }
    response = submit(deployed, body)
    everything = deployed.wait_job(response.headers["Operation-Location"])
    assert "nextLink" not in everything
    link: str | None = response.headers["Operation-Location"] + "&top=2"
    pages = []
    while link is not None:
        page = deployed.client.get(link).json()
        assert set(page) - {"nextLink"} == JOB_KEYS
        assert page["status"] == "succeeded"
        pages.append(page)
        link = page.get("nextLink")
        if link is not None:
            parts = urlsplit(link)
            assert f"{parts.scheme}://{parts.netloc}" == deployed.base_url
            query = parse_qs(parts.query)
            assert query["api-version"] == ["2023-04-01"]
            assert query["top"] == ["2"]
            assert query["skip"] == [str(2 * len(pages))]
    assert len(pages) == 3
    for index in range(2):
        ids = [
            document["id"]
            for page in pages
            for document in page["tasks"]["items"][index]["results"]["documents"]
        ]
        assert ids == ["1", "2", "3", "4", "5"]
        assert [
            document
            for page in pages
            for document in page["tasks"]["items"][index]["results"]["documents"]
        ] == everything["tasks"]["items"][index]["results"]["documents"]
    window = deployed.client.get(response.headers["Operation-Location"] + "&skip=3&top=1").json()
    assert [d["id"] for d in window["tasks"]["items"][0]["results"]["documents"]] == ["4"]
    assert parse_qs(urlsplit(window["nextLink"]).query)["skip"] == ["4"]


def test_any_dated_api_version_is_accepted(deployed: LiveServer) -> None:
    body = {
        "analysisInput": documents(NER_TEXT),
        "tasks": [task("CustomEntityRecognition", NER, PRODUCTION)],
    }
    for version in ("2024-11-01", "2025-05-15-preview", "2026-05-15-preview", "2031-01-01"):
        final = run_analysis(deployed, body, version)
        assert final["status"] == "succeeded"
        assert final["tasks"]["items"][0]["taskName"] == "0"


def test_poll_of_a_waiting_job_has_retry_after_and_every_task_item(deployed: LiveServer) -> None:
    long_text = (NER_TEXT + " ") * 2000
    body = {
        "analysisInput": documents(long_text),
        "tasks": [
            task("CustomEntityRecognition", NER, PRODUCTION, "a"),
            task("CustomSingleLabelClassification", SINGLE, PRODUCTION, "b"),
        ],
    }
    response = submit(deployed, body)
    poll = deployed.client.get(response.headers["Operation-Location"])
    state = poll.json()
    if state["status"] in ("notStarted", "running"):
        assert poll.headers["Retry-After"] == "1"
        assert [item["taskName"] for item in state["tasks"]["items"]] == ["a", "b"]
        assert state["tasks"]["total"] == 2
    final = deployed.wait_job(response.headers["Operation-Location"])
    assert final["status"] == "succeeded"
    done = deployed.client.get(response.headers["Operation-Location"])
    assert "retry-after" not in done.headers
    # Processed whole: entities are found at the very end of a 116,000-character document.
    entities = final["tasks"]["items"][0]["results"]["documents"][0]["entities"]
    assert max(e["offset"] for e in entities) > len(long_text) - len(NER_TEXT) - 2


# -- errors -------------------------------------------------------------------------------------


def ner_body(*texts: str) -> dict[str, Any]:
    return {
        "analysisInput": documents(*texts),
        "tasks": [task("CustomEntityRecognition", NER, PRODUCTION)],
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            ner_body(*["hello"] * 26), (400, "InvalidRequest", "InvalidDocumentBatch"), id="26-docs"
        ),
        pytest.param(
            ner_body("a" * 125_001), (400, "InvalidRequest", "InvalidDocument"), id="long-doc"
        ),
        pytest.param(
            ner_body("a" * 70_000, "b" * 70_000),
            (400, "InvalidRequest", "InvalidDocumentBatch"),
            id="long-request",
        ),
        pytest.param(
            {
                "analysisInput": documents("x"),
                "tasks": [task("CustomEntityRecognition", NER, PRODUCTION)] * 26,
            },
            (400, "InvalidRequest", "InvalidParameterValue"),
            id="26-tasks",
        ),
        pytest.param(
            {
                "analysisInput": {
                    "documents": [{"id": "1", "text": "x"}, {"id": "1", "text": "y"}]
                },
                "tasks": [task("CustomEntityRecognition", NER, PRODUCTION)],
            },
            (400, "InvalidRequest", "InvalidDocumentBatch"),
            id="duplicate-ids",
        ),
        pytest.param(
            {"analysisInput": {"documents": []}, "tasks": [task("CustomEntityRecognition", NER, PRODUCTION)]},
            (400, "InvalidRequest", "MissingInputDocuments"),
            id="no-documents",
        ),
        pytest.param(
            {"tasks": [task("CustomEntityRecognition", NER, PRODUCTION)]},
            (400, "InvalidRequest", "MissingInputDocuments"),
            id="no-analysis-input",
        ),
        pytest.param(
            b'{"analysisInput": {"documents": [', (400, "InvalidRequest", "InvalidRequestBodyFormat"),
            id="bad-json",
        ),
        pytest.param(
            {"analysisInput": documents("x"), "tasks": []},
            (400, "InvalidRequest", "InvalidRequestBodyFormat"),
            id="no-tasks",
        ),
        pytest.param(
            {"analysisInput": documents("x"), "tasks": [task("EntityRecognition", NER, PRODUCTION)]},
            (400, "InvalidRequest", "InvalidParameterValue"),
            id="prebuilt-kind",
        ),
        pytest.param(
            {"analysisInput": documents("x"), "tasks": [task("CustomEntityRecognition", NER, PRODUCTION, stringIndexType="Bytes")]},
            (400, "InvalidRequest", "InvalidParameterValue"),
            id="bad-string-index-type",
        ),
        pytest.param(
            {"analysisInput": documents("x"), "tasks": [task("CustomSingleLabelClassification", NER, PRODUCTION)]},
            (400, "InvalidRequest", "InvalidParameterValue"),
            id="kind-of-another-project",
        ),
        pytest.param(
            {"analysisInput": documents("x"), "tasks": [{"kind": "CustomEntityRecognition", "parameters": {"projectName": NER}}]},
            (400, "InvalidRequest", "InvalidRequestBodyFormat"),
            id="no-deployment-name",
        ),
        pytest.param(
            {"analysisInput": documents("x"), "tasks": [task("CustomEntityRecognition", "nobody", PRODUCTION)]},
            (404, "ProjectNotFound", None),
            id="unknown-project",
        ),
        pytest.param(
            {"analysisInput": documents("x"), "tasks": [task("CustomEntityRecognition", NER, "nowhere")]},
            (404, "NotFound", None),
            id="unknown-deployment",
        ),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_before_a_job_exists(
    deployed: LiveServer, body: Any, expected: tuple[int, str, str | None]
) -> None:
    response = submit(deployed, body)
    assert error_of(response) == expected, response.text
    assert "Operation-Location" not in response.headers
    assert response.json()["error"]["message"]


def test_text_elements_count_against_the_limits(deployed: LiveServer) -> None:
    """125,000 accented letters are 250,000 code points but within the limit."""
    response = submit(deployed, ner_body("e\u0301" * 125_000))
    assert response.status_code == 202, response.text
    cancel = deployed.client.post(
        response.headers["Operation-Location"].replace("?", ":cancel?", 1)
    )
    assert cancel.status_code in (202, 400)
    deployed.wait_job(response.headers["Operation-Location"])


def test_api_version_is_required(deployed: LiveServer) -> None:
    response = deployed.client.post(JOBS, json=ner_body("x"))
    assert error_of(response) == (400, "InvalidRequest", "InvalidParameterValue")
    response = deployed.client.post(JOBS, params={"api-version": "v3.1"}, json=ner_body("x"))
    assert error_of(response) == (400, "InvalidRequest", "InvalidParameterValue")


def test_a_key_is_required(deployed: LiveServer) -> None:
    response = httpx.post(
        f"{deployed.base_url}{JOBS}",
        params={"api-version": "2023-04-01"},
        json=ner_body("x"),
        timeout=HTTP_TIMEOUT_S,
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "401"


def test_unknown_job_is_not_found(deployed: LiveServer) -> None:
    for method, path in (("GET", f"{JOBS}/no-such-job"), ("POST", f"{JOBS}/no-such-job:cancel")):
        response = deployed.client.request(method, path, params={"api-version": "2023-04-01"})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "OperationNotFound"


def test_synchronous_api_refuses_custom_tasks(deployed: LiveServer) -> None:
    body = {
        "kind": "CustomEntityRecognition",
        "analysisInput": documents("x"),
        "parameters": {"projectName": NER, "deploymentName": PRODUCTION},
    }
    response = deployed.client.post(
        "/language/:analyze-text", params={"api-version": "2023-04-01"}, json=body
    )
    assert error_of(response) == (400, "InvalidRequest", "InvalidParameterValue")
    assert "asynchronous" in response.json()["error"]["message"]


@pytest.fixture(scope="module")
def small_limits(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> Iterator[LiveServer]:
    """A server whose operator lowered every limit (no models needed: limits come first)."""
    with databases.serve(
        tmp_path_factory.mktemp("small-limits"),
        max_documents_per_request=2,
        max_characters_per_document=10,
        max_characters_per_request=15,
        max_request_bytes=2_000,
        max_tasks_per_request=1,
        max_request_cost=12,
    ) as live:
        yield live


@pytest.mark.parametrize(
    ("body", "status", "inner"),
    [
        (ner_body("a", "b", "c"), 400, "InvalidDocumentBatch"),
        (ner_body("a" * 11), 400, "InvalidDocument"),
        (ner_body("a" * 8, "b" * 8), 400, "InvalidDocumentBatch"),
        (ner_body("a" * 3_000), 413, "RequestEntityTooLarge"),  # body over 2,000 bytes
        ({**ner_body("a"), "tasks": ner_body("a")["tasks"] * 2}, 400, "InvalidParameterValue"),
        (ner_body("a" * 7, "b" * 6), 400, "InvalidParameterValue"),  # 1 task x 13 characters
    ],
)
def test_limits_are_settings(small_limits: LiveServer, body: Any, status: int, inner: str) -> None:
    response = submit(small_limits, body)
    assert error_of(response) == (status, "InvalidRequest", inner)
    # The message names the setting that raises the limit.
    if inner in ("InvalidParameterValue", "RequestEntityTooLarge"):
        assert "LEXICRAFT_MAX_" in response.json()["error"]["message"]


def test_submit_needs_a_json_object(deployed: LiveServer) -> None:
    response = submit(deployed, json.dumps([1, 2]).encode())
    assert error_of(response) == (400, "InvalidRequest", "InvalidRequestBodyFormat")
