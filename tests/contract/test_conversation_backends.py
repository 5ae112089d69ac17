"""The contract every registered conversation (CLU) backend keeps (CONVENTIONS 4).

Every backend trains once on a slice of atis_clu (plus a few utterances with emoji and
combining marks) on a fixed short schedule; the tests read that one model, and one trains it
again to check that the same data and seed give the same model.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from lexicraft.ml.base import (
    ConversationBackend,
    ConversationExample,
    ConversationOutput,
    ConversationPredictor,
    Span,
)
from lexicraft.ml.evaluation import evaluate_ner
from lexicraft.ml.registry import (
    conversation_backends,
    load_conversation_predictor,
    prepare_for_serving,
)
from lexicraft.ml.serving import SERVING_FILE
from tests.contract import fresh_process
from tests.contract.schedules import on_fixed_schedule
from tests.datasets import read_jsonl

#: Optimiser steps of an encoder backend (batches of 32 utterances): about three passes over
#: the slice, enough for the floors below, short enough for one core.
STEPS = 40
TRAIN_SLICE = 300
TEST_SLICE = 300
#: The train-twice check: steps and utterances (enough to move every weight, seconds each).
SAME_MODEL_STEPS = 8
SAME_MODEL_SLICE = 96
#: Backend → (intent accuracy, slot micro-F1) it must reach on the test slice.
SLICE_FLOORS = {"clu.linear-crf.v1": (0.82, 0.75), "clu.minilm.v1": (0.82, 0.3)}
#: Backends whose models are served from ONNX once deployed.
ONNX_BACKENDS = ("clu.minilm.v1",)


def to_example(record: dict[str, Any]) -> ConversationExample:
    return ConversationExample(
        record["text"],
        record["intent"],
        tuple(
            Span(entity["offset"], entity["offset"] + entity["length"], entity["category"])
            for entity in record["entities"]
        ),
    )


def labelled(text: str, intent: str, *entities: tuple[str, str]) -> ConversationExample:
    """An utterance whose ``(category, surface)`` entities are found left to right."""
    spans: list[Span] = []
    position = 0
    for category, surface in entities:
        start = text.index(surface, position)
        spans.append(Span(start, start + len(surface), category))
        position = start + len(surface)
    return ConversationExample(text, intent, tuple(spans))


#: Training utterances whose code points are not one per character a user sees.
NON_ASCII = (
    labelled(
        "👍 flights from boston to denver",
        "atis_flight",
        ("fromloc.city_name", "boston"),
        ("toloc.city_name", "denver"),
    ),
    labelled(
        "show me flights from montre\u0301al to dallas 👨‍👩‍👧",
        "atis_flight",
        ("fromloc.city_name", "montre\u0301al"),
        ("toloc.city_name", "dallas"),
    ),
    labelled(
        "🇺🇸 what is the cheapest fare from denver to boston",
        "atis_airfare",
        ("fromloc.city_name", "denver"),
        ("toloc.city_name", "boston"),
    ),
)

TRAIN = tuple(to_example(r) for r in read_jsonl("atis_clu", "train", TRAIN_SLICE)) + NON_ASCII
TEST = tuple(to_example(record) for record in read_jsonl("atis_clu", "test", TEST_SLICE))
LABELS = tuple(sorted({span.category for example in TRAIN for span in example.spans}))

#: Unseen texts with emoji, flags, ZWJ sequences and combining marks before, inside and after
#: the entities, and texts that have tripped tokenizers.
UNSEEN = (
    "",
    "   ",
    "👍",
    "🎉👨‍👩‍👧 flights from boston to denver 🇬🇧",
    "flights from bo\u0301ston 😀 to denver",
    "e\u0301te\u0301 ✈️ flights from dallas to pittsburgh",
    "flights\tfrom\nboston\r\nto denver",
    "x" * 300,
)
#: (text, category, surface) the models must find at its exact code-point offset.
EXPECTED_UNSEEN = (
    (UNSEEN[3], "fromloc.city_name", "boston"),
    (UNSEEN[3], "toloc.city_name", "denver"),
    (UNSEEN[4], "toloc.city_name", "denver"),
    (UNSEEN[5], "toloc.city_name", "pittsburgh"),
)

BACKEND_NAMES = sorted(conversation_backends())


@pytest.fixture(scope="module", params=BACKEND_NAMES)
def backend(request: pytest.FixtureRequest) -> ConversationBackend:
    return on_fixed_schedule(conversation_backends()[request.param], STEPS)


@pytest.fixture(scope="module")
def trained(
    backend: ConversationBackend, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[float], float]:
    """The backend's model of the slice, the progress its training reported, the seconds."""
    directory = tmp_path_factory.mktemp(backend.name) / "model"
    reported: list[float] = []
    started = time.perf_counter()
    backend.train(TRAIN, LABELS, directory, progress=reported.append)
    return directory, reported, time.perf_counter() - started


@pytest.fixture(scope="module")
def model_dir(trained: tuple[Path, list[float], float]) -> Path:
    return trained[0]


@pytest.fixture(scope="module")
def predictor(model_dir: Path) -> ConversationPredictor:
    return load_conversation_predictor(model_dir)


def surfaces(output: ConversationOutput, text: str) -> list[tuple[str, str]]:
    return [(span.category, text[span.start : span.end]) for span in output.entities]


def same_outputs(
    found: list[ConversationOutput], expected: list[ConversationOutput], tolerance: float
) -> None:
    """The same intents in the same order and the same entities, scores within tolerance."""
    for one, other in zip(found, expected, strict=True):
        assert [score.category for score in one.intents] == [
            score.category for score in other.intents
        ]
        assert [(s.start, s.end, s.category) for s in one.entities] == [
            (s.start, s.end, s.category) for s in other.entities
        ]
        for a, b in zip(one.intents, other.intents, strict=True):
            assert a.confidence == pytest.approx(b.confidence, abs=tolerance)
        for c, d in zip(one.entities, other.entities, strict=True):
            assert c.confidence == pytest.approx(d.confidence, abs=tolerance)
    assert len(found) == len(expected)


def test_quality_above_a_floor(
    backend: ConversationBackend,
    predictor: ConversationPredictor,
    trained: tuple[Path, list[float], float],
) -> None:
    predicted = predictor.predict([example.text for example in TEST])

    accuracy = sum(
        output.intents[0].category == example.intent
        for output, example in zip(predicted, TEST, strict=True)
    ) / len(TEST)
    summary = evaluate_ner(
        [example.spans for example in TEST],
        [list(output.entities) for output in predicted],
        # Test utterances name a few categories the slice never trains on (missed, then).
        sorted({*LABELS, *(span.category for example in TEST for span in example.spans)}),
    )
    print(
        f"{backend.name}: atis_clu test[:{TEST_SLICE}] intent accuracy={accuracy:.3f} "
        f"slot microF1={summary['microF1']:.3f}, trained in {trained[2]:.1f} s"
    )
    # Guessing atis_flight gives 0.78 and finding no entity 0.0. The fast backend scores
    # 0.86 / 0.84 here; the encoder, 40 steps in, has its intents (at least 0.85) but is only
    # starting on the slots (0.39; it learns them over the next hundred steps), so its floor
    # checks that the slot head learns at all.
    floor_accuracy, floor_f1 = SLICE_FLOORS[backend.name]
    assert accuracy >= floor_accuracy
    assert summary["microF1"] >= floor_f1


def test_every_trained_intent_is_scored_best_first(predictor: ConversationPredictor) -> None:
    intents = {example.intent for example in TRAIN}
    assert set(predictor.intents) == intents
    assert predictor.labels == LABELS

    for output in predictor.predict([example.text for example in TEST[:20]] + list(UNSEEN)):
        assert {score.category for score in output.intents} == intents
        assert len(output.intents) == len(intents)
        confidences = [score.confidence for score in output.intents]
        assert all(0.0 <= confidence <= 1.0 for confidence in confidences)
        assert confidences == sorted(confidences, reverse=True)


def test_offsets_are_exact_on_non_ascii_text(predictor: ConversationPredictor) -> None:
    outputs = predictor.predict(list(UNSEEN))

    for text, output in zip(UNSEEN, outputs, strict=True):
        previous_end = 0
        for span in output.entities:
            assert previous_end <= span.start < span.end <= len(text)
            assert span.category in LABELS
            assert 0.0 <= span.confidence <= 1.0
            surface = text[span.start : span.end]
            assert surface == surface.strip()
            # A span never splits a character from its combining marks.
            assert span.end == len(text) or text[span.end] != "\u0301"
            previous_end = span.end
    for text, category, surface in EXPECTED_UNSEEN:
        # Found where the word starts, counted in code points (the emoji before it are two
        # UTF-16 units or several code points each); a model may take a symbol after it too.
        starts = [
            span.start for span in outputs[UNSEEN.index(text)].entities if span.category == category
        ]
        assert text.index(surface) in starts, (category, surface, starts)
    # The accent in "bo\u0301ston" is part of the word, so a city found there covers it.
    combined = surfaces(outputs[4], UNSEEN[4])
    assert all(found != "bo" and found != "ston" for _, found in combined)


def test_reloaded_copy_predicts_identically(
    predictor: ConversationPredictor, model_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)

    reloaded = load_conversation_predictor(copy)

    texts = [example.text for example in TEST[:50]] + list(UNSEEN)
    assert reloaded.intents == predictor.intents
    assert reloaded.predict(texts) == predictor.predict(texts)


def test_same_data_and_seed_train_the_same_model(
    backend: ConversationBackend, tmp_path: Path
) -> None:
    # Sameness needs no quality: two short trainings of a small slice, compared.
    short = on_fixed_schedule(conversation_backends()[backend.name], SAME_MODEL_STEPS)
    examples = TRAIN[:SAME_MODEL_SLICE]
    short.train(examples, LABELS, tmp_path / "first")
    short.train(examples, LABELS, tmp_path / "again")

    texts = [example.text for example in TEST[:50]] + list(UNSEEN)
    first, again = short.load(tmp_path / "first"), short.load(tmp_path / "again")
    same_outputs(again.predict(texts), first.predict(texts), 1e-6)


def test_prepared_for_serving_predicts_the_same(
    backend: ConversationBackend,
    model_dir: Path,
    predictor: ConversationPredictor,
    tmp_path: Path,
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    before = sorted(path.name for path in copy.iterdir())

    prepared = prepare_for_serving(copy)

    # A fresh process serves the folder as this one does, without importing PyTorch (seconds,
    # hundreds of megabytes) unless CUDA serves an encoder.
    texts = [example.text for example in TEST[:50]] + list(UNSEEN)
    elsewhere = fresh_process.serve("load_conversation_predictor", copy, texts)
    assert bool(elsewhere.pytorch) == (elsewhere.cuda and backend.name in ONNX_BACKENDS)
    served = load_conversation_predictor(copy)
    assert elsewhere.runtime == getattr(served, "runtime", None)
    same_outputs(fresh_process.conversation_predictions(elsewhere), served.predict(texts), 1e-4)
    if backend.name not in ONNX_BACKENDS:
        assert not prepared
        assert sorted(path.name for path in copy.iterdir()) == before
        return
    assert prepared
    assert (copy / SERVING_FILE).is_file()
    assert getattr(served, "runtime", None) == "onnxruntime"
    same_outputs(served.predict(texts), predictor.predict(texts), 1e-4)


def test_unrelated_text_is_not_confident(
    backend: ConversationBackend, predictor: ConversationPredictor
) -> None:
    if backend.name not in ONNX_BACKENDS:
        return  # only the default backend's scores are out-of-scope aware
    unrelated = [
        "the quarterly report is due on friday",
        "my cat knocked the vase off the shelf",
        "please translate this paragraph into german",
        "asdf qwerty zxcv",
    ]
    for output in predictor.predict(unrelated):
        assert output.intents[0].confidence < 0.5


def test_training_reports_progress_up_to_one(trained: tuple[Path, list[float], float]) -> None:
    reported = trained[1]

    assert reported
    assert all(0.0 <= fraction <= 1.0 for fraction in reported)
    assert reported == sorted(reported)
    assert reported[-1] == 1.0


def test_empty_batch_gives_empty_result(predictor: ConversationPredictor) -> None:
    assert predictor.predict([]) == []


def test_rejects_bad_training_data(backend: ConversationBackend, tmp_path: Path) -> None:
    unknown = [labelled("flights to boston", "atis_flight", ("city", "boston"))]
    with pytest.raises(ValueError, match="city"):
        backend.train(unknown, LABELS, tmp_path / "unknown")
    without_intent = [ConversationExample("flights to boston", "", ())]
    with pytest.raises(ValueError, match="no intent"):
        backend.train(without_intent, LABELS, tmp_path / "no-intent")
    with pytest.raises(ValueError, match="no training examples"):
        backend.train([], LABELS, tmp_path / "none")
    assert not (tmp_path / "unknown").exists()
