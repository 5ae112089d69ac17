"""Bad authoring input: an Azure error envelope with the right status and code, and no change."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from lexicraft.bootstrap import open_context
from lexicraft.services import keys
from tests.integration.server import (
    API_VERSION,
    AUTHORING,
    HTTP_TIMEOUT_S,
    LiveServer,
    demo_project_file,
)

V = {"api-version": API_VERSION}
NAME = "errors-ner"


@pytest.fixture(scope="module")
def deployed(server: LiveServer) -> LiveServer:
    """A NER project with a model deployed as 'production'."""
    server.import_project(NAME, demo_project_file("demo-ner", NAME))
    server.train(NAME, "m1")
    server.deploy(NAME, "production", "m1")
    return server


def snapshot(server: LiveServer) -> dict[str, Any]:
    """What a bad request must leave untouched."""
    job = server.run_job(
        "POST", f"{AUTHORING}/{NAME}/:export", params={**V, "stringIndexType": "Utf16CodeUnit"}
    )
    return {
        "project": server.client.get(f"{AUTHORING}/{NAME}", params=V).json(),
        "file": server.client.get(job["resultUrl"]).json(),
        "models": server.client.get(f"{AUTHORING}/{NAME}/models", params=V).json(),
        "deployments": server.client.get(f"{AUTHORING}/{NAME}/deployments", params=V).json(),
        "projects": [
            p["projectName"] for p in server.client.get(AUTHORING, params=V).json()["value"]
        ],
    }


def assert_error(
    response: httpx.Response, status: int, code: str, inner: str | None = None
) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    if inner is not None:
        assert error["innererror"]["code"] == inner, error


def mutate(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    project_file = demo_project_file("demo-ner", NAME)
    change(project_file)
    return project_file


def first_labels(project_file: dict[str, Any]) -> list[dict[str, Any]]:
    return project_file["assets"]["documents"][0]["entities"][0]["labels"]  # type: ignore[no-any-return]


def set_location(location: str) -> Callable[[dict[str, Any]], None]:
    def change(project_file: dict[str, Any]) -> None:
        document = project_file["assets"]["documents"][0]
        document["location"] = location
        del document["text"]

    return change


BAD_IMPORTS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "label not in entity list": (
        lambda f: first_labels(f).append({"category": "Galaxy", "offset": 0, "length": 2}),
        "InvalidParameterValue",
    ),
    "span out of range": (
        lambda f: first_labels(f).append({"category": "City", "offset": 10_000, "length": 3}),
        "InvalidParameterValue",
    ),
    "negative length": (
        lambda f: first_labels(f).append({"category": "City", "offset": 1, "length": -1}),
        "InvalidParameterValue",
    ),
    "overlapping spans": (
        lambda f: first_labels(f).append(
            {**first_labels(f)[0], "length": first_labels(f)[0]["length"] + 1}
        ),
        "InvalidParameterValue",
    ),
    "duplicate locations": (
        lambda f: f["assets"]["documents"].append(dict(f["assets"]["documents"][0])),
        "InvalidParameterValue",
    ),
    "missing document file": (set_location("no-such-file.txt"), "InvalidParameterValue"),
    "path with ..": (set_location("../demo-classify/ticket-0001.txt"), "InvalidParameterValue"),
    "absolute path": (set_location("/etc/passwd"), "InvalidParameterValue"),
    "kind mismatch": (
        lambda f: f["assets"].update(projectKind="CustomMultiLabelClassification"),
        "InvalidParameterValue",
    ),
    "missing metadata": (lambda f: f.pop("metadata"), "InvalidRequestBodyFormat"),
    "wrong string index type": (
        lambda f: f.update(stringIndexType="UnicodeCodePoint"),
        "InvalidParameterValue",
    ),
    "offset of wrong type": (
        lambda f: first_labels(f).append({"category": "City", "offset": "3", "length": 1}),
        "InvalidRequestBodyFormat",
    ),
}


@pytest.mark.parametrize("case", list(BAD_IMPORTS))
def test_bad_import_is_rejected_and_changes_nothing(deployed: LiveServer, case: str) -> None:
    before = snapshot(deployed)
    change, inner = BAD_IMPORTS[case]
    response = deployed.client.post(f"{AUTHORING}/{NAME}/:import", params=V, json=mutate(change))
    assert_error(response, 400, "InvalidRequest", inner)
    assert snapshot(deployed) == before


def test_link_leaving_the_container_is_rejected(deployed: LiveServer, tmp_path: Any) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("top secret", encoding="utf-8")
    container = deployed.settings.storage_dir / NAME
    (container / "link.txt").symlink_to(outside)
    before = snapshot(deployed)
    response = deployed.client.post(
        f"{AUTHORING}/{NAME}/:import", params=V, json=mutate(set_location("link.txt"))
    )
    assert_error(response, 400, "InvalidRequest", "InvalidParameterValue")
    assert "leaves the storage container" in response.json()["error"]["message"]
    assert snapshot(deployed) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "inner"),
    [
        ("POST", f"/{NAME}/:import", b"{not json", 400, "InvalidRequest", "InvalidRequestBodyFormat"),
        ("POST", f"/{NAME}/:train", b"[1, 2]", 400, "InvalidRequest", "InvalidRequestBodyFormat"),
        ("POST", f"/{NAME}/:train", b'{"modelLabel": "x", "trainingConfigVersion": "1999-01-01"}',
         400, "InvalidRequest", "InvalidParameterValue"),
        ("POST", f"/{NAME}/:train", b'{"modelLabel": "x", "trainingConfigVersion": "2022-05-01",'
         b' "evaluationOptions": {"trainingSplitPercentage": 70, "testingSplitPercentage": 20}}',
         400, "InvalidRequest", "InvalidParameterValue"),
        ("POST", f"/{NAME}/:train", b'{"modelLabel": "a/b", "trainingConfigVersion": "2022-05-01"}',
         400, "InvalidRequest", "InvalidParameterValue"),
        ("POST", "/no-such-project/:train",
         b'{"modelLabel": "x", "trainingConfigVersion": "2022-05-01"}', 404, "ProjectNotFound", None),
        ("GET", "/no-such-project", None, 404, "ProjectNotFound", None),
        ("GET", f"/{NAME}/models/no-such-model", None, 404, "NotFound", None),
        ("GET", f"/{NAME}/models/no-such-model/evaluation/summary-result", None, 404, "NotFound", None),
        ("GET", f"/{NAME}/deployments/no-such-deployment", None, 404, "NotFound", None),
        ("PUT", f"/{NAME}/deployments/d2", b'{"trainedModelLabel": "no-such-model"}', 404, "NotFound", None),
        ("DELETE", f"/{NAME}/deployments/no-such-deployment", None, 404, "NotFound", None),
        ("POST", f"/{NAME}/deployments/:swap",
         b'{"firstDeploymentName": "production", "secondDeploymentName": "nope"}', 404, "NotFound", None),
        ("DELETE", f"/{NAME}/models/m1", None, 409, "Conflict", None),
        ("GET", f"/{NAME}/train/jobs/0000", None, 404, "OperationNotFound", None),
        ("PATCH", "/global", b'{"projectKind": "CustomEntityRecognition", "language": "en",'
         b' "storageInputContainerName": "g"}', 400, "InvalidRequest", "InvalidParameterValue"),
        ("PATCH", "/new-one", b'{"projectKind": "CustomPoetry", "language": "en",'
         b' "storageInputContainerName": "g"}', 400, "InvalidRequest", "InvalidParameterValue"),
        ("PATCH", "/new-one", b'{"language": "en"}', 400, "InvalidRequest", "InvalidRequestBodyFormat"),
    ],
)  # fmt: skip
def test_bad_request_gets_envelope_and_changes_nothing(
    deployed: LiveServer,
    method: str,
    path: str,
    body: bytes | None,
    status: int,
    code: str,
    inner: str | None,
) -> None:
    before = snapshot(deployed)
    response = deployed.client.request(
        method,
        f"{AUTHORING}{path}",
        params=V,
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, status, code, inner)
    assert snapshot(deployed) == before


def test_api_version_is_required_and_checked(deployed: LiveServer) -> None:
    assert_error(deployed.client.get(AUTHORING), 400, "InvalidRequest", "InvalidParameterValue")
    assert_error(
        deployed.client.get(AUTHORING, params={"api-version": "latest-and-greatest"}),
        400, "InvalidRequest", "InvalidParameterValue",
    )  # fmt: skip
    for version in (
        "2022-05-01",
        "2023-04-01",
        "2023-04-15-preview",
        "2024-11-15-preview",
        "2031-01-01",
    ):
        assert deployed.client.get(AUTHORING, params={"api-version": version}).status_code == 200


def test_unknown_route_is_an_envelope(deployed: LiveServer) -> None:
    assert_error(deployed.client.get("/language/authoring/nothing-here", params=V), 404, "NotFound")


def test_auth_missing_wrong_and_revoked_keys(deployed: LiveServer) -> None:
    url = f"{deployed.base_url}{AUTHORING}"
    missing = httpx.get(url, params=V, timeout=HTTP_TIMEOUT_S)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "401"
    wrong = httpx.get(
        url, params=V, headers={"Ocp-Apim-Subscription-Key": "wrong"}, timeout=HTTP_TIMEOUT_S
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "401"

    context = open_context(deployed.settings)
    created, key = keys.create_key(context.database, "temporary")
    assert (
        httpx.get(
            url, params=V, headers={"Ocp-Apim-Subscription-Key": key}, timeout=HTTP_TIMEOUT_S
        ).status_code
        == 200
    )
    keys.revoke_key(context.database, created.id)
    # The server remembers a key's check for key_cache_ttl_s: revocation takes effect within it.
    deadline = time.monotonic() + deployed.settings.key_cache_ttl_s + 5
    while (
        revoked := httpx.get(
            url, params=V, headers={"Ocp-Apim-Subscription-Key": key}, timeout=HTTP_TIMEOUT_S
        )
    ).status_code == 200:
        assert time.monotonic() < deadline, "a revoked key was still accepted after the TTL"
        time.sleep(0.2)
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "401"
    context.database.engine.dispose()
    # Every /language/… route is protected, even before routing or body parsing.
    assert (
        httpx.post(
            f"{url}/{NAME}/:import", params=V, content=b"{bad", timeout=HTTP_TIMEOUT_S
        ).status_code
        == 401
    )
    assert (
        httpx.get(
            f"{deployed.base_url}/text/analytics/v3.2-preview.2/analyze/jobs/x",
            timeout=HTTP_TIMEOUT_S,
        ).status_code
        == 401
    )
