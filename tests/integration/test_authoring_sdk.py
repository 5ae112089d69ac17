"""The official authoring client (azure-ai-textanalytics-authoring 1.0.0b1) against our server.

The client needs azure-ai-textanalytics>=6.0.0b1, so it lives in its own venv
(``.venv-clients/textanalytics6``, built by ``make test``) and runs
``clients/authoring_flow.py`` as a subprocess against a real uvicorn server. We assert on what
the client observed and cross-check the server's state through plain HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.databases import Databases
from tests.integration.server import (
    AUTHORING,
    TEST_KEY,
    LiveServer,
    demo_project_file,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENT_VENV = REPO_ROOT / ".venv-clients" / "textanalytics6"
CLIENT_PYTHON = CLIENT_VENV / "bin" / "python"
FLOW_SCRIPT = Path(__file__).resolve().parent / "clients" / "authoring_flow.py"
PROJECT = "sdk-ner"
SDK_API_VERSION = "2025-05-15-preview"
V = {"api-version": SDK_API_VERSION}


def client_python() -> Path:
    """The client venv's interpreter; a missing venv is a failure, never a skip."""
    if not CLIENT_PYTHON.is_file() or not (CLIENT_VENV / ".installed").is_file():
        pytest.fail(
            f"the official-client venv {CLIENT_VENV.relative_to(REPO_ROOT)} is missing or "
            "incomplete: run `make test` (it installs azure-ai-textanalytics-authoring==1.0.0b1 "
            "there before running the suite)",
            pytrace=False,
        )
    return CLIENT_PYTHON


def run_flow(python: Path, live: LiveServer, project_file: Path, phase: str) -> dict[str, Any]:
    """Run one phase of the SDK flow; returns the JSON object it printed."""
    env = dict(os.environ)
    # Talk to 127.0.0.1 directly even where a proxy is configured.
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = ",".join(filter(None, [env.get(name), "127.0.0.1", "localhost"]))
    completed = subprocess.run(
        [
            str(python),
            str(FLOW_SCRIPT),
            live.base_url,
            TEST_KEY,
            PROJECT,
            str(project_file),
            "--phase",
            phase,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env=env,
        check=False,
    )
    assert completed.returncode == 0, (
        f"authoring_flow.py --phase {phase} exited {completed.returncode}\n"
        f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    )
    observed: dict[str, Any] = json.loads(completed.stdout)
    return observed


def job_triggers(http: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trace entries that started a long-running operation."""
    return [entry for entry in http if entry["operationLocation"] is not None]


def test_official_authoring_client_create_import_train_deploy_delete(
    tmp_path: Path, databases: Databases
) -> None:
    python = client_python()
    project_file = tmp_path / f"{PROJECT}.json"
    project_file.write_text(json.dumps(demo_project_file("demo-ner", PROJECT)), encoding="utf-8")

    with databases.serve(tmp_path / "data") as live:
        built = run_flow(python, live, project_file, "build")

        # What the client saw: create → import → train → model + evaluation → deploy.
        assert built["create"]["status"] == 201
        assert built["create"]["projectKind"] == "CustomEntityRecognition"
        assert built["import"] == {"result": None, "status": "succeeded"}
        assert built["project"]["projectKind"] == "CustomEntityRecognition"
        assert built["project"]["projectName"] == PROJECT
        assert "2022-05-01" in built["trainingConfigVersions"]
        assert built["train"] == {
            "status": "succeeded",
            "modelLabel": "m1",
            "trainingConfigVersion": "2022-05-01-fast",
            "trainingStatus": "succeeded",
            "trainingPercentComplete": 100,
            "evaluationStatus": "succeeded",
        }
        assert built["trainingJobs"] == [{"status": "succeeded", "modelLabel": "m1"}]
        model = built["model"]
        assert model["label"] == "m1"
        assert model["modelId"]
        assert model["lastTrainedOn"] is not None
        assert model["modelExpiredOn"] is not None
        assert built["models"] == ["m1"]
        evaluation = built["evaluation"]
        assert evaluation["type"] == "CustomEntityRecognitionEvalSummary"
        assert evaluation["evaluationKind"] == "manual"
        assert evaluation["microF1"] > 0.8, evaluation
        assert evaluation["entities"] == sorted(
            ["City", "Date", "Money", "Organization", "Person", "Product"]
        )
        assert built["deploy"] == {"result": None, "status": "succeeded"}
        assert built["deployment"]["deploymentName"] == "prod"
        assert built["deployment"]["modelId"] == model["modelId"]
        assert built["deployments"] == ["prod"]

        # On the wire: no error answered, each LRO got 202 + a reachable Operation-Location, and
        # the client's api-version came back in it.
        http = built["http"]
        assert all(entry["status"] < 400 for entry in http), http
        assert all(f"api-version={SDK_API_VERSION}" in entry["query"] for entry in http), http
        triggers = job_triggers(http)
        assert [(t["method"], t["path"].rsplit("/", 1)[-1]) for t in triggers] == [
            ("POST", ":import"),
            ("POST", ":train"),
            ("PUT", "prod"),
        ]
        for trigger in triggers:
            assert trigger["status"] == 202
            assert trigger["operationLocation"].startswith(live.base_url + AUTHORING)
            assert f"api-version={SDK_API_VERSION}" in trigger["operationLocation"]

        # Cross-check through plain HTTP before anything is deleted.
        deployment = live.client.get(f"{AUTHORING}/{PROJECT}/deployments/prod", params=V)
        assert deployment.status_code == 200, deployment.text
        assert deployment.json()["modelId"] == model["modelId"]
        summary = live.client.get(
            f"{AUTHORING}/{PROJECT}/models/m1/evaluation/summary-result", params=V
        ).json()
        assert summary["customEntityRecognitionEvaluation"]["microF1"] == evaluation["microF1"]
        train_job = live.client.get(triggers[1]["operationLocation"]).json()
        assert train_job["status"] == "succeeded"
        assert train_job["result"]["modelLabel"] == "m1"

        torn = run_flow(python, live, project_file, "teardown")

        assert torn["deleteDeployment"] == {"result": None, "status": "succeeded"}
        assert torn["deploymentsAfterDelete"] == []
        assert torn["deploymentAfterDelete"]["status"] == 404
        assert torn["deleteProject"] == {"result": None, "status": "succeeded"}
        assert torn["projectAfterDelete"]["raised"] == "ResourceNotFoundError"
        assert torn["projectListedAfterDelete"] is False
        triggers = job_triggers(torn["http"])
        assert [(t["method"], t["status"]) for t in triggers] == [("DELETE", 202)] * 2
        assert "/global/deletion-jobs/" in triggers[1]["operationLocation"]

        # And through plain HTTP: the deletion job succeeded and the project is gone.
        deletion = live.client.get(triggers[1]["operationLocation"])
        assert deletion.status_code == 200, deletion.text
        assert deletion.json()["status"] == "succeeded"
        gone = live.client.get(f"{AUTHORING}/{PROJECT}", params=V)
        assert gone.status_code == 404, gone.text
        listed = live.client.get(AUTHORING, params=V).json()["value"]
        assert PROJECT not in {project["projectName"] for project in listed}
