"""The Ray executor with a real Ray cluster, real PostgreSQL and real Lexicraft processes.

The test starts a one-node Ray cluster (``ray start --head``) of its own, an API server
(``serve --no-workers``) and two ``lexicraft worker`` processes with
``LEXICRAFT_EXECUTOR=ray``. A training runs as a Ray task; analyze jobs run on the model's
Ray actor, shared by both workers, which batches requests of concurrent jobs; the results are
those of the local executor on the same model folder. Ray worker processes killed mid-task
end in a retried training, a failed job with a reason, or a new actor, never a stuck job.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import create_engine, text

from lexicraft.domain.projects import ProjectKind
from lexicraft.jobs.executors.local import LocalCompute
from lexicraft.settings import Settings
from lexicraft.storage.artifacts.local import LocalModelStore
from tests.integration.processes import start, submit_ner, wait_ready, wait_terminal
from tests.integration.server import (
    API_VERSION,
    AUTHORING,
    FAST,
    HTTP_TIMEOUT_S,
    NO_RATE_LIMITS_ENV,
    TEST_KEY,
    LiveServer,
    demo_project_file,
    free_port,
    wait_healthy,
)

BIN = Path(sys.executable).parent
PROJECT = "ray-ner"
DEPLOYMENT = "production"

pytestmark = pytest.mark.slow  # a Ray cluster, four lexicraft processes and a training


@dataclass
class RayCluster:
    """A one-node Ray cluster started by the test: its GCS address and its process group."""

    address: str
    group: int


def descendants(root_group: int) -> list[int]:
    """Every live process of the cluster: its process group and everything they started.

    Ray starts each worker in a process group of its own, so the group alone misses them.
    """
    parents: dict[int, int] = {}
    groups: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # After "pid (comm)": state, parent pid, process group.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        groups[int(entry.name)] = int(fields[2])
    found = {pid for pid, group in groups.items() if group == root_group}
    grown = True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grown = bool(more)
    return sorted(found)


def cluster_processes(cluster: RayCluster, title: str) -> list[int]:
    """The cluster's processes whose title (Ray sets ``ray::<task or actor>``) is ``title``."""
    found = []
    for pid in descendants(cluster.group):
        try:
            argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        if argv0 == title:
            found.append(pid)
    return found


def wait_for_process(
    cluster: RayCluster, title: str, other_than: frozenset[int] = frozenset()
) -> int:
    """The pid of a process of the cluster titled ``title`` and not in ``other_than``."""
    deadline = time.monotonic() + 120
    while True:
        fresh = [pid for pid in cluster_processes(cluster, title) if pid not in other_than]
        if fresh:
            return fresh[0]
        assert time.monotonic() < deadline, f"no Ray process {title!r} appeared"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[RayCluster]:
    """``ray start --head`` with 2 CPUs on a free port; every process of it killed afterwards."""
    ray = BIN / "ray"
    if not ray.is_file():
        pytest.fail(f"Ray is needed by this test and {ray} is missing: pip install ray", False)
    port = free_port()
    # Ray's socket paths must stay short, so the temp dir is directly under /tmp.
    temp_dir = Path(tempfile.mkdtemp(prefix="lxray-", dir="/tmp"))
    log = temp_dir / "ray-start.log"
    with log.open("wb") as output:
        head = subprocess.Popen(
            [
                str(ray), "start", "--head", "--block", "--num-cpus", "2",
                "--include-dashboard=false", "--disable-usage-stats",
                "--port", str(port), "--temp-dir", str(temp_dir),
            ],
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    cluster = RayCluster(address=f"127.0.0.1:{port}", group=head.pid)
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log.read_text(errors="replace"):
            assert head.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the Ray cluster did not start"
            time.sleep(0.1)
        yield cluster
    finally:
        for pid in descendants(cluster.group):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        head.wait(30)
        shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def ray_client(ray_cluster: RayCluster) -> Iterator[Any]:
    """The ``ray`` module, connected to the cluster as a driver (to read an actor's stats)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Ray's own deprecations are not this test's business
        import ray

        ray.init(address=ray_cluster.address, namespace="lexicraft", logging_level="WARNING")
    yield ray
    ray.shutdown()


@dataclass
class Deployed:
    """The set-up every test shares: the API, the database and the deployed model's key."""

    live: LiveServer
    database_url: str
    data_dir: Path
    artifact: str  # the model's key in the model store
    log: Path


@pytest.fixture(scope="module")
def deployed(
    ray_cluster: RayCluster, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    """API + two Ray-executor workers over PostgreSQL; PROJECT trained (through Ray), deployed."""
    tmp = tmp_path_factory.mktemp("ray")
    data_dir = tmp / "data"
    log = tmp / "processes.log"
    env = {
        **os.environ,
        **NO_RATE_LIMITS_ENV,
        "LEXICRAFT_DATABASE_URL": postgres_url,
        "LEXICRAFT_DATA_DIR": str(data_dir),
        "LEXICRAFT_API_KEY": TEST_KEY,
        "LEXICRAFT_JOB_POLL_INTERVAL_S": "0.1",
        "LEXICRAFT_EXECUTOR": "ray",
        "LEXICRAFT_RAY_ADDRESS": ray_cluster.address,
        # A wide window, so that requests of concurrent jobs surely meet in the actor.
        "LEXICRAFT_RAY_BATCH_WAIT_MS": "300",
    }
    migrated = subprocess.run(
        [str(BIN / "lexicraft"), "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    processes = [start(["serve", "--no-workers", "--port", str(port)], env, log)]
    try:
        workers = [start(["worker", "--concurrency", "2"], env, log) for _ in range(2)]
        processes += workers
        base_url = f"http://127.0.0.1:{port}"
        wait_healthy(base_url, processes[0], log)
        for worker in workers:
            wait_ready(worker, log)
        with httpx.Client(
            base_url=base_url,
            headers={"Ocp-Apim-Subscription-Key": TEST_KEY},
            timeout=HTTP_TIMEOUT_S,
        ) as client:
            live = LiveServer(base_url=base_url, settings=Settings(), client=client)
            live.import_project(PROJECT, demo_project_file("demo-ner", PROJECT))
            live.train(PROJECT, "m1")
            live.deploy(PROJECT, DEPLOYMENT, "m1")
            engine = create_engine(postgres_url)
            with engine.connect() as connection:
                artifact_dir = connection.execute(
                    text("SELECT model_artifact_dir FROM deployments WHERE name = :name"),
                    {"name": DEPLOYMENT},
                ).scalar_one()
            engine.dispose()
            yield Deployed(live, postgres_url, data_dir, artifact_dir, log)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(30)


def entities(body: dict[str, Any]) -> list[list[tuple[int, int, str, float]]]:
    results = body["tasks"]["items"][0]["results"]
    assert results["errors"] == []
    return [
        [(e["offset"], e["length"], e["category"], e["confidenceScore"]) for e in d["entities"]]
        for d in results["documents"]
    ]


def local_entities(deployed: Deployed, documents: list[str]) -> list[list[Any]]:
    """What the local executor finds in ``documents`` with the same model."""
    compute = LocalCompute(LocalModelStore(deployed.data_dir / "models"), 1)
    outputs = compute.predict(ProjectKind.ENTITY_RECOGNITION, deployed.artifact, documents, list)
    return [
        [(s.start, s.end - s.start, s.category, round(s.confidence, 4)) for s in spans]
        for spans in outputs
    ]


def test_analyze_runs_on_a_shared_batching_actor_with_the_local_executors_results(
    deployed: Deployed, ray_cluster: RayCluster, ray_client: Any
) -> None:
    from lexicraft.jobs.executors.ray import actor_name

    client = deployed.live.client
    texts = [d["text"] for d in demo_project_file("demo-ner")["assets"]["documents"]]
    actor = ray_client.get_actor(actor_name(deployed.artifact, 0))
    before = ray_client.get(actor.stats.remote())

    # Eight jobs at once over two worker processes (two analyze threads each).
    batches = [texts[job * 3 : job * 3 + 3] for job in range(8)]
    with ThreadPoolExecutor(8) as pool:
        paths = list(
            pool.map(lambda documents: submit_ner(client, PROJECT, DEPLOYMENT, documents), batches)
        )
    finals = [wait_terminal(client, path) for path in paths]
    assert [final["status"] for final in finals] == ["succeeded"] * 8
    for documents, final in zip(batches, finals, strict=True):
        assert entities(final) == local_entities(deployed, documents)

    after = ray_client.get(actor.stats.remote())
    # Every job's request reached the one actor (replicas: 1) both workers share ...
    assert after["requests"] - before["requests"] == 8
    assert len(cluster_processes(ray_cluster, "ray::_ModelServer")) == 1
    # ... and requests of concurrent jobs were predicted together.
    assert after["batches"] - before["batches"] < 8

    # The actor's worker killed: the next job gets a new actor and the same results.
    for pid in cluster_processes(ray_cluster, "ray::_ModelServer"):
        os.kill(pid, signal.SIGKILL)
    final = wait_terminal(client, submit_ner(client, PROJECT, DEPLOYMENT, batches[0]))
    assert final["status"] == "succeeded", final
    assert entities(final) == local_entities(deployed, batches[0])


def submit_training(client: httpx.Client, label: str, config_version: str = FAST) -> str:
    """A training of ``label``; its Operation-Location."""
    response = client.post(
        f"{AUTHORING}/{PROJECT}/:train",
        params={"api-version": API_VERSION},
        json={
            "modelLabel": label,
            "trainingConfigVersion": config_version,
            "evaluationOptions": {"kind": "manual"},
        },
    )
    assert response.status_code == 202, response.text
    return response.headers["Operation-Location"]


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_training_whose_ray_worker_dies_is_retried_then_fails_with_a_reason(
    deployed: Deployed, ray_cluster: RayCluster
) -> None:
    client = deployed.live.client
    location = submit_training(client, "doomed")

    # The Ray worker running the task is killed mid-task; Ray runs it again
    # (LEXICRAFT_RAY_TRAIN_MAX_RETRIES=1), and that worker is killed too.
    first = wait_for_process(ray_cluster, "ray::_train")
    os.kill(first, signal.SIGKILL)
    second = wait_for_process(ray_cluster, "ray::_train", other_than=frozenset({first}))
    os.kill(second, signal.SIGKILL)

    body = deployed.live.wait_job(location, timeout_s=120)
    assert body["status"] == "failed", body
    assert "the Ray worker running it died" in json.dumps(body["errors"]), body["errors"]
    engine = create_engine(deployed.database_url)
    with engine.connect() as connection:
        attempts = connection.execute(
            text("SELECT attempts FROM jobs WHERE kind = 'train' AND target = 'doomed'")
        ).scalar_one()
    engine.dispose()
    assert attempts == 1  # failed by its worker, not left to the queue's lease expiry
    # Nothing of the dead attempts is left behind, and m1 still serves.
    assert list((deployed.data_dir / "models" / PROJECT).glob("*.partial")) == []
    models = client.get(f"{AUTHORING}/{PROJECT}/models", params={"api-version": API_VERSION})
    assert [m["label"] for m in models.json()["value"]] == ["m1"]


def test_cancelling_a_training_cancels_its_ray_task(
    deployed: Deployed, ray_cluster: RayCluster
) -> None:
    client = deployed.live.client
    # The accurate configuration: it trains for minutes, so the task surely runs when the
    # cancel arrives (it is stopped within seconds; it never trains to the end).
    location = submit_training(client, "cancelled", config_version="2022-05-01")
    running = wait_for_process(ray_cluster, "ray::_train")
    cancel = client.post(f"{urlsplit(location).path}/:cancel", params={"api-version": API_VERSION})
    assert cancel.status_code == 202, cancel.text

    body = deployed.live.wait_job(location, timeout_s=120)
    assert body["status"] == "cancelled", body
    # The task was stopped (force=True ends its worker), not left to train on.
    assert not alive(running)
    assert list((deployed.data_dir / "models" / PROJECT).glob("*.partial")) == []
