"""A model whose files are damaged on disk is noticed at once (issue 22, finding 9).

Before checksums, the loaded copy in the server's memory hid the damage until a restart;
then every job failed while the deployment looked healthy. Now the next job on the
deployment fails with a stable reason, ``/health/models`` names the deployment, the intact
models keep serving, and a restored file serves again, all without a restart.
"""

from __future__ import annotations

import httpx

from lexicraft.ml.checksums import CHECKSUMS_FILE
from tests.integration.databases import Databases
from tests.integration.runtime_fixtures import NER_TEXT, documents, model_dir, submit, task
from tests.integration.server import HTTP_TIMEOUT_S, LiveServer, demo_project_file

PROJECT = "integrity"


def _analyze(server: LiveServer, deployment: str) -> dict[str, object]:
    response = submit(
        server,
        {
            "analysisInput": documents(NER_TEXT),
            "tasks": [task("CustomEntityRecognition", PROJECT, deployment, "ner")],
        },
    )
    assert response.status_code == 202, response.text
    return server.wait_job(response.headers["Operation-Location"])


def test_a_damaged_model_fails_its_jobs_at_once_and_is_reported(
    tmp_path: object, databases: Databases
) -> None:
    data_dir = tmp_path / "data"  # type: ignore[operator]
    with databases.serve(data_dir) as server:
        server.import_project(PROJECT, demo_project_file("demo-ner", PROJECT))
        for label, deployment in (("m1", "broken"), ("m2", "intact")):
            server.train(PROJECT, label)
            server.deploy(PROJECT, deployment, label)
        folder = model_dir(server, PROJECT, "m1")
        assert (folder / CHECKSUMS_FILE).is_file()  # written with the model

        # Both serve; the damaged one is loaded in memory before its file is damaged.
        assert _analyze(server, "broken")["status"] == "succeeded"
        assert _analyze(server, "intact")["status"] == "succeeded"
        health = server.client.get("/health/models")
        assert health.status_code == 200, health.text
        assert {
            (entry["deploymentName"], entry["modelFiles"]) for entry in health.json()["deployments"]
        } == {("broken", "verified"), ("intact", "verified")}
        assert (
            httpx.get(f"{server.base_url}/health/models", timeout=HTTP_TIMEOUT_S).status_code == 401
        )  # names projects

        # Damage the largest file of the deployed model (its weights), as a disk fault would.
        weights = max(
            (path for path in folder.iterdir() if path.is_file()), key=lambda p: p.stat().st_size
        )
        original = weights.read_bytes()
        damaged = bytearray(original)
        damaged[len(damaged) // 2] ^= 0xFF
        weights.write_bytes(bytes(damaged))

        failed = _analyze(server, "broken")
        assert failed["status"] == "failed", failed
        (error,) = failed["errors"]  # type: ignore[misc]
        assert error["code"] == "InternalServerError"
        assert error["innererror"]["code"] == "ModelDamaged"
        assert error["message"].startswith("The files of trained model 'm1-")
        assert "damaged" in error["message"] and "train it again" in error["message"]
        text = str(failed)
        assert str(data_dir) not in text and weights.name not in text

        # The other deployment is unaffected.
        assert _analyze(server, "intact")["status"] == "succeeded"

        report = server.client.get("/health/models")
        assert report.status_code == 503, report.text
        envelope = report.json()["error"]
        assert envelope["innererror"]["code"] == "NotReady"
        (detail,) = envelope["details"]
        assert detail["target"] == f"{PROJECT}/broken"
        assert detail["innererror"]["code"] == "ModelDamaged"
        assert str(data_dir) not in report.text

        # A damaged model cannot be deployed under another name either.
        response = server.client.put(
            f"/language/authoring/analyze-text/projects/{PROJECT}/deployments/again",
            params={"api-version": "2023-04-01"},
            json={"trainedModelLabel": "m1"},
        )
        assert response.status_code == 202, response.text
        refused = server.wait_job(response.headers["Operation-Location"])
        assert refused["status"] == "failed"
        assert refused["errors"][0]["innererror"]["code"] == "ModelDamaged"

        # Restored (e.g. from a backup): it serves again, still without a restart.
        weights.write_bytes(original)
        assert _analyze(server, "broken")["status"] == "succeeded"
        assert server.client.get("/health/models").status_code == 200
