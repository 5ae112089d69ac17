"""The CLI against a real server (--endpoint/--key): it speaks the Azure authoring and runtime API.

A classification project this time: JSON Lines in → train → deploy → predict → CSV out.
A module fixture imports, trains and deploys through the CLI once and the tests only read that
project; the delete test deletes one of its own on a server of its own. Any order works.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli
from tests.datasets import read_jsonl
from tests.integration.server import FAST, TEST_KEY, LiveServer, demo_project_file, run_server

RECORDS = 80


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_server(tmp_path_factory.mktemp("remote-data")) as live:
        yield live


@pytest.fixture(scope="module")
def remote(server: LiveServer) -> dict[str, str]:
    """The environment that points the CLI at the server."""
    return {"LEXICRAFT_ENDPOINT": server.base_url, "LEXICRAFT_KEY": TEST_KEY}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("remote-files")
    records = read_jsonl("ag_news", "train", RECORDS)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (folder / "news.jsonl").write_text(lines, encoding="utf-8")
    return folder


@dataclass
class Deployed:
    """What the CLI printed while it imported, trained and deployed project ``topics``."""

    imported: subprocess.CompletedProcess[str]
    trained: subprocess.CompletedProcess[str]
    deployed: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def topics(remote: dict[str, str], folder: Path) -> Deployed:
    """``topics`` from news.jsonl: imported, m1 trained, deployed as ``prod``; tests only read it."""
    imported = run_cli("import", "news.jsonl", "--project", "topics", cwd=folder, env=remote)
    # The fast config: this is about the CLI against a server; the default fine-tunes for minutes.
    command = ("train", "topics", "-m", "m1", "--split", "75", "--config-version", FAST)
    trained = run_cli(*command, cwd=folder, env=remote)
    deployed = run_cli("deploy", "topics", "m1", "--name", "prod", cwd=folder, env=remote)
    return Deployed(imported, trained, deployed)


def test_import_train_deploy(topics: Deployed) -> None:
    assert topics.imported.returncode == 0, topics.imported.stderr
    assert (
        f"imported {RECORDS} documents into project topics (CustomSingleLabelClassification"
        in topics.imported.stdout
    )
    assert topics.trained.returncode == 0, topics.trained.stderr
    assert "100%" in topics.trained.stderr
    assert re.search(r"│ micro\s+│ \d\.\d{3}", topics.trained.stdout), topics.trained.stdout
    assert topics.deployed.returncode == 0, topics.deployed.stderr


def test_predict_through_the_runtime_api(
    remote: dict[str, str], folder: Path, topics: Deployed
) -> None:
    texts = [r["text"] for r in read_jsonl("ag_news", "test", 30)]
    # More than the 25 documents one analyze request may carry.
    result = run_cli(
        "predict", "topics", "prod", "-", cwd=folder, env=remote, stdin="\n".join(texts) + "\n"
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == texts
    labels = {"World", "Sports", "Business", "Sci/Tech"}
    for record in records:
        assert len(record["classes"]) == 1
        assert record["classes"][0] in labels
        assert 0 < record["confidenceScores"][record["classes"][0]] <= 1


def test_export_and_jobs(remote: dict[str, str], folder: Path, topics: Deployed) -> None:
    exported = run_cli("export", "topics", "--format", "csv", cwd=folder, env=remote)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.reader(io.StringIO(exported.stdout, newline="")))
    records = read_jsonl("ag_news", "train", RECORDS)
    assert rows[0] == ["text", "label"]
    assert rows[1:] == [[r["text"], *r["classes"]] for r in records]

    jobs = run_cli("jobs", "list", "--project", "topics", cwd=folder, env=remote)
    assert jobs.returncode == 0, jobs.stderr
    assert re.search(r"│ \S+_\d+ +│ train +│ topics .*│ succeeded │ 100 ", jobs.stdout), jobs.stdout


def test_delete_a_deployed_project(folder: Path, tmp_path: Path) -> None:
    """Deleting removes a project with its model and deployment (on a server of its own)."""
    with run_server(tmp_path / "data") as server:
        server.import_project("topics", demo_project_file("demo-classify", "topics"))
        server.train("topics", "m1")
        server.deploy("topics", "prod", "m1")
        env = {"LEXICRAFT_ENDPOINT": server.base_url, "LEXICRAFT_KEY": TEST_KEY}

        deleted = run_cli("project", "delete", "topics", "--yes", cwd=folder, env=env)
        assert deleted.returncode == 0, deleted.stderr
        listed = run_cli("project", "list", cwd=folder, env=env)
        assert "no projects yet" in listed.stdout


def test_a_wrong_key_is_refused(server: LiveServer) -> None:
    result = run_cli("project", "list", "--endpoint", server.base_url, "--key", "wrong")
    assert result.returncode == 1
    assert "the server refused the key" in result.stderr
    assert "check --key or LEXICRAFT_KEY" in result.stderr
