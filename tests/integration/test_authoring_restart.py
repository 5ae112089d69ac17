"""After a crash, authoring jobs left `running` by the dead process finish on restart."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from lexicraft.bootstrap import open_context
from lexicraft.domain.jobs import JobKind
from lexicraft.domain.training import TrainingRequest
from lexicraft.services import training
from lexicraft.storage.sql.tables import JobRow
from lexicraft.timeutil import utcnow
from tests.integration.databases import Databases
from tests.integration.server import API_VERSION, AUTHORING, FAST, demo_project_file


def test_training_left_running_by_a_dead_worker_is_resumed(
    tmp_path: Path, databases: Databases
) -> None:
    with databases.serve(tmp_path) as live:
        live.import_project("restart", demo_project_file("demo-classify", "restart"))
        settings = live.settings

    # What a killed process leaves behind: a claimed job with a lease nobody renews.
    context = open_context(settings)
    job = training.submit_training(context, "restart", TrainingRequest("m1", FAST))
    with context.database.session() as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == job.id)
            .values(
                status="running",
                lease_owner="dead-host:1234:authoring:0",
                lease_expires_at=utcnow() - timedelta(seconds=1),
                attempts=1,
            )
        )

    # ... and the folder its training was writing (what a re-run deletes, and nothing reads).
    job_tag = hashlib.sha256(job.id.encode("utf-8")).hexdigest()[:12]
    half_written = settings.models_dir / "restart" / f"m1-0123456789ab.{job_tag}.partial"
    half_written.mkdir(parents=True)
    (half_written / "config.json").write_text("{", encoding="utf-8")

    with databases.serve(tmp_path) as live:
        body = live.wait_job(
            f"{live.base_url}{AUTHORING}/restart/train/jobs/{job.id}?api-version={API_VERSION}"
        )
        assert body["status"] == "succeeded", body
        model = live.client.get(
            f"{AUTHORING}/restart/models/m1", params={"api-version": API_VERSION}
        )
        assert model.status_code == 200
    with context.database.session() as session:
        row = context.queue.get(session, job.id, [JobKind.TRAIN])
        assert row.attempts == 2
    (stored,) = training.list_models(context, "restart")
    assert stored.artifact_dir.startswith("restart/m1-")  # a key, not a host's path
    assert not half_written.exists()
    assert [path.name for path in half_written.parent.iterdir()] == [
        stored.artifact_dir.split("/")[1]
    ]
    context.database.engine.dispose()
