"""The contract every registered NER backend keeps (CONVENTIONS 4)."""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import Any

import onnx
import pytest
import torch
from safetensors.torch import load_file

from lexicraft.errors import InvalidParameterValue
from lexicraft.ml import onnx_serving
from lexicraft.ml.artifacts import read_config
from lexicraft.ml.base import NerBackend, NerExample, NerPredictor, PredictedSpan, Span
from lexicraft.ml.evaluation import evaluate_ner
from lexicraft.ml.export import ModelCard, export_model, load_exported
from lexicraft.ml.ner.transformer import TransformerNerConfig
from lexicraft.ml.registry import (
    CUSTOM_ENTITY_RECOGNITION,
    load_ner_predictor,
    ner_backends,
    prepare_for_serving,
)
from lexicraft.ml.serving import SERVING_FILE, SERVING_INT8_FILE
from tests.contract import fresh_process
from tests.contract.schedules import NER_TINY_STEPS, on_fixed_schedule
from tests.datasets import read_jsonl

LABELS = ("PER", "LOC", "ORG")


def example(text: str, *entities: tuple[str, str]) -> NerExample:
    """A document whose ``(category, surface)`` entities are found left to right in ``text``."""
    spans: list[Span] = []
    position = 0
    for category, surface in entities:
        start = text.index(surface, position)
        spans.append(Span(start, start + len(surface), category))
        position = start + len(surface)
    return NerExample(text, tuple(spans))


TINY_CORPUS = (
    example(
        "Alice Smith works for Contoso in Seattle.",
        ("PER", "Alice Smith"),
        ("ORG", "Contoso"),
        ("LOC", "Seattle"),
    ),
    example("Bob Jones moved to Berlin last year.", ("PER", "Bob Jones"), ("LOC", "Berlin")),
    example("Fabrikam hired Carol Diaz yesterday.", ("ORG", "Fabrikam"), ("PER", "Carol Diaz")),
    example("The weather in Paris is lovely today.", ("LOC", "Paris")),
    example("Nobody called this afternoon."),
    example(
        "Dave Brown visited Tokyo with Erin Green.",
        ("PER", "Dave Brown"),
        ("LOC", "Tokyo"),
        ("PER", "Erin Green"),
    ),
    example(
        "Northwind Traders opened an office in Lisbon.",
        ("ORG", "Northwind Traders"),
        ("LOC", "Lisbon"),
    ),
    example(
        "Frank Miller and Grace Lee founded Tailspin.",
        ("PER", "Frank Miller"),
        ("PER", "Grace Lee"),
        ("ORG", "Tailspin"),
    ),
    example(
        "Meet Heidi Klum at Madrid tonight 🎉👨‍👩‍👧 see you!",
        ("PER", "Heidi Klum"),
        ("LOC", "Madrid"),
    ),
    example(
        "Jürgen Müller arbeitet bei Größe AG in Köln.",
        ("PER", "Jürgen Müller"),
        ("ORG", "Größe AG"),
        ("LOC", "Köln"),
    ),
    example("张伟在北京的微软工作。", ("PER", "张伟"), ("LOC", "北京"), ("ORG", "微软")),
    example(
        "Ivan Petrov flew from Oslo to Rome.",
        ("PER", "Ivan Petrov"),
        ("LOC", "Oslo"),
        ("LOC", "Rome"),
    ),
    example("Wingtip Toys reported strong sales.", ("ORG", "Wingtip Toys")),
    example("Judy Hopps lives in Zootopia.", ("PER", "Judy Hopps"), ("LOC", "Zootopia")),
    example("It rained all day."),
    example(
        "Kevin Hart joined Adventure Works in Denver.",
        ("PER", "Kevin Hart"),
        ("ORG", "Adventure Works"),
        ("LOC", "Denver"),
    ),
    example("Laura Palmer left Vienna.", ("PER", "Laura Palmer"), ("LOC", "Vienna")),
    example(
        "Mike Ross signed with Pearson Hardman.", ("PER", "Mike Ross"), ("ORG", "Pearson Hardman")
    ),
    example("Nina Simone sang in Cairo.", ("PER", "Nina Simone"), ("LOC", "Cairo")),
    example("Litware bought a building in Dublin.", ("ORG", "Litware"), ("LOC", "Dublin")),
)

#: Texts the models never saw, including ones that have tripped tokenizers and offset code.
UNSEEN_TEXTS = (
    "",
    "   ",
    "👍",
    "Oscar Wilde met Pablo in London 🇬🇧 and then 👩🏽‍💻 wrote code.",
    "Zoë Çelik from İstanbul visited Zürich.",
    "e\u0301te\u0301 in Ca\u0301diz",
    "李娜去了上海和东京。",
    "Tab\tseparated\nand new lines\r\nin Seattle",
    "ALL CAPS TEXT ABOUT BERLIN AND CONTOSO",
    "x" * 300,
)

BACKEND_NAMES = sorted(ner_backends())
#: Backends whose models export to ONNX.
ONNX_BACKENDS = ("ner.minilm.v1", "ner.minilm.v2", "ner.e5.v1")
#: Backends that hold documents out to blend a CRF and calibrate.
HOLDS_OUT_BACKENDS = ("ner.minilm.v2", "ner.e5.v1")
#: Earlier defaults no config version trains: their models only have to load and serve as
#: before (their quality was measured when they were the default; see bench/results/).
SUPERSEDED_BACKENDS = ("ner.minilm.v1",)
TRAINED_BACKENDS = [name for name in BACKEND_NAMES if name not in SUPERSEDED_BACKENDS]
#: Backends checked on conll2003. ner.e5.v1 is measured by the benchmarks on every NER set
#: (bench/results/ner-encoders.md). Trained on English, it finds German entities far better
#: than the English MiniLM at the default's length (bench/results/ner-cross-lingual.md: 55.0
#: F1 against 40.6 on wikiann_de), but not at a length the suite affords (60 steps on 300
#: conll2003 sentences: 0.34 each), so no test here could tell the encoders apart.
QUALITY_BACKENDS = [name for name in TRAINED_BACKENDS if name != "ner.e5.v1"]


@pytest.fixture(scope="module", params=BACKEND_NAMES)
def backend(request: pytest.FixtureRequest) -> NerBackend:
    return ner_backends()[request.param]


@pytest.fixture(scope="module")
def trained(
    backend: NerBackend, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[float]]:
    """The backend's model of the tiny corpus, and the progress its training reported.

    One training (on the tiny schedule) serves every test of the backend: the progress test
    reads what this one reported instead of training the same model again.
    """
    directory = tmp_path_factory.mktemp(backend.name) / "model"
    reported: list[float] = []
    on_fixed_schedule(backend, NER_TINY_STEPS).train(
        TINY_CORPUS, LABELS, directory, progress=reported.append
    )
    return directory, reported


@pytest.fixture(scope="module")
def model_dir(trained: tuple[Path, list[float]]) -> Path:
    return trained[0]


@pytest.fixture(scope="module")
def predictor(backend: NerBackend, model_dir: Path) -> NerPredictor:
    return backend.load(model_dir)


def all_texts() -> list[str]:
    return [document.text for document in TINY_CORPUS] + list(UNSEEN_TEXTS)


def test_overfits_tiny_corpus_exactly(predictor: NerPredictor) -> None:
    predicted = predictor.predict([document.text for document in TINY_CORPUS])

    summary = evaluate_ner([document.spans for document in TINY_CORPUS], predicted, LABELS)

    assert summary["microF1"] == 1.0


def test_loaded_predictor_knows_its_labels(predictor: NerPredictor) -> None:
    assert predictor.labels == LABELS


def test_reloaded_copy_predicts_identically(
    predictor: NerPredictor, model_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)

    reloaded = load_ner_predictor(copy)

    assert reloaded.predict(all_texts()) == predictor.predict(all_texts())


def test_model_dir_names_its_backend(backend: NerBackend, model_dir: Path) -> None:
    assert '"backend"' in (model_dir / "config.json").read_text(encoding="utf-8")
    assert type(load_ner_predictor(model_dir)) is type(backend.load(model_dir))


def test_batch_equals_one_at_a_time(predictor: NerPredictor) -> None:
    texts = all_texts()

    batch = predictor.predict(texts)
    single = [predictor.predict([text])[0] for text in texts]

    # The same entities; confidences may differ in the last float bits, because a padded batch
    # runs the network's matrix products in a different order than one document alone does.
    assert [[(s.start, s.end, s.category) for s in spans] for spans in batch] == [
        [(s.start, s.end, s.category) for s in spans] for spans in single
    ]
    for batch_spans, single_spans in zip(batch, single, strict=True):
        for in_batch, alone in zip(batch_spans, single_spans, strict=True):
            assert in_batch.confidence == pytest.approx(alone.confidence, abs=1e-4)


@pytest.fixture(scope="module")
def prepared(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bool]:
    """A copy of the model folder prepared for serving as a deploy job does, and whether
    preparing it wrote anything."""
    copy = tmp_path_factory.mktemp("prepared") / "model"
    shutil.copytree(model_dir, copy)
    return copy, prepare_for_serving(copy)


def test_onnx_export_predicts_the_same_entities(
    backend: NerBackend,
    prepared: tuple[Path, bool],
    predictor: NerPredictor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A deployed (prepared) folder, as `lexicraft export-model` finds one: its serving graph is
    # the export's network. Exporting a folder that was never deployed writes the graph anew
    # (checked by the ner.minilm.v2 quality test).
    model_dir = prepared[0]
    if backend.name not in ONNX_BACKENDS:
        with pytest.raises(InvalidParameterValue, match="ONNX export is not available"):
            export_model(model_dir, tmp_path / "onnx", model_card(backend.name), "onnx")
        return

    # The deploy's graph is copied: exporting again (up to a minute for e5) would fail here.
    monkeypatch.setattr(onnx_serving, "write_onnx", refuse_to_export)

    exported = export_model(model_dir, tmp_path / "onnx", model_card(backend.name), "onnx")

    assert (exported / "model.onnx").read_bytes() == (model_dir / SERVING_FILE).read_bytes()
    assert not list(exported.glob("*.safetensors"))
    _, onnx_predictor = load_exported(exported)
    texts = all_texts()
    same_entities(onnx_predictor.predict(texts), predictor.predict(texts), 1e-4)


def test_prepared_for_serving_predicts_the_same_entities(
    backend: NerBackend,
    model_dir: Path,
    prepared: tuple[Path, bool],
    predictor: NerPredictor,
) -> None:
    copy, wrote = prepared
    before = sorted(path.name for path in model_dir.iterdir())

    if backend.name not in ONNX_BACKENDS:
        assert not wrote
        assert sorted(path.name for path in copy.iterdir()) == before
        return
    assert wrote
    assert (copy / SERVING_FILE).is_file()
    assert not prepare_for_serving(copy)  # written once
    # The largest weight of a graph is its word-piece embedding table: 8-bit in the int8
    # graph of a backend with a large vocabulary (e5's: 408 MB of fp32 became 119 MB in all).
    table = largest_weight(copy / SERVING_INT8_FILE)
    quantized = getattr(backend, "quantizes_embeddings", False)
    assert (table.data_type != onnx.TensorProto.FLOAT) == quantized
    served = load_ner_predictor(copy)
    assert getattr(served, "runtime", None) == "onnxruntime"
    assert getattr(predictor, "runtime", None) == "pytorch"
    texts = all_texts()
    same_entities(served.predict(texts), predictor.predict(texts), 1e-4)


def test_prepared_folder_serves_without_pytorch(
    backend: NerBackend, prepared: tuple[Path, bool]
) -> None:
    copy = prepared[0]
    in_process = load_ner_predictor(copy)

    served = fresh_process.serve("load_ner_predictor", copy, all_texts())

    # With CUDA, PyTorch serves an encoder; without, ONNX Runtime does and PyTorch (seconds,
    # hundreds of megabytes) is never imported. The CRF never needs it.
    assert bool(served.pytorch) == (served.cuda and backend.name in ONNX_BACKENDS)
    assert served.runtime == getattr(in_process, "runtime", None)
    same_entities(fresh_process.ner_predictions(served), in_process.predict(all_texts()), 1e-4)


def refuse_to_export(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("a prepared folder's ONNX export wrote its graph again")


def largest_weight(graph_file: Path) -> onnx.TensorProto:
    graph = onnx.load(str(graph_file)).graph
    return max(graph.initializer, key=lambda tensor: math.prod(tensor.dims))


def model_card(backend_name: str) -> ModelCard:
    return ModelCard(
        project_name="contract",
        project_kind=CUSTOM_ENTITY_RECOGNITION,
        language="en",
        model_label="m1",
        model_id="m1-contract",
        training_config_version="latest",
        backend=backend_name,
        trained_at="2026-01-01T00:00:00.000Z",
        labels=LABELS,
        evaluation_options={"kind": "manual"},
        evaluation_summary={},
    )


def test_empty_batch_gives_empty_result(predictor: NerPredictor) -> None:
    assert predictor.predict([]) == []


def test_spans_are_inside_sorted_and_disjoint(predictor: NerPredictor) -> None:
    texts = all_texts()

    for text, spans in zip(texts, predictor.predict(texts), strict=True):
        previous_end = 0
        for span in spans:
            assert isinstance(span, PredictedSpan)
            assert previous_end <= span.start < span.end <= len(text)
            assert span.category in LABELS
            assert 0.0 <= span.confidence <= 1.0
            assert text[span.start : span.end].strip() == text[span.start : span.end]
            previous_end = span.end


def test_training_reports_progress_up_to_one(trained: tuple[Path, list[float]]) -> None:
    _model_dir, reported = trained

    assert reported
    assert all(0.0 <= fraction <= 1.0 for fraction in reported)
    assert reported == sorted(reported)
    assert reported[-1] == 1.0


#: Optimiser steps of each of the two trainings the reproducibility test compares: enough to
#: move the weights from where they start, few enough to train twice in seconds.
REPRODUCIBILITY_STEPS = 8
#: Backends trained twice: ner.e5.v1 is ner.minilm.v2's code on another encoder's weights, so
#: every random draw it makes is one checked here (and two e5 trainings cost a minute).
REPRODUCIBILITY_BACKENDS = [name for name in BACKEND_NAMES if name != "ner.e5.v1"]


@pytest.mark.parametrize("name", REPRODUCIBILITY_BACKENDS)
def test_same_data_config_and_seed_train_the_same_model(name: str, tmp_path: Path) -> None:
    # Trained twice with the same settings: the length comes from the data, never the clock,
    # and every random draw from the seed, so this machine gives the same model.
    backend = ner_backends()[name]
    short = on_fixed_schedule(backend, REPRODUCIBILITY_STEPS)
    folders = [tmp_path / "one", tmp_path / "two"]
    for folder in folders:
        short.train(TINY_CORPUS, LABELS, folder)

    one, two = (folder_contents(folder) for folder in folders)
    assert one.keys() == two.keys()
    for name, content in one.items():
        if isinstance(content, dict):
            assert content.keys() == two[name].keys(), name
            assert all(torch.equal(tensor, two[name][key]) for key, tensor in content.items())
        else:
            assert content == two[name], name
    texts = all_texts()
    first, second = (backend.load(folder).predict(texts) for folder in folders)
    assert first == second


def folder_contents(folder: Path) -> dict[str, bytes | dict[str, torch.Tensor]]:
    """Each file of a model folder by its relative path: a weights file's tensors, or bytes."""
    return {
        str(path.relative_to(folder)): (
            load_file(str(path)) if path.suffix == ".safetensors" else path.read_bytes()
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_rejects_spans_with_unknown_labels(backend: NerBackend, tmp_path: Path) -> None:
    documents = [example("Alice went home.", ("PERSON", "Alice"))]

    with pytest.raises(ValueError, match="PERSON"):
        backend.train(documents, LABELS, tmp_path / "model")


def to_example(record: dict[str, Any]) -> NerExample:
    return NerExample(
        record["text"],
        tuple(
            Span(entity["offset"], entity["offset"] + entity["length"], entity["category"])
            for entity in record["entities"]
        ),
    )


#: Optimiser steps of an encoder backend in the quality check (batches of 32 sentences):
#: micro-F1 0.75 at 100 steps, clear of the 0.6 threshold (0.51 at 87: the encoder learns the
#: task between the two). The default's longer training is the benchmark's business.
QUALITY_STEPS = 100


@pytest.mark.slow
@pytest.mark.parametrize("name", QUALITY_BACKENDS)
def test_quality_on_conll2003(name: str, tmp_path: Path) -> None:
    train = [to_example(record) for record in read_jsonl("conll2003", "train", limit=1000)]
    # 1,000 test sentences hold 1,838 entities: enough for a stable micro-F1.
    test = [to_example(record) for record in read_jsonl("conll2003", "test", limit=1000)]
    labels = ("PER", "LOC", "ORG", "MISC")
    backend = on_fixed_schedule(ner_backends()[name], QUALITY_STEPS)
    started = time.perf_counter()

    backend.train(train, labels, tmp_path / "model")
    predictor = backend.load(tmp_path / "model")
    predicted = predictor.predict([document.text for document in test])
    summary = evaluate_ner([document.spans for document in test], predicted, labels)

    elapsed = time.perf_counter() - started
    print(f"{backend.name}: conll2003 test microF1={summary['microF1']:.4f} in {elapsed:.1f} s")
    assert summary["microF1"] >= 0.6
    if name in HOLDS_OUT_BACKENDS:
        check_held_out_choice(tmp_path / "model")
    if name == "ner.minilm.v2":
        # ner.e5.v1's export and serving are the same code, checked on its tiny model above.
        check_served_like_trained(name, tmp_path / "model", predictor, [d.text for d in test[:200]])


def check_held_out_choice(model_dir: Path) -> None:
    """A folder trained on enough documents records what its held-out tenth chose and holds
    the CRF exactly when the blend uses it."""
    choice = read_config(model_dir, TransformerNerConfig).held_out
    assert choice is not None
    assert choice.documents == 100  # a tenth of 1,000
    assert set(choice.scores) == {"encoder", "crf", "blend"}
    assert choice.scores["blend"] == max(choice.scores.values())
    assert (model_dir / "crf").is_dir() == (choice.crf_weight > 0.0)
    # 100 sentences hold about 180 entities: enough to calibrate.
    assert choice.calibration_error_before is not None
    if choice.calibration is not None:
        assert choice.calibration_error_after is not None
        assert choice.calibration_error_after < choice.calibration_error_before


def check_served_like_trained(
    name: str, model_dir: Path, predictor: NerPredictor, texts: list[str]
) -> None:
    """The CRF and the calibration travel with the export and serve with the ONNX graph.

    The folder is exported before it is prepared for serving, so the export writes its ONNX
    graph itself (the contract tests export prepared folders, whose graph it copies)."""
    expected = predictor.predict(texts)
    exported = export_model(model_dir, model_dir.parent / "onnx", model_card(name), "onnx")
    _, from_export = load_exported(exported)
    prepare_for_serving(model_dir)
    served = load_ner_predictor(model_dir)
    assert getattr(served, "runtime", None) == "onnxruntime"
    for other in (served, from_export):
        same_entities(other.predict(texts), expected, 1e-3)


def same_entities(
    found: list[list[PredictedSpan]], expected: list[list[PredictedSpan]], tolerance: float
) -> None:
    """The same entities in every text, confidences within ``tolerance``."""
    assert [[(s.start, s.end, s.category) for s in spans] for spans in found] == [
        [(s.start, s.end, s.category) for s in spans] for spans in expected
    ]
    for found_spans, expected_spans in zip(found, expected, strict=True):
        for one, other in zip(found_spans, expected_spans, strict=True):
            assert one.confidence == pytest.approx(other.confidence, abs=tolerance)
