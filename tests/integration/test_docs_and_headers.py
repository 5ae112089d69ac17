"""The API docs over real HTTP: served offline (Swagger UI and ReDoc from the installed
package, nothing from another host), behind the key unless ``docs_public``, or not at all
with ``docs_enabled=false``; and the security headers on every kind of response."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.server import (
    API_VERSION,
    AUTHORING,
    HTTP_TIMEOUT_S,
    TEST_KEY,
    LiveServer,
    run_server,
)

# Any absolute or protocol-relative URL (a CDN, a font host, a favicon elsewhere).
_EXTERNAL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}""")
_ASSET = re.compile(r'(?:href|src)="([^"]+)"')
DOC_PAGES = ("/docs", "/redoc")
SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_server(tmp_path_factory.mktemp("docs")) as live:
        yield live


@pytest.mark.parametrize("path", [*DOC_PAGES, "/openapi.json"])
def test_the_docs_need_the_key(server: LiveServer, path: str) -> None:
    anonymous = httpx.get(f"{server.base_url}{path}", timeout=HTTP_TIMEOUT_S)
    assert anonymous.status_code == 401, anonymous.text
    assert server.client.get(path).status_code == 200


@pytest.mark.parametrize("page", DOC_PAGES)
def test_the_doc_pages_load_everything_from_this_server(server: LiveServer, page: str) -> None:
    response = server.client.get(page)
    assert response.headers["content-type"].startswith("text/html")
    assert _EXTERNAL.findall(response.text) == []
    assets = _ASSET.findall(response.text)
    assert any(asset.endswith(".js") for asset in assets), response.text
    for asset in assets:
        assert asset.startswith("/docs/static/"), asset
        # The page's own scripts and styles need no key: they hold nothing about the API.
        served = httpx.get(f"{server.base_url}{asset}", timeout=HTTP_TIMEOUT_S)
        assert served.status_code == 200, asset
        assert len(served.content) > 1_000, asset
    assert "/openapi.json" in response.text


def test_public_docs_need_no_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    with run_server(tmp_path_factory.mktemp("public-docs"), docs_public=True) as live:
        for path in (*DOC_PAGES, "/openapi.json"):
            assert httpx.get(f"{live.base_url}{path}", timeout=HTTP_TIMEOUT_S).status_code == 200, (
                path
            )
        # The API itself still needs the key.
        api = httpx.get(
            f"{live.base_url}{AUTHORING}",
            params={"api-version": API_VERSION},
            timeout=HTTP_TIMEOUT_S,
        )
        assert api.status_code == 401


def test_docs_can_be_turned_off(tmp_path_factory: pytest.TempPathFactory) -> None:
    with run_server(tmp_path_factory.mktemp("no-docs"), docs_enabled=False) as live:
        for page in DOC_PAGES:
            assert live.client.get(page).status_code == 404, page
        assert live.client.get("/openapi.json").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "keyed"),
    [
        ("GET", AUTHORING, 200, True),  # JSON
        ("GET", AUTHORING, 401, False),  # refused before routing
        ("GET", f"{AUTHORING}/nobody", 404, True),  # an error envelope
        ("GET", "/language/lexicraft/storage/box/missing.txt", 400, True),
        ("PUT", "/language/lexicraft/storage/box/big.txt", 413, True),  # the body limit
        ("GET", "/health/live", 200, False),
        ("GET", "/docs", 200, True),
        ("GET", "/studio", 200, False),
        ("GET", "/nowhere", 404, False),
    ],
)
def test_every_response_carries_the_security_headers(
    server: LiveServer, method: str, path: str, status: int, keyed: bool
) -> None:
    headers = {"Ocp-Apim-Subscription-Key": TEST_KEY} if keyed else {}
    content = b"x" * (server.settings.max_upload_bytes + 1) if method == "PUT" else None
    response = httpx.request(
        method,
        f"{server.base_url}{path}",
        params={"api-version": API_VERSION},
        headers=headers,
        content=content,
        timeout=HTTP_TIMEOUT_S,
    )
    assert response.status_code == status, response.text
    for name, value in SECURITY.items():
        assert response.headers.get(name) == value, (name, response.headers)


def test_the_studio_keeps_its_own_policy(server: LiveServer) -> None:
    response = httpx.get(f"{server.base_url}/studio", timeout=HTTP_TIMEOUT_S)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers.get_list("referrer-policy") == ["no-referrer"]
