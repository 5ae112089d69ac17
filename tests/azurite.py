"""Azurite, Microsoft's Blob Storage emulator, started by the tests on a free port.

``make azurite`` installs the npm package into ``.tools/azurite`` (git-ignored). Without it the
tests that need Blob Storage fail and say so: the Blob adapter must be known to work against
the real protocol, not skipped quietly.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.ports import free_port

REPOSITORY = Path(__file__).resolve().parent.parent
AZURITE_BLOB = REPOSITORY / ".tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
#: Azurite's well-known development account (public, documented by Microsoft).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


class AzuriteUnavailable(RuntimeError):
    """Azurite is not installed or did not start."""


def connection_string(port: int, key: str = ACCOUNT_KEY) -> str:
    """The connection string of the development account on ``port`` (``key`` may be wrong)."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )


@contextmanager
def azurite() -> Iterator[str]:
    """A fresh Azurite blob service; yields its connection string, stops it afterwards."""
    if not AZURITE_BLOB.exists():
        raise AzuriteUnavailable(f"{AZURITE_BLOB} is missing: run make azurite")
    location = Path(tempfile.mkdtemp(prefix="lexicraft-azurite-"))
    port = free_port()
    log = (location / "azurite.log").open("wb")
    process = subprocess.Popen(
        [str(AZURITE_BLOB), "--blobHost", "127.0.0.1", "--blobPort", str(port),
         "--location", str(location / "data"), "--skipApiVersionCheck", "--loose",
         "--silent", "--disableTelemetry"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AzuriteUnavailable(
                    f"azurite-blob exited with {process.returncode}: "
                    + (location / "azurite.log").read_text(errors="replace")
                )
            try:
                # Any HTTP answer (an unauthenticated request is refused) means it serves.
                httpx.get(f"http://127.0.0.1:{port}/{ACCOUNT}?comp=list", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise AzuriteUnavailable("azurite-blob did not answer within 60 s") from None
                time.sleep(0.1)
        yield connection_string(port)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
        log.close()
        shutil.rmtree(location, ignore_errors=True)
