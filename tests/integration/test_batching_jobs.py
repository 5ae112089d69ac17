"""Batching across jobs (issue 24, item 2): concurrent 1-document jobs of one deployment share
forward passes, and each gets exactly the results it gets alone."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.integration.databases import Databases
from tests.integration.operations import scrape, value
from tests.integration.runtime_fixtures import PRODUCTION, documents, run_analysis, task
from tests.integration.server import LiveServer, demo_project_file

PROJECT = "batched"
TEXTS = (
    "Marcus Bell met Fran\u00e7ois Dubois in Vienna on 2024-06-01.",
    "Henrik Aalto will hand over the Ashgrove University account in Vienna.",
    "Nobody called this afternoon.",
    "Priya Natarajan flew from Lisbon to Oslo with Tomas Berg.",
    "The Fabrikam office in Seattle opened on 2023-02-14.",
    "Call Ana Souza at Contoso before Friday.",
    "Ingrid Holm and Ravi Kumar met in Berlin.",
    "It rained all day in Dublin.",
)
#: Concurrent clients, each sending every text as its own 1-document job.
CLIENTS = 8


def entities(server: LiveServer, text: str) -> list[Any]:
    body = run_analysis(
        server,
        {
            "analysisInput": documents(text),
            "tasks": [
                task(
                    "CustomEntityRecognition",
                    PROJECT,
                    PRODUCTION,
                    "ner",
                    stringIndexType="UnicodeCodePoint",
                )
            ],
        },
    )
    assert body["status"] == "succeeded", body
    (document,) = body["tasks"]["items"][0]["results"]["documents"]
    found: list[Any] = document["entities"]
    return found


def batch_counts(server: LiveServer) -> tuple[float, float]:
    samples = scrape(f"{server.base_url}/metrics")
    return (
        value(samples, "lexicraft_prediction_batches_total"),
        value(samples, "lexicraft_prediction_batch_calls_total"),
    )


def test_concurrent_one_document_jobs_get_their_unbatched_results(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> None:
    data_dir = tmp_path_factory.mktemp("batching")
    # Enough job threads that the clients' jobs run at once, and a window that lets jobs a
    # few milliseconds apart meet.
    overrides = {
        "worker_threads": CLIENTS,
        "worker_jobs_per_key": CLIENTS,
        "serving_batch_window_ms": 20.0,
    }
    with databases.serve(data_dir, **overrides) as server:
        server.import_project(PROJECT, demo_project_file("demo-ner", PROJECT))
        server.train(PROJECT, "m1")
        server.deploy(PROJECT, PRODUCTION, "m1")
        # One job at a time: every batch holds one job. (The counters are the process's,
        # which other servers of this test process also count in: only differences matter.)
        batches_start, calls_start = batch_counts(server)
        alone = {text: entities(server, text) for text in TEXTS}
        batches_before, calls_before = batch_counts(server)
        assert calls_before - calls_start == batches_before - batches_start == len(TEXTS)

        found: dict[tuple[int, str], list[Any]] = {}
        failures: list[BaseException] = []

        def client(number: int) -> None:
            try:
                for text in TEXTS[number % 2 :] + TEXTS[: number % 2]:
                    found[(number, text)] = entities(server, text)
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        assert not failures, failures
        batches_after, calls_after = batch_counts(server)

    assert any(alone.values()), alone  # the model finds entities: a real comparison
    assert len(found) == CLIENTS * len(TEXTS)
    for (_number, text), result in found.items():
        assert result == alone[text]
    # Every job's batch was answered, and some forward passes served several jobs.
    assert calls_after - calls_before == CLIENTS * len(TEXTS)
    assert batches_after - batches_before < calls_after - calls_before
