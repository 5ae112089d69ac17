"""Request body limits over real HTTP: each route family has its own limit (a setting), a body
declared over it is refused with a 413 before the server reads it, a streamed (chunked) body
is refused once it grows past it, and nothing of a refused request is stored.

The server's limits are small and all different, so each test shows which one applied.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lexicraft.wire.json_limits import JsonLimits
from tests.integration.runtime_fixtures import JOBS, documents, task
from tests.integration.server import (
    API_VERSION,
    AUTHORING,
    HTTP_TIMEOUT_S,
    TEST_KEY,
    LiveServer,
    run_server,
)

RUNTIME_LIMIT = 2_000
IMPORT_LIMIT = 6_000
UPLOAD_LIMIT = 1_000
AUTHORING_LIMIT = 3_000
V = {"api-version": API_VERSION}
STORAGE = "/language/lexicraft/storage"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_server(
        tmp_path_factory.mktemp("limits"),
        max_request_bytes=RUNTIME_LIMIT,
        max_import_bytes=IMPORT_LIMIT,
        max_upload_bytes=UPLOAD_LIMIT,
        max_authoring_request_bytes=AUTHORING_LIMIT,
    ) as live:
        yield live


def chunks(total: int, size: int = 256) -> Iterator[bytes]:
    """``total`` bytes in pieces: httpx sends a generator chunked, with no Content-Length."""
    for start in range(0, total, size):
        yield b"x" * min(size, total - start)


def assert_too_large(response: httpx.Response, limit: int, setting: str) -> None:
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "InvalidRequest"
    assert error["innererror"]["code"] == "RequestEntityTooLarge"
    assert f"{limit} bytes" in error["message"]
    assert setting in error["message"]


def project_file(name: str, padding: int) -> dict[str, Any]:
    return {
        "projectFileVersion": "2022-05-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {
            "projectKind": "CustomSingleLabelClassification",
            "projectName": name,
            "storageInputContainerName": name,
            "language": "en",
            "description": "x" * padding,
        },
        "assets": {"projectKind": "CustomSingleLabelClassification", "classes": []},
    }


# -- storage uploads ---------------------------------------------------------------------------


def test_an_upload_at_the_limit_is_stored(server: LiveServer) -> None:
    body = b"a" * UPLOAD_LIMIT
    assert server.client.put(f"{STORAGE}/up/exact.txt", content=body).status_code == 201
    assert server.client.get(f"{STORAGE}/up/exact.txt").content == body


def test_an_upload_declared_over_the_limit_is_refused_and_not_stored(server: LiveServer) -> None:
    response = server.client.put(f"{STORAGE}/up/big.txt", content=b"a" * (UPLOAD_LIMIT + 1))
    assert_too_large(response, UPLOAD_LIMIT, "LEXICRAFT_MAX_UPLOAD_BYTES")
    assert not (server.settings.storage_dir / "up" / "big.txt").exists()


def test_a_streamed_upload_is_refused_once_over_the_limit(server: LiveServer) -> None:
    response = server.client.put(f"{STORAGE}/up/streamed.txt", content=chunks(50_000))
    assert_too_large(response, UPLOAD_LIMIT, "LEXICRAFT_MAX_UPLOAD_BYTES")
    assert not (server.settings.storage_dir / "up" / "streamed.txt").exists()


def test_a_streamed_upload_within_the_limit_is_stored(server: LiveServer) -> None:
    response = server.client.put(f"{STORAGE}/up/small.txt", content=chunks(UPLOAD_LIMIT, 100))
    assert response.status_code == 201, response.text
    assert server.client.get(f"{STORAGE}/up/small.txt").content == b"x" * UPLOAD_LIMIT


def test_the_413_comes_before_the_body_is_read(server: LiveServer) -> None:
    """Only the headers are sent: the answer comes without the server waiting for the body."""
    host, port = server.base_url.removeprefix("http://").split(":")
    head = (
        f"PUT {STORAGE}/up/never.txt HTTP/1.1\r\nHost: {host}\r\n"
        f"Ocp-Apim-Subscription-Key: {TEST_KEY}\r\nContent-Length: 100000000\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(head.encode())  # and not one byte of the 100 MB body
        answer = ""
        while "LEXICRAFT_MAX_UPLOAD_BYTES" not in answer:
            received = connection.recv(65536)
            assert received, answer
            answer += received.decode()
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "LEXICRAFT_MAX_UPLOAD_BYTES" in answer


# -- each route family has its own limit -------------------------------------------------------


def test_an_import_has_its_own_limit(server: LiveServer) -> None:
    fits = project_file("roomy", IMPORT_LIMIT - 1_000)  # over every other limit, under its own
    response = server.client.post(f"{AUTHORING}/roomy/:import", params=V, json=fits)
    assert response.status_code == 202, response.text
    server.wait_job(response.headers["Operation-Location"])
    too_big = project_file("huge", IMPORT_LIMIT)
    response = server.client.post(f"{AUTHORING}/huge/:import", params=V, json=too_big)
    assert_too_large(response, IMPORT_LIMIT, "LEXICRAFT_MAX_IMPORT_BYTES")
    assert server.client.get(f"{AUTHORING}/huge", params=V).status_code == 404


def test_a_streamed_analyze_request_is_refused_once_over_the_limit(server: LiveServer) -> None:
    response = server.client.post(
        JOBS,
        params=V,
        content=chunks(RUNTIME_LIMIT * 10),
        headers={"Content-Type": "application/json"},
    )
    assert_too_large(response, RUNTIME_LIMIT, "LEXICRAFT_MAX_REQUEST_BYTES")


def test_an_analyze_request_under_the_limit_reaches_validation(server: LiveServer) -> None:
    body = {
        "analysisInput": documents("hello"),
        "tasks": [task("CustomEntityRecognition", "nobody", "prod")],
    }
    response = server.client.post(JOBS, params=V, json=body)
    assert response.status_code == 404, response.text  # no such project: the body was read


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", f"{AUTHORING}/p"),
        ("POST", f"{AUTHORING}/p/:train"),
        ("PUT", f"{AUTHORING}/p/deployments/d"),
        ("POST", f"{AUTHORING}/p/deployments/:swap"),
        ("POST", "/language/lexicraft/projects/p/documents"),
    ],
    ids=["patch", "train", "deploy", "swap", "studio"],
)
def test_other_bodies_have_the_authoring_limit(server: LiveServer, method: str, path: str) -> None:
    body = {"description": "x" * AUTHORING_LIMIT}
    response = server.client.request(method, path, params=V, json=body)
    assert_too_large(response, AUTHORING_LIMIT, "LEXICRAFT_MAX_AUTHORING_REQUEST_BYTES")


def test_the_key_is_checked_before_the_size(server: LiveServer) -> None:
    response = httpx.put(
        f"{server.base_url}{STORAGE}/up/anon.txt", content=b"a" * 5_000, timeout=HTTP_TIMEOUT_S
    )
    assert response.status_code == 401


# -- JSON nesting and integer size (issue 22, finding 4) -----------------------------------------

#: Every route family that parses a JSON body: one check covers them all.
JSON_ROUTES = [
    ("POST", JOBS),
    ("POST", "/text/analytics/v3.1/analyze"),
    ("POST", f"{AUTHORING}/deep/:import"),
    ("PATCH", f"{AUTHORING}/deep"),
    ("POST", f"{AUTHORING}/deep/:train"),
    ("POST", "/language/lexicraft/projects/deep/documents"),
]
JSON_IDS = ["analyze", "legacy", "import", "patch", "train", "studio"]


@pytest.fixture(scope="module")
def json_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with the default limits: 64 levels, 100 digits."""
    with run_server(tmp_path_factory.mktemp("json-limits")) as live:
        yield live


def nested_arrays(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


def nested_objects(levels: int, inner: str = "1") -> str:
    return '{"a":' * levels + inner + "}" * levels


def send_json(server: LiveServer, method: str, path: str, text: str) -> httpx.Response:
    kind = "application/merge-patch+json" if method == "PATCH" else "application/json"
    return server.client.request(
        method, path, params=V, content=text.encode(), headers={"Content-Type": kind}
    )


def assert_json_limit(response: httpx.Response, setting: str, wording: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "InvalidRequest"
    assert error["innererror"]["code"] == "InvalidRequestBodyFormat"
    assert wording in error["message"]
    assert setting in error["message"]


@pytest.mark.parametrize("nest", [nested_arrays, nested_objects], ids=["arrays", "objects"])
@pytest.mark.parametrize(("method", "path"), JSON_ROUTES, ids=JSON_IDS)
def test_a_body_nested_too_deeply_is_refused(
    json_server: LiveServer, method: str, path: str, nest: Any
) -> None:
    # One level over the limit (the body's own object is level 1), and far over it: a
    # parser would fail with a RecursionError on the second.
    for levels in (64, 100_000):
        response = send_json(json_server, method, path, '{"x": ' + nest(levels) + "}")
        assert_json_limit(response, "LEXICRAFT_MAX_JSON_DEPTH", "more than 64 levels deep")
    assert json_server.client.get(f"{AUTHORING}/deep", params=V).status_code == 404


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES, ids=JSON_IDS)
def test_a_5000_digit_integer_is_refused(json_server: LiveServer, method: str, path: str) -> None:
    # Over Python's own limit (4,300 digits), where its parser raises a ValueError.
    for digits in ("9" * 5_000, "-" + "1" * 101):
        response = send_json(json_server, method, path, '{"x": ' + digits + "}")
        assert_json_limit(response, "LEXICRAFT_MAX_JSON_INTEGER_DIGITS", "more than 100 digits")


def test_a_body_at_the_limits_is_accepted(json_server: LiveServer) -> None:
    # Analyze: the body's object, then 63 levels, and an integer of 100 digits, in a field
    # Azure's API ignores: the request reaches the routes' own checks (no such project).
    body = {"analysisInput": documents("hello"), "tasks": [task("CustomEntityRecognition", "nobody", "prod")]}  # fmt: skip
    text = json.dumps(body)[:-1] + ', "x": ' + nested_arrays(63, "1" * 100) + "}"
    response = send_json(json_server, "POST", JOBS, text)
    assert response.status_code == 404, response.text
    # Import: free-form project settings as deep as allowed (body, metadata, settings, then
    # 61 more levels) are stored and exported as they came.
    project = project_file("atlimit", 0)
    project["metadata"]["settings"] = {"deep": json.loads(nested_objects(61, "1" * 100))}
    sent = json.dumps(project).encode()
    assert JsonLimits(64, 100).excess(sent) is None
    assert JsonLimits(63, 100).excess(sent) == "depth"  # exactly at the limit
    json_server.import_project("atlimit", project)
    exported = json_server.run_job(
        "POST", f"{AUTHORING}/atlimit/:export", params={**V, "stringIndexType": "Utf16CodeUnit"}
    )
    result = json_server.client.get(exported["resultUrl"])
    assert result.json()["metadata"]["settings"] == project["metadata"]["settings"]


def test_a_document_upload_is_not_parsed(json_server: LiveServer) -> None:
    """An uploaded document is stored as sent, whatever its content type says."""
    text = nested_arrays(1_000, "9" * 5_000).encode()
    response = json_server.client.put(
        f"{STORAGE}/files/deep.json", content=text, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert json_server.client.get(f"{STORAGE}/files/deep.json").content == text
