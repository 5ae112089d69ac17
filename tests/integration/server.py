"""A real uvicorn server in a thread, and helpers to drive the Azure API over HTTP."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from lexicraft.api.app import create_app
from lexicraft.api.server import server_config
from lexicraft.settings import Settings
from tests.ports import free_port

TEST_KEY = "test-key-0123456789"
AUTHORING = "/language/authoring/analyze-text/projects"
API_VERSION = "2023-04-01"
#: Seconds a test waits for one HTTP answer: a loaded two-core machine can stall a request for
#: several seconds (httpx's default of 5 timed out in a full `make test`); a hung server still
#: fails the test.
HTTP_TIMEOUT_S = 60
#: The fast training configuration. Tests about the API rather than about a model's predictions
#: train it: it takes seconds, the accurate default minutes.
FAST = "2022-05-01-fast"


@dataclass
class LiveServer:
    """A running server: its URL, settings and an authenticated HTTP client."""

    base_url: str
    settings: Settings
    client: httpx.Client

    def wait_job(self, location: str, timeout_s: float = 120.0) -> dict[str, Any]:
        """Poll an ``Operation-Location`` until the job is terminal; returns the last body."""
        deadline = time.monotonic() + timeout_s
        while True:
            response = self.client.get(location)
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            if body["status"] in ("succeeded", "failed", "cancelled", "partiallyCompleted"):
                return body
            assert time.monotonic() < deadline, f"job still {body['status']}: {body}"
            time.sleep(0.05)

    def run_job(
        self, method: str, path: str, *, timeout_s: float = 120.0, **kwargs: Any
    ) -> dict[str, Any]:
        """Send a request that answers 202 and wait for its job; asserts it succeeded."""
        response = self.client.request(method, path, **kwargs)
        assert response.status_code == 202, response.text
        body = self.wait_job(response.headers["Operation-Location"], timeout_s)
        assert body["status"] == "succeeded", body
        return body

    def import_project(self, name: str, project_file: dict[str, Any]) -> dict[str, Any]:
        """Import ``project_file`` as project ``name`` and wait for it."""
        return self.run_job(
            "POST",
            f"{AUTHORING}/{name}/:import",
            params={"api-version": API_VERSION},
            json=project_file,
        )

    def train(
        self,
        name: str,
        label: str,
        manual: bool = True,
        config_version: str = FAST,
        timeout_s: float = 120.0,
    ) -> dict[str, Any]:
        """Train model ``label`` on project ``name`` with ``config_version`` and wait for it."""
        options = {"kind": "manual"} if manual else {"kind": "percentage"}
        return self.run_job(
            "POST",
            f"{AUTHORING}/{name}/:train",
            timeout_s=timeout_s,
            params={"api-version": API_VERSION},
            json={
                "modelLabel": label,
                "trainingConfigVersion": config_version,
                "evaluationOptions": options,
            },
        )

    def deploy(
        self, name: str, deployment: str, label: str, timeout_s: float = 120.0
    ) -> dict[str, Any]:
        """Deploy model ``label`` of ``name`` as ``deployment`` and wait for it."""
        return self.run_job(
            "PUT",
            f"{AUTHORING}/{name}/deployments/{deployment}",
            timeout_s=timeout_s,
            params={"api-version": API_VERSION},
            json={"trainedModelLabel": label},
        )


def demo_project_file(name: str, project_name: str | None = None) -> dict[str, Any]:
    """A copy of one of our demo project files, optionally renamed."""
    data: dict[str, Any] = json.loads(
        resources.files("lexicraft.demo").joinpath(f"data/{name}.json").read_text("utf-8")
    )
    if project_name is not None:
        data["metadata"]["projectName"] = project_name
        data["metadata"]["storageInputContainerName"] = project_name
    return data


#: Test servers run without rate limits: tests poll jobs every 50 ms with one key, far over
#: any budget. The rate limit tests set their own; processes get the same by environment.
NO_RATE_LIMITS: dict[str, Any] = {"rate_limit_runtime": "", "rate_limit_authoring": ""}
NO_RATE_LIMITS_ENV = {f"LEXICRAFT_{name.upper()}": "" for name in NO_RATE_LIMITS}


@contextmanager
def run_server(
    data_dir: Path, *, run_workers: bool = True, **overrides: Any
) -> Iterator[LiveServer]:
    """Start a real uvicorn server on a free port over ``data_dir``; stop it afterwards.

    It is configured as ``lexicraft serve`` configures it (timeouts included); without
    ``run_workers`` it runs no job workers (``lexicraft serve --no-workers``), so the jobs
    it takes stay waiting.
    """
    # Shorter than production's 30 s, so a job left behind is taken over soon; not much
    # shorter: with 3 s, a heartbeat that a loaded two-core CI machine delayed by two seconds
    # lost a live training to the pool's own poller, which ran it again.
    settings = Settings(
        data_dir=data_dir, api_key=TEST_KEY, job_lease_s=10.0, **{**NO_RATE_LIMITS, **overrides}
    )
    port = free_port()
    server = uvicorn.Server(
        server_config(
            create_app(settings, run_workers=run_workers),
            settings,
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    base_url = f"http://127.0.0.1:{port}"
    with httpx.Client(
        base_url=base_url, headers={"Ocp-Apim-Subscription-Key": TEST_KEY}, timeout=HTTP_TIMEOUT_S
    ) as client:
        try:
            yield LiveServer(base_url=base_url, settings=settings, client=client)
        finally:
            server.should_exit = True
            thread.join(30)


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the server ``process`` (its output in ``log``) answers ``/health``."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
