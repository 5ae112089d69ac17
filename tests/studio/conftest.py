"""Fixtures for driving the Studio in Debian's Chromium through Playwright.

Chromium is a test prerequisite (``make test`` installs it); when it is missing the browser
tests fail with a message saying how to install it, they are never skipped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.integration.server import TEST_KEY, LiveServer, run_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request

# Debian's package; LEXICRAFT_TEST_CHROMIUM points elsewhere (e.g. to prove the failure below).
CHROMIUM = Path(os.environ.get("LEXICRAFT_TEST_CHROMIUM", "/usr/bin/chromium"))
# The flags from the machine notes: no background networking, so the browser itself makes no
# request anywhere (the closed network would refuse them, noisily).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "studio"


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium; a clear failure (not a skip) when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}; the Studio browser tests need it. "
            "Run `make test` (it installs Debian's chromium package) or "
            "`apt-get install -y chromium`.",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Browser]:
    """One headless Chromium for the session.

    Playwright's ``launch()`` starts it on a fresh temporary profile (its own
    ``--user-data-dir``), as the machine notes ask.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        pytest.fail("the playwright package is missing: pip install -e '.[dev]'", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real uvicorn server for the module's browser tests."""
    with run_server(tmp_path_factory.mktemp("studio-e2e")) as live:
        yield live


@dataclass
class Studio:
    """A browser tab on the Studio, with every request it made and every script error."""

    server: LiveServer
    context: BrowserContext
    page: Page
    name: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The Studio's address."""
        return f"{self.server.base_url}/studio"

    def foreign_requests(self) -> list[str]:
        """Requests to anything but this server (must stay empty: the Studio is offline)."""
        prefix = self.server.base_url + "/"
        return [url for url in self.requests if not url.startswith(prefix)]

    def assert_offline(self) -> None:
        """Every request went to the server, none was even attempted elsewhere, no script failed.

        The Studio's Content-Security-Policy stops a request to another host before it is sent
        (so Playwright never sees it); the browser reports the attempt on the console instead.
        """
        assert self.requests, "the page made no request at all"
        assert self.foreign_requests() == [], f"requests to other hosts: {self.foreign_requests()}"
        assert self.blocked == [], f"requests to other hosts (blocked by the CSP): {self.blocked}"
        assert self.errors == [], f"script errors on the page: {self.errors}"

    def screenshot(self, page_name: str) -> Path:
        """Save the visible page as ``test-artifacts/studio/{name}-{page_name}.png``."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        # Messages from earlier steps would cover the page; close them as their dismiss buttons do
        # (clicking each would race with the ones timing out on their own).
        self.page.evaluate("document.querySelectorAll('#status .message').forEach(m => m.remove())")
        self.page.evaluate("window.scrollTo(0, 0)")
        path = ARTIFACTS / f"{self.name}-{page_name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def screenshot_of(self, selector: str, page_name: str) -> Path:
        """Save one element (scrolled into view) as ``{name}-{page_name}.png``."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{page_name}.png"
        self.page.locator(selector).screenshot(path=str(path))
        return path

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Ask the server directly (to check what the page did)."""
        response = self.server.client.request(method, path, **kwargs)
        assert response.status_code < 300, response.text
        return json.loads(response.text) if response.text else None


@pytest.fixture
def studio(
    browser: Browser, studio_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Studio]:
    """A fresh browser context at 1280x800 that records every request the page makes."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(20_000)
    # Assertions wait as long as actions: beside a loaded suite on a slow machine a save took
    # over the 5 s Playwright's assertions wait by default. The limits guard against a hang.
    expect.set_options(timeout=20_000)
    page = context.new_page()
    session = Studio(
        server=studio_server,
        context=context,
        page=page,
        name=request.node.name.removeprefix("test_"),
    )

    def record(sent: Request) -> None:
        session.requests.append(sent.url)

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            session.blocked.append(message.text)

    context.on("request", record)
    page.on("console", console)
    page.on("pageerror", lambda error: session.errors.append(str(error)))
    try:
        yield session
    finally:
        context.close()


@pytest.fixture
def studio_key() -> str:
    """The subscription key the browser signs in with."""
    return TEST_KEY
