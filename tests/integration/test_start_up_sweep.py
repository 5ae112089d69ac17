"""What killed processes left in the data dir goes when a server starts (issue 22, finding 9).

A kill during a deploy leaves the temporary file of the serving network, a kill during a
document write its temporary file, a kill during training its staging folder, and a project
deleted while it trained leaves its published model folder without a row. A server that
starts removes them, and nothing that another process (sharing the data dir) may still be
writing: the staging and published folders of a training whose job runs, temporary files
younger than ``leftover_grace_s``, and any file a user put in a storage container.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from lexicraft.bootstrap import open_context
from lexicraft.domain.training import TrainingRequest
from lexicraft.services import training
from lexicraft.services.artifacts import attempt_tag
from lexicraft.storage.sql.tables import JobRow
from lexicraft.timeutil import utcnow
from tests.integration.databases import Databases
from tests.integration.runtime_fixtures import model_dir
from tests.integration.server import API_VERSION, FAST, demo_project_file

PROJECT = "sweep"


def _file(path: Path, age_s: float = 0.0, content: str = "{") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    if age_s:
        then = time.time() - age_s
        os.utime(path, (then, then))
    return path


def test_a_starting_server_removes_what_killed_processes_left(
    tmp_path: Path, databases: Databases
) -> None:
    data_dir = tmp_path / "data"
    with databases.serve(data_dir) as server:
        server.import_project(PROJECT, demo_project_file("demo-classify", PROJECT))
        server.train(PROJECT, "m1")
        server.deploy(PROJECT, "prod", "m1")
        settings = server.settings
        folder = model_dir(server, PROJECT, "m1")
    old = 2 * settings.leftover_grace_s
    models = settings.models_dir

    # Killed processes' leftovers.
    serving_temporary = _file(folder / ".serving.k1ll3d.onnx", old)
    checksum_temporary = _file(folder / ".checksums.json.0123.tmp", old)
    document_temporary = _file(settings.storage_dir / "~partial" / "0123abcd.partial", old)
    dead_staging = _file(models / PROJECT / "m2-0123456789ab.aaaaaaaaaaaa.partial" / "config.json")
    orphan = _file(models / "gone" / "m1-0123456789ab" / "config.json").parent

    # What must stay: a young temporary (its writer may be at work), a user's file that
    # looks like a temporary, and a training that another process is running right now.
    young_temporary = _file(folder / ".serving.young.onnx")
    user_file = _file(settings.storage_dir / PROJECT / "notes.partial", old, "mine")
    context = open_context(settings)
    running = training.submit_training(context, PROJECT, TrainingRequest("m3", FAST))
    with context.database.session() as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == running.id)
            .values(
                status="running",
                lease_owner="other-host:4321:authoring:0",
                lease_expires_at=utcnow() + timedelta(hours=1),
                attempts=1,
            )
        )
    context.database.engine.dispose()
    live_staging = _file(
        models / PROJECT / f"m3-abcdefabcdef.{attempt_tag(running.id)}.partial" / "config.json"
    ).parent
    # Published, now being evaluated: its row is written when the evaluation ends.
    evaluating = _file(models / PROJECT / "m3-fedcbafedcba" / "config.json").parent

    with databases.serve(data_dir) as server:
        for gone in (
            serving_temporary,
            checksum_temporary,
            document_temporary,
            dead_staging.parent,
            orphan,
            orphan.parent,
        ):
            assert not gone.exists(), gone
        for kept in (young_temporary, user_file, live_staging, evaluating, folder):
            assert kept.exists(), kept
        assert user_file.read_text(encoding="utf-8") == "mine"

        # The deployed model still serves.
        response = server.client.post(
            "/language/analyze-text/jobs",
            params={"api-version": API_VERSION},
            json={
                "analysisInput": {"documents": [{"id": "1", "text": "Where is my card?"}]},
                "tasks": [
                    {
                        "kind": "CustomSingleLabelClassification",
                        "parameters": {"projectName": PROJECT, "deploymentName": "prod"},
                    }
                ],
            },
        )
        assert response.status_code == 202, response.text
        assert server.wait_job(response.headers["Operation-Location"])["status"] == "succeeded"
