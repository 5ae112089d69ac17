"""Fixtures: a live server per test module over a fresh data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.server import LiveServer, run_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real uvicorn server with its own SQLite database and storage folder."""
    data_dir: Path = tmp_path_factory.mktemp("lexicraft-data")
    with run_server(data_dir) as live:
        yield live
