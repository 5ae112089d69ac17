"""The database lost while serving, on a private PostgreSQL cluster that the tests crash
(``pg_ctl stop -m immediate``) and start again.

While it is down the API answers 503 with ``Retry-After`` in an Azure envelope (never a 500),
``/health/ready`` is 503 and ``/health/live`` 200; once it is back the same server serves
again without a restart, and the job it had accepted finishes. A worker backs off and keeps
trying, logs the outage once, and a job whose outcome it could not record runs again once
its lease expires.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

import httpx
import pytest

from lexicraft.domain.jobs import Job, JobKind, JobOutcome, JobStatus
from lexicraft.jobs.worker import LeasedJob, WorkerPool
from lexicraft.storage.sql.engine import Database, migrate
from lexicraft.storage.sql.jobs import JobQueue
from lexicraft.storage.sql.tables import JobRow
from tests.integration.operations import scrape, value
from tests.integration.runtime_fixtures import JOBS, task
from tests.integration.server import API_VERSION, HTTP_TIMEOUT_S, demo_project_file, run_server
from tests.postgres import PostgresUnavailable, ThrowawayCluster, fresh_database

PROJECT = "outage-ner"
DEPLOYMENT = "production"
RETRY_AFTER_S = 7


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayCluster]:
    """A cluster of this module's own: the tests stop it, which no shared server may be."""
    try:
        made = ThrowawayCluster(durable=True)
    except PostgresUnavailable as error:
        pytest.fail(f"PostgreSQL is needed by this test: {error}", pytrace=False)
    try:
        made.start()
        yield made
    finally:
        made.remove()


@pytest.fixture
def database_url(cluster: ThrowawayCluster) -> Iterator[str]:
    """A migrated database of its own on the module's cluster."""
    with fresh_database(cluster.url) as url:
        database = Database(url)
        migrate(database.engine)
        database.engine.dispose()
        yield url


def until(condition: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    """Wait until ``condition()`` holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def ready(base_url: str) -> bool:
    return httpx.get(f"{base_url}/health/ready", timeout=30).status_code == 200


def test_the_server_answers_503_while_the_database_is_down_and_recovers_by_itself(
    cluster: ThrowawayCluster, database_url: str, tmp_path: Path
) -> None:
    overrides = {
        "database_url": database_url,
        "unavailable_retry_after_s": RETRY_AFTER_S,
        "worker_backoff_max_s": 1.0,
        "job_poll_interval_s": 0.1,
    }
    with run_server(tmp_path / "data", **overrides) as live:
        live.import_project(PROJECT, demo_project_file("demo-ner", PROJECT))
        live.train(PROJECT, "m1")
        live.deploy(PROJECT, DEPLOYMENT, "m1")
        texts = [d["text"] for d in demo_project_file("demo-ner")["assets"]["documents"]]
        accepted = live.client.post(
            JOBS,
            params={"api-version": API_VERSION},
            json={
                "analysisInput": {
                    "documents": [{"id": str(i), "text": t} for i, t in enumerate(texts[:25])]
                },
                "tasks": [task("CustomEntityRecognition", PROJECT, DEPLOYMENT)],
            },
        )
        assert accepted.status_code == 202, accepted.text
        location = accepted.headers["Operation-Location"]

        cluster.stop()  # a crash: connections cut, nothing checkpointed
        try:
            down = live.client.get(location)
            assert down.status_code == 503, down.text
            assert down.headers["Retry-After"] == str(RETRY_AFTER_S)
            error = down.json()["error"]
            assert error["code"] == "ServiceUnavailable"
            assert error["innererror"]["code"] == "DatabaseUnavailable"
            for internal in ("postgresql", "127.0.0.1", str(cluster.port), "psycopg"):
                assert internal not in down.text
            # A key the server has not seen must be checked in the database: 503, not 401.
            unknown = httpx.get(
                f"{live.base_url}/language/authoring/analyze-text/projects",
                params={"api-version": API_VERSION},
                headers={"Ocp-Apim-Subscription-Key": "never-seen-key"},
                timeout=HTTP_TIMEOUT_S,
            )
            assert unknown.status_code == 503, unknown.text
            assert unknown.headers["Retry-After"] == str(RETRY_AFTER_S)

            not_ready = httpx.get(f"{live.base_url}/health/ready", timeout=HTTP_TIMEOUT_S)
            assert not_ready.status_code == 503
            assert not_ready.headers["Retry-After"] == str(RETRY_AFTER_S)
            details = not_ready.json()["error"]["details"]
            assert [detail["target"] for detail in details] == ["database"]
            assert str(cluster.port) not in not_ready.text
            assert (
                httpx.get(f"{live.base_url}/health/live", timeout=HTTP_TIMEOUT_S).status_code == 200
            )
            # Metrics still answer; the queue's gauges say they could not be read.
            assert value(scrape(f"{live.base_url}/metrics"), "lexicraft_database_up") == 0
        finally:
            cluster.start()

        # The same server, not restarted: its pool replaces the dead connections.
        until(lambda: ready(live.base_url), "the server to be ready again")
        final = live.wait_job(location)
        assert final["status"] == "succeeded", final
        results = final["tasks"]["items"][0]["results"]
        assert len(results["documents"]) == len(texts[:25])
        assert value(scrape(f"{live.base_url}/metrics"), "lexicraft_database_up") == 1


class CountingQueue(JobQueue):
    """The queue, counting the claims that failed (to know the worker kept trying)."""

    failed_claims = 0

    def claim(
        self,
        owner: str,
        kinds: Collection[JobKind],
        *,
        skip_keys: Collection[int | None] = (),
        probe: bool = True,
    ) -> Job | None:
        try:
            return super().claim(owner, kinds, skip_keys=skip_keys, probe=probe)
        except Exception:
            self.failed_claims += 1
            raise


def test_a_worker_backs_off_through_an_outage_and_its_unrecorded_job_runs_again(
    cluster: ThrowawayCluster, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database(database_url)
    queue = CountingQueue(database, lease_s=2, max_attempts=3)
    with database.session() as session:
        job_id = queue.add(session, JobKind.TRAIN, {}, ttl_s=600, project_name="p").id
    runs: list[str] = []
    crashed = threading.Event()

    def work(job: LeasedJob) -> JobOutcome:
        runs.append(job.owner)
        if len(runs) == 1:
            cluster.stop()  # the database goes away while the job runs
            crashed.set()
        return JobOutcome(JobStatus.SUCCEEDED, result={"run": len(runs)})

    pool = WorkerPool(
        queue, {JobKind.TRAIN: work}, name="authoring", kinds=[JobKind.TRAIN], threads=2,
        poll_interval_s=0.05, backoff_max_s=0.4,
    )  # fmt: skip
    caplog.set_level(logging.INFO, logger="lexicraft.jobs.worker")
    pool.start()
    try:
        assert crashed.wait(60)
        until(lambda: "could not be recorded" in caplog.text, "the lost outcome")
        # Both threads keep trying (and back off) rather than die.
        until(lambda: queue.failed_claims >= 8, "claims during the outage")
        assert all(thread.is_alive() for thread in pool._threads)
    finally:
        cluster.start()
    try:

        def succeeded() -> bool:
            with database.session() as session:
                row = session.get(JobRow, job_id)
                return row is not None and row.status == JobStatus.SUCCEEDED.value

        until(succeeded, "the job to run again after its lease expired")
        with database.session() as session:
            row = session.get(JobRow, job_id)
            assert row is not None
            # Claimed twice: the first outcome was never recorded, the second was.
            assert (row.attempts, row.result) == (2, {"run": 2})
        assert len(runs) == 2
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert sum("cannot be reached" in message for message in warnings) == 1, warnings
        assert sum("answers again" in message for message in warnings) == 1, warnings
    finally:
        pool.stop(grace_s=10)
        database.engine.dispose()
