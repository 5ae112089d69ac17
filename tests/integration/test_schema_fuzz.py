"""Schemathesis over the served ``/openapi.json`` (issue 22): thousands of generated requests to
every runtime, authoring, storage and Studio operation of a real server, and not one 5xx or
answer that its own document does not describe.

The server runs over a copy of the session's trained data dir (SQLite only: the fuzzer tests
the API's edges, which are the same over either database, and the suite's budget is tight),
with the runtime projects deployed. Writes are aimed at a sacrificial project, ``fuzz``, so
deleting or re-importing it is fair game while the deployed projects keep serving (checked
at the end). The draws are derandomized: CI sees the same cases every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from lexicraft.settings import Settings
from tests.integration.databases import Databases
from tests.integration.runtime_fixtures import (
    MULTI,
    NER,
    NER_TEXT,
    PRODUCTION,
    SINGLE,
    STAGING,
    RuntimeTemplates,
    documents,
    run_analysis,
    submit,
    task,
)
from tests.integration.schema_fuzz import FuzzReport, Targets, fuzz
from tests.integration.server import API_VERSION, AUTHORING, TEST_KEY, LiveServer, run_server

#: Cases per operation and pass (documented examples, valid, invalid; fewer where an
#: operation has fewer distinct inputs): some 2,470 in all over the 114 operations, about 100 s
#: alone on two cores. At 20 (chosen when there were fewer operations) they were 5,451: 226 s.
EXAMPLES = 9
MINIMUM_CASES = 2_000
#: The sacrificial project every write is aimed at.
SACRIFICE = "fuzz"
LEGACY_JOBS = "/text/analytics/v3.2-preview.2/analyze"

#: Rate limits off (when this version has them): thousands of requests from one key in a
#: minute are the point here, not a client to slow down.
NO_RATE_LIMITS = {
    name: ""
    for name in ("rate_limit_runtime", "rate_limit_authoring")
    if name in Settings.model_fields
}


@dataclass
class Fuzzed:
    server: LiveServer
    report: FuzzReport


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory, sqlite_templates: RuntimeTemplates
) -> Iterator[Fuzzed]:
    """The server, after the fuzzer has been through it."""
    data_dir = sqlite_templates.copy_to(
        Databases("sqlite"), tmp_path_factory.mktemp("fuzz") / "data"
    )
    with run_server(data_dir, **NO_RATE_LIMITS) as server:
        targets = seed(server)

        def restore_sacrifice(_operation: str) -> None:
            # Deleted by an earlier operation? Back, so that later writes reach a project.
            create_sacrifice(server)

        report = fuzz(
            server.base_url, TEST_KEY, targets, examples=EXAMPLES, prepare=restore_sacrifice
        )
        yield Fuzzed(server, report)


def create_sacrifice(server: LiveServer) -> int:
    """Create (or keep) the sacrificial project: empty, so a training aimed at it fails at
    once (no labeled documents) instead of keeping a worker busy for the rest of the run."""
    return server.client.patch(
        f"{AUTHORING}/{SACRIFICE}",
        params={"api-version": API_VERSION},
        json={
            "projectKind": "CustomEntityRecognition",
            "storageInputContainerName": SACRIFICE,
            "language": "en",
        },
    ).status_code


def seed(server: LiveServer) -> Targets:
    """Finished jobs of every kind to poll, the sacrificial project, and the names to aim at."""
    client = server.client
    job_locations = []
    for kind, project in (
        ("CustomEntityRecognition", NER),
        ("CustomSingleLabelClassification", SINGLE),
        ("CustomMultiLabelClassification", MULTI),
    ):
        response = submit(
            server,
            {"analysisInput": documents(NER_TEXT), "tasks": [task(kind, project, PRODUCTION)]},
        )
        job_locations.append(response.headers["Operation-Location"])
    legacy = client.post(
        LEGACY_JOBS,
        json={
            "analysisInput": documents(NER_TEXT),
            "tasks": {
                "customEntityRecognitionTasks": [
                    {"parameters": {"project-name": NER, "deployment-name": PRODUCTION}}
                ]
            },
        },
    )
    assert legacy.status_code == 202, legacy.text
    job_locations.append(legacy.headers["Operation-Location"])
    for location in job_locations:
        server.wait_job(location)
    assert create_sacrifice(server) == 201
    document = client.get(f"/language/lexicraft/projects/{NER}/documents").json()["value"][0]
    targets = Targets.aimed_at(
        [NER, SINGLE, MULTI],
        SACRIFICE,
        NER,
        document["location"],
        deployments=(PRODUCTION, STAGING),
    )
    for location in job_locations:
        targets.add_job(location)
    return targets


def test_thousands_of_generated_requests_get_documented_answers(fuzzed: Fuzzed) -> None:
    report = fuzzed.report
    assert report.server_errors == 0, report.summary()
    assert not report.findings, report.summary()
    assert report.cases >= MINIMUM_CASES, report.cases_per_operation


def test_every_operation_was_fuzzed_and_reached_real_resources(fuzzed: Fuzzed) -> None:
    """Not a run of 404s and 400s: every documented operation got cases, and aimed cases
    reached real projects, models, deployments, jobs and documents."""
    openapi = fuzzed.server.client.get("/openapi.json").json()
    operations = {
        f"{method.upper()} {path}"
        for path, methods in openapi["paths"].items()
        for method in methods
    }
    assert set(fuzzed.report.cases_per_operation) == operations
    succeeded = {
        operation
        for (operation, _mode, status), count in fuzzed.report.answers.items()
        if 200 <= status < 300 and count
    }
    for operation in (
        "POST /language/analyze-text/jobs",
        "GET /language/analyze-text/jobs/{job_id}",
        "GET /text/analytics/{version}/analyze/jobs/{job_id}",
        f"GET {AUTHORING}/{{project_name}}/models/{{label}}",
        f"GET {AUTHORING}/{{project_name}}/deployments/{{deployment_name}}",
        "GET /language/lexicraft/projects/{project_name}/documents/{location}",
        "GET /language/lexicraft/storage/{container}/{location}",
    ):
        assert operation in succeeded, operation


def test_the_deployed_projects_still_serve(fuzzed: Fuzzed) -> None:
    body = run_analysis(
        fuzzed.server,
        {
            "analysisInput": documents(NER_TEXT),
            "tasks": [task("CustomEntityRecognition", NER, PRODUCTION)],
        },
    )
    assert body["status"] == "succeeded", body
    ready = fuzzed.server.client.get("/health/ready")
    assert ready.status_code == 200, ready.text
