"""Exported model folders: what they hold, that they load back, and what is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lexicraft.errors import InvalidParameterValue
from lexicraft.ml.base import NerExample, Span
from lexicraft.ml.export import ModelCard, export_model, load_exported, read_card, render_readme
from lexicraft.ml.ner.crf import CrfNerBackend
from lexicraft.ml.registry import load_ner_predictor

EXAMPLES = [
    NerExample(
        "Ada met Bob in Paris", (Span(0, 3, "PER"), Span(8, 11, "PER"), Span(15, 20, "LOC"))
    ),
    NerExample("Bob left Paris", (Span(0, 3, "PER"), Span(9, 14, "LOC"))),
]


def card(kind: str = "CustomEntityRecognition") -> ModelCard:
    return ModelCard(
        project_name="p",
        project_kind=kind,
        language="en",
        model_label="m1",
        model_id="m1-x",
        training_config_version="2022-05-01",
        backend="ner.crf.v1",
        trained_at="2026-01-01T00:00:00.000Z",
        labels=("PER", "LOC"),
        evaluation_options={"kind": "manual"},
        evaluation_summary={
            "microF1": 0.5,
            "entities": {"PER": {"precision": 1.0, "recall": 0.5, "f1": 0.667}},
        },
    )


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    model_dir = tmp_path / "artifact"
    CrfNerBackend().train(EXAMPLES, ["PER", "LOC"], model_dir)
    return model_dir


def test_export_holds_model_labels_evaluation_and_loads_back(
    artifact: Path, tmp_path: Path
) -> None:
    output = export_model(artifact, tmp_path / "out", card(), "dir")
    assert {p.name for p in output.iterdir()} == {
        "config.json",
        "model.crfsuite",
        "labels.json",
        "evaluation.json",
        "lexicraft-model.json",
        "README.md",
    }
    assert (
        json.loads((output / "evaluation.json").read_text(encoding="utf-8"))["summary"]["microF1"]
        == 0.5
    )
    loaded_card, predictor = load_exported(output)
    assert loaded_card == card()
    texts = ["Ada met Bob in Paris", "Bob left"]
    assert predictor.predict(texts) == load_ner_predictor(artifact).predict(texts)
    assert not (tmp_path / "out.partial").exists()


def test_onnx_and_unknown_formats_are_refused_naming_what_works(
    artifact: Path, tmp_path: Path
) -> None:
    with pytest.raises(
        InvalidParameterValue,
        match=(
            r"ONNX export is not available for 'ner.crf.v1' models; "
            r".*\['ner.e5.v1', 'ner.minilm.v1', 'ner.minilm.v2'\]"
        ),
    ):
        export_model(artifact, tmp_path / "out", card(), "onnx")
    with pytest.raises(InvalidParameterValue, match="not supported; use one of"):
        export_model(artifact, tmp_path / "out", card(), "zip")
    assert not (tmp_path / "out").exists()


def test_an_existing_folder_is_not_overwritten(artifact: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InvalidParameterValue, match="not an empty folder"):
        export_model(artifact, tmp_path / "out", card(), "dir")
    assert (tmp_path / "out" / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_a_folder_that_is_no_export_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="is not an exported Lexicraft model"):
        read_card(tmp_path)


@pytest.mark.parametrize(
    ("kind", "loader"),
    [
        ("CustomEntityRecognition", "load_ner_predictor"),
        ("CustomMultiLabelClassification", "load_classification_predictor"),
    ],
)
def test_readme_snippet_is_at_most_ten_lines(kind: str, loader: str) -> None:
    readme = render_readme(card(kind), "my-model")
    snippet = readme.split("```python\n", 1)[1].split("```", 1)[0]
    assert len([line for line in snippet.splitlines() if line.strip()]) <= 10
    assert f"from lexicraft.ml.registry import {loader}" in snippet
    assert 'Path("my-model")' in snippet
    assert "| micro | - | - | 0.500 |" in readme
