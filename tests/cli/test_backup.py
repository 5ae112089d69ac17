"""``lexicraft backup`` / ``restore``: a round trip serves the same predictions (issue 22).

The backup is taken while the server runs (SQLite's online backup); the restored data dir is
served by a new server. A restore refuses a data dir that holds data (unless --force) and a
damaged backup, before it changes anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import run_cli
from tests.integration.server import LiveServer, demo_project_file, run_server

TEXTS = [
    "Marcus Bell met Fran\u00e7ois Dubois in Vienna on 2024-06-01.",
    "Ada Lovelace visited Paris in 1843.",
]


def _predictions(server: LiveServer) -> list[Any]:
    response = server.client.post(
        "/language/analyze-text/jobs",
        params={"api-version": "2023-04-01"},
        json={
            "analysisInput": {
                "documents": [
                    {"id": str(n), "language": "en", "text": text} for n, text in enumerate(TEXTS)
                ]
            },
            "tasks": [
                {
                    "kind": "CustomEntityRecognition",
                    "parameters": {"projectName": "people", "deploymentName": "prod"},
                }
            ],
        },
    )
    assert response.status_code == 202, response.text
    job = server.wait_job(response.headers["Operation-Location"])
    assert job["status"] == "succeeded", job
    return [
        [(e["category"], e["offset"], e["length"]) for e in document["entities"]]
        for document in job["tasks"]["items"][0]["results"]["documents"]
    ]


@dataclass
class Backup:
    folder: Path
    predictions: list[Any]


@pytest.fixture(scope="module")
def taken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backup]:
    """A data dir with a deployed model, backed up while its server runs."""
    root = tmp_path_factory.mktemp("backup")
    with run_server(root / "source") as server:
        server.import_project("people", demo_project_file("demo-ner", "people"))
        server.train("people", "m1")
        server.deploy("people", "prod", "m1")
        predictions = _predictions(server)
        done = run_cli("backup", root / "backup", data_dir=root / "source")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("backed up "), done.stdout
        assert _predictions(server) == predictions  # the server went on serving
    yield Backup(root / "backup", predictions)


def test_a_restored_backup_serves_the_same_predictions(taken: Backup, tmp_path: Path) -> None:
    manifest = json.loads((taken.folder / "backup.json").read_text(encoding="utf-8"))
    assert manifest["database"] == "sqlite" and manifest["schemaRevision"]
    assert "lexicraft.db" in manifest["files"]
    assert any(name.startswith("data/models/people/m1-") for name in manifest["files"])
    assert any(name.startswith("data/storage/people/") for name in manifest["files"])

    target = tmp_path / "restored"
    done = run_cli("restore", taken.folder, data_dir=target)
    assert done.returncode == 0, done.stderr
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]
    with run_server(target) as server:
        assert _predictions(server) == taken.predictions
        health = server.client.get("/health/models")
        assert health.status_code == 200, health.text
        assert [entry["modelFiles"] for entry in health.json()["deployments"]] == ["verified"]


def test_a_restore_refuses_a_data_dir_with_data_unless_forced(
    taken: Backup, tmp_path: Path
) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine", encoding="utf-8")

    refused = run_cli("restore", taken.folder, data_dir=target)
    assert refused.returncode == 1
    assert "--force" in refused.stderr and "already hold data" in refused.stderr
    assert [path.name for path in target.iterdir()] == ["keep.txt"]

    forced = run_cli("restore", taken.folder, "--force", data_dir=target)
    assert forced.returncode == 0, forced.stderr
    assert not (target / "keep.txt").exists()
    assert (target / "lexicraft.db").is_file()
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]


def test_a_damaged_backup_is_refused_before_anything_changes(taken: Backup, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged"
    run_cli("restore", taken.folder, data_dir=tmp_path / "scratch")  # a copy to damage
    done = run_cli("backup", damaged, data_dir=tmp_path / "scratch")
    assert done.returncode == 0, done.stderr
    weights = next((damaged / "data" / "models" / "people").glob("m1-*/model*"))
    weights.write_bytes(weights.read_bytes() + b"\0")
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep.txt").write_text("mine", encoding="utf-8")

    refused = run_cli("restore", damaged, "--force", data_dir=target)
    assert refused.returncode == 1
    assert "the backup is damaged" in refused.stderr and weights.name in refused.stderr
    assert [path.name for path in target.iterdir()] == ["keep.txt"]


def test_a_backup_needs_a_new_folder_outside_the_data_dir(taken: Backup, tmp_path: Path) -> None:
    source = tmp_path / "source"
    run_cli("restore", taken.folder, data_dir=source)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x", encoding="utf-8")

    into_full = run_cli("backup", tmp_path / "full", data_dir=source)
    assert into_full.returncode == 1 and "not an empty folder" in into_full.stderr
    inside = run_cli("backup", source / "b", data_dir=source)
    assert inside.returncode == 1 and "inside the data dir" in inside.stderr
    assert not (source / "b").exists()


def test_with_postgresql_the_files_are_backed_up_and_pg_dump_is_explained(
    tmp_path: Path, postgres_url: str
) -> None:
    source = tmp_path / "source"
    (source / "storage" / "docs").mkdir(parents=True)
    (source / "storage" / "docs" / "a.txt").write_text("a document", encoding="utf-8")
    environment = {"LEXICRAFT_DATABASE_URL": postgres_url}

    done = run_cli("backup", tmp_path / "backup", data_dir=source, env=environment)
    assert done.returncode == 0, done.stderr
    assert "pg_dump" in done.stderr
    manifest = json.loads((tmp_path / "backup" / "backup.json").read_text(encoding="utf-8"))
    assert manifest["database"] == "server" and "lexicraft.db" not in manifest["files"]

    restored = run_cli("restore", tmp_path / "backup", data_dir=tmp_path / "new", env=environment)
    assert restored.returncode == 0, restored.stderr
    assert "pg_restore" in restored.stderr
    assert (tmp_path / "new" / "storage" / "docs" / "a.txt").read_text("utf-8") == "a document"
