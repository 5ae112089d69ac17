"""The contract every registered classification backend keeps (CONVENTIONS 4)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from lexicraft.ml.base import (
    ClassExample,
    ClassificationBackend,
    ClassificationPredictor,
    ClassScore,
)
from lexicraft.ml.registry import (
    CUSTOM_MULTI_LABEL_CLASSIFICATION,
    CUSTOM_SINGLE_LABEL_CLASSIFICATION,
    DEFAULT_TRAINING_CONFIG_VERSION,
    classification_backends,
    load_classification_predictor,
    prepare_for_serving,
    resolve_backend_name,
)
from lexicraft.ml.serving import SERVING_FILE
from tests.contract import fresh_process
from tests.contract.schedules import CLASSIFICATION_TINY_STEPS, on_fixed_schedule

#: "Weather" has a single example and "Unused" none: both must be handled.
SINGLE_LABELS = ("Sports", "Cooking", "Travel", "Weather", "Unused")
SINGLE_CORPUS = (
    ClassExample("The striker scored twice in the cup final.", ("Sports",)),
    ClassExample("Our goalkeeper saved a penalty in extra time.", ("Sports",)),
    ClassExample("The marathon runners crossed the finish line.", ("Sports",)),
    ClassExample("Tennis champion wins the open in straight sets ⚽🏆", ("Sports",)),
    ClassExample("Whisk the eggs and fold in the flour gently.", ("Cooking",)),
    ClassExample("Simmer the tomato sauce with garlic and basil.", ("Cooking",)),
    ClassExample("Bake the bread at a high oven temperature.", ("Cooking",)),
    ClassExample("Rühren Sie die Butter mit dem Zucker schaumig.", ("Cooking",)),
    ClassExample("We booked a flight and a hotel for the holiday.", ("Travel",)),
    ClassExample("The train to the coast leaves from platform nine.", ("Travel",)),
    ClassExample("Pack your passport before the trip abroad.", ("Travel",)),
    ClassExample("我们下个月去东京旅行。", ("Travel",)),
    ClassExample("Heavy rain and thunderstorms are expected tomorrow.", ("Weather",)),
)

#: "Weather" has a single example, "Unused" none, and one document has no class at all.
MULTI_LABELS = ("Sports", "Food", "Travel", "Weather", "Unused")
MULTI_CORPUS = (
    ClassExample("The striker scored twice in the cup final.", ("Sports",)),
    ClassExample("Our goalkeeper saved a penalty in extra time.", ("Sports",)),
    ClassExample("The team ate pizza after the match.", ("Sports", "Food")),
    ClassExample("Whisk the eggs and fold in the flour gently.", ("Food",)),
    ClassExample("Simmer the tomato sauce with garlic and basil.", ("Food",)),
    ClassExample("We tasted street food on our trip to Bangkok 🍜✈️", ("Food", "Travel")),
    ClassExample("We booked a flight and a hotel for the holiday.", ("Travel",)),
    ClassExample("The train to the coast leaves from platform nine.", ("Travel",)),
    ClassExample("Fans travelled abroad to watch the cup final.", ("Sports", "Travel")),
    ClassExample("Storms delayed our flight home.", ("Travel", "Weather")),
    ClassExample("Ich habe heute nichts Besonderes gemacht.", ()),
)

UNSEEN_TEXTS = (
    "",
    "   ",
    "🙂",
    "The chef cooked pasta before the football game.",
    "Größere Stürme über München erwartet.",
    "東京でラーメンを食べた。",
    "y" * 500,
)

BACKEND_NAMES = sorted(classification_backends())
#: Backends with a fine-tuned encoder, served by ONNX Runtime once prepared.
ENCODER_BACKENDS = (
    "textcat.minilm.v1",
    "textcat.minilm-multi.v1",
    "textcat.minilm.v2",
    "textcat.minilm-multi.v2",
    "textcat.e5.v1",
    "textcat.e5-multi.v1",
)
#: Backends that embed texts with frozen MiniLM in PyTorch: they have no serving graph.
PYTORCH_SERVED_BACKENDS = ("textcat.hybrid.v1", "textcat.hybrid-multi.v1")
#: Kept to load the folders they trained, never trained by a config version any more: the
#: contract holds for them, but the quality bar is for what users train today (a sigmoid per
#: class stays under the goemotions baseline within the quality budget, and the hybrids' quality
#: was measured when they were the defaults; see bench/results/).
SUPERSEDED_BACKENDS = (
    "textcat.hybrid-multi.v1", "textcat.hybrid.v1", "textcat.minilm-multi.v1",
    "textcat.minilm.v1",
)  # fmt: skip
#: What a config version trains today: the training behaviour (seeds, languages, quality) is
#: checked for these; a superseded backend's model only has to load and serve as before.
TRAINED_BACKENDS = [name for name in BACKEND_NAMES if name not in SUPERSEDED_BACKENDS]
#: What the default config trains for projects not in English or in several languages.
MULTILINGUAL_BACKENDS = tuple(
    resolve_backend_name(DEFAULT_TRAINING_CONFIG_VERSION, kind, multilingual=True)
    for kind in (CUSTOM_SINGLE_LABEL_CLASSIFICATION, CUSTOM_MULTI_LABEL_CLASSIFICATION)
)
#: Backends whose training the language checks below train: all but the multi-label e5 one,
#: which is textcat.minilm-multi.v2's class on textcat.e5.v1's encoder (each checked here) and
#: adds no code of its own; an e5 training costs a minute of the suite's two cores.
TRAINING_CHECKED_BACKENDS = [name for name in TRAINED_BACKENDS if name != MULTILINGUAL_BACKENDS[1]]
#: Backends trained twice by the seed check: the e5 ones are the MiniLM ones' code on another
#: encoder's weights, so every random draw they make is one checked here.
REPRODUCIBILITY_BACKENDS = [name for name in TRAINED_BACKENDS if name not in MULTILINGUAL_BACKENDS]


@pytest.fixture(scope="module", params=BACKEND_NAMES)
def backend(request: pytest.FixtureRequest) -> ClassificationBackend:
    return classification_backends()[request.param]


@pytest.fixture(scope="module")
def corpus(backend: ClassificationBackend) -> tuple[ClassExample, ...]:
    return MULTI_CORPUS if backend.multi_label else SINGLE_CORPUS


@pytest.fixture(scope="module")
def labels(backend: ClassificationBackend) -> tuple[str, ...]:
    return MULTI_LABELS if backend.multi_label else SINGLE_LABELS


@pytest.fixture(scope="module")
def trained(
    backend: ClassificationBackend,
    corpus: tuple[ClassExample, ...],
    labels: tuple[str, ...],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[float]]:
    """The backend's model of the tiny corpus, and the progress its training reported.

    One training (on the tiny schedule) serves every test of the backend: the progress test
    reads what this one reported instead of training the same model again.
    """
    directory = tmp_path_factory.mktemp(backend.name) / "model"
    reported: list[float] = []
    on_fixed_schedule(backend, CLASSIFICATION_TINY_STEPS).train(
        corpus, labels, directory, progress=reported.append
    )
    return directory, reported


@pytest.fixture(scope="module")
def model_dir(trained: tuple[Path, list[float]]) -> Path:
    return trained[0]


@pytest.fixture(scope="module")
def predictor(backend: ClassificationBackend, model_dir: Path) -> ClassificationPredictor:
    return backend.load(model_dir)


def texts_of(corpus: tuple[ClassExample, ...]) -> list[str]:
    return [document.text for document in corpus] + list(UNSEEN_TEXTS)


def test_overfits_tiny_corpus_exactly(
    predictor: ClassificationPredictor, corpus: tuple[ClassExample, ...]
) -> None:
    predicted = predictor.predict([document.text for document in corpus])

    assert [{score.category for score in scores} for scores in predicted] == [
        set(document.classes) for document in corpus
    ]


def test_loaded_predictor_describes_itself(
    predictor: ClassificationPredictor, backend: ClassificationBackend, labels: tuple[str, ...]
) -> None:
    assert predictor.labels == labels
    assert predictor.multi_label == backend.multi_label


def test_reloaded_copy_predicts_identically(
    predictor: ClassificationPredictor,
    model_dir: Path,
    corpus: tuple[ClassExample, ...],
    tmp_path: Path,
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)

    reloaded = load_classification_predictor(copy)

    assert reloaded.predict(texts_of(corpus)) == predictor.predict(texts_of(corpus))


def test_prepared_for_serving_predicts_the_same(
    backend: ClassificationBackend,
    predictor: ClassificationPredictor,
    model_dir: Path,
    corpus: tuple[ClassExample, ...],
    tmp_path: Path,
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    before = sorted(path.name for path in copy.iterdir())

    prepared = prepare_for_serving(copy)

    # A fresh process serves the folder as this one does, without importing PyTorch (seconds,
    # hundreds of megabytes) unless CUDA serves an encoder or the backend has no graph.
    elsewhere = fresh_process.serve("load_classification_predictor", copy, texts_of(corpus))
    assert bool(elsewhere.pytorch) == (
        backend.name in PYTORCH_SERVED_BACKENDS
        or (elsewhere.cuda and backend.name in ENCODER_BACKENDS)
    )
    in_process = load_classification_predictor(copy)
    assert elsewhere.runtime == getattr(in_process, "runtime", None)
    same_scores(
        fresh_process.classification_predictions(elsewhere),
        in_process.predict(texts_of(corpus)),
        1e-4,
    )
    if backend.name not in ENCODER_BACKENDS:
        assert not prepared
        assert sorted(path.name for path in copy.iterdir()) == before
        return
    assert prepared
    assert (copy / SERVING_FILE).is_file()
    assert not prepare_for_serving(copy)  # written once
    assert getattr(in_process, "runtime", None) == "onnxruntime"
    assert getattr(predictor, "runtime", None) == "pytorch"
    same_scores(in_process.predict(texts_of(corpus)), predictor.predict(texts_of(corpus)), 1e-4)


def same_scores(
    found: list[list[ClassScore]], expected: list[list[ClassScore]], tolerance: float
) -> None:
    """The same classes in the same order for every text, confidences within ``tolerance``."""
    assert [[s.category for s in scores] for scores in found] == [
        [s.category for s in scores] for scores in expected
    ]
    for found_scores, expected_scores in zip(found, expected, strict=True):
        for one, other in zip(found_scores, expected_scores, strict=True):
            assert one.confidence == pytest.approx(other.confidence, abs=tolerance)


def test_batch_equals_one_at_a_time(
    predictor: ClassificationPredictor, corpus: tuple[ClassExample, ...]
) -> None:
    texts = texts_of(corpus)

    batch = predictor.predict(texts)
    single = [predictor.predict([text])[0] for text in texts]

    # Same classes, same order; confidences agree up to float noise, because an encoder's
    # padded batch sums in another order than a lone text does.
    assert [[s.category for s in scores] for scores in batch] == [
        [s.category for s in scores] for scores in single
    ]
    for batch_scores, single_scores in zip(batch, single, strict=True):
        for in_batch, alone in zip(batch_scores, single_scores, strict=True):
            assert in_batch.confidence == pytest.approx(alone.confidence, abs=1e-5)


def test_empty_batch_gives_empty_result(predictor: ClassificationPredictor) -> None:
    assert predictor.predict([]) == []


def test_predictions_are_well_formed(
    predictor: ClassificationPredictor,
    corpus: tuple[ClassExample, ...],
    labels: tuple[str, ...],
) -> None:
    for scores in predictor.predict(texts_of(corpus)):
        categories = [score.category for score in scores]
        if not predictor.multi_label:
            assert len(scores) == 1
        assert len(set(categories)) == len(categories)
        assert set(categories) <= set(labels)
        assert "Unused" not in categories
        assert all(0.0 <= score.confidence <= 1.0 for score in scores)
        confidences = [score.confidence for score in scores]
        assert confidences == sorted(confidences, reverse=True)


def test_training_reports_progress_up_to_one(trained: tuple[Path, list[float]]) -> None:
    _model_dir, reported = trained

    assert reported
    assert all(0.0 <= fraction <= 1.0 for fraction in reported)
    assert reported == sorted(reported)
    assert reported[-1] == 1.0


#: Steps of the two trainings that must agree: sameness needs no well-learnt model, and each
#: step is a random draw (batch order, dropout) that could make them differ.
SAME_MODEL_STEPS = 8


@pytest.mark.parametrize("name", REPRODUCIBILITY_BACKENDS)
def test_same_data_config_and_seed_train_the_same_model(name: str, tmp_path: Path) -> None:
    backend = classification_backends()[name]
    corpus = MULTI_CORPUS if backend.multi_label else SINGLE_CORPUS
    labels = MULTI_LABELS if backend.multi_label else SINGLE_LABELS
    # The tiny corpus is held out from (a third, so that every class with three documents
    # gives one): the held-out split, the TF-IDF blend and the thresholds tuned on it are
    # drawn from the seed as well as the encoder's initialisation, dropout and batch order.
    backend = with_held_out_split(on_fixed_schedule(backend, SAME_MODEL_STEPS), len(corpus))
    texts = texts_of(corpus)
    predictions = []
    for run in ("first", "second"):
        backend.train(corpus, labels, tmp_path / run)
        predictions.append(backend.load(tmp_path / run).predict(texts))

    first, second = predictions
    assert [[s.category for s in scores] for scores in second] == [
        [s.category for s in scores] for scores in first
    ]
    for second_scores, first_scores in zip(second, first, strict=True):
        for one, other in zip(second_scores, first_scores, strict=True):
            assert one.confidence == pytest.approx(other.confidence, abs=1e-6)


def with_held_out_split(backend: ClassificationBackend, documents: int) -> ClassificationBackend:
    """``backend`` holding out a third of ``documents`` documents, if it holds any out."""
    settings = getattr(backend, "hyperparameters", None)
    if not dataclasses.is_dataclass(settings) or not hasattr(
        settings, "min_examples_for_validation"
    ):
        return backend
    split = dataclasses.replace(  # type: ignore[type-var]
        settings, min_examples_for_validation=documents, validation_fraction=0.3
    )
    return type(backend)(split)  # type: ignore[call-arg]


def test_rejects_unknown_classes(
    backend: ClassificationBackend, labels: tuple[str, ...], tmp_path: Path
) -> None:
    documents = [ClassExample("Some text.", ("Politics",))]

    with pytest.raises(ValueError, match="Politics"):
        backend.train(documents, labels, tmp_path / "model")


#: German and French documents: topic words recur, so a model that reads these languages (its
#: tokenizer, its encoder) learns them from a handful of examples.
FOREIGN_LABELS = ("Sport", "Kochen", "Wetter")
FOREIGN_TRAIN = (
    ClassExample("Der Stürmer schoss zwei Tore im Pokalfinale.", ("Sport",)),
    ClassExample("Die Mannschaft gewann das Fußballspiel am Samstag.", ("Sport",)),
    ClassExample("Le joueur a marqué un but pendant le match de football.", ("Sport",)),
    ClassExample("L'équipe a gagné le match de football dimanche.", ("Sport",)),
    ClassExample("Schneiden Sie die Zwiebeln und braten Sie sie in Butter.", ("Kochen",)),
    ClassExample("Das Rezept braucht Mehl, Eier und Butter für den Kuchen.", ("Kochen",)),
    ClassExample("Faites cuire les oignons dans le beurre avec la recette.", ("Kochen",)),
    ClassExample("La recette du gâteau demande de la farine et du beurre.", ("Kochen",)),
    ClassExample("Morgen gibt es Regen und starken Wind im Norden.", ("Wetter",)),
    ClassExample("Die Temperaturen sinken, Schnee und Regen werden erwartet.", ("Wetter",)),
    ClassExample("Demain, de la pluie et du vent fort sur le nord.", ("Wetter",)),
    ClassExample("Les températures baissent, la neige et la pluie arrivent.", ("Wetter",)),
)
FOREIGN_TEST = (
    ClassExample("Das Fußballspiel endete mit drei Toren.", ("Sport",)),
    ClassExample("Un but magnifique a décidé le match de football.", ("Sport",)),
    ClassExample("Braten Sie die Zwiebeln in Butter für das Rezept.", ("Kochen",)),
    ClassExample("Ajoutez le beurre et la farine, c'est la recette.", ("Kochen",)),
    ClassExample("Am Wochenende kommen Regen und Schnee.", ("Wetter",)),
    ClassExample("De la pluie et de la neige sont prévues demain.", ("Wetter",)),
)


@pytest.mark.parametrize("name", TRAINING_CHECKED_BACKENDS)
def test_trains_and_predicts_german_and_french(name: str, tmp_path: Path) -> None:
    backend = classification_backends()[name]
    on_fixed_schedule(backend, CLASSIFICATION_TINY_STEPS).train(
        FOREIGN_TRAIN, FOREIGN_LABELS, tmp_path / "model"
    )
    predictor = backend.load(tmp_path / "model")

    predicted = predictor.predict([document.text for document in FOREIGN_TEST])

    found = [{score.category for score in scores} for scores in predicted]
    right = sum(
        classes == set(doc.classes) for classes, doc in zip(found, FOREIGN_TEST, strict=True)
    )
    assert right >= 5, list(zip(found, FOREIGN_TEST, strict=True))


#: English documents only, and German documents of the same topics: Azure's multilingual
#: projects are trained in one language and called in others.
ENGLISH_LABELS = ("Sports", "Cooking", "Travel")
ENGLISH_TRAIN = (
    ClassExample("The striker scored twice in the cup final.", ("Sports",)),
    ClassExample("Our goalkeeper saved a penalty in extra time.", ("Sports",)),
    ClassExample("The marathon runners crossed the finish line.", ("Sports",)),
    ClassExample("Tennis champion wins the open in straight sets.", ("Sports",)),
    ClassExample("Whisk the eggs and fold in the flour gently.", ("Cooking",)),
    ClassExample("Simmer the tomato sauce with garlic and basil.", ("Cooking",)),
    ClassExample("Bake the bread at a high oven temperature.", ("Cooking",)),
    ClassExample("Stir the butter and sugar until fluffy.", ("Cooking",)),
    ClassExample("We booked a flight and a hotel for the holiday.", ("Travel",)),
    ClassExample("The train to the coast leaves from platform nine.", ("Travel",)),
    ClassExample("Pack your passport before the trip abroad.", ("Travel",)),
    ClassExample("We are going to Tokyo next month.", ("Travel",)),
)
GERMAN_TEST = (
    ClassExample("Der Stürmer hat im Pokalfinale zweimal getroffen.", ("Sports",)),
    ClassExample("Unser Torwart hielt in der Verlängerung einen Elfmeter.", ("Sports",)),
    ClassExample("Die Läuferin gewann das Rennen mit großem Vorsprung.", ("Sports",)),
    ClassExample("Schlagen Sie die Eier auf und heben Sie das Mehl unter.", ("Cooking",)),
    ClassExample("Die Tomatensoße mit Knoblauch und Basilikum köcheln lassen.", ("Cooking",)),
    ClassExample("Backen Sie das Brot bei hoher Temperatur im Ofen.", ("Cooking",)),
    ClassExample("Wir haben einen Flug und ein Hotel für den Urlaub gebucht.", ("Travel",)),
    ClassExample("Der Zug an die Küste fährt von Gleis neun ab.", ("Travel",)),
    ClassExample("Vergiss deinen Reisepass nicht vor der Reise ins Ausland.", ("Travel",)),
)


# The single-label backend only: the multi-label one fine-tunes the same encoder.
@pytest.mark.parametrize("name", MULTILINGUAL_BACKENDS[:1])
def test_multilingual_backend_classifies_a_language_it_never_saw(name: str, tmp_path: Path) -> None:
    backend = classification_backends()[name]
    on_fixed_schedule(backend, CLASSIFICATION_TINY_STEPS).train(
        ENGLISH_TRAIN, ENGLISH_LABELS, tmp_path / "model"
    )

    predicted = backend.load(tmp_path / "model").predict([doc.text for doc in GERMAN_TEST])

    # Measured: 9 of 9 (textcat.minilm.v2, the English encoder, trained the same way: 5).
    best = [scores[0].category for scores in predicted]
    right = sum(category == doc.classes[0] for category, doc in zip(best, GERMAN_TEST, strict=True))
    assert right >= 8, list(zip(best, GERMAN_TEST, strict=True))
