"""Servers and workers that share PostgreSQL and Blob Storage (Azurite), and no file system.

Documents are imported from a Blob container, the model is trained, published to the models
container and deployed; a second worker with another, empty data dir serves the same
deployment from its own copy of the model. Storage faults fail the job with a message that
names the container and no secret.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from azure.storage.blob import BlobServiceClient
from sqlalchemy import create_engine, text

from lexicraft.settings import Settings
from tests.azurite import ACCOUNT_KEY
from tests.integration.processes import (
    LEXICRAFT,
    lexicraft_env,
    start,
    stop,
    wait_ready,
    wait_terminal,
)
from tests.integration.runtime_fixtures import JOBS, task
from tests.integration.server import (
    API_VERSION,
    AUTHORING,
    HTTP_TIMEOUT_S,
    TEST_KEY,
    LiveServer,
    demo_project_file,
    free_port,
    wait_healthy,
)

PROJECT = "blob-ner"
CONTAINER = "blob-ner-documents"
MODELS = "lexicraft-models"
WRONG_KEY = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="
TEXTS = [
    "Marcus Bell met Fran\u00e7ois Dubois in Vienna on 2024-06-01.",
    "Priya Natarajan of Northwind Traders flew to Lisbon.\r\nShe paid $1,200.",
]


class Cluster:
    """An API server (``serve --no-workers``) and workers, each with a data dir of its own."""

    def __init__(
        self, database_url: str, connection: str, tmp_path: Path, processes: ExitStack
    ) -> None:
        self.database_url = database_url
        self.connection = connection
        self.tmp_path = tmp_path
        self.processes = processes
        self.log = tmp_path / "processes.log"

    def env(self, data_dir: str, connection: str | None = None) -> dict[str, str]:
        return {
            **lexicraft_env(self.database_url, self.tmp_path / data_dir),
            "LEXICRAFT_STORAGE_BACKEND": "azure",
            "LEXICRAFT_AZURE_STORAGE_CONNECTION_STRING": connection or self.connection,
            "LEXICRAFT_AZURE_STORAGE_RETRIES": "0",
        }

    def serve(self) -> LiveServer:
        migrated = subprocess.run(
            [str(LEXICRAFT), "migrate"],
            env=self.env("api"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migrated.returncode == 0, migrated.stderr
        port = free_port()
        server = start(["serve", "--no-workers", "--port", str(port)], self.env("api"), self.log)
        self.processes.callback(stop, server)
        base_url = f"http://127.0.0.1:{port}"
        wait_healthy(base_url, server, self.log)
        client = self.processes.enter_context(
            httpx.Client(
                base_url=base_url,
                headers={"Ocp-Apim-Subscription-Key": TEST_KEY},
                timeout=HTTP_TIMEOUT_S,
            )
        )
        return LiveServer(base_url=base_url, settings=Settings(), client=client)

    def worker(self, data_dir: str, connection: str | None = None) -> subprocess.Popen[bytes]:
        process = start(["worker"], self.env(data_dir, connection), self.log)
        self.processes.callback(stop, process)
        wait_ready(process, self.log)
        return process


@pytest.fixture
def cluster(postgres_url: str, azurite_connection_string: str, tmp_path: Path) -> Iterator[Cluster]:
    with ExitStack() as processes:
        yield Cluster(postgres_url, azurite_connection_string, tmp_path, processes)


def blob_project_file(account: BlobServiceClient, container: str) -> dict[str, Any]:
    """The demo NER project with its documents as blobs of ``container`` (no inline texts)."""
    project_file = demo_project_file("demo-ner", PROJECT)
    project_file["metadata"]["storageInputContainerName"] = container
    account.create_container(container)
    for document in project_file["assets"]["documents"]:
        account.get_blob_client(container, document["location"]).upload_blob(
            document.pop("text").encode("utf-8")
        )
    return project_file


def analyze(server: LiveServer) -> list[Any]:
    response = server.client.post(
        JOBS,
        params={"api-version": API_VERSION},
        json={
            "analysisInput": {
                "documents": [{"id": str(i), "text": t} for i, t in enumerate(TEXTS)]
            },
            "tasks": [task("CustomEntityRecognition", PROJECT, "production")],
        },
    )
    assert response.status_code == 202, response.text
    parts = urlsplit(response.headers["Operation-Location"])
    body = wait_terminal(server.client, f"{parts.path}?{parts.query}")
    assert body["status"] == "succeeded", body
    results = body["tasks"]["items"][0]["results"]
    assert results["errors"] == []
    documents: list[Any] = results["documents"]
    return documents


def submit_import(server: LiveServer, project_file: dict[str, Any]) -> httpx.Response:
    return server.client.post(
        f"{AUTHORING}/{PROJECT}/:import", params={"api-version": API_VERSION}, json=project_file
    )


def job_path(response: httpx.Response) -> str:
    assert response.status_code == 202, response.text
    parts = urlsplit(response.headers["Operation-Location"])
    return f"{parts.path}?{parts.query}"


@pytest.mark.slow  # an API server, two workers and a training
def test_a_worker_with_an_empty_cache_serves_a_model_trained_by_another(
    cluster: Cluster, azurite_connection_string: str
) -> None:
    account = BlobServiceClient.from_connection_string(azurite_connection_string)
    project_file = blob_project_file(account, CONTAINER)
    server = cluster.serve()
    first = cluster.worker("worker-a")

    server.import_project(PROJECT, project_file)
    server.train(PROJECT, "m1")
    server.deploy(PROJECT, "production", "m1")
    served = analyze(server)
    assert any(document["entities"] for document in served)

    engine = create_engine(cluster.database_url)
    with engine.connect() as connection:
        key = connection.execute(
            text("SELECT model_artifact_dir FROM deployments WHERE name = 'production'")
        ).scalar_one()
    engine.dispose()
    assert key.startswith(f"{PROJECT}/m1-")  # a key every host can resolve, not a path
    models = {blob.name for blob in account.get_container_client(MODELS).list_blobs()}
    assert f"{key}.manifest.json" in models and f"{key}/config.json" in models
    assert (cluster.tmp_path / "worker-a" / "model-cache" / key / "config.json").is_file()
    assert not (cluster.tmp_path / "worker-a" / "models").exists()

    first.send_signal(signal.SIGTERM)
    assert first.wait(60) == 0
    cluster.worker("worker-b")  # another data dir: an empty cache, no shared files
    assert analyze(server) == served
    copy = cluster.tmp_path / "worker-b" / "model-cache" / key
    assert sorted(path.name for path in copy.iterdir()) == sorted(
        name.removeprefix(f"{key}/") for name in models if name.startswith(f"{key}/")
    )


@pytest.mark.slow  # an API server and two workers
def test_storage_faults_fail_the_job_and_name_the_container(
    cluster: Cluster, azurite_connection_string: str
) -> None:
    account = BlobServiceClient.from_connection_string(azurite_connection_string)
    project_file = blob_project_file(account, CONTAINER)
    server = cluster.serve()

    # A container that does not exist is refused when the import is submitted.
    missing = {**project_file, "metadata": {**project_file["metadata"]}}
    missing["metadata"]["storageInputContainerName"] = "no-such-container"
    refused = submit_import(server, missing)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["message"] == (
        "storage container 'no-such-container' does not exist in the storage account"
    )

    # A worker whose credentials the account refuses fails the job, naming the container.
    wrong = cluster.worker(
        "worker-wrong", azurite_connection_string.replace(ACCOUNT_KEY, WRONG_KEY)
    )
    body = wait_terminal(server.client, job_path(submit_import(server, project_file)))
    assert body["status"] == "failed"
    (error,) = body["errors"]
    assert error["code"] == "ServiceUnavailable"
    assert f"storage container '{CONTAINER}'" in error["message"]
    assert "refused access" in error["message"]
    assert WRONG_KEY not in str(body) and ACCOUNT_KEY not in str(body)
    wrong.send_signal(signal.SIGTERM)
    assert wrong.wait(60) == 0

    # A container deleted between the submit and the job: the job names it.
    path = job_path(submit_import(server, project_file))
    account.delete_container(CONTAINER)
    cluster.worker("worker-b")
    body = wait_terminal(server.client, path)
    assert body["status"] == "failed"
    (error,) = body["errors"]
    assert error["message"] == (
        f"storage container '{CONTAINER}' does not exist in the storage account"
    )
