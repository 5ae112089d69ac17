"""Exit codes and one-line errors: 1 when the request cannot be done, 2 for a wrong command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli
from tests.datasets import read_jsonl


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir of the test's own: no test sees projects another one made."""
    return tmp_path / "data"


def bad_file(folder: Path) -> Path:
    """Three wnut17 records; the third's first entity runs past the end of its text."""
    records = read_jsonl("wnut17", "dev", 3)
    records[2]["entities"] = [
        {"category": "person", "offset": 0, "length": len(records[2]["text"]) + 1}
    ]
    path = folder / "wnut.jsonl"
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


def test_a_bad_record_imports_nothing_and_names_line_and_field(
    data_dir: Path, tmp_path: Path
) -> None:
    path = bad_file(tmp_path)
    result = run_cli("import", path, "--project", "wnut", data_dir=data_dir)
    assert result.returncode == 1
    assert result.stderr.startswith("error: line 3, field 'entities[0].length': span of 'person'")
    assert len(result.stderr.splitlines()) == 1
    listed = run_cli("project", "list", data_dir=data_dir)
    assert "no projects yet" in listed.stdout

    skipped = run_cli("import", path, "--project", "wnut", "--skip-invalid", data_dir=data_dir)
    assert skipped.returncode == 0, skipped.stderr
    assert "skipped 1 invalid record(s):\n  line 3, field 'entities[0].length'" in skipped.stderr
    assert "imported 2 documents into project wnut" in skipped.stdout


def test_unknown_names_say_where_to_look(data_dir: Path) -> None:
    result = run_cli("evaluate", "nope", "m1", data_dir=data_dir)
    assert result.returncode == 1
    assert result.stderr == "error: project 'nope' was not found; see 'lexicraft project list'\n"


@pytest.mark.parametrize(
    "args",
    [
        ("train", "wnut"),  # --model-label is required
        ("import", "x.jsonl", "--project", "p", "--kind", "sentiment"),
        ("predict", "only-one-argument"),
        ("project", "create", "p"),  # --kind is required
    ],
    ids=["missing-option", "bad-kind", "predict-arity", "create-without-kind"],
)
def test_usage_errors_exit_2(args: tuple[str, ...], data_dir: Path) -> None:
    result = run_cli(*args, data_dir=data_dir)
    assert result.returncode == 2, result.stderr


def test_delete_needs_confirmation_when_not_interactive(data_dir: Path) -> None:
    result = run_cli("project", "delete", "wnut", data_dir=data_dir, stdin="")
    assert result.returncode == 1
    assert "pass --yes to confirm" in result.stderr


def test_remote_errors_say_what_to_check(tmp_path: Path) -> None:
    unreachable = run_cli("project", "list", "--endpoint", "http://127.0.0.1:9", "--key", "k")
    assert unreachable.returncode == 1
    assert "cannot reach http://127.0.0.1:9" in unreachable.stderr
    assert "check --endpoint" in unreachable.stderr
    no_key = run_cli("project", "list", env={"LEXICRAFT_ENDPOINT": "http://127.0.0.1:9"})
    assert no_key.returncode == 1
    assert "pass --key or set LEXICRAFT_KEY" in no_key.stderr


def test_create_then_append(data_dir: Path, tmp_path: Path) -> None:
    created = run_cli(
        "project", "create", "intents", "--kind", "multi", "--language", "en-us", data_dir=data_dir
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout == "created project intents (CustomMultiLabelClassification, en-us)\n"
    again = run_cli("project", "create", "intents", "--kind", "multi", data_dir=data_dir)
    assert again.returncode == 1
    assert "already exists" in again.stderr

    records = read_jsonl("atis", "train", 30)
    for name, part in (("a.jsonl", records[:20]), ("b.jsonl", records[20:])):
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in part), encoding="utf-8")
    first = run_cli("import", tmp_path / "a.jsonl", "--project", "intents", data_dir=data_dir)
    assert (
        "imported 20 documents into project intents (CustomMultiLabelClassification" in first.stdout
    )
    second = run_cli(
        "import",
        tmp_path / "b.jsonl",
        "--project",
        "intents",
        "--append",
        "--dataset",
        "test",
        data_dir=data_dir,
    )
    assert second.returncode == 0, second.stderr
    assert "imported 30 documents" in second.stdout
    shown = run_cli("project", "show", "intents", data_dir=data_dir)
    assert "documents:   30 (10 Test, 20 unassigned)" in shown.stdout
