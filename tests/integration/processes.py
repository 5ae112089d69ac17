"""Real ``lexicraft`` processes for the scale-out tests: start, stop, wait, and their jobs.

The PostgreSQL, Azure Blob, Ray and operations suites run ``lexicraft serve --no-workers``
and ``lexicraft worker`` as processes, as a fleet does; these are the helpers they share.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.integration.runtime_fixtures import JOBS, task
from tests.integration.server import API_VERSION, NO_RATE_LIMITS_ENV, TEST_KEY

LEXICRAFT = Path(sys.executable).with_name("lexicraft")
#: The statuses in which a job has ended.
TERMINAL = ("succeeded", "failed", "cancelled", "partiallyCompleted")


def lexicraft_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """What every process of the set-up shares: the database, the data dir, a short lease,
    no rate limits."""
    return {
        **os.environ,
        **NO_RATE_LIMITS_ENV,
        "LEXICRAFT_DATABASE_URL": database_url,
        "LEXICRAFT_DATA_DIR": str(data_dir),
        "LEXICRAFT_API_KEY": TEST_KEY,
        "LEXICRAFT_JOB_LEASE_S": "2",
        "LEXICRAFT_JOB_POLL_INTERVAL_S": "0.1",
    }


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``lexicraft ARGS`` in the background, its output appended to ``log``."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [str(LEXICRAFT), *args], env=env, stdout=output, stderr=subprocess.STDOUT
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Kill ``process`` if it still runs."""
    if process.poll() is None:
        process.kill()
        process.wait(30)


def wait_ready(process: subprocess.Popen[bytes], log: Path, timeout_s: float = 120) -> None:
    """Wait until the worker ``process`` has logged that its pools run."""
    deadline = time.monotonic() + timeout_s
    while f"worker {process.pid} running" not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.05)


def submit_ner(client: httpx.Client, project: str, deployment: str, documents: list[str]) -> str:
    """An NER analyze job for ``documents`` (code-point offsets); the path and query of its
    Operation-Location (so that any API replica's client can poll it)."""
    response = client.post(
        JOBS,
        params={"api-version": API_VERSION},
        json={
            "analysisInput": {
                "documents": [{"id": str(i), "text": text} for i, text in enumerate(documents)]
            },
            "tasks": [
                task(
                    "CustomEntityRecognition",
                    project,
                    deployment,
                    stringIndexType="UnicodeCodePoint",
                )
            ],
        },
    )
    assert response.status_code == 202, response.text
    parts = urlsplit(response.headers["Operation-Location"])
    return f"{parts.path}?{parts.query}"


def wait_terminal(client: httpx.Client, path: str, timeout_s: float = 180) -> dict[str, Any]:
    """Poll job ``path`` until it has ended; its last body."""
    deadline = time.monotonic() + timeout_s
    while True:
        body: dict[str, Any] = client.get(path).json()
        if body["status"] in TERMINAL:
            return body
        assert time.monotonic() < deadline, f"job still {body['status']}"
        time.sleep(0.05)
