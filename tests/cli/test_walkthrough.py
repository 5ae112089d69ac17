"""docs/cli.md's walkthrough, run as written: CoNLL file → import → train → deploy → predict.

The commands are read from the doc itself and run by bash in a fresh folder (with
``../shared/data`` pointing at the shared data and ``lexicraft`` on the PATH), so the doc
cannot drift from what works. Further tests use the same data dir: unusual texts, the model
exported to a folder and run without the data dir, the project exported back, jobs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.helpers import LEXICRAFT, record_spans, run_cli
from tests.datasets import read_jsonl, shared_data_dir

# The walkthrough trains the default config (150 steps of MiniLM and the CRF): about four and
# a half minutes on two idle cores of a fast machine, over five beside the rest of a loaded
# suite on a slower one. The limits guard against a hang, not a slow machine.
pytestmark = pytest.mark.timeout(2400)
STEP_TIMEOUT_S = 1800

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
MARKER = "<!-- walkthrough: run as written by tests/cli/test_walkthrough.py -->"

TEXTS = [
    "Peter Blackburn visited Brussels to meet the European Commission .",
    "",
    "Zoë 😀 flew from 東京 to Germany with 👩\u200d👩\u200d👧 and José\u0301 .",
    "Manchester United beat Arsenal in London on Sunday .",
]


def walkthrough_commands() -> list[str]:
    """The shell commands of the walkthrough block in docs/cli.md."""
    block = DOC.read_text(encoding="utf-8").split(MARKER, 1)[1].split("```sh\n", 1)[1]
    lines = block.split("```", 1)[0].splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


@dataclass
class Session:
    folder: Path
    data_dir: Path
    steps: list[subprocess.CompletedProcess[str]]

    def step(self, command: str) -> subprocess.CompletedProcess[str]:
        """The run of the walkthrough command that starts with ``command``."""
        return next(s for s in self.steps if s.args[-1].split("|")[-1].strip().startswith(command))


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    folder = tmp_path_factory.mktemp("walkthrough")
    data_dir = folder / "data"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEXICRAFT_")}
    environment["PATH"] = f"{LEXICRAFT.parent}{os.pathsep}{environment.get('PATH', '')}"
    environment["LEXICRAFT_DATA_DIR"] = str(data_dir)
    environment["PYTHONIOENCODING"] = "utf-8"
    steps = []
    for command in walkthrough_commands():
        # The doc runs from the repository root, where the shared data is ../shared/data.
        command = command.replace("../shared/data", str(shared_data_dir().resolve()))
        steps.append(
            subprocess.run(
                ["bash", "-o", "pipefail", "-c", command],
                cwd=folder,
                env=environment,
                capture_output=True,
                text=True,
                encoding="utf-8",
                timeout=STEP_TIMEOUT_S,
                check=False,
            )
        )
    (folder / "texts.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    return Session(folder, data_dir, steps)


def test_walkthrough_runs_as_written(session: Session) -> None:
    assert len(session.steps) == 5
    for step in session.steps:
        assert step.returncode == 0, (step.args, step.stderr)
    assert (session.folder / "train.conll").read_text(encoding="utf-8").startswith("EU B-ORG\n")


def test_import_reports_the_project(session: Session) -> None:
    assert session.step("lexicraft import").stdout == (
        "imported 300 documents into project news "
        "(CustomEntityRecognition; labels: ORG, MISC, PER, LOC)\n"
    )


def test_train_shows_progress_then_the_evaluation(session: Session) -> None:
    trained = session.step("lexicraft train")
    assert "100%" in trained.stderr
    for label in ("PER", "LOC", "ORG", "MISC", "micro", "macro"):
        assert re.search(rf"│ {label}\s+│ \d\.\d{{3}}", trained.stdout), trained.stdout
    assert "deploy it with 'lexicraft deploy news m1 --name production'" in trained.stderr
    assert session.step("lexicraft deploy").stdout == (
        "deployed model m1 of project news as production\n"
    )
    # Deploying wrote the network for ONNX Runtime, which serves it on a CPU.
    (model_dir,) = (session.data_dir / "models" / "news").glob("m1-*")
    assert (model_dir / "serving.onnx").is_file()


def test_predict_prints_the_entities(session: Session) -> None:
    (record,) = [json.loads(line) for line in session.step("lexicraft predict").stdout.splitlines()]
    assert record["id"] == "1"
    assert ("Peter Blackburn", "PER") in {(e["text"], e["category"]) for e in record["entities"]}


@pytest.fixture(scope="module")
def predicted(session: Session) -> subprocess.CompletedProcess[str]:
    """The deployment's predictions for texts.txt (the exported models must give the same)."""
    return run_cli(
        "predict", "news", "production", "texts.txt", data_dir=session.data_dir, cwd=session.folder
    )


def served_output(predicted: subprocess.CompletedProcess[str]) -> str:
    """The deployment's JSON Lines for texts.txt; the predict command must have worked."""
    assert predicted.returncode == 0, predicted.stderr
    return predicted.stdout


def test_predict_a_file_of_unusual_texts(predicted: subprocess.CompletedProcess[str]) -> None:
    result = predicted
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == TEXTS
    assert [r["id"] for r in records] == ["1", "2", "3", "4"]
    assert records[1]["entities"] == []
    for record in records:
        for entity in record["entities"]:
            # Offsets count code points: the emoji, ZWJ family and combining mark are one each.
            assert (
                record["text"][entity["offset"] : entity["offset"] + entity["length"]]
                == entity["text"]
            )
            assert 0 < entity["confidenceScore"] <= 1


def test_exported_model_runs_without_the_data_dir(
    session: Session, predicted: subprocess.CompletedProcess[str]
) -> None:
    exported = run_cli(
        "export-model",
        "news",
        "m1",
        "--output",
        "news-m1",
        data_dir=session.data_dir,
        cwd=session.folder,
    )
    assert exported.returncode == 0, exported.stderr
    folder = session.folder / "news-m1"
    assert {p.name for p in folder.iterdir()} >= {
        "README.md",
        "config.json",
        "labels.json",
        "evaluation.json",
        "lexicraft-model.json",
        "model.safetensors",
        "tokenizer.json",
    }
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    assert labels == {
        "projectKind": "CustomEntityRecognition",
        "labels": ["ORG", "MISC", "PER", "LOC"],
    }

    # From standard input, with no data dir at all: the same predictions as the deployment's.
    offline = run_cli(
        "predict", "--model", "news-m1", "-", cwd=session.folder, stdin="\n".join(TEXTS) + "\n"
    )
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout == served_output(predicted)

    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "| micro |" in readme
    snippet = readme.split("```python\n", 1)[1].split("```", 1)[0]
    assert len([line for line in snippet.splitlines() if line.strip()]) <= 10
    ran = subprocess.run(
        [sys.executable, "-c", snippet],
        cwd=session.folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    assert re.search(r"^(PER|LOC|ORG|MISC) \d+ \d+ 0\.\d+$", ran.stdout, re.MULTILINE), ran.stdout


def serving_precision(session: Session) -> str:
    """What the deployed model serves: the deploy's int8 check writes it beside the model."""
    (choice,) = (session.data_dir / "models" / "news").glob("*/serving.json")
    precision: str = json.loads(choice.read_text(encoding="utf-8"))["precision"]
    return precision


def test_onnx_export_finds_the_same_entities(
    session: Session, predicted: subprocess.CompletedProcess[str]
) -> None:
    exported = run_cli(
        "export-model",
        "news",
        "m1",
        "--format",
        "onnx",
        "--output",
        "news-m1-onnx",
        data_dir=session.data_dir,
        cwd=session.folder,
    )
    assert exported.returncode == 0, exported.stderr
    folder = session.folder / "news-m1-onnx"
    assert (folder / "model.onnx").is_file()
    assert not (folder / "model.safetensors").exists()

    offline = run_cli(
        "predict", "--model", "news-m1-onnx", "-", cwd=session.folder, stdin="\n".join(TEXTS) + "\n"
    )

    assert offline.returncode == 0, offline.stderr
    int8 = serving_precision(session) == "int8"
    served = served_output(predicted).splitlines()
    for onnx_line, served_line in zip(offline.stdout.splitlines(), served, strict=True):
        onnx_record, served_record = json.loads(onnx_line), json.loads(served_line)
        assert [(e["offset"], e["length"], e["category"]) for e in onnx_record["entities"]] == [
            (e["offset"], e["length"], e["category"]) for e in served_record["entities"]
        ]
        if int8:
            # The deployment serves its int8 graph (the deploy check kept it): the same
            # entities; confidences are int8's (the contract suite compares the fp32 graphs,
            # calibration included, to 1e-3).
            continue
        for onnx_entity, served_entity in zip(
            onnx_record["entities"], served_record["entities"], strict=True
        ):
            assert onnx_entity["confidenceScore"] == pytest.approx(
                served_entity["confidenceScore"], abs=1e-3
            )


def test_export_gives_back_the_imported_documents(session: Session) -> None:
    records = read_jsonl("conll2003", "train", 300)
    result = run_cli("export", "news", "--format", "jsonl", data_dir=session.data_dir)
    assert result.returncode == 0, result.stderr
    exported = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["id"] for e in exported[:2]] == ["train-000001", "train-000002"]
    assert [e["text"] for e in exported] == [r["text"] for r in records]
    assert [record_spans(e) for e in exported] == [record_spans(r) for r in records]


def test_project_show_jobs_and_evaluate(session: Session) -> None:
    shown = run_cli("project", "show", "news", data_dir=session.data_dir)
    assert shown.returncode == 0, shown.stderr
    assert "documents:   300" in shown.stdout
    assert "labels:      ORG, MISC, PER, LOC" in shown.stdout
    assert "production" in shown.stdout

    jobs = run_cli("jobs", "list", "--project", "news", data_dir=session.data_dir)
    assert jobs.returncode == 0, jobs.stderr
    train_ids = re.findall(r"│ (\S+) +│ train ", jobs.stdout)
    assert len(train_ids) == 1, jobs.stdout
    job = run_cli("jobs", "show", train_ids[0], data_dir=session.data_dir)
    body = json.loads(job.stdout)
    assert (body["kind"], body["status"], body["percentComplete"]) == ("train", "succeeded", 100.0)
    assert body["result"]["modelLabel"] == "m1"
    finished = run_cli("jobs", "cancel", train_ids[0], data_dir=session.data_dir)
    assert finished.returncode == 1
    assert "has already succeeded" in finished.stderr

    evaluation = run_cli("evaluate", "news", "m1", "--json", data_dir=session.data_dir)
    summary = json.loads(evaluation.stdout)
    assert summary["projectKind"] == "CustomEntityRecognition"
    assert 0 < summary["summary"]["microF1"] <= 1
    # The default (ner.minilm.v2) held a tenth of the training split out to choose the CRF's
    # share and calibrate confidences, and says so beside the test figures.
    selection = summary["summary"]["modelSelection"]
    assert selection["documents"] == 24  # a tenth of the 240 training documents
    assert set(selection["scores"]) == {"encoder", "crf", "blend"}
    assert selection["scores"]["blend"] == max(selection["scores"].values())
    assert 0.0 <= selection["crfWeight"] <= 1.0
