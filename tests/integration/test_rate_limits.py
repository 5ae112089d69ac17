"""Rate limits per subscription key over real HTTP (issue 22, finding 7): a key over its
budget gets a 429 with ``Retry-After`` and an Azure envelope naming the setting; other keys,
the other budget and the operations endpoints are unaffected; and API processes that share a
Redis share each key's budget.

Budgets are per hour, so that none refills while a test runs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lexicraft.bootstrap import open_context
from lexicraft.services import keys
from tests.integration.processes import start, stop
from tests.integration.runtime_fixtures import JOBS
from tests.integration.server import (
    API_VERSION,
    AUTHORING,
    HTTP_TIMEOUT_S,
    TEST_KEY,
    LiveServer,
    free_port,
    run_server,
    wait_healthy,
)

RUNTIME_BUDGET = 3
AUTHORING_BUDGET = 2
V = {"api-version": API_VERSION}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_server(
        tmp_path_factory.mktemp("rate-limits"),
        rate_limit_runtime=f"{RUNTIME_BUDGET}/hour",
        rate_limit_authoring=f"{AUTHORING_BUDGET}/hour",
    ) as live:
        yield live


def new_key(server: LiveServer) -> dict[str, str]:
    """The headers of a key of the test's own: every budget starts full."""
    context = open_context(server.settings)
    try:
        _created, key = keys.create_key(context.database, f"rate-{uuid.uuid4().hex[:8]}")
    finally:
        context.database.engine.dispose()
    return {"Ocp-Apim-Subscription-Key": key}


def poll(server: LiveServer, key: dict[str, str]) -> httpx.Response:
    """A runtime request: a poll of a job that does not exist (404 while within budget)."""
    return httpx.get(
        f"{server.base_url}{JOBS}/{uuid.uuid4()}", params=V, headers=key, timeout=HTTP_TIMEOUT_S
    )


def list_projects(server: LiveServer, key: dict[str, str]) -> httpx.Response:
    """An authoring request (200 while within budget)."""
    return httpx.get(f"{server.base_url}{AUTHORING}", params=V, headers=key, timeout=HTTP_TIMEOUT_S)


def assert_throttled(response: httpx.Response, setting: str, budget: int, what: str) -> None:
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 3_600
    error = response.json()["error"]
    assert error["code"] == "TooManyRequests"
    assert f"more than {budget} {what} per hour" in error["message"]
    assert setting in error["message"]
    assert f"retry after {retry_after} seconds" in error["message"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # a response like any other


def test_the_request_after_the_runtime_budget_is_refused(server: LiveServer) -> None:
    key = new_key(server)
    for _ in range(RUNTIME_BUDGET):
        assert poll(server, key).status_code == 404
    assert_throttled(
        poll(server, key), "LEXICRAFT_RATE_LIMIT_RUNTIME", RUNTIME_BUDGET, "runtime requests"
    )
    # Submitting counts against the same budget as polling, and is refused before its
    # body is read.
    submit = httpx.post(
        f"{server.base_url}{JOBS}", params=V, headers=key, json={}, timeout=HTTP_TIMEOUT_S
    )
    assert submit.status_code == 429


def test_another_key_is_unaffected(server: LiveServer) -> None:
    throttled, other = new_key(server), new_key(server)
    for _ in range(RUNTIME_BUDGET + 1):
        poll(server, throttled)
    assert poll(server, throttled).status_code == 429
    for _ in range(RUNTIME_BUDGET):
        assert poll(server, other).status_code == 404


def test_runtime_and_authoring_budgets_are_separate(server: LiveServer) -> None:
    key = new_key(server)
    for _ in range(RUNTIME_BUDGET + 1):
        poll(server, key)
    assert poll(server, key).status_code == 429
    for _ in range(AUTHORING_BUDGET):
        assert list_projects(server, key).status_code == 200
    assert_throttled(
        list_projects(server, key),
        "LEXICRAFT_RATE_LIMIT_AUTHORING",
        AUTHORING_BUDGET,
        "authoring requests",
    )
    # The Studio's labeling API and the storage routes are authoring requests too.
    storage = httpx.get(
        f"{server.base_url}/language/lexicraft/storage/c/a.txt", headers=key, timeout=HTTP_TIMEOUT_S
    )
    assert storage.status_code == 429
    # A fresh key still has both.
    fresh = new_key(server)
    assert list_projects(server, fresh).status_code == 200
    assert poll(server, fresh).status_code == 404


def test_operations_endpoints_are_not_limited(server: LiveServer) -> None:
    key = new_key(server)
    for _ in range(RUNTIME_BUDGET + AUTHORING_BUDGET + 1):
        poll(server, key)
        list_projects(server, key)
    for path in ("/health", "/health/live", "/health/ready", "/metrics", "/openapi.json"):
        for _ in range(RUNTIME_BUDGET + AUTHORING_BUDGET + 1):
            assert (
                httpx.get(
                    f"{server.base_url}{path}", headers=key, timeout=HTTP_TIMEOUT_S
                ).status_code
                == 200
            ), path


def test_unknown_keys_are_refused_as_such_and_count_nowhere(server: LiveServer) -> None:
    for _ in range(RUNTIME_BUDGET + 2):
        assert poll(server, {"Ocp-Apim-Subscription-Key": "not-a-key"}).status_code == 401
        assert poll(server, {}).status_code == 401


def test_unreachable_counters_refuse_with_a_503(tmp_path: Path) -> None:
    """Requests that would be counted are refused, not let through uncounted; the answer
    names the setting, never the URL."""
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    with run_server(tmp_path, rate_limit_runtime="5/hour", rate_limit_storage_url=nowhere) as live:
        response = poll(live, {"Ocp-Apim-Subscription-Key": TEST_KEY})
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == str(live.settings.unavailable_retry_after_s)
        error = response.json()["error"]
        assert (error["code"], error["innererror"]["code"]) == (
            "ServiceUnavailable",
            "RateLimitStorageUnavailable",
        )
        assert "LEXICRAFT_RATE_LIMIT_STORAGE_URL" in error["message"]
        assert "127.0.0.1" not in error["message"]
        # Routes without a budget still answer.
        assert live.client.get(AUTHORING, params=V).status_code == 200
        assert live.client.get("/health/live").status_code == 200


# -- several API processes share one budget through Redis ---------------------------------------


def test_processes_sharing_redis_share_each_keys_budget(redis_url: str, tmp_path: Path) -> None:
    """Two ``lexicraft serve`` processes over one database and one Redis: a key's budget is
    spent wherever its requests go (with counters in memory, each would allow the budget)."""
    key = f"rate-{uuid.uuid4().hex}"  # counters of the test's own on a shared Redis
    env = {
        **os.environ,
        "LEXICRAFT_DATA_DIR": str(tmp_path / "data"),
        "LEXICRAFT_API_KEY": key,
        "LEXICRAFT_RATE_LIMIT_RUNTIME": "4/hour",
        "LEXICRAFT_RATE_LIMIT_AUTHORING": "",
        "LEXICRAFT_RATE_LIMIT_STORAGE_URL": redis_url,
    }
    log = tmp_path / "servers.log"
    migrated = start(["migrate"], env, log)
    assert migrated.wait(120) == 0, log.read_text()
    ports = [free_port(), free_port()]
    servers = [
        start(["serve", "--no-workers", "--host", "127.0.0.1", "--port", str(port)], env, log)
        for port in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process in zip(urls, servers, strict=True):
            wait_healthy(url, process, log)
        headers = {"Ocp-Apim-Subscription-Key": key}

        def poll_at(url: str) -> int:
            response = httpx.get(
                f"{url}{JOBS}/{uuid.uuid4()}", params=V, headers=headers, timeout=HTTP_TIMEOUT_S
            )
            return response.status_code

        first, second = urls
        assert [poll_at(first), poll_at(second), poll_at(first), poll_at(second)] == [404] * 4
        assert poll_at(first) == 429
        assert poll_at(second) == 429
        # Authoring has no budget on these servers: it is not limited at all.
        for _ in range(6):
            response = httpx.get(
                f"{second}{AUTHORING}", params=V, headers=headers, timeout=HTTP_TIMEOUT_S
            )
            assert response.status_code == 200
    finally:
        for process in servers:
            stop(process)
