"""Fixtures every test directory may use: a PostgreSQL database per test module, Azurite,
Redis."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs two test processes (pytest-xdist) on a two-core machine: a PyTorch or
    # OpenMP pool of two threads in each (and in the servers they start, which inherit this)
    # would put four busy threads on two cores, whose spinning waits cost far more than the
    # second thread gains. Set before anything imports torch.
    os.environ.setdefault("OMP_NUM_THREADS", "1")

from tests.azurite import AzuriteUnavailable, azurite
from tests.postgres import PostgresUnavailable, fresh_database, postgres_server
from tests.redis import RedisUnavailable, redis_server

#: The test files that take longest (a full `make test`'s durations, two cores), longest first.
LONGEST_FILES = (
    "tests/contract/test_ner_backends.py",
    "tests/cli/test_walkthrough.py",
    "tests/contract/test_classification_quality.py",
    "tests/integration/test_schema_fuzz.py",
    "tests/contract/test_classification_backends.py",
    "tests/contract/test_conversation_backends.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files in :data:`LONGEST_FILES` first, in that order, then the others by their number of
    tests, most first (the test order within a file is kept).

    `make test` hands whole files to its processes in this order (``--dist loadfile
    --no-loadscope-reorder``). xdist's own order (most tests first) hands a long file of one
    test out last, and the other processes then sit idle while it runs.
    """
    rank = {name: index for index, name in enumerate(LONGEST_FILES)}
    counts = Counter(file_of(item) for item in items)
    items.sort(key=lambda item: (rank.get(file_of(item), len(rank)), -counts[file_of(item)]))


def file_of(item: pytest.Item) -> str:
    return item.nodeid.split("::")[0]


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server for the whole run (found, or started as a throwaway cluster)."""
    try:
        with postgres_server() as url:
            yield url
    except PostgresUnavailable as error:
        pytest.fail(f"PostgreSQL is needed by this test: {error}", pytrace=False)


@pytest.fixture(scope="module")
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """The URL of an empty database of its own for the test module (no schema yet)."""
    with fresh_database(postgres_server_url) as url:
        yield url


@pytest.fixture
def azurite_connection_string() -> Iterator[str]:
    """The connection string of a fresh Azurite blob service of the test's own."""
    try:
        with azurite() as connection:
            yield connection
    except AzuriteUnavailable as error:
        pytest.fail(f"Azurite is needed by this test: {error}", pytrace=False)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis server for the whole run (found, or started as a throwaway server)."""
    try:
        with redis_server() as url:
            yield url
    except RedisUnavailable as error:
        pytest.fail(f"Redis is needed by this test: {error}", pytrace=False)
