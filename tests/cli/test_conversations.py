"""Conversation (CLU) projects through the real ``lexicraft`` command, locally and remotely.

Each test runs twice: on a local data dir (the services in the CLI's process) and against a
real server (``--endpoint``/``--key``: the ``analyze-conversations`` authoring routes and
``POST /language/:analyze-conversations``). A module fixture imports a small CLU project
file, trains it with the fast config, and deploys it; the tests read that project, and the
bad-input tests check that a refused file leaves it as it was.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cli.clu_files import luis_app, travel_project_file
from tests.cli.helpers import run_cli
from tests.integration.server import FAST, TEST_KEY, run_server

PROJECT = "travel"


@dataclass
class Place:
    """Where the CLI works (a data dir or a server) and the folder with the files."""

    folder: Path
    env: dict[str, str]

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, cwd=self.folder, env=self.env, stdin=stdin)


@pytest.fixture(scope="module", params=["local", "remote"])
def place(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Place]:
    folder = tmp_path_factory.mktemp(f"clu-{request.param}")
    files = {
        # The file names another project: the one named on the command line wins.
        "travel.json": travel_project_file("elsewhere"),
        "app.json": luis_app(),
        "old-luis.json": luis_app("2.1.0"),
    }
    bad = travel_project_file("elsewhere")
    bad["assets"]["utterances"][3]["intent"] = "Dance"
    files["bad.json"] = bad
    for name, body in files.items():
        (folder / name).write_text(json.dumps(body, ensure_ascii=False, indent=2), "utf-8")
    if request.param == "local":
        yield Place(folder, {"LEXICRAFT_DATA_DIR": str(folder / "data")})
        return
    with run_server(folder / "server-data") as server:
        yield Place(folder, {"LEXICRAFT_ENDPOINT": server.base_url, "LEXICRAFT_KEY": TEST_KEY})


@dataclass
class Deployed:
    """What the CLI printed while it imported, trained and deployed ``travel``."""

    imported: subprocess.CompletedProcess[str]
    trained: subprocess.CompletedProcess[str]
    deployed: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def travel(place: Place) -> Deployed:
    imported = place.cli("import", "travel.json", "--project", PROJECT)
    # --manual: the file puts every 5th utterance in the Test set.
    trained = place.cli("train", PROJECT, "-m", "m1", "--manual", "--config-version", FAST)
    deployed = place.cli("deploy", PROJECT, "m1", "--name", "prod")
    return Deployed(imported, trained, deployed)


def exported(place: Place, project: str) -> dict[str, Any]:
    result = place.cli("export", project)
    assert result.returncode == 0, result.stderr
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def test_import_train_deploy(travel: Deployed) -> None:
    assert travel.imported.returncode == 0, travel.imported.stderr
    assert travel.imported.stdout == (
        "imported 30 utterances into project travel (Conversation; intents: None, BookFlight, "
        "CheckWeather, SendEmail; entities: City, Airline)\n"
    )
    assert travel.trained.returncode == 0, travel.trained.stderr
    assert "100%" in travel.trained.stderr
    # The conversation evaluation: a table of intents and one of entities.
    out = travel.trained.stdout
    assert "travel / m1: evaluation: intents" in out
    assert "travel / m1: evaluation: entities" in out
    for label in ("BookFlight", "CheckWeather", "SendEmail", "City", "micro"):
        assert re.search(rf"│ {label}\s+│ \d\.\d{{3}}", out), out
    assert travel.deployed.returncode == 0, travel.deployed.stderr
    assert travel.deployed.stdout == "deployed model m1 of project travel as prod\n"


def test_predict_prints_intents_and_entities(place: Place, travel: Deployed) -> None:
    utterance = "😀 book a flight to Rome with KLM"
    result = place.cli("predict", PROJECT, "prod", stdin=f"{utterance}\n\nsend an email to Bob\n")
    assert result.returncode == 0, result.stderr
    first, blank, last = (json.loads(line) for line in result.stdout.splitlines())

    assert (first["id"], first["text"], first["topIntent"]) == ("1", utterance, "BookFlight")
    intents = first["intents"]
    assert {i["category"] for i in intents} == {"None", "BookFlight", "CheckWeather", "SendEmail"}
    scores = [i["confidenceScore"] for i in intents]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert intents[0]["category"] == "BookFlight"
    (airline,) = [e for e in first["entities"] if e["category"] == "Airline"]
    # Offsets count code points: the emoji is one.
    assert (airline["offset"], airline["length"], airline["text"]) == (
        utterance.index("KLM"),
        3,
        "KLM",
    )
    assert airline["extraInformation"] == [{"extraInformationKind": "ListKey", "key": "klm"}]
    for entity in first["entities"]:
        assert utterance[entity["offset"] : entity["offset"] + entity["length"]] == entity["text"]

    assert blank == {"id": "2", "text": "", "topIntent": None, "intents": [], "entities": []}
    assert last["topIntent"] == "SendEmail"


def test_export_gives_back_the_imported_file(place: Place, travel: Deployed) -> None:
    expected = travel_project_file(PROJECT)
    assert exported(place, PROJECT) == expected
    # To a file, too (the default format of a conversation project is its CLU file).
    written = place.cli("export", PROJECT, "--output", "travel-out.json")
    assert written.returncode == 0, written.stderr
    assert written.stderr == "wrote 30 utterances to travel-out.json\n"
    assert json.loads((place.folder / "travel-out.json").read_text("utf-8")) == expected

    other = place.cli("export", PROJECT, "--format", "jsonl")
    assert other.returncode == 1
    assert other.stderr.startswith("error: a conversation project is exported as a CLU")


def test_import_a_luis_app_reports_what_was_converted_and_dropped(place: Place) -> None:
    # Detected by its luis_schema_version; --format luis says so outright.
    result = place.cli("import", "app.json", "--project", "greetings", "--format", "luis")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "imported 13 utterances into project greetings (Conversation; intents: None, Greet, "
        "Farewell; entities: Person, Mood)"
    )
    assert (
        "converted: machine-learned entity 'Person' → entity 'Person' (learned component)" in lines
    )
    assert "converted: closed list 'Mood' → list component of entity 'Mood' (2 items)" in lines
    dropped = [line for line in lines if line.startswith("dropped (no CLU equivalent): ")]
    assert len(dropped) == 2 and "pattern 'hello {Person}'" in dropped[0]
    assert "phrase list 'Hellos'" in dropped[1]
    assert all(line.startswith(("converted: ", "dropped ")) for line in lines[1:])

    file = exported(place, "greetings")
    mood = next(e for e in file["assets"]["entities"] if e["category"] == "Mood")
    assert [item["listKey"] for item in mood["list"]["sublists"]] == ["happy", "sad"]

    trained = place.cli("train", "greetings", "-m", "m1", "--config-version", FAST)
    assert trained.returncode == 0, trained.stderr
    assert "greetings / m1: evaluation: intents" in trained.stdout


def assert_refused(result: subprocess.CompletedProcess[str], path: str) -> None:
    assert result.returncode == 1, result.stdout
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and path in line, line


def test_a_luis_app_of_an_old_schema_is_refused(place: Place, travel: Deployed) -> None:
    result = place.cli("import", "old-luis.json", "--project", "old", "--format", "luis")
    assert_refused(result, "luis_schema_version")
    assert "'2.1.0' is not supported" in result.stderr
    assert result.stdout == ""
    assert place.cli("project", "show", "old").returncode == 1


def test_a_clu_file_naming_an_unknown_intent_imports_nothing(
    place: Place, travel: Deployed
) -> None:
    fresh = place.cli("import", "bad.json", "--project", "broken")
    assert_refused(fresh, "assets.utterances[3].intent")
    assert "'Dance'" in fresh.stderr
    assert place.cli("project", "show", "broken").returncode == 1

    # Over an existing project: it stays as it was.
    over = place.cli("import", "bad.json", "--project", PROJECT)
    assert_refused(over, "assets.utterances[3].intent")
    assert exported(place, PROJECT) == travel_project_file(PROJECT)


def test_project_create_list_and_show(place: Place, travel: Deployed) -> None:
    created = place.cli("project", "create", "empty-clu", "--kind", "clu")
    assert created.returncode == 0, created.stderr
    assert created.stdout == "created project empty-clu (Conversation, en)\n"
    listed = place.cli("project", "list")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"│ empty-clu +│ Conversation +│ en ", listed.stdout), listed.stdout
    assert re.search(r"│ travel +│ Conversation +│ en-us ", listed.stdout), listed.stdout
    shown = place.cli("project", "show", PROJECT)
    assert shown.returncode == 0, shown.stderr
    assert "kind:        Conversation" in shown.stdout
    assert re.search(r"│ m1 +│ .*│ 2022-05-01-fast +│", shown.stdout), shown.stdout
    assert re.search(r"│ prod +│ m1 +│", shown.stdout), shown.stdout


def test_export_model_is_refused_for_a_conversation_model(place: Place, travel: Deployed) -> None:
    # Its list, regex and prebuilt components live in the project, not in the model folder.
    result = place.cli("export-model", PROJECT, "m1", "--output", "travel-m1")
    assert_refused(result, "export")
    assert not (place.folder / "travel-m1").exists()
