"""A Redis server for the tests that share rate limit counters between API processes.

The server is, in this order: the one ``LEXICRAFT_TEST_REDIS_URL`` names, the one on
127.0.0.1:6379 if it answers, or a throwaway ``redis-server`` (Debian's package; ``make
redis`` installs it, and ``make test`` runs that) on a free port, with nothing saved to disk.
Without any of them the tests that need Redis fail and say so rather than skip.

Tests share a server that others may use too: each names its counters by a key of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from tests.ports import free_port

ENV_URL = "LEXICRAFT_TEST_REDIS_URL"
LOCAL_URL = "redis://127.0.0.1:6379/0"


class RedisUnavailable(RuntimeError):
    """No Redis server could be found or started."""


def answers(url: str) -> bool:
    """Whether a Redis server answers PING at ``url``."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@contextmanager
def throwaway_redis() -> Iterator[str]:
    """A ``redis-server`` of the caller's own on a free port, stopped afterwards."""
    program = shutil.which("redis-server")
    if program is None:
        raise RedisUnavailable(
            "no Redis answers on 127.0.0.1:6379 and redis-server is not installed; run "
            f"'make redis' (or 'make test'), set {ENV_URL}, or start a server there"
        )
    root = Path(tempfile.mkdtemp(prefix="lexicraft-redis-"))
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    process = subprocess.Popen(
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RedisUnavailable(f"{program} did not start on port {port}")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[str]:
    """The URL of a Redis server for the tests (see the module's docstring)."""
    configured = os.environ.get(ENV_URL)
    if configured:
        if not answers(configured):
            raise RedisUnavailable(f"{ENV_URL} is set, but no Redis answers there")
        yield configured
    elif answers(LOCAL_URL):
        yield LOCAL_URL
    else:
        with throwaway_redis() as url:
            yield url
