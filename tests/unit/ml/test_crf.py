"""Pieces of the CRF backend that the contract suite does not pin down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lexicraft.ml.base import NerExample, Span
from lexicraft.ml.ner.crf import CrfHyperparameters, CrfNerBackend, decode_bio


@pytest.mark.parametrize(
    ("tags", "entities"),
    [
        (["O", "O"], []),
        (["B-PER", "I-PER", "O"], [("PER", 0, 2)]),
        (["B-PER", "B-PER"], [("PER", 0, 1), ("PER", 1, 2)]),
        # I- after O starts an entity
        (["O", "I-LOC", "I-LOC"], [("LOC", 1, 3)]),
        # I- of another category starts a new entity
        (["B-PER", "I-LOC"], [("PER", 0, 1), ("LOC", 1, 2)]),
        (["I-ORG"], [("ORG", 0, 1)]),
        (["B-ORG", "I-ORG"], [("ORG", 0, 2)]),
        ([], []),
    ],
)
def test_decode_bio_repairs_invalid_sequences(
    tags: list[str], entities: list[tuple[str, int, int]]
) -> None:
    assert decode_bio(tags) == entities


def test_labels_with_hyphens_survive_decoding() -> None:
    assert decode_bio(["B-date-time", "I-date-time"]) == [("date-time", 0, 2)]


def test_config_records_backend_labels_and_hyperparameters(tmp_path: Path) -> None:
    backend = CrfNerBackend(CrfHyperparameters(max_iterations=7))

    backend.train([NerExample("Bob ran", (Span(0, 3, "PER"),))], ["PER", "LOC"], tmp_path)

    config = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))
    assert config["backend"] == "ner.crf.v1"
    assert config["labels"] == ["PER", "LOC"]
    assert config["hyperparameters"]["max_iterations"] == 7
    assert (tmp_path / config["model_file"]).read_bytes()[:4] == b"lCRF"


def test_predictor_outlives_its_model_directory(tmp_path: Path) -> None:
    backend = CrfNerBackend()
    backend.train([NerExample("Bob ran", (Span(0, 3, "PER"),))], ["PER"], tmp_path / "m")
    predictor = backend.load(tmp_path / "m")
    expected = predictor.predict(["Bob ran"])

    for path in (tmp_path / "m").iterdir():
        path.unlink()

    assert predictor.predict(["Bob ran"]) == expected


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ([], "no training examples"),
        ([NerExample("  ", ())], "no training example has any token"),
        ([NerExample("Bob", (Span(0, 9, "PER"),))], "outside the text"),
        ([NerExample("Bob", (Span(2, 2, "PER"),))], "is empty"),
    ],
)
def test_rejects_unusable_training_data(
    examples: list[NerExample], message: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=message):
        CrfNerBackend().train(examples, ["PER"], tmp_path)


def test_rejects_bad_hyperparameters() -> None:
    with pytest.raises(ValueError, match="max_iterations"):
        CrfHyperparameters(max_iterations=0)
