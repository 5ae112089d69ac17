"""A failed job shows clients a stable error; its internals go only to the log (issue 22, 5).

A model folder that lost its weights file makes the loader raise an exception whose text is
the file's absolute path on the server. The job's task fails with a message that names the
job and nothing of the server; the log has the exception, with its traceback, under the job
id.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from lexicraft.settings import Settings
from tests.integration.databases import Databases
from tests.integration.runtime_fixtures import (
    NER,
    NER_TEXT,
    PRODUCTION,
    artifact_dir,
    documents,
    submit,
    task,
)
from tests.integration.server import TEST_KEY


def test_a_fault_in_a_task_shows_a_stable_error_and_logs_the_path_under_the_job_id(
    trained_data_dir: Path, databases: Databases, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = trained_data_dir
    # The module's copy shares the session's model files through a link: damage a copy.
    models = data_dir / "models"
    shared = models.resolve()
    models.unlink()
    shutil.copytree(shared, models)
    folder = artifact_dir(
        Settings(data_dir=data_dir, api_key=TEST_KEY, database_url=databases.url(data_dir)),
        NER,
        "m1",
    )
    weights = [path for path in folder.iterdir() if path.name != "config.json"]
    assert weights, f"{folder} holds no model file besides its config"
    for path in weights:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()

    caplog.set_level(logging.INFO)
    with databases.serve(data_dir) as server:
        body = {
            "analysisInput": documents(NER_TEXT),
            "tasks": [task("CustomEntityRecognition", NER, PRODUCTION, "ner")],
        }
        response = submit(server, body)
        assert response.status_code == 202, response.text
        location = response.headers["Operation-Location"]
        job_id = location.split("?")[0].rsplit("/", 1)[1]
        final = server.wait_job(location)
        text = server.client.get(location).text

    assert final["status"] == "failed", final
    assert final["errors"] == [
        {
            "code": "InternalServerError",
            "message": "Task 0 failed because of an internal error; the server log has the "
            f"details under job {job_id}.",
            "target": "#/tasks/items/0",
        }
    ]
    assert str(data_dir) not in text and str(folder) not in text
    logged = [
        record
        for record in caplog.records
        if record.name.startswith("lexicraft") and job_id in record.getMessage()
    ]
    assert [record.levelno for record in logged] == [logging.ERROR], logged
    assert logged[0].exc_info is not None
    assert str(folder) in str(logged[0].exc_info[1])  # the path: in the log, with the job id
