"""A server whose model memory budget holds one of its two deployed models (issue 24, item 3):
jobs that alternate between the deployments all succeed with the results of a server without a
budget, each one loading its model again, and /metrics counts those loads."""

from __future__ import annotations

from typing import Any

import pytest

from lexicraft.ml.cache import MIB, model_footprint
from tests.integration.databases import Databases
from tests.integration.operations import scrape, value
from tests.integration.runtime_fixtures import (
    NER_TEXT,
    PRODUCTION,
    artifact_dir,
    documents,
    run_analysis,
    task,
)
from tests.integration.server import LiveServer, demo_project_file

#: Two projects of the same demo data: two deployments, two model folders of about one size.
PROJECTS = ("budget-a", "budget-b")
TEXTS = (NER_TEXT, "Henrik Aalto will hand over the Ashgrove University account in Vienna.")
ROUNDS = 3


def entities(server: LiveServer, project: str) -> list[Any]:
    """The entities a job through ``project``'s deployment finds in :data:`TEXTS`."""
    body = run_analysis(
        server,
        {
            "analysisInput": documents(*TEXTS),
            "tasks": [task("CustomEntityRecognition", project, PRODUCTION, "ner")],
        },
    )
    assert body["status"] == "succeeded", body
    results = body["tasks"]["items"][0]["results"]
    assert results["errors"] == [], results
    return [document["entities"] for document in results["documents"]]


def loads(server: LiveServer) -> float:
    return value(scrape(f"{server.base_url}/metrics"), "lexicraft_model_cache_loads_total")


def test_jobs_alternating_between_two_deployments_reload_them_within_the_budget(
    tmp_path_factory: pytest.TempPathFactory,
    databases: Databases,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data_dir = tmp_path_factory.mktemp("budget")
    with databases.serve(data_dir) as unbounded:
        assert unbounded.settings.model_memory_budget_mb == 2048
        for project in PROJECTS:
            unbounded.import_project(project, demo_project_file("demo-ner", project))
            unbounded.train(project, "m1")  # the fast configuration
            unbounded.deploy(project, PRODUCTION, "m1")
        expected = {project: entities(unbounded, project) for project in PROJECTS}
        sizes = [model_footprint(artifact_dir(unbounded.settings, p, "m1")) for p in PROJECTS]
        before = loads(unbounded)
        for _ in range(ROUNDS):
            for project in PROJECTS:
                assert entities(unbounded, project) == expected[project]
        assert loads(unbounded) == before  # both stay loaded
    assert all(expected.values()), expected  # the models find entities: a real comparison

    # Room for either model, not for both.
    budget = 1.5 * max(sizes)
    assert max(sizes) < budget < sum(sizes)
    monkeypatch.setenv("LEXICRAFT_MODEL_MEMORY_BUDGET_MB", repr(budget / MIB))
    with databases.serve(data_dir) as bounded:
        assert bounded.settings.model_memory_budget_mb * MIB == pytest.approx(budget)
        first = scrape(f"{bounded.base_url}/metrics")
        for _ in range(ROUNDS):
            for project in PROJECTS:
                assert entities(bounded, project) == expected[project]
        last = scrape(f"{bounded.base_url}/metrics")

    def moved(name: str) -> float:
        # The metrics are this (test) process's, which ran the first server too: deltas.
        return value(last, name) - value(first, name)

    # Every job found its model dropped by the other deployment's job: one load each, timed.
    assert moved("lexicraft_model_cache_loads_total") == 2 * ROUNDS
    assert moved("lexicraft_model_load_seconds_count") == 2 * ROUNDS
    assert moved("lexicraft_model_cache_evictions_total") == 2 * ROUNDS - 1
    # What stays loaded is the last job's model alone.
    assert moved("lexicraft_model_loaded_bytes") == sizes[-1] <= budget
