"""Which limit each route family's body has (the one map from routes to their settings), how
fast a body must arrive, and which bodies are parsed as JSON (and checked as such)."""

from __future__ import annotations

import asyncio
import json
import math
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.types import Message, Receive, Scope, Send

from lexicraft.api.limits import BodyLimitMiddleware, BodyRate, body_limit, json_limit_error
from lexicraft.settings import Settings
from lexicraft.wire.json_limits import JsonLimits

SETTINGS = Settings(
    max_request_bytes=1, max_import_bytes=2, max_upload_bytes=3, max_authoring_request_bytes=4
)


@pytest.mark.parametrize(
    ("method", "path", "setting", "size"),
    [
        ("POST", "/language/analyze-text/jobs", "max_request_bytes", 1),
        ("POST", "/language/:analyze-text", "max_request_bytes", 1),
        ("POST", "/language/:analyze-conversations", "max_request_bytes", 1),
        ("POST", "/language/authoring/analyze-conversations/projects/p/:train", "max_authoring_request_bytes", 4),
        ("POST", "/text/analytics/v3.2-preview.2/analyze", "max_request_bytes", 1),
        ("POST", "/language/authoring/analyze-text/projects/p/:import", "max_import_bytes", 2),
        ("POST", "/language/authoring/analyze-conversations/projects/p/:import", "max_import_bytes", 2),
        ("POST", "/language/authoring/analyze-conversations/projects/p/:train", "max_authoring_request_bytes", 4),
        ("PUT", "/language/lexicraft/storage/c/a/b.txt", "max_upload_bytes", 3),
        ("PATCH", "/language/authoring/analyze-text/projects/p", "max_authoring_request_bytes", 4),
        ("POST", "/language/authoring/analyze-text/projects/p/:train", "max_authoring_request_bytes", 4),
        ("POST", "/language/lexicraft/projects/p/documents", "max_authoring_request_bytes", 4),
        ("POST", "/language/lexicraft/projects/p/:import-file", "max_import_bytes", 2),
        ("POST", "/language/lexicraft/projects/p/x/:import-file", "max_authoring_request_bytes", 4),
        ("POST", "/language/authoring/analyze-text/projects/p/x/:import", "max_authoring_request_bytes", 4),
    ],
)  # fmt: skip
def test_each_route_family_has_its_limit(method: str, path: str, setting: str, size: int) -> None:
    limit = body_limit(SETTINGS, method, path)
    assert (limit.setting, limit.max_bytes) == (setting, size)
    assert f"LEXICRAFT_{setting.upper()}" in limit.error().message


# -- a body must keep coming (BodyRate) ---------------------------------------------------------


class Client:
    """A client sending a body in ``pieces``, each ``seconds_each`` after the last, on a clock
    of its own (the middleware reads the same clock)."""

    def __init__(self, pieces: list[bytes], seconds_each: float) -> None:
        self.now = 1_000.0
        self.pieces = list(pieces)
        self.seconds_each = seconds_each
        self.sent: list[Message] = []

    def clock(self) -> float:
        return self.now

    async def receive(self) -> Message:
        self.now += self.seconds_each
        piece = self.pieces.pop(0)
        return {"type": "http.request", "body": piece, "more_body": bool(self.pieces)}

    async def send(self, message: Message) -> None:
        self.sent.append(message)


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """An app that answers 200 with the body it read."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def post(client: Client, rate_bytes_s: float, grace_s: float) -> tuple[int, bytes, dict[str, str]]:
    settings = Settings(min_request_body_rate_bytes_s=rate_bytes_s, request_body_grace_s=grace_s)
    middleware = BodyLimitMiddleware(echo, settings, clock=client.clock)
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/language/authoring/analyze-text/projects/p/:train",
        "headers": [(b"transfer-encoding", b"chunked")],
    }
    # In a thread of its own: a session's Playwright (the Studio tests) keeps an event loop
    # running in the main thread, where asyncio.run() refuses to start another.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, middleware(scope, client.receive, client.send)).result()
    start, body = client.sent[0], client.sent[1]
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    return start["status"], body["body"], headers


def test_a_body_at_the_minimum_rate_is_read_whole() -> None:
    # 100 bytes a second for 20 seconds, at a minimum of 100 bytes a second.
    client = Client([b"x" * 100] * 20, seconds_each=1.0)
    status, body, _headers = post(client, rate_bytes_s=100, grace_s=1)
    assert (status, body) == (200, b"x" * 2_000)


def test_a_body_under_the_minimum_rate_is_refused_after_the_grace_period() -> None:
    # 10 bytes a second: the grace period (5 s) and the 50 bytes received by then buy
    # 0.5 s more; the 6th piece comes too late.
    client = Client([b"x" * 10] * 100, seconds_each=1.0)
    status, body, headers = post(client, rate_bytes_s=100, grace_s=5)
    assert status == 408
    assert headers["connection"] == "close"
    error = json.loads(body)["error"]
    assert error["code"] == "Timeout"
    assert "100 bytes per second after 5 seconds" in error["message"]
    assert "LEXICRAFT_MIN_REQUEST_BODY_RATE_BYTES_S" in error["message"]
    assert "LEXICRAFT_REQUEST_BODY_GRACE_S" in error["message"]
    assert 100 - len(client.pieces) == 6


def test_a_minimum_rate_of_zero_waits_for_ever() -> None:
    client = Client([b"x"] * 10, seconds_each=3_600.0)
    status, body, _headers = post(client, rate_bytes_s=0, grace_s=0)
    assert (status, body) == (200, b"x" * 10)


def test_the_deadline_grows_with_each_byte() -> None:
    rate = BodyRate(min_bytes_s=240, grace_s=5)
    assert rate.deadline(started=10.0, received=0) == 15.0
    assert rate.deadline(started=10.0, received=2_400) == 25.0
    assert BodyRate(min_bytes_s=0, grace_s=5).deadline(10.0, 0) == math.inf


# -- JSON bodies that routes parse ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "parsed"),
    [
        ("POST", "/language/analyze-text/jobs", True),
        ("POST", "/language/authoring/analyze-text/projects/p/:import", True),
        ("PATCH", "/language/authoring/analyze-text/projects/p", True),
        ("POST", "/language/lexicraft/projects/p/documents", True),
        ("PUT", "/language/lexicraft/storage/c/a.json", False),  # stored as sent
    ],
)
def test_which_bodies_are_parsed_as_json(method: str, path: str, parsed: bool) -> None:
    assert body_limit(SETTINGS, method, path).parsed is parsed


def test_the_json_errors_name_their_settings() -> None:
    limits = JsonLimits(max_depth=64, max_integer_digits=100)
    depth = json_limit_error("depth", limits).message
    assert "more than 64 levels deep" in depth
    assert "LEXICRAFT_MAX_JSON_DEPTH" in depth
    integer = json_limit_error("integer", limits).message
    assert "more than 100 digits" in integer
    assert "LEXICRAFT_MAX_JSON_INTEGER_DIGITS" in integer
