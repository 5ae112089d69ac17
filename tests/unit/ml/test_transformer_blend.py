"""How a ``textcat.minilm.v2`` folder persists its TF-IDF blend, and how older folders load.

One small encoder is trained once (under ``min_examples_for_validation`` documents, so no blend
is chosen); each test copies its folder and edits ``config.json`` / ``linear/`` to stand for
a folder the old code wrote (``textcat.minilm.v1`` before the blend existed,
``textcat.minilm-multi.v1`` before the softmax head: the same files and config keys), or for
one whose blend weight is above zero.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lexicraft.ml.artifacts import MODEL_CONFIG_FILE as CONFIG_FILE
from lexicraft.ml.artifacts import ModelFormatError
from lexicraft.ml.base import ClassExample
from lexicraft.ml.classification import blend
from lexicraft.ml.classification.linear import (
    LinearHyperparameters,
    LinearModel,
    fit_linear_model,
    save_linear_model,
)
from lexicraft.ml.classification.transformer import (
    LINEAR_DIR,
    MULTI_LABEL_V1_BACKEND_NAME,
    SINGLE_LABEL_BACKEND_NAME,
    SINGLE_LABEL_V1_BACKEND_NAME,
    TransformerClassificationBackend,
    TransformerClassificationBackendV1,
    TransformerClassificationPredictor,
    TransformerClassifierHyperparameters,
)
from lexicraft.ml.registry import load_classification_predictor, prepare_for_serving
from lexicraft.ml.serving import SERVING_FILE

pytestmark = pytest.mark.slow  # fine-tunes the packaged encoder once (a few seconds of CPU)

#: "Unused" has no document, so the linear model scores fewer classes than the encoder and
#: its scores must be aligned (a zero column) before they are blended.
LABELS = ("Sports", "Cooking", "Travel", "Unused")
CORPUS = tuple(
    ClassExample(text, (label,))
    for label, texts in (
        (
            "Sports",
            (
                "The striker scored twice in the cup final.",
                "Our goalkeeper saved a penalty in extra time.",
                "The marathon runners crossed the finish line.",
                "The tennis champion won the open in straight sets.",
                "The team trained hard before the league match.",
                "Fans cheered as the referee blew the final whistle.",
                "The cyclist won the mountain stage of the race.",
                "The coach praised the defence after the football game.",
            ),
        ),
        (
            "Cooking",
            (
                "Whisk the eggs and fold in the flour gently.",
                "Simmer the tomato sauce with garlic and basil.",
                "Bake the bread at a high oven temperature.",
                "Chop the onions and fry them in butter.",
                "Season the soup with salt, pepper and fresh herbs.",
                "Knead the dough and let it rise for an hour.",
                "Roast the chicken with lemon and rosemary.",
                "Stir the risotto slowly while adding the stock.",
            ),
        ),
        (
            "Travel",
            (
                "We booked a flight and a hotel for the holiday.",
                "The train to the coast leaves from platform nine.",
                "Pack your passport before the trip abroad.",
                "The ferry to the island sails every morning.",
                "Our guide showed us the old town on foot.",
                "We rented a car to drive along the coast road.",
                "The airport lounge was full of tired tourists.",
                "She backpacked across three countries last summer.",
            ),
        ),
    )
    for text in texts
)
TEXTS = [document.text for document in CORPUS] + [
    "",
    "🙂",
    "The chef cooked pasta before the football game.",
    "We flew to Rome and ate pizza by the sea.",
    "y" * 300,
]
SETTINGS = TransformerClassifierHyperparameters(epochs=1, min_steps=3, time_budget_s=30.0)


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("minilm") / "model"
    TransformerClassificationBackend(SETTINGS).train(CORPUS, LABELS, directory)
    return directory


@pytest.fixture(scope="module")
def encoder_scores(trained_dir: Path) -> np.ndarray[Any, Any]:
    """The freshly trained folder's scores: with its weight of 0.0, the encoder's softmax."""
    return TransformerClassificationBackend().load(trained_dir).scores(TEXTS)


@pytest.fixture(scope="module")
def linear_model() -> LinearModel:
    return fit_linear_model(CORPUS, LABELS, False, LinearHyperparameters())


def edited_copy(
    trained_dir: Path, destination: Path, edit: Callable[[dict[str, Any]], None]
) -> Path:
    """A copy of the trained folder with ``edit`` applied to its ``config.json``."""
    shutil.copytree(trained_dir, destination)
    config_path = destination / CONFIG_FILE
    config = json.loads(config_path.read_text(encoding="utf-8"))
    edit(config)
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return destination


def load(model_dir: Path) -> TransformerClassificationPredictor:
    return TransformerClassificationBackend().load(model_dir)


def set_weight(weight: float) -> Callable[[dict[str, Any]], None]:
    def edit(config: dict[str, Any]) -> None:
        config["linear_weight"] = weight

    return edit


def test_a_small_training_set_chooses_no_blend_and_writes_no_linear_folder(
    trained_dir: Path,
) -> None:
    config = json.loads((trained_dir / CONFIG_FILE).read_text(encoding="utf-8"))

    assert config["backend"] == SINGLE_LABEL_BACKEND_NAME
    assert config["validation_documents"] == 0
    assert config["linear_weight"] == 0.0
    assert not (trained_dir / LINEAR_DIR).exists()


def test_the_encoder_scores_are_a_softmax(encoder_scores: np.ndarray[Any, Any]) -> None:
    assert encoder_scores.shape == (len(TEXTS), len(LABELS))
    assert np.allclose(encoder_scores.sum(axis=1), 1.0, atol=1e-5)
    assert (encoder_scores > 0.0).all()


def as_v1_single_label(config: dict[str, Any]) -> None:
    """The config ``textcat.minilm.v1`` wrote before the blend: no ``linear_weight``."""
    config["backend"] = SINGLE_LABEL_V1_BACKEND_NAME
    del config["linear_weight"]


def test_a_folder_written_before_the_blend_loads_as_the_encoder_alone(
    trained_dir: Path, encoder_scores: np.ndarray[Any, Any], tmp_path: Path
) -> None:
    older = edited_copy(trained_dir, tmp_path / "older", as_v1_single_label)
    assert not (older / LINEAR_DIR).exists()

    predictor = load_classification_predictor(older)
    assert isinstance(predictor, TransformerClassificationPredictor)
    scores = predictor.scores(TEXTS)

    assert np.allclose(scores, encoder_scores, atol=1e-6)
    assert np.allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    assert predictor.predict(TEXTS) == load(trained_dir).predict(TEXTS)
    # A v1 folder is not a v2 one: the name says which code reads it.
    with pytest.raises(
        ValueError, match=r"'textcat\.minilm\.v1' model, not a 'textcat\.minilm\.v2'"
    ):
        load(older)


def test_v1_single_label_training_never_blends(tmp_path: Path) -> None:
    # Enough documents to hold some out: v2 would split them and tune a blend.
    settings = replace(SETTINGS, blend_linear=False, min_examples_for_validation=10)
    TransformerClassificationBackendV1().train(
        CORPUS, LABELS, tmp_path / "v1", hyperparameters=settings
    )

    config = json.loads((tmp_path / "v1" / CONFIG_FILE).read_text(encoding="utf-8"))
    assert config["backend"] == SINGLE_LABEL_V1_BACKEND_NAME
    assert config["validation_documents"] == 0
    assert config["linear_weight"] == 0.0
    assert config["hyperparameters"]["min_examples_for_validation"] == 10
    assert not (tmp_path / "v1" / LINEAR_DIR).exists()
    assert TransformerClassificationBackendV1().hyperparameters.blend_linear is False
    with pytest.raises(ValueError, match="trains the encoder alone"):
        TransformerClassificationBackendV1().train(
            CORPUS, LABELS, tmp_path / "blend", hyperparameters=SETTINGS
        )


#: Per-class thresholds as the sigmoid-era code tuned and stored them.
V1_THRESHOLDS = (0.5, 0.3, 0.9, 0.5)


def as_v1_multi_label(config: dict[str, Any]) -> None:
    """The config ``textcat.minilm-multi.v1`` wrote with its sigmoid head (same keys)."""
    config["backend"] = MULTI_LABEL_V1_BACKEND_NAME
    config["multi_label"] = True
    config["thresholds"] = list(V1_THRESHOLDS)


def test_a_v1_multi_label_folder_scores_with_a_sigmoid_per_class(
    trained_dir: Path, encoder_scores: np.ndarray[Any, Any], tmp_path: Path
) -> None:
    folder = edited_copy(trained_dir, tmp_path / "v1-multi", as_v1_multi_label)

    predictor = load_classification_predictor(folder)
    assert isinstance(predictor, TransformerClassificationPredictor)
    assert predictor.multi_label
    scores = predictor.scores(TEXTS).astype(np.float64)

    # The same network: the sigmoid's inverse gives its logits, the softmax's log gives the
    # same logits less a constant per text. A softmax head would not pass this.
    logits = np.log(scores) - np.log1p(-scores)
    shifted = np.log(encoder_scores.astype(np.float64))
    assert np.allclose(
        logits - logits.mean(axis=1, keepdims=True),
        shifted - shifted.mean(axis=1, keepdims=True),
        atol=1e-3,
    )
    assert not np.allclose(scores.sum(axis=1), 1.0, atol=0.05)
    # Classes are chosen by the stored thresholds on those scores.
    thresholds = np.asarray(V1_THRESHOLDS, dtype=np.float32)
    expected = [{LABELS[index] for index in np.flatnonzero(row >= thresholds)} for row in scores]
    predicted = predictor.predict(TEXTS)
    assert [{score.category for score in row} for row in predicted] == expected
    assert any(expected)  # some class passes, so the check above is not vacuous

    # Deploying it writes the ONNX network, which serves the same sigmoid scores.
    assert prepare_for_serving(folder)
    assert (folder / SERVING_FILE).is_file()
    served = load_classification_predictor(folder)
    assert getattr(served, "runtime", None) == "onnxruntime"
    assert isinstance(served, TransformerClassificationPredictor)
    assert np.allclose(served.scores(TEXTS), scores, atol=1e-4)


def test_a_zero_weight_ignores_a_linear_folder_beside_it(
    trained_dir: Path,
    encoder_scores: np.ndarray[Any, Any],
    linear_model: LinearModel,
    tmp_path: Path,
) -> None:
    folder = edited_copy(trained_dir, tmp_path / "zero", set_weight(0.0))
    save_linear_model(
        linear_model, "textcat.linear.v1", LinearHyperparameters(), folder / LINEAR_DIR
    )

    assert np.allclose(load(folder).scores(TEXTS), encoder_scores, atol=1e-6)


def test_a_positive_weight_blends_the_saved_linear_model(
    trained_dir: Path,
    encoder_scores: np.ndarray[Any, Any],
    linear_model: LinearModel,
    tmp_path: Path,
) -> None:
    folder = edited_copy(trained_dir, tmp_path / "blended", set_weight(0.5))
    save_linear_model(
        linear_model, "textcat.linear.v1", LinearHyperparameters(), folder / LINEAR_DIR
    )
    words = blend.aligned(linear_model.scores(TEXTS), linear_model.classes, LABELS)
    assert linear_model.classes == ("Sports", "Cooking", "Travel")
    assert (words[:, LABELS.index("Unused")] == 0.0).all()

    predictor = load(folder)
    scores = predictor.scores(TEXTS)

    assert np.allclose(scores, 0.5 * encoder_scores + 0.5 * words, atol=1e-5)
    assert np.allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    # The blend really moved the scores, so the check above is not the encoder's alone.
    assert not np.allclose(scores, encoder_scores, atol=1e-3)
    again = load(folder)
    assert np.array_equal(again.scores(TEXTS), scores)
    assert again.predict(TEXTS) == predictor.predict(TEXTS)


def test_a_positive_weight_without_its_linear_folder_fails_to_load(
    trained_dir: Path, tmp_path: Path
) -> None:
    folder = edited_copy(trained_dir, tmp_path / "broken", set_weight(0.5))

    with pytest.raises(ModelFormatError, match=r"linear is not a model folder"):
        load(folder)
