"""NER benchmark: Lexicraft's default and fast NER beside spaCy's blank ``ner`` pipelines.

Datasets (../shared/data): conll2003, mit_restaurant and wnut17 (English) and wikiann_de
(German); and, when named, ``conll2003-to-wikiann_de``: Azure's multilingual project, trained in
one language and called in another (conll2003's English training set without MISC, scored on
wikiann_de's German test set; the project is English and ``multilingual``). wikiann_de is
subsampled with a fixed seed to 10,000 training sentences (of 20,000) and 2,000 dev sentences
(of 10,000); its test set is used whole (see bench/README.md for why).
Every system trains on ``train`` and is scored on ``test``; spaCy also reads ``dev`` for its
own evaluation and early stopping, the Lexicraft backends do not look at it.

Systems, each trained in a subprocess under the same wall-clock cap (``--cap-minutes``, 20 by
default) and then predicting the test set in another subprocess:

- ``lexicraft``: the NER backend of ``registry.DEFAULT_TRAINING_CONFIG_VERSION`` for a project
  in the dataset's language (``registry.wants_multilingual``: MiniLM for English, e5 for German
  and for the multilingual project);
- ``lexicraft-fast``: the NER backend of ``registry.FAST_TRAINING_CONFIG_VERSION``;
- ``spacy-efficiency`` / ``spacy-accuracy``: spaCy ``ner`` from ``spacy init config --lang
  en|de --pipeline ner --optimize efficiency|accuracy`` without vectors, run by
  bench/spacy_ner.py in ``.venv-bench``; the best checkpoint is kept when the cap stops it;
- ``lexicraft-minilm`` / ``lexicraft-e5`` (only when ``--systems`` names them): the default
  recipe on each encoder (``ner.minilm.v2``, ``ner.e5.v1``), whatever the language, to compare
  the encoders on every set.

One scorer for all: ``lexicraft.ml.evaluation.evaluate_ner`` (exact span and type), run here on
every system's predicted code-point spans. Measures: ``f1`` / ``precision`` / ``recall``
(micro, points 0-100), ``per_type`` (F1 per entity type, points), ``ece`` (expected calibration
error of entity confidences, 15 equal-width bins, 0-1; null for systems without confidences),
``train_s`` (wall-clock of the training subprocess), ``docs_per_s`` / ``tokens_per_s`` (whole
test set in batches of 256 after a warm-up, model load excluded; tokens are the dataset's own,
i.e. the test texts split on spaces), ``single_doc_ms`` (median over the first 200 test
documents predicted one at a time), ``peak_mb`` (peak RSS of the training subprocess and its
children), ``size_mb`` (the saved model folder).

Results merge into ``--output`` (other datasets' and systems' entries are kept); a Markdown
report is written beside it (``.md``). Usage: ``python bench/ner.py [--dataset NAME ...]
[--systems a,b] [--cap-minutes 20] [--train-limit N]``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    REPO_ROOT,
    CappedRun,
    command_line,
    directory_size_mb,
    format_cell,
    git_revision,
    load_results,
    load_split,
    log_tail,
    machine_info,
    markdown_table,
    merge_runs,
    now_iso,
    read_jsonl,
    run_capped,
    save_results,
    trained_length,
    within_cap,
    write_jsonl,
)

BENCH_DIR = Path(__file__).resolve().parent
SPACY_PYTHON = REPO_ROOT / ".venv-bench" / "bin" / "python"
SPACY_SCRIPT = BENCH_DIR / "spacy_ner.py"

#: Dataset → spaCy language code.
DATASETS: dict[str, str] = {
    "conll2003": "en",
    "mit_restaurant": "en",
    "wnut17": "en",
    "wikiann_de": "de",
}
#: Cross-lingual sets, run only when named: set → (training dataset, test dataset, the entity
#: types both have). Their project is English and ``multilingual``.
CROSS_LINGUAL: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "conll2003-to-wikiann_de": ("conll2003", "wikiann_de", ("LOC", "ORG", "PER")),
}
#: Dataset → split → how many documents a fixed seeded subsample keeps (see bench/README.md).
SUBSAMPLES: dict[str, dict[str, int]] = {"wikiann_de": {"train": 10_000, "dev": 2_000}}
SUBSAMPLE_SEED = 0
TRAIN_LIMIT_SEED = 0
SYSTEMS = ("lexicraft", "lexicraft-fast", "spacy-efficiency", "spacy-accuracy")
#: The encoder comparison's systems (run when named) → their backend, of the default config.
ENCODER_SYSTEMS = {"lexicraft-minilm": "ner.minilm.v2", "lexicraft-e5": "ner.e5.v1"}
PROJECT_KIND = "CustomEntityRecognition"
METRICS = (
    "f1", "precision", "recall", "train_s", "docs_per_s", "tokens_per_s", "single_doc_ms",
    "peak_mb", "size_mb", "ece", "per_type",
)  # fmt: skip
PREDICT_BATCH = 256
WARM_UP_DOCS = 32
SINGLE_DOCS = 200
#: Prediction is not what the cap is about, but a hung predictor must not hang the bench.
PREDICT_CAP_S = 3600.0
#: spaCy's script counts the cap from its own start, then may take this long to save and check.
SPACY_EXTRA_S = 180.0

#: A predicted entity as the prediction files carry it: start, end, category, confidence.
Prediction = tuple[int, int, str, float | None]


@dataclass(slots=True)
class Task:
    """One dataset's splits in the shared format (``{"text", "entities"}``)."""

    dataset: str
    lang: str
    train: list[dict[str, Any]]
    dev: list[dict[str, Any]]
    test: list[dict[str, Any]]
    labels: list[str]
    multilingual: bool = False

    def write(self, folder: Path) -> dict[str, Path]:
        """Write train/dev/test JSON Lines and labels.json into ``folder``; their paths."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {split: folder / f"{split}.jsonl" for split in ("train", "dev", "test")}
        write_jsonl(paths["train"], self.train)
        write_jsonl(paths["dev"], self.dev)
        write_jsonl(paths["test"], self.test)
        paths["labels"] = folder / "labels.json"
        paths["labels"].write_text(json.dumps(self.labels, ensure_ascii=False), encoding="utf-8")
        return paths


class SystemFailedError(RuntimeError):
    """A system did not produce a model or predictions; the message says why."""


# --- data ------------------------------------------------------------------------------------


def neutral(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``{"text", "entities"}`` records (ids dropped)."""
    return [{"text": record["text"], "entities": record["entities"]} for record in records]


def seeded_subset(records: list[dict[str, Any]], size: int, seed: int) -> list[dict[str, Any]]:
    """``size`` records drawn with ``seed``, kept in file order."""
    if size >= len(records):
        return records
    chosen = sorted(random.Random(seed).sample(range(len(records)), size))
    return [records[index] for index in chosen]


def load_task(dataset: str, train_limit: int | None) -> Task:
    if dataset in CROSS_LINGUAL:
        return load_cross_lingual_task(dataset, train_limit)
    subsample = SUBSAMPLES.get(dataset, {})
    splits: dict[str, list[dict[str, Any]]] = {}
    for split in ("train", "dev", "test"):
        records = neutral(load_split(dataset, split))
        if split in subsample:
            records = seeded_subset(records, subsample[split], SUBSAMPLE_SEED)
        splits[split] = records
    if train_limit is not None:
        splits["train"] = seeded_subset(splits["train"], train_limit, TRAIN_LIMIT_SEED)
    labels = sorted(
        {entity["category"] for record in splits["train"] for entity in record["entities"]}
    )
    return Task(dataset, DATASETS[dataset], splits["train"], splits["dev"], splits["test"], labels)


def load_cross_lingual_task(name: str, train_limit: int | None) -> Task:
    """Train (and dev, for spaCy) from one dataset, test from another: only the entity types
    both have are kept."""
    source, target, types = CROSS_LINGUAL[name]
    trained, tested = load_task(source, train_limit), load_task(target, None)

    def kept(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "text": record["text"],
                "entities": [e for e in record["entities"] if e["category"] in types],
            }
            for record in records
        ]

    return Task(
        name,
        trained.lang,
        kept(trained.train),
        kept(trained.dev),
        kept(tested.test),
        list(types),
        multilingual=True,
    )


def dataset_tokens(records: Sequence[dict[str, Any]]) -> int:
    """The dataset's own tokens: its texts are tokens joined by single spaces."""
    return sum(len(record["text"].split()) for record in records)


def entity_count(records: Sequence[dict[str, Any]]) -> int:
    return sum(len(record["entities"]) for record in records)


# --- scoring ---------------------------------------------------------------------------------


def gold_spans(task: Task) -> list[list[tuple[int, int, str]]]:
    return [
        [
            (entity["offset"], entity["offset"] + entity["length"], entity["category"])
            for entity in record["entities"]
        ]
        for record in task.test
    ]


def score(task: Task, predicted: Sequence[Sequence[Sequence[Any]]]) -> dict[str, Any]:
    """Micro P/R/F1 and per-type F1 (points) from ``evaluate_ner``, and the ECE."""
    from lexicraft.ml.base import Span
    from lexicraft.ml.evaluation import evaluate_ner, expected_calibration_error

    gold = gold_spans(task)
    if len(predicted) != len(gold):
        raise SystemFailedError(f"{len(predicted)} predictions for {len(gold)} test documents")
    spans: list[list[Prediction]] = [
        [(int(s), int(e), str(c), None if p is None else float(p)) for s, e, c, p in document]
        for document in predicted
    ]
    gold_categories = sorted({category for document in gold for _, _, category in document})
    found_categories = sorted({category for document in spans for _, _, category, _ in document})
    labels = list(dict.fromkeys([*task.labels, *gold_categories, *found_categories]))
    summary = evaluate_ner(
        [[Span(start, end, category) for start, end, category in document] for document in gold],
        [
            [Span(start, end, category) for start, end, category, _ in document]
            for document in spans
        ],
        labels,
    )
    confidences: list[float] = []
    correct: list[bool] = []
    has_confidences = True
    for document_gold, document_spans in zip(gold, spans, strict=True):
        keys = set(document_gold)
        for start, end, category, confidence in document_spans:
            if confidence is None:
                has_confidences = False
                continue
            confidences.append(confidence)
            correct.append((start, end, category) in keys)
    ece = (
        expected_calibration_error(confidences, correct)
        if has_confidences and confidences
        else None
    )
    return {
        "f1": 100.0 * summary["microF1"],
        "precision": 100.0 * summary["microPrecision"],
        "recall": 100.0 * summary["microRecall"],
        "ece": ece,
        "per_type": {
            label: 100.0 * metrics["f1"] for label, metrics in summary["entities"].items()
        },
        "predicted_entities": sum(len(document) for document in spans),
    }


# --- systems ---------------------------------------------------------------------------------


def lexicraft_backend(system: str, lang: str, multilingual: bool = False) -> tuple[str, str]:
    """(backend name, trainingConfigVersion) for a lexicraft system on a ``lang`` dataset (of a
    ``multilingual`` project)."""
    from lexicraft.ml import registry

    if system in ENCODER_SYSTEMS:
        return ENCODER_SYSTEMS[system], registry.DEFAULT_TRAINING_CONFIG_VERSION
    version = (
        registry.DEFAULT_TRAINING_CONFIG_VERSION
        if system == "lexicraft"
        else registry.FAST_TRAINING_CONFIG_VERSION
    )
    wanted = registry.wants_multilingual(lang, multilingual=multilingual)
    return registry.resolve_backend_name(version, PROJECT_KIND, multilingual=wanted), version


def worker_command(*arguments: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "_worker", *arguments]


def checked(run: CappedRun, log_path: Path, what: str, cap_s: float) -> None:
    if run.capped:
        raise SystemFailedError(f"{what} exceeded the cap of {cap_s:.0f} s")
    if run.returncode != 0:
        raise SystemFailedError(f"{what} failed ({run.returncode}):\n{log_tail(log_path)}")


def run_system(
    system: str, task: Task, paths: dict[str, Path], cap_s: float, work: Path
) -> dict[str, Any]:
    """Train, predict and score one system on one dataset; its results entry."""
    work.mkdir(parents=True, exist_ok=True)
    model_dir = work / "model"
    predictions_path = work / "predictions.json"
    log_path = work / "train.log"
    entry: dict[str, Any] = {}
    if system.startswith("spacy-"):
        if not SPACY_PYTHON.is_file():
            raise SystemFailedError(f"{SPACY_PYTHON} missing; run `make .venv-bench/.installed`")
        optimize = system.removeprefix("spacy-")
        result_path = work / "spacy-result.json"
        command = [
            str(SPACY_PYTHON), str(SPACY_SCRIPT), "train",
            "--train", str(paths["train"]), "--dev", str(paths["dev"]), "--lang", task.lang,
            "--optimize", optimize, "--cap-seconds", str(cap_s),
            "--work", str(work / "spacy"), "--result", str(result_path),
        ]  # fmt: skip
        train_run = run_capped(command, cap_s + SPACY_EXTRA_S, log_path=log_path)
        checked(train_run, log_path, "spacy_ner.py train", cap_s + SPACY_EXTRA_S)
        spacy_result = json.loads(result_path.read_text(encoding="utf-8"))
        model_dir = Path(spacy_result["model_dir"])
        entry["backend"] = f"spaCy {spacy_result['spacy_version']} ner ({optimize}, {task.lang})"
        entry["stopped_at_cap"] = spacy_result["stopped_at_cap"]
        entry["misaligned_entities"] = spacy_result["misaligned_entities"]
        entry["dropped_docs"] = spacy_result["dropped_docs"]
        fit_s = spacy_result["spacy_train_s"]
        predict = [
            str(SPACY_PYTHON), str(SPACY_SCRIPT), "predict", "--model", str(model_dir),
            "--test", str(paths["test"]), "--output", str(predictions_path),
            "--batch-size", str(PREDICT_BATCH), "--single-docs", str(SINGLE_DOCS),
        ]  # fmt: skip
    else:
        backend, version = lexicraft_backend(system, task.lang, task.multilingual)
        entry["backend"] = backend
        entry["training_config_version"] = version
        train = worker_command(
            "train", "--backend", backend, "--train", str(paths["train"]),
            "--labels", str(paths["labels"]), "--model", str(model_dir),
            "--timing", str(work / "fit.json"), "--cap-seconds", str(cap_s),
        )  # fmt: skip
        train_run = run_capped(train, cap_s, log_path=log_path)
        checked(train_run, log_path, f"{system} training", cap_s)
        fit_s = json.loads((work / "fit.json").read_text(encoding="utf-8"))["fit_s"]
        entry.update(trained_length(model_dir))
        predict = worker_command(
            "predict", "--model", str(model_dir), "--test", str(paths["test"]),
            "--output", str(predictions_path),
        )  # fmt: skip
    predict_log = work / "predict.log"
    predict_run = run_capped(predict, PREDICT_CAP_S, log_path=predict_log)
    checked(predict_run, predict_log, f"{system} prediction", PREDICT_CAP_S)
    output = json.loads(predictions_path.read_text(encoding="utf-8"))
    entry.update(score(task, output["predictions"]))
    predict_s = output["predict_s"]
    entry["train_s"] = train_run.wall_s
    entry["fit_s"] = fit_s
    entry["docs_per_s"] = output["docs"] / predict_s if predict_s else None
    entry["tokens_per_s"] = dataset_tokens(task.test) / predict_s if predict_s else None
    entry["single_doc_ms"] = output["single_doc_ms"]
    entry["peak_mb"] = train_run.peak_mb
    entry["size_mb"] = directory_size_mb(model_dir)
    entry["train_docs"] = len(task.train)
    return rounded(entry)


def rounded(entry: dict[str, Any]) -> dict[str, Any]:
    """Metrics first, in ``METRICS`` order; floats to 2 decimals (the ECE to 4)."""
    ordered = {key: entry.get(key) for key in METRICS}
    ordered.update({key: value for key, value in entry.items() if key not in ordered})
    result: dict[str, Any] = {}
    for key, value in ordered.items():
        if isinstance(value, float):
            value = round(value, 4 if key == "ece" else 2)
        elif isinstance(value, dict) and key == "per_type":
            value = {label: round(f1, 2) for label, f1 in value.items()}
        result[key] = value
    return result


def failed(reason: str) -> dict[str, Any]:
    return {**dict.fromkeys(METRICS), "error": reason}


# --- workers (run as subprocesses: `ner.py _worker ...`) -------------------------------------


def worker_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ner.py _worker")
    parser.add_argument("action", choices=("train", "predict"))
    parser.add_argument("--backend")
    parser.add_argument("--train")
    parser.add_argument("--labels")
    parser.add_argument("--model", required=True)
    parser.add_argument("--test")
    parser.add_argument("--output")
    parser.add_argument("--timing", help="train: JSON file for the in-process fit seconds")
    parser.add_argument("--cap-seconds", type=float, help="train: the wall-clock cap it runs under")
    arguments = parser.parse_args(argv)
    model_dir = Path(arguments.model)
    if arguments.action == "predict":
        texts = [record["text"] for record in read_jsonl(Path(arguments.test))]
        predict_timed(model_dir, texts, Path(arguments.output))
        return 0
    records = read_jsonl(Path(arguments.train))
    labels: list[str] = json.loads(Path(arguments.labels).read_text(encoding="utf-8"))
    # Import the trainer's modules before the clock starts: fit_s is training proper.
    importlib.import_module("lexicraft.ml.registry")
    started = time.perf_counter()
    train_lexicraft(arguments.backend, records, labels, model_dir, arguments.cap_seconds)
    fit_s = time.perf_counter() - started
    if arguments.timing:
        Path(arguments.timing).write_text(json.dumps({"fit_s": fit_s}), encoding="utf-8")
    return 0


def train_lexicraft(
    backend_name: str,
    records: list[dict[str, Any]],
    labels: list[str],
    model_dir: Path,
    cap_s: float | None,
) -> None:
    from lexicraft.ml import registry
    from lexicraft.ml.base import NerExample, Span

    backend = within_cap(registry.get_ner_backend(backend_name), cap_s)
    examples = [
        NerExample(
            record["text"],
            tuple(
                Span(entity["offset"], entity["offset"] + entity["length"], entity["category"])
                for entity in record["entities"]
            ),
        )
        for record in records
    ]
    reported = [-1]

    def progress(fraction: float) -> None:
        # A line per 10 % in the training log, to see where a capped run got to.
        tenth = int(fraction * 10)
        if tenth > reported[0]:
            reported[0] = tenth
            print(f"progress {fraction:.0%}", flush=True)

    backend.train(examples, labels, model_dir, progress)


def predict_timed(model_dir: Path, texts: list[str], output: Path) -> None:
    """Load a model, warm it up, time batched then one-at-a-time prediction of ``texts``."""
    from lexicraft.ml import registry

    predictor = registry.load_ner_predictor(model_dir)
    predictor.predict(texts[:WARM_UP_DOCS])
    started = time.perf_counter()
    predictions: list[list[Prediction]] = []
    for start in range(0, len(texts), PREDICT_BATCH):
        for spans in predictor.predict(texts[start : start + PREDICT_BATCH]):
            predictions.append(
                [(span.start, span.end, span.category, span.confidence) for span in spans]
            )
    predict_s = time.perf_counter() - started
    single_ms: list[float] = []
    for text in texts[:SINGLE_DOCS]:
        one_started = time.perf_counter()
        predictor.predict([text])
        single_ms.append(1000.0 * (time.perf_counter() - one_started))
    result = {
        "predictions": predictions,
        "predict_s": predict_s,
        "docs": len(texts),
        "single_doc_ms": statistics.median(single_ms) if single_ms else None,
        "single_docs": len(single_ms),
    }
    output.write_text(json.dumps(result), encoding="utf-8")


# --- the bench -------------------------------------------------------------------------------


def system_descriptions() -> dict[str, str]:
    descriptions = {}
    for system in ("lexicraft", "lexicraft-fast", *ENCODER_SYSTEMS):
        english, version = lexicraft_backend(system, "en")
        german, _ = lexicraft_backend(system, "de")
        backends = (
            english
            if english == german
            else f"{english} (en), {german} (de and multilingual projects)"
        )
        descriptions[system] = f"{backends} (trainingConfigVersion {version})"
    for optimize in ("efficiency", "accuracy"):
        descriptions[f"spacy-{optimize}"] = (
            f"spaCy ner, init config --lang en|de --pipeline ner --optimize {optimize}, "
            "no vectors; no per-entity confidence (ece null)"
        )
    return descriptions


def record(
    output: Path, dataset: str, system: str, entry: dict[str, Any], meta: dict[str, Any]
) -> None:
    """Merge one entry into the results file, refresh its meta, rewrite the Markdown."""
    results = load_results(output)
    merge_runs(results, {dataset: {system: entry}})
    results["meta"].update({key: value for key, value in meta.items() if key != "group"})
    results["meta"].setdefault("groups", {})[dataset] = meta["group"]
    backend = str(entry.get("backend", ""))
    if backend.startswith("spaCy "):
        results["meta"]["spacy_version"] = backend.split()[1]
    save_results(output, results)
    output.with_suffix(".md").write_text(render_markdown(results), encoding="utf-8")


def print_entry(dataset: str, system: str, entry: dict[str, Any]) -> None:
    if entry.get("error"):
        print(f"{dataset:<15} {system:<17} FAILED: {entry['error']}", flush=True)
        return
    cells = "  ".join(
        f"{key}={format_cell(entry.get(key), 4 if key == 'ece' else 1)}"
        for key in METRICS
        if key != "per_type" and entry.get(key) is not None
    )
    print(f"{dataset:<15} {system:<17} {cells}", flush=True)


# --- Markdown --------------------------------------------------------------------------------

COLUMNS = [
    ("system", "system"), ("f1", "F1"), ("precision", "P"), ("recall", "R"), ("ece", "ECE"),
    ("train_s", "train s"), ("docs_per_s", "docs/s"), ("tokens_per_s", "tokens/s"),
    ("single_doc_ms", "1-doc ms"), ("peak_mb", "peak MB"), ("size_mb", "size MB"),
]  # fmt: skip


def ordered_systems(systems: dict[str, Any]) -> list[str]:
    names = [system for system in SYSTEMS if system in systems]
    return names + sorted(system for system in systems if system not in SYSTEMS)


def overview(results: dict[str, Any], datasets: list[str]) -> list[str]:
    """F1 per dataset and system, and the default's margin over the better spaCy."""
    rows: list[dict[str, Any]] = []
    margins: list[float] = []
    # The encoder comparison's systems get columns where a run has them.
    shown = [*SYSTEMS] + [
        system
        for system in ENCODER_SYSTEMS
        if any(system in results["runs"][dataset] for dataset in datasets)
    ]
    for dataset in datasets:
        systems = results["runs"][dataset]
        row: dict[str, Any] = {"dataset": dataset}
        for system in shown:
            row[system] = systems.get(system, {}).get("f1")
        spacy_f1 = [row[s] for s in ("spacy-efficiency", "spacy-accuracy") if row[s] is not None]
        if row["lexicraft"] is not None and spacy_f1:
            row["margin"] = round(row["lexicraft"] - max(spacy_f1), 2)
            margins.append(row["margin"])
        rows.append(row)
    if len(margins) > 1:
        rows.append({"dataset": "mean margin", "margin": round(statistics.fmean(margins), 2)})
    columns = [("dataset", "dataset"), *((system, system) for system in shown)]
    columns.append(("margin", "lexicraft \u2212 best spaCy"))
    return ["## Exact-span micro F1", "", markdown_table(rows, columns), ""]


def render_markdown(results: dict[str, Any]) -> str:
    from lexicraft.ml.evaluation import ECE_BINS

    meta = results.get("meta", {})
    machine = meta.get("machine", {})
    lines = [
        "# NER benchmark",
        "",
        f"Written by `bench/ner.py`, last run {meta.get('date', '?')} on "
        f"{machine.get('cpu', '?')} ({machine.get('usable_cpus', '?')} CPUs)"
        + (f", spaCy {meta['spacy_version']}" if meta.get("spacy_version") else "")
        + ". F1, P and R are exact-span micro figures in "
        "points (0-100) from `lexicraft.ml.evaluation.evaluate_ner`; ECE is the expected "
        f"calibration error of entity confidences ({ECE_BINS} bins, 0-1; \u2013 where a system "
        "gives none); train s is the wall-clock of the training subprocess (imports "
        "included); docs/s and tokens/s are batched prediction of the whole test set, model "
        f"load excluded; 1-doc ms is the median over the first {SINGLE_DOCS} test documents "
        "predicted one at a time; peak MB is the training process's peak RSS.",
        "",
    ]
    groups = meta.get("groups", {})
    known = [*DATASETS, *CROSS_LINGUAL]
    datasets = [name for name in known if name in results["runs"]]
    datasets += sorted(name for name in results["runs"] if name not in known)
    if datasets:
        lines += overview(results, datasets)
    for dataset in datasets:
        systems = results["runs"][dataset]
        info = groups.get(dataset, {})
        heading = f"## {dataset} ({info.get('lang', '?')}"
        if info.get("train_docs") is not None:
            heading += (
                f"; train {info['train_docs']:,} / dev {info.get('dev_docs', 0):,} / "
                f"test {info.get('test_docs', 0):,}"
            )
        if info.get("cap_minutes") is not None:
            heading += f"; cap {info['cap_minutes']:g} min"
        heading += f"; {info.get('date', '?')})"
        lines += [heading, ""]
        if info.get("train_limit") is not None:
            lines += [f"**Smoke run: training limited to {info['train_limit']} documents.**", ""]
        if info.get("subsample"):
            lines += [f"Subsampled: {info['subsample']}.", ""]
        rows: list[dict[str, Any]] = []
        type_rows: list[dict[str, Any]] = []
        types: list[str] = []
        notes: list[str] = []
        for system in ordered_systems(systems):
            entry = systems[system]
            rows.append({"system": system, **entry})
            per_type = entry.get("per_type") or {}
            types += [label for label in per_type if label not in types]
            type_rows.append({"system": system, **per_type})
            if entry.get("error"):
                notes.append(f"- {system}: failed: {str(entry['error']).splitlines()[0]}")
            if system.startswith("lexicraft") and entry.get("backend"):
                # The backend a system maps to changes between runs (Systems: says today's).
                notes.append(f"- {system}: `{entry['backend']}`")
            if entry.get("stopped_at_cap"):
                notes.append(f"- {system}: stopped at the cap; best checkpoint used")
            if entry.get("misaligned_entities"):
                notes.append(
                    f"- {system}: {entry['misaligned_entities']} entities did not align with "
                    f"spaCy's tokens; {entry.get('dropped_docs')} train/dev documents left out"
                )
        lines += [
            markdown_table(rows, COLUMNS, {"ece": lambda value: format_cell(value, 3)}),
            "",
        ]
        if types:
            type_columns = [("system", "F1 per type"), *((label, label) for label in types)]
            lines += [markdown_table(type_rows, type_columns), ""]
        if notes:
            lines += [*notes, ""]
    systems_meta = meta.get("systems", {})
    if systems_meta:
        lines += ["Systems:", ""]
        lines += [f"- `{name}`: {text}" for name, text in systems_meta.items()]
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    if sys.argv[1:2] == ["_worker"]:
        return worker_main(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset",
        action="append",
        choices=[*DATASETS, *CROSS_LINGUAL],
        help="repeatable; default: the four datasets",
    )
    parser.add_argument("--systems", help=f"comma-separated; default: {','.join(SYSTEMS)}")
    parser.add_argument("--cap-minutes", type=float, default=20.0, help="training cap per system")
    parser.add_argument("--train-limit", type=int, help="smoke runs only: sample N train docs")
    parser.add_argument(
        "--output", type=Path, default=BENCH_DIR / "results" / "ner.json", help="JSON file"
    )
    parser.add_argument("--work-dir", type=Path, help="keep data, logs and models here")
    arguments = parser.parse_args()

    datasets = list(dict.fromkeys(arguments.dataset or DATASETS))
    systems = arguments.systems.split(",") if arguments.systems else list(SYSTEMS)
    unknown = sorted(set(systems) - {*SYSTEMS, *ENCODER_SYSTEMS})
    if unknown:
        parser.error(f"unknown systems {unknown}; choose from {[*SYSTEMS, *ENCODER_SYSTEMS]}")
    if any(system.startswith("spacy-") for system in systems) and not SPACY_PYTHON.is_file():
        parser.error(f"{SPACY_PYTHON} is missing: run `make .venv-bench/.installed` first")
    cap_s = arguments.cap_minutes * 60.0
    date = now_iso()
    meta: dict[str, Any] = {
        "date": date,
        "machine": machine_info(),
        "git": git_revision(),
        "cap_minutes": arguments.cap_minutes,
        "command": command_line(),
        "systems": system_descriptions(),
    }

    with tempfile.TemporaryDirectory(prefix="lexicraft-bench-ner-") as temporary:
        work = arguments.work_dir or Path(temporary)
        for dataset in datasets:
            task = load_task(dataset, arguments.train_limit)
            subsample = SUBSAMPLES.get(dataset)
            group_meta = {
                "lang": f"{task.lang}, multilingual" if task.multilingual else task.lang,
                "date": date,
                "cap_minutes": arguments.cap_minutes,
                "command": meta["command"],
                "train_docs": len(task.train),
                "dev_docs": len(task.dev),
                "test_docs": len(task.test),
                "test_tokens": dataset_tokens(task.test),
                "train_entities": entity_count(task.train),
                "test_entities": entity_count(task.test),
                "labels": task.labels,
                "train_limit": arguments.train_limit,
                "subsample": (
                    ", ".join(f"{split} {size:,}" for split, size in subsample.items())
                    + f" (seed {SUBSAMPLE_SEED}, file order kept)"
                    if subsample
                    else None
                ),
            }
            paths = task.write(work / dataset / "data")
            for system in systems:
                try:
                    entry = run_system(system, task, paths, cap_s, work / dataset / system)
                except SystemFailedError as error:
                    entry = failed(str(error))
                record(arguments.output, dataset, system, entry, {**meta, "group": group_meta})
                print_entry(dataset, system, entry)
    print(f"wrote {arguments.output} and {arguments.output.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
