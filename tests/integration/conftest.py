"""Fixtures: the module's database kind, a live server per module, the trained data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.databases import KINDS, Databases
from tests.integration.runtime_fixtures import RuntimeTemplates
from tests.integration.server import LiveServer


@pytest.fixture(scope="module", params=KINDS)
def databases(request: pytest.FixtureRequest) -> Iterator[Databases]:
    """Where the module's data dirs keep their data: SQLite files, or PostgreSQL databases.

    Every module that asks for a server runs all its tests once per kind.
    """
    server_url = None
    if request.param == "postgresql":
        server_url = request.getfixturevalue("postgres_server_url")
    with Databases(request.param, server_url) as databases:
        yield databases


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Iterator[LiveServer]:
    """A real uvicorn server with its own database and storage folder."""
    with databases.serve(tmp_path_factory.mktemp("lexicraft-data")) as live:
        yield live


# The runtime projects are trained once per session and database kind. Two fixtures rather
# than one: the PostgreSQL templates must be dropped before the server they live on stops.
@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeTemplates]:
    with RuntimeTemplates(tmp_path_factory, Databases("sqlite")) as templates:
        yield templates


@pytest.fixture(scope="session")
def postgresql_templates(
    tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str
) -> Iterator[RuntimeTemplates]:
    databases = Databases("postgresql", postgres_server_url)
    with RuntimeTemplates(tmp_path_factory, databases) as templates:
        yield templates


@pytest.fixture(scope="module")
def trained_data_dir(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> Path:
    """A copy of the session's trained data dir, with a copy of its database, for the module."""
    templates: RuntimeTemplates = request.getfixturevalue(f"{databases.kind}_templates")
    return templates.copy_to(databases, tmp_path_factory.mktemp("trained") / "data")
