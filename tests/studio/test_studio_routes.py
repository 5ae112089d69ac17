"""The Studio's HTML and static files: served without a key, offline by construction."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable

import httpx
import pytest

from tests.integration.server import HTTP_TIMEOUT_S, LiveServer, run_server

# Any absolute or protocol-relative URL in a script, style or page.
_EXTERNAL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}""")
# An XML namespace is a name, not a request.
_NAMESPACE = re.compile(r'xmlns(?::\w+)?="[^"]*"')
_IMPORT = re.compile(r"""from\s+"(\.{1,2}/[^"]+)";""")
_ASSET = re.compile(r'(?:href|src)="(/studio/static/[^"]+)"')


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_server(tmp_path_factory.mktemp("studio-routes")) as live:
        yield live


def static_files() -> list[tuple[str, Traversable]]:
    """Every file of the Studio's static folder as (path under static/, file)."""
    found: list[tuple[str, Traversable]] = []

    def walk(folder: Traversable, prefix: str) -> None:
        for entry in folder.iterdir():
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
            else:
                found.append((f"{prefix}{entry.name}", entry))

    walk(resources.files("lexicraft.studio").joinpath("static"), "")
    return sorted(found, key=lambda item: item[0])


def test_the_page_needs_no_key_and_forbids_other_hosts(server: LiveServer) -> None:
    response = httpx.get(f"{server.base_url}/studio", timeout=HTTP_TIMEOUT_S)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    for asset in _ASSET.findall(response.text):
        served = httpx.get(f"{server.base_url}{asset}", timeout=HTTP_TIMEOUT_S)
        assert served.status_code == 200, asset
    slash = httpx.get(f"{server.base_url}/studio/", follow_redirects=False, timeout=HTTP_TIMEOUT_S)
    assert slash.status_code == 308
    assert slash.headers["location"] == "/studio"


def test_every_static_file_is_served_with_its_type(server: LiveServer) -> None:
    types = {".js": "javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg"}
    for path, _file in static_files():
        response = httpx.get(f"{server.base_url}/studio/static/{path}", timeout=HTTP_TIMEOUT_S)
        assert response.status_code == 200, path
        assert types[path[path.rindex(".") :]] in response.headers["content-type"], path
    missing = httpx.get(f"{server.base_url}/studio/static/nope.js", timeout=HTTP_TIMEOUT_S)
    assert missing.status_code == 404


def test_nothing_refers_to_another_host() -> None:
    for path, file in static_files():
        text = _NAMESPACE.sub("", file.read_text("utf-8"))
        assert _EXTERNAL.findall(text) == [], path


def test_every_module_import_resolves() -> None:
    paths = {path for path, _file in static_files()}
    for path, file in static_files():
        if not path.endswith(".js"):
            continue
        folder = path.rsplit("/", 1)[0]
        for target in _IMPORT.findall(file.read_text("utf-8")):
            parts = folder.split("/")
            for part in target.split("/"):
                if part == "..":
                    parts.pop()
                elif part != ".":
                    parts.append(part)
            assert "/".join(parts) in paths, f"{path} imports {target}"
