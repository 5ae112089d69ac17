"""Slow and idle clients over real sockets (issue 22, finding 7): a connection that sends
nothing, or only part of its headers, is closed once the header timeout passes; a body that
trickles is answered 408 and the connection closed; an idle kept-alive connection is closed;
clients that are merely not instantaneous are served as usual.

The server's timeouts are short (seconds) so the tests are; each test checks both that the
connection outlives most of its timeout and that it is closed soon after.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator

import pytest

from tests.integration.runtime_fixtures import JOBS
from tests.integration.server import API_VERSION, TEST_KEY, LiveServer, run_server

HEADER_TIMEOUT_S = 2.0
#: Under uvicorn's default (5 s), so that the test shows the setting applies.
KEEP_ALIVE_S = 1.0
MIN_RATE = 200  # bytes a second
GRACE_S = 1.0
#: How late a close may come on a busy machine (the tests share two cores with others).
SLACK_S = 8.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_server(
        tmp_path_factory.mktemp("slow-clients"),
        request_header_timeout_s=HEADER_TIMEOUT_S,
        keep_alive_timeout_s=KEEP_ALIVE_S,
        min_request_body_rate_bytes_s=MIN_RATE,
        request_body_grace_s=GRACE_S,
    ) as live:
        yield live


def connect(server: LiveServer) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=60)


def headers(method: str, path: str, *extra: str) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Ocp-Apim-Subscription-Key: {TEST_KEY}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_until_closed(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def seconds_until_closed(connection: socket.socket) -> tuple[float, bytes]:
    started = time.monotonic()
    received = read_until_closed(connection)
    return time.monotonic() - started, received


def test_a_connection_that_sends_nothing_is_closed(server: LiveServer) -> None:
    with connect(server) as connection:
        elapsed, received = seconds_until_closed(connection)
    assert received == b""
    assert HEADER_TIMEOUT_S * 0.8 <= elapsed < HEADER_TIMEOUT_S + SLACK_S


def test_a_connection_that_sends_half_its_headers_is_closed(server: LiveServer) -> None:
    request = headers("GET", "/health")
    with connect(server) as connection:
        connection.sendall(request[: len(request) // 2])
        elapsed, received = seconds_until_closed(connection)
    assert received == b""
    assert HEADER_TIMEOUT_S * 0.8 <= elapsed < HEADER_TIMEOUT_S + SLACK_S


def test_headers_that_trickle_are_cut_off(server: LiveServer) -> None:
    """Each byte resets no timer: the whole header block has the timeout."""
    request = headers("GET", "/health", *(f"X-Padding-{i}: {'x' * 40}" for i in range(40)))
    started = time.monotonic()
    with connect(server) as connection:
        try:
            for byte in request:
                connection.sendall(bytes([byte]))
                if select.select([connection], [], [], 0.05)[0]:
                    break  # the server closed it
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = read_until_closed(connection)
    elapsed = time.monotonic() - started
    assert received == b""
    assert HEADER_TIMEOUT_S * 0.8 <= elapsed < HEADER_TIMEOUT_S + SLACK_S


def test_a_body_that_trickles_is_answered_408(server: LiveServer) -> None:
    size = 10_000
    request = headers(
        "POST", f"{JOBS}?api-version={API_VERSION}",
        "Content-Type: application/json", f"Content-Length: {size}",
    )  # fmt: skip
    started = time.monotonic()
    with connect(server) as connection:
        connection.sendall(request)
        sent = 0
        # 10 bytes a second, against a minimum of 240, then nothing: the trickle stops inside
        # the grace period, so no byte is in flight when the server gives up and closes (a
        # closed socket with unread bytes sends a reset, which can overtake the answer).
        while time.monotonic() - started < GRACE_S * 0.6:
            connection.sendall(b" ")
            sent += 1
            time.sleep(0.1)
        answer = read_until_closed(connection)
    elapsed = time.monotonic() - started
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer
    assert b"connection: close" in head.lower()
    error = json.loads(body)["error"]
    assert error["code"] == "Timeout"
    assert "LEXICRAFT_MIN_REQUEST_BODY_RATE_BYTES_S" in error["message"]
    # The grace period, plus a little for the bytes sent in it.
    assert GRACE_S * 0.8 <= elapsed < GRACE_S + 1 + SLACK_S
    assert sent < size


def test_an_idle_kept_alive_connection_is_closed(server: LiveServer) -> None:
    with connect(server) as connection:
        connection.sendall(headers("GET", "/health"))
        first = connection.recv(65536)
        assert first.startswith(b"HTTP/1.1 200"), first
        elapsed, received = seconds_until_closed(connection)
    assert received == b""
    assert KEEP_ALIVE_S * 0.8 <= elapsed < KEEP_ALIVE_S + 3


def test_clients_that_take_their_time_within_the_limits_are_served(server: LiveServer) -> None:
    request = headers("GET", "/health")
    with connect(server) as connection:
        # Headers in pieces, well within the header timeout.
        for start in range(0, len(request), 20):
            connection.sendall(request[start : start + 20])
            time.sleep(0.05)
        assert connection.recv(65536).startswith(b"HTTP/1.1 200")
        # The same connection, a second request, its body sent for longer than the grace
        # period at five times the minimum rate: read whole (then refused for what it says).
        size = 3_000
        connection.sendall(
            headers(
                "POST", f"{JOBS}?api-version={API_VERSION}",
                "Content-Type: application/json", f"Content-Length: {size}",
            )
        )  # fmt: skip
        body = b"{" + b" " * (size - 2) + b"}"
        for start in range(0, size, 100):
            connection.sendall(body[start : start + 100])
            time.sleep(0.1)
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400"), answer  # the body's content, not its pace
    assert b"analysisInput" in answer or b"tasks" in answer
