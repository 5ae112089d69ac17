"""CLU benchmark: conversation models (intent + slot entities) on atis_clu, and out-of-scope.

Dataset: ../shared/data/atis_clu (train 4,478 / dev 500 / test 893 utterances). Every system
trains on ``train`` and is scored on ``test``; none looks at ``dev``.

Systems, trained one after another in this process (``seed`` 0):

- ``lexicraft``: the conversation backend of ``registry.DEFAULT_TRAINING_CONFIG_VERSION``
  (``clu.minilm.v1``), served as deployed (``registry.prepare_for_serving``: ONNX Runtime on a
  CPU);
- ``lexicraft-fast``: the backend of ``registry.FAST_TRAINING_CONFIG_VERSION``
  (``clu.linear-crf.v1``);
- ``baseline``: scikit-learn TF-IDF (word 1-2-grams + ``char_wb`` 2-5-grams, sublinear tf) with
  a logistic regression (C=10) for intents, and the ``ner.crf.v1`` CRF for slots. Its slot half
  *is* the fast configuration's; its intent half is the textbook pipeline the fast
  configuration's classifier is built like (the fast one tokenizes words with Lexicraft's own
  tokenizer).

Measures (points 0-100 unless named otherwise): ``intent_accuracy`` (the top intent is the gold
one; the ~2 % multi-intent utterances count as classes of their own, as the dataset spells
them), ``intent_accuracy_at_threshold`` (the same with the project's ``confidenceThreshold``
applied: a top score under it answers ``None``, which is wrong for every test utterance),
``slot_f1`` / ``slot_precision`` / ``slot_recall`` (micro, exact span and type, by
``lexicraft.ml.evaluation.evaluate_ner``), ``train_s`` (wall-clock of ``backend.train``),
``utterances_per_s`` (the whole test set in batches of 64 after a warm-up, model load
excluded), ``single_ms`` (median of the first 200 test utterances predicted one at a time).

Out-of-scope (``--no-oos`` skips it): each system is trained again on ``train`` without the
utterances of ``OOS_INTENTS`` (the three single intents with the most test utterances after
``atis_flight`` and ``atis_airfare``, the in-scope bulk; multi-intent utterances naming one of
them are dropped too). Reported: the share of the held-out intents' test utterances whose top
score is under the threshold (answered ``None``), and the in-scope accuracy (test utterances
naming none of the three) of that model with and without the threshold, beside the full
model's.

The results file holds ``meta``, ``runs`` ({"atis_clu": {system: entry}}) and
``out_of_scope`` ({system: entry}); an ``http`` section (p50 of one ``:analyze-conversations``
call over HTTP, measured against a running server) is kept as it is when this script rewrites
the file, and rendered in the Markdown when present (see :func:`http_lines`).

Usage: ``python bench/clu.py [--systems a,b] [--train-limit N] [--no-oos] [--output PATH]
[--keep-models DIR] [--threshold 0.5]``; ``make bench-clu`` runs it all.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    REPO_ROOT,
    command_line,
    directory_size_mb,
    format_cell,
    git_revision,
    load_results,
    load_split,
    machine_info,
    markdown_table,
    merge_runs,
    now_iso,
    save_results,
    trained_length,
)

DATASET = "atis_clu"
SYSTEMS = ("lexicraft", "lexicraft-fast", "baseline")
PROJECT_KIND = "Conversation"
#: Held out of training for the out-of-scope measure (test utterances: 38, 36, 33).
OOS_INTENTS = ("atis_airline", "atis_ground_service", "atis_abbreviation")
#: The project ``confidenceThreshold`` the out-of-scope measure applies.
DEFAULT_THRESHOLD = 0.5
#: Every threshold the out-of-scope measure also reports (to choose one by).
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
PREDICT_BATCH = 64
WARM_UP = 32
SINGLE = 200
TRAIN_LIMIT_SEED = 0
TFIDF_C = 10.0
TFIDF_MAX_ITERATIONS = 2000
DEFAULT_OUTPUT = REPO_ROOT / "bench" / "results" / "clu.json"


@dataclass(frozen=True, slots=True)
class Prediction:
    """One utterance's answer: every intent's score (best first) and the entities."""

    intents: list[tuple[str, float]]
    entities: list[tuple[int, int, str]]


Predict = Callable[[Sequence[str]], list[Prediction]]


# --- data ------------------------------------------------------------------------------------


def examples(records: Sequence[dict[str, Any]]) -> list[Any]:
    from lexicraft.ml.base import ConversationExample, Span

    return [
        ConversationExample(
            record["text"],
            record["intent"],
            tuple(
                Span(entity["offset"], entity["offset"] + entity["length"], entity["category"])
                for entity in record["entities"]
            ),
        )
        for record in records
    ]


def names_removed(intent: str) -> bool:
    """Whether ``intent`` (``a#b`` for a multi-intent utterance) names a held-out intent."""
    return any(part in OOS_INTENTS for part in intent.split("#"))


def entity_labels(records: Sequence[dict[str, Any]]) -> list[str]:
    return sorted({entity["category"] for record in records for entity in record["entities"]})


# --- systems ---------------------------------------------------------------------------------


def lexicraft_system(
    system: str, train: list[Any], model_dir: Path
) -> tuple[Predict, dict[str, Any]]:
    """Train the registry's backend for ``system``; its predict function and entry fields."""
    from lexicraft.ml import registry

    version = (
        registry.DEFAULT_TRAINING_CONFIG_VERSION
        if system == "lexicraft"
        else registry.FAST_TRAINING_CONFIG_VERSION
    )
    name = registry.resolve_backend_name(version, PROJECT_KIND)
    backend = registry.get_conversation_backend(name)
    labels = sorted({span.category for example in train for span in example.spans})
    started = time.perf_counter()
    backend.train(train, labels, model_dir, progress=progress_printer(system))
    train_s = time.perf_counter() - started
    # Served as a deployed model is: with the files a deploy adds (ONNX for the encoder).
    registry.prepare_for_serving(model_dir)
    predictor = registry.load_conversation_predictor(model_dir)

    def predict(texts: Sequence[str]) -> list[Prediction]:
        return [
            Prediction(
                [(score.category, score.confidence) for score in output.intents],
                [(span.start, span.end, span.category) for span in output.entities],
            )
            for output in predictor.predict(texts)
        ]

    entry: dict[str, Any] = {
        "backend": name,
        "training_config_version": version,
        "runtime": getattr(predictor, "runtime", "python"),
        "train_s": train_s,
        "size_mb": directory_size_mb(model_dir),
        **trained_length(model_dir),
    }
    return predict, entry


def progress_printer(system: str) -> Callable[[float], None]:
    """A progress callback that prints every tenth of the way."""
    printed = [-1]

    def report(fraction: float) -> None:
        tenth = int(fraction * 10)
        if tenth > printed[0]:
            printed[0] = tenth
            print(f"[{now_iso()}] {system}: {10 * tenth} %", flush=True)

    return report


def baseline_system(train: list[Any], model_dir: Path) -> tuple[Predict, dict[str, Any]]:
    """scikit-learn TF-IDF + logistic regression for intents, ``ner.crf.v1`` for slots."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    from lexicraft.ml.base import NerExample
    from lexicraft.ml.ner.crf import CrfNerBackend

    labels = sorted({span.category for example in train for span in example.spans})
    started = time.perf_counter()
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )
    classifier = make_pipeline(
        features, LogisticRegression(C=TFIDF_C, max_iter=TFIDF_MAX_ITERATIONS)
    )
    classifier.fit([example.text for example in train], [example.intent for example in train])
    crf = CrfNerBackend()
    crf.train(
        [NerExample(example.text, example.spans) for example in train], labels, model_dir / "crf"
    )
    train_s = time.perf_counter() - started
    tagger = crf.load(model_dir / "crf")
    classes = [str(name) for name in classifier.classes_]

    def predict(texts: Sequence[str]) -> list[Prediction]:
        probabilities = classifier.predict_proba(list(texts))
        entities = tagger.predict(texts)
        result: list[Prediction] = []
        for row, spans in zip(probabilities, entities, strict=True):
            order = np.argsort(-row, kind="stable")
            result.append(
                Prediction(
                    [(classes[index], float(row[index])) for index in order],
                    [(span.start, span.end, span.category) for span in spans],
                )
            )
        return result

    entry: dict[str, Any] = {
        "backend": "scikit-learn TF-IDF + LogisticRegression (intents), ner.crf.v1 (slots)",
        "runtime": "python",
        "train_s": train_s,
        "size_mb": None,  # the scikit-learn half lives in memory only
    }
    return predict, entry


def train_system(system: str, train: list[Any], work: Path) -> tuple[Predict, dict[str, Any]]:
    print(f"[{now_iso()}] {system}: training on {len(train):,} utterances", flush=True)
    work.mkdir(parents=True, exist_ok=True)
    if system == "baseline":
        predict, entry = baseline_system(train, work / "model")
    else:
        predict, entry = lexicraft_system(system, train, work / "model")
    print(f"[{now_iso()}] {system}: trained in {entry['train_s']:.1f} s", flush=True)
    return predict, entry


# --- scoring ---------------------------------------------------------------------------------


def top_intent(prediction: Prediction, threshold: float) -> str | None:
    """The answered intent: the best one, or None when its score is under ``threshold``."""
    category, confidence = prediction.intents[0]
    return category if confidence >= threshold else None


def accuracy(records: Sequence[dict[str, Any]], answers: Sequence[str | None]) -> float:
    if not records:
        return 0.0
    right = sum(
        int(answer == str(record["intent"]))
        for record, answer in zip(records, answers, strict=True)
    )
    return 100.0 * right / len(records)


def slot_scores(
    records: Sequence[dict[str, Any]], predicted: Sequence[Prediction]
) -> dict[str, float]:
    from lexicraft.ml.base import Span
    from lexicraft.ml.evaluation import evaluate_ner

    gold = [
        [
            Span(entity["offset"], entity["offset"] + entity["length"], entity["category"])
            for entity in record["entities"]
        ]
        for record in records
    ]
    found = [[Span(start, end, category) for start, end, category in p.entities] for p in predicted]
    labels = sorted(
        {span.category for spans in gold for span in spans}
        | {span.category for spans in found for span in spans}
    )
    summary = evaluate_ner(gold, found, labels)
    return {
        "slot_f1": 100.0 * summary["microF1"],
        "slot_precision": 100.0 * summary["microPrecision"],
        "slot_recall": 100.0 * summary["microRecall"],
    }


def timed(predict: Predict, texts: Sequence[str]) -> tuple[list[Prediction], float, float]:
    """Predictions of ``texts`` in batches; utterances per second; median single-call ms."""
    predict(list(texts[:WARM_UP]))
    started = time.perf_counter()
    predicted: list[Prediction] = []
    for start in range(0, len(texts), PREDICT_BATCH):
        predicted.extend(predict(list(texts[start : start + PREDICT_BATCH])))
    per_s = len(texts) / (time.perf_counter() - started)
    singles: list[float] = []
    for text in texts[:SINGLE]:
        one = time.perf_counter()
        predict([text])
        singles.append(1000.0 * (time.perf_counter() - one))
    return predicted, per_s, statistics.median(singles)


def full_entry(
    predict: Predict, entry: dict[str, Any], test: Sequence[dict[str, Any]], threshold: float
) -> tuple[dict[str, Any], list[Prediction]]:
    predicted, per_s, single_ms = timed(predict, [record["text"] for record in test])
    entry.update(
        {
            "intent_accuracy": accuracy(test, [p.intents[0][0] for p in predicted]),
            "intent_accuracy_at_threshold": accuracy(
                test, [top_intent(p, threshold) for p in predicted]
            ),
            **slot_scores(test, predicted),
            "utterances_per_s": per_s,
            "single_ms": single_ms,
            "intents_scored": min(len(p.intents) for p in predicted),
            # The out-of-scope measure's in-scope utterances, answered by this (full) model.
            "in_scope_accuracy_at": {
                str(threshold): in_scope_accuracy(predicted, test, threshold)
                for threshold in THRESHOLDS
            },
        }
    )
    return entry, predicted


def in_scope_accuracy(
    predicted: Sequence[Prediction], test: Sequence[dict[str, Any]], threshold: float
) -> float:
    """Accuracy on the test utterances that name none of ``OOS_INTENTS``, with ``threshold``."""
    scope = [index for index, record in enumerate(test) if not names_removed(record["intent"])]
    return accuracy(
        [test[index] for index in scope],
        [top_intent(predicted[index], threshold) for index in scope],
    )


def oos_entry(
    predicted: Sequence[Prediction],
    test: Sequence[dict[str, Any]],
    threshold: float,
    train_s: float,
) -> dict[str, Any]:
    """The out-of-scope measures of a model trained without ``OOS_INTENTS``."""
    held = [index for index, record in enumerate(test) if record["intent"] in OOS_INTENTS]
    scope = [index for index, record in enumerate(test) if not names_removed(record["intent"])]

    def answered_none(at: float) -> float:
        rejected = sum(top_intent(predicted[index], at) is None for index in held)
        return 100.0 * rejected / max(1, len(held))

    without = in_scope_accuracy(predicted, test, 0.0)
    top_scores = sorted(predicted[index].intents[0][1] for index in held)
    return {
        "held_out_intents": list(OOS_INTENTS),
        "threshold": threshold,
        "held_out_test_utterances": len(held),
        "in_scope_test_utterances": len(scope),
        "answered_none_share": answered_none(threshold),
        "held_out_median_top_score": top_scores[len(top_scores) // 2] if top_scores else None,
        "in_scope_accuracy": without,
        "in_scope_accuracy_at_threshold": in_scope_accuracy(predicted, test, threshold),
        "in_scope_change_from_threshold": in_scope_accuracy(predicted, test, threshold) - without,
        "sweep": {
            str(at): {
                "answered_none_share": answered_none(at),
                "in_scope_accuracy": in_scope_accuracy(predicted, test, at),
                "in_scope_change_from_threshold": in_scope_accuracy(predicted, test, at) - without,
            }
            for at in THRESHOLDS
        },
        "train_s": train_s,
    }


# --- report ----------------------------------------------------------------------------------


def http_lines(results: dict[str, Any]) -> list[str]:
    """The Markdown of the ``http`` section, when the results hold one.

    Expected shape, written by whoever measures it against a running server (this script
    does not: it trains in process): ``{"http": {"system": str, "calls": int, "p50_ms": float,
    "p95_ms": float, "measured_at": str, "command": str, ...}}``.
    """
    http = results.get("http")
    if not http:
        return []
    rows = [{"key": key, "value": value} for key, value in http.items()]
    return [
        "## One `:analyze-conversations` call over HTTP",
        "",
        markdown_table(rows, [("key", "measure"), ("value", "value")]),
        "",
    ]


def write_markdown(path: Path, results: dict[str, Any]) -> None:
    meta = results["meta"]
    runs = results["runs"].get(DATASET, {})
    lines = [
        "# CLU benchmark (atis_clu)",
        "",
        f"Commands: {', '.join(f'`{c}`' for c in meta.get('commands', []))}; last write "
        f"{meta.get('finished_at')} ({meta.get('revision')}); "
        f"machine: {meta.get('machine', {}).get('cpu')}, "
        f"{meta.get('machine', {}).get('usable_cpus')} usable CPUs.",
        "",
        f"## Intents and slots (train {meta.get('train_utterances', 0):,} / test "
        f"{meta.get('test_utterances', 0):,} utterances)",
        "",
    ]
    rows = [{"system": system, **entry} for system, entry in runs.items()]
    lines.append(
        markdown_table(
            rows,
            [
                ("system", "system"),
                ("backend", "backend"),
                ("intent_accuracy", "intent acc"),
                ("intent_accuracy_at_threshold", f"intent acc (threshold {meta.get('threshold')})"),
                ("slot_f1", "slot F1"),
                ("slot_precision", "slot P"),
                ("slot_recall", "slot R"),
                ("train_s", "train s"),
                ("utterances_per_s", "utt/s"),
                ("single_ms", "1 utt ms"),
                ("runtime", "runtime"),
            ],
        )
    )
    lines += [
        "",
        "- `baseline`: its slot half is `ner.crf.v1`, the same CRF as `lexicraft-fast`; its "
        "intent half is scikit-learn's TF-IDF + logistic regression, built like the fast "
        "configuration's `textcat.linear.v1` (which tokenizes with Lexicraft's own tokenizer).",
        "- intent acc: the top intent; multi-intent utterances (`a#b`) are classes of their own. "
        "With the threshold, a top score under it answers `None` (wrong for every test utterance).",
        "- slot F1: micro, exact span and type. utt/s: the test set in batches of 64, in process; "
        "1 utt ms: median of 200 single-utterance calls, in process.",
        "",
    ]
    oos = results.get("out_of_scope", {})
    if oos:
        first = next(iter(oos.values()))
        rows = []
        for system, entry in oos.items():
            row = {"system": system, **entry}
            full = runs.get(system, {}).get("in_scope_accuracy_at", {}).get(str(entry["threshold"]))
            if full is not None:
                row["full_model_in_scope_accuracy_at_threshold"] = full
                row["in_scope_change_from_full_model"] = (
                    entry["in_scope_accuracy_at_threshold"] - full
                )
            rows.append(row)
        sweep_rows = [
            {"system": system, "threshold": float(at), **values}
            for system, entry in oos.items()
            for at, values in entry["sweep"].items()
        ]
        lines += [
            f"## Out-of-scope: {', '.join(first['held_out_intents'])} removed from train",
            "",
            f"{first['held_out_test_utterances']} test utterances of the removed intents, "
            f"{first['in_scope_test_utterances']} in-scope ones; threshold {first['threshold']}.",
            "",
            markdown_table(
                rows,
                [
                    ("system", "system"),
                    ("answered_none_share", "held-out → None %"),
                    ("held_out_median_top_score", "held-out median top score"),
                    ("in_scope_accuracy", "in-scope acc (no threshold)"),
                    ("in_scope_accuracy_at_threshold", "in-scope acc (threshold)"),
                    ("in_scope_change_from_threshold", "change from threshold"),
                    ("full_model_in_scope_accuracy_at_threshold", "full model in-scope acc"),
                    ("in_scope_change_from_full_model", "change from full model"),
                    ("train_s", "train s"),
                ],
                {"held_out_median_top_score": lambda value: format_cell(value, 3)},
            ),
            "",
            "- change from threshold: in-scope accuracy of the model trained without the three "
            "intents, with the threshold minus without it. change from full model: the same "
            "model with the threshold minus the model trained on all of train, with the threshold.",
            "",
            "### Every threshold",
            "",
            markdown_table(
                sweep_rows,
                [
                    ("system", "system"),
                    ("threshold", "threshold"),
                    ("answered_none_share", "held-out → None %"),
                    ("in_scope_accuracy", "in-scope acc"),
                    ("in_scope_change_from_threshold", "change from threshold"),
                ],
            ),
            "",
        ]
    lines += http_lines(results)
    path.write_text("\n".join(lines), encoding="utf-8")


# --- main ------------------------------------------------------------------------------------


def save_entry(
    output: Path,
    meta: dict[str, Any],
    runs: dict[str, Any] | None = None,
    oos: dict[str, Any] | None = None,
) -> None:
    """Merge one system's entry into the results file (read fresh, so that runs of this script
    for other systems or parts keep theirs, and an ``http`` section stays), and rewrite the
    Markdown."""
    results = load_results(output)
    merge_runs(results, {DATASET: runs or {}})
    results.setdefault("out_of_scope", {}).update(oos or {})
    # Parts may run as separate invocations (in parallel); every command that wrote is listed.
    commands = [
        command for command in results["meta"].get("commands", []) if command != meta["command"]
    ]
    results["meta"] = {**meta, "commands": [*commands, meta["command"]], "finished_at": now_iso()}
    save_results(output, results)
    write_markdown(output.with_suffix(".md"), results)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--train-limit", type=int, default=None, help="smoke runs only")
    parser.add_argument(
        "--part",
        choices=("full", "oos", "both"),
        default="both",
        help="train on all of train (full), without the three intents (oos), or both",
    )
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--keep-models", type=Path, default=None, help="keep the models here")
    arguments = parser.parse_args(argv)
    systems = [system for system in arguments.systems.split(",") if system]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems {sorted(unknown)}; use {list(SYSTEMS)}")
    sys.path.insert(0, str(REPO_ROOT / "src"))

    train_records = load_split(DATASET, "train")
    test_records = load_split(DATASET, "test")
    if arguments.train_limit is not None:
        chosen = sorted(
            random.Random(TRAIN_LIMIT_SEED).sample(range(len(train_records)), arguments.train_limit)
        )
        train_records = [train_records[index] for index in chosen]
    oos_records = [record for record in train_records if not names_removed(record["intent"])]
    train, oos_train = examples(train_records), examples(oos_records)

    work = arguments.keep_models or Path(tempfile.mkdtemp(prefix="bench-clu-"))
    meta = {
        "command": command_line(),
        "revision": git_revision(),
        "machine": machine_info(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "threshold": arguments.threshold,
        "train_utterances": len(train_records),
        "oos_train_utterances": len(oos_records),
        "test_utterances": len(test_records),
        "train_limit": arguments.train_limit,
    }
    try:
        for system in systems:
            if arguments.part in ("full", "both"):
                predict, entry = train_system(system, train, work / system)
                entry, _ = full_entry(predict, entry, test_records, arguments.threshold)
                print(f"[{now_iso()}] {system}: {entry}", flush=True)
                save_entry(arguments.output, meta, runs={system: entry})
            if arguments.part in ("oos", "both"):
                predict, fit = train_system(system, oos_train, work / f"{system}-oos")
                predicted = predict([record["text"] for record in test_records])
                entry = oos_entry(predicted, test_records, arguments.threshold, fit["train_s"])
                print(f"[{now_iso()}] {system} out-of-scope: {entry}", flush=True)
                save_entry(arguments.output, meta, oos={system: entry})
    finally:
        if arguments.keep_models is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {arguments.output} and {arguments.output.with_suffix('.md')}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
