"""The deploy's check of a model's int8 serving graph: as accurate as fp32, and faster here?

A deploy writes an encoder's network as fp32 and int8 ONNX graphs (:mod:`lexicraft.ml.serving`).
Under ``serving_precision`` ``auto`` this check decides, once per model folder, which of them
serves it: both predict the model's own test split (the documents its training held out, split
again by the model's evaluation options; at most ``serving_int8_check_documents``, and the
training documents when the split has no test documents), each scored against the documents'
labels with the scorer of the model's evaluation. int8 serves the model when no score is more
than ``serving_int8_tolerance_points`` below fp32's and it predicted those documents faster
(best of two alternating timed passes each, after a warm-up) in this process's serving thread
settings. Otherwise the model keeps fp32, and every deploy of it says why in a warning.

The test split is only read, never learned from: the int8 graph has no parameter to fit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from lexicraft.domain.models import TrainedModel
from lexicraft.domain.projects import Document, ProjectKind
from lexicraft.domain.training import EvaluationOptions
from lexicraft.ml import registry, serving
from lexicraft.ml.base import ClassScore, ConversationOutput, PredictedSpan
from lexicraft.ml.evaluation import evaluate_classification, evaluate_ner
from lexicraft.ml.serving import PrecisionChoice
from lexicraft.services.context import ServiceContext
from lexicraft.services.training import split_documents
from lexicraft.storage.sql import projects as project_store

logger = logging.getLogger(__name__)

#: Timed passes per graph; the best counts (a busy machine slows single passes).
_TIMED_PASSES = 2
#: Documents each graph predicts once before it is timed (first-run allocations).
_WARM_UP_DOCUMENTS = 4

#: The warning code of a deploy whose model keeps its fp32 graph.
KEPT_FP32 = "ServingKeptFp32"

Scores = dict[str, float]


def choose_precision(
    context: ServiceContext, model: TrainedModel, model_dir: Path
) -> tuple[bool, tuple[dict[str, Any], ...]]:
    """Check ``model``'s int8 graph unless its folder has a verdict; ``(wrote, warnings)``:
    whether the verdict was written now, and the deploy job's warning when fp32 is kept."""
    if context.settings.serving_precision != "auto" or not registry.has_int8_graph(model_dir):
        return False, ()
    wrote = False
    choice = serving.read_choice(model_dir)
    if choice is None:
        choice = check_int8(context, model, model_dir)
        wrote = registry.record_serving_choice(model_dir, choice)
        # Another deploy of the same model may have written its verdict first: it stays.
        choice = serving.read_choice(model_dir) or choice
    if choice.precision == "int8":
        return wrote, ()
    message = (
        "The model is served by its fp32 network, not the int8 one written beside it: "
        f"{choice.reason}"
    )
    return wrote, ({"code": KEPT_FP32, "message": message},)


def check_int8(context: ServiceContext, model: TrainedModel, model_dir: Path) -> PrecisionChoice:
    """Predict the model's check documents with both graphs; the verdict (not yet written)."""
    settings = context.settings
    kind, documents, labels, intents, source = _check_documents(context, model)
    if not documents:
        return PrecisionChoice(
            "fp32", "the project has no labeled documents to check the int8 network on."
        )
    texts = [document.text for document in documents]
    batch = max(1, settings.predict_batch_size)
    predictors = {
        precision: registry.load_with_precision(model_dir, precision)
        for precision in ("fp32", "int8")
    }
    outputs: dict[str, list[Any]] = {}
    seconds: dict[str, float] = {"fp32": float("inf"), "int8": float("inf")}
    for predictor in predictors.values():
        predictor.predict(texts[:_WARM_UP_DOCUMENTS])
    for _round in range(_TIMED_PASSES):
        for precision in ("fp32", "int8"):
            started = time.perf_counter()
            found = _predict_all(predictors[precision].predict, texts, batch)
            seconds[precision] = min(seconds[precision], time.perf_counter() - started)
            outputs.setdefault(precision, found)
    scores = {
        precision: _score(kind, documents, found, labels, intents)
        for precision, found in outputs.items()
    }
    tolerance = settings.serving_int8_tolerance_points
    measured = {
        "documents": len(documents),
        "documentsFrom": source,
        "scores": scores,
        "seconds": {precision: round(value, 4) for precision, value in seconds.items()},
        "tolerancePoints": tolerance,
    }
    logger.info("int8 check of %s: %s", model.artifact_dir, measured)
    verdict = serving.decide(
        scores,
        seconds,
        tolerance,
        speed_check=settings.serving_int8_speed_check,
        documents=f"{len(documents)} {source} documents",
    )
    return PrecisionChoice(verdict.precision, verdict.reason, measured)


def _check_documents(
    context: ServiceContext, model: TrainedModel
) -> tuple[ProjectKind, list[Document], tuple[str, ...], tuple[str, ...], str]:
    """``(kind, documents, labels, intents, "test" | "training")`` for the check."""
    with context.database.session() as session:
        kind = project_store.get_project(session, model.project_name).kind
        labels = project_store.get_labels(session, model.project_name)
        documents = project_store.list_documents(session, model.project_name)
        intents = (
            project_store.get_conversation_assets(session, model.project_name).intents
            if kind.is_conversation
            else ()
        )
    if kind.is_classification or kind.is_conversation:
        # As in training: a document without a class (intent) is no test case.
        documents = [document for document in documents if document.classes]
    stored = model.evaluation_options
    options = EvaluationOptions.from_stored(stored) if stored else EvaluationOptions()
    train, test = split_documents(documents, options)
    chosen, source = (test, "test") if test else (train, "training")
    limit = context.settings.serving_int8_check_documents
    chosen = sorted(chosen, key=lambda document: document.location)[:limit]
    return kind, chosen, labels, intents, source


def _predict_all(
    predict: Callable[[Sequence[str]], Sequence[Any]], texts: Sequence[str], batch: int
) -> list[Any]:
    return [
        output
        for start in range(0, len(texts), batch)
        for output in predict(texts[start : start + batch])
    ]


def _score(
    kind: ProjectKind,
    documents: Sequence[Document],
    outputs: Sequence[Any],
    labels: tuple[str, ...],
    intents: tuple[str, ...],
) -> Scores:
    """The model's scores on ``documents`` in points (0-100): micro F1 of entities and of
    classes (single-label: accuracy), intents and entities for conversation models."""
    if kind is ProjectKind.ENTITY_RECOGNITION:
        spans = cast(Sequence[list[PredictedSpan]], outputs)
        summary = evaluate_ner([d.spans for d in documents], spans, labels)
        return {"entityF1": _points(summary)}
    if kind.is_conversation:
        results = cast(Sequence[ConversationOutput], outputs)
        predicted = [[r.intents[0].category] if r.intents else [] for r in results]
        intent_summary = evaluate_classification(
            [d.classes for d in documents], predicted, intents, multi_label=False
        )
        entity_summary = evaluate_ner(
            [d.spans for d in documents], [r.entities for r in results], labels
        )
        return {"intentAccuracy": _points(intent_summary), "entityF1": _points(entity_summary)}
    classes = [[score.category for score in cast(list[ClassScore], found)] for found in outputs]
    multi = kind is ProjectKind.MULTI_LABEL_CLASSIFICATION
    summary = evaluate_classification(
        [d.classes for d in documents], classes, labels, multi_label=multi
    )
    return {"classF1" if multi else "accuracy": _points(summary)}


def _points(summary: dict[str, Any]) -> float:
    return round(100.0 * float(summary["microF1"]), 3)
