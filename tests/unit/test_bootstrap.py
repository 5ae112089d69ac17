"""The composition root: who may change the schema, and what a server on an old one says."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from lexicraft.bootstrap import open_context
from lexicraft.jobs.executors.local import LocalCompute
from lexicraft.settings import Settings
from lexicraft.storage.sql.engine import Database, SchemaOutOfDate, alembic_config, migrate

LEXICRAFT = Path(sys.executable).with_name("lexicraft")


def test_the_embedded_database_is_migrated_on_start(tmp_path: Path) -> None:
    context = open_context(Settings(data_dir=tmp_path))
    with context.database.session() as session:
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert revision == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_a_server_that_may_not_migrate_refuses_an_old_schema(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(SchemaOutOfDate, match="lexicraft migrate") as raised:
        open_context(settings, migrate_schema=False)
    assert "empty database" in str(raised.value)

    done = subprocess.run(
        [str(LEXICRAFT), "migrate", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "database ready" in done.stdout
    open_context(settings, migrate_schema=False)  # now at the newest revision: no error


def test_deployments_of_an_old_database_pin_the_model_their_label_named(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    now = datetime(2026, 1, 2, tzinfo=UTC)
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO projects (id, name, kind, language, storage_container, multilingual,"
                " settings, labels, created_at, modified_at) VALUES (1, 'p',"
                " 'CustomEntityRecognition', 'en', 'p', 0, '{}', '[]', :now, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO trained_models (project_id, label, model_id, training_config_version,"
                " backend, artifact_dir, trained_at, training_duration_s, expiration_date,"
                " evaluation_options, evaluation_summary, evaluation_documents) VALUES (1, 'm1',"
                " 'm1-run', '2022-05-01', 'ner.crf.v1', '/models/p/m1-run', :now, 3.0,"
                " '2099-12-31', '{}', '{}', '[]')"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO deployments (project_id, name, model_label, deployed_at)"
                " VALUES (1, 'production', 'm1', :now), (1, 'orphan', 'gone', :now)"
            ),
            {"now": now},
        )

    context = open_context(
        Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'old.db'}")
    )

    from lexicraft.services import deployments

    (deployment,) = deployments.list_deployments(context, "p")
    assert (deployment.name, deployment.model.model_id) == ("production", "m1-run")
    assert deployment.model.artifact_dir == "/models/p/m1-run"


def test_multi_label_models_trained_with_the_softmax_head_are_renamed_v2(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    folders = {}
    for label in ("sigmoid", "softmax"):
        folders[label] = tmp_path / label
        folders[label].mkdir()
        (folders[label] / "config.json").write_text(
            json.dumps({"backend": "textcat.minilm-multi.v1", "format_version": 1}), "utf-8"
        )
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO projects (id, name, kind, language, storage_container, multilingual,"
                " settings, labels, created_at, modified_at) VALUES (1, 'p',"
                " 'CustomMultiLabelClassification', 'en', 'p', 0, '{}', '[]', :now, :now)"
            ),
            {"now": datetime(2026, 11, 20, tzinfo=UTC)},
        )
        for label, trained_at in (
            ("sigmoid", datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),
            ("softmax", datetime(2026, 11, 30, 12, 0, tzinfo=UTC)),
        ):
            connection.execute(
                text(
                    "INSERT INTO trained_models (project_id, label, model_id,"
                    " training_config_version, backend, artifact_dir, trained_at,"
                    " training_duration_s, expiration_date, evaluation_options,"
                    " evaluation_summary, evaluation_documents) VALUES (1, :label, :label,"
                    " '2022-05-01', 'textcat.minilm-multi.v1', :folder, :trained_at, 3.0,"
                    " '2099-12-31', '{}', '{}', '[]')"
                ),
                {"label": label, "folder": str(folders[label]), "trained_at": trained_at},
            )

    migrate(database.engine)

    with database.engine.connect() as connection:
        backends = dict(connection.execute(text("SELECT label, backend FROM trained_models")).all())
    assert backends == {"sigmoid": "textcat.minilm-multi.v1", "softmax": "textcat.minilm-multi.v2"}
    for label, backend in backends.items():
        written = json.loads((folders[label] / "config.json").read_text("utf-8"))
        assert written["backend"] == backend


def test_the_local_compute_keeps_as_many_models_loaded_as_the_settings_say(
    tmp_path: Path,
) -> None:
    context = open_context(Settings(data_dir=tmp_path, loaded_models_per_process=3))
    compute = context.compute
    assert isinstance(compute, LocalCompute)
    loads: list[Path] = []

    def load(folder: Path) -> Path:
        loads.append(folder)
        return folder

    folders = [tmp_path / f"m{index}" for index in range(4)]
    for folder in folders:
        compute.predictors.get(folder, load)
    # The least recently used of four is dropped: asking for it again loads it again.
    compute.predictors.get(folders[0], load)
    assert loads == [*folders, folders[0]]
    context.database.engine.dispose()
