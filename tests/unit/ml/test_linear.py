"""Persistence and threshold tuning of the linear classifiers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lexicraft.ml.base import ClassExample
from lexicraft.ml.classification.linear import (
    LinearClassificationBackend,
    LinearHyperparameters,
    LinearMultiLabelClassificationBackend,
    fit_linear_model,
    load_linear_model,
    save_linear_model,
)

TEXTS = [
    "the match ended in a draw",
    "the striker scored a goal",
    "bake the cake for an hour",
    "stir the soup slowly",
    "the flight to Rome was late",
    "our train left on time",
    "rain and wind all day",
]
SINGLE = [
    ClassExample(text, (label,))
    for text, label in zip(
        TEXTS, ["Sports", "Sports", "Food", "Food", "Travel", "Travel", "Weather"], strict=True
    )
]
PROBES = [*TEXTS, "", "a goal in the rain", "unrelated words entirely", "über naïve café 東京"]


@pytest.mark.parametrize("multi_label", [False, True])
def test_reloaded_model_scores_like_the_fitted_one(multi_label: bool, tmp_path: Path) -> None:
    hyperparameters = LinearHyperparameters()
    model = fit_linear_model(
        SINGLE, ["Sports", "Food", "Travel", "Weather"], multi_label, hyperparameters
    )

    save_linear_model(model, "textcat.linear.v1", hyperparameters, tmp_path)
    reloaded = load_linear_model(tmp_path)

    np.testing.assert_allclose(reloaded.model.scores(PROBES), model.scores(PROBES), atol=1e-12)
    assert reloaded.model.classes == model.classes


def test_weights_are_plain_arrays_without_pickle(tmp_path: Path) -> None:
    LinearClassificationBackend().train(SINGLE, ["Sports", "Food", "Travel", "Weather"], tmp_path)

    with np.load(tmp_path / "weights.npz", allow_pickle=False) as weights:
        assert all(weights[name].dtype == np.float64 for name in weights.files)
    vocabulary = json.loads((tmp_path / "vocabulary.json").read_text(encoding="utf-8"))
    assert "goal" in vocabulary["word"]
    assert "the match" in vocabulary["word"]
    assert " go" in vocabulary["char"]


def test_two_class_single_label_model_gives_sigmoid_probabilities(tmp_path: Path) -> None:
    examples = [example for example in SINGLE if example.classes[0] in ("Sports", "Food")]
    backend = LinearClassificationBackend()
    backend.train(examples, ["Sports", "Food"], tmp_path)

    predictor = backend.load(tmp_path)
    scores = predictor.model.scores(PROBES)

    np.testing.assert_allclose(scores.sum(axis=1), 1.0)
    assert [result[0].category for result in predictor.predict(TEXTS[:4])] == [
        "Sports",
        "Sports",
        "Food",
        "Food",
    ]


def test_one_seen_class_is_always_predicted(tmp_path: Path) -> None:
    backend = LinearClassificationBackend()
    backend.train(SINGLE[:2], ["Sports", "Food"], tmp_path)

    predictions = backend.load(tmp_path).predict(["anything", ""])

    assert [[(score.category, score.confidence) for score in p] for p in predictions] == [
        [("Sports", 1.0)],
        [("Sports", 1.0)],
    ]


def test_multi_label_class_present_everywhere_or_nowhere(tmp_path: Path) -> None:
    examples = [ClassExample(text, ("Always",)) for text in TEXTS]
    backend = LinearMultiLabelClassificationBackend()
    backend.train(examples, ["Always", "Never"], tmp_path)

    predictions = backend.load(tmp_path).predict(["anything at all"])

    assert [(score.category, score.confidence) for score in predictions[0]] == [("Always", 1.0)]


def test_multi_label_thresholds_are_tuned_on_held_out_data() -> None:
    rng = np.random.default_rng(1)
    vocabulary = {"A": ["alpha", "apple", "amber"], "B": ["beta", "berry", "blue"]}
    filler = ["the", "some", "with", "and", "of", "today"]
    examples = []
    for _ in range(120):
        classes = tuple(label for label in ("A", "B") if rng.random() < 0.3)
        words = list(rng.choice(filler, size=5))
        for label in classes:
            words.append(str(rng.choice(vocabulary[label])))
        examples.append(ClassExample(" ".join(words), classes))

    model = fit_linear_model(examples, ["A", "B", "Rare"], True, LinearHyperparameters())

    assert model.thresholds.shape == (3,)
    assert all(0.0 < threshold < 1.0 for threshold in model.thresholds)
    # "Rare" never occurs: it keeps the default threshold and a constant score of 0.
    assert model.thresholds[2] == 0.5
    assert model.constant_scores[2] == 0.0


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ([], "no training examples"),
        ([ClassExample("two classes", ("Sports", "Food"))], "exactly one"),
        ([ClassExample("no class", ())], "exactly one"),
        ([ClassExample(" ", ("Sports",))], "blank"),
    ],
)
def test_single_label_rejects_unusable_training_data(
    examples: list[ClassExample], message: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=message):
        LinearClassificationBackend().train(examples, ["Sports", "Food"], tmp_path)


def test_load_refuses_a_model_of_another_backend(tmp_path: Path) -> None:
    LinearClassificationBackend().train(SINGLE, ["Sports", "Food", "Travel", "Weather"], tmp_path)

    with pytest.raises(ValueError, match=r"textcat\.linear\.v1"):
        LinearMultiLabelClassificationBackend().load(tmp_path)
