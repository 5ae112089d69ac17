"""Classification benchmark: Lexicraft's backends beside TF-IDF and spaCy baselines.

Datasets (../shared/data): banking77 and ag_news (single-label), atis (single-label over the
joined class string: a document's classes sorted and joined by ``#``, so the few multi-intent
utterances such as ``atis_airfare#atis_flight`` are classes of their own), goemotions
(multi-label). Every system trains on ``train`` and is scored on ``test``.

Systems, each trained in a subprocess under the same wall-clock cap (``--cap-minutes``) and
then predicting the test set in another subprocess:

- ``lexicraft``: the classification backend of ``registry.DEFAULT_TRAINING_CONFIG_VERSION``;
- ``lexicraft-fast``: the backend of ``registry.FAST_TRAINING_CONFIG_VERSION`` (falls back to
  ``textcat.linear.v1`` / ``textcat.linear-multi.v1`` while that constant does not exist);
- ``lexicraft-e5`` (only when ``--systems`` names it): the default recipe on the multilingual
  encoder (``textcat.e5.v1`` / ``textcat.e5-multi.v1``, what the default config trains for
  projects not in English), to compare it with MiniLM (``lexicraft`` on these English sets);
- ``tfidf-logreg``: scikit-learn, TF-IDF of word 1-2-grams + character 2-5-grams (``char_wb``),
  sublinear tf, logistic regression with C=10 (multi-label: one-vs-rest, threshold 0.5);
- ``spacy-efficiency`` / ``spacy-accuracy``: spaCy ``textcat`` (``textcat_multilabel`` for
  multi-label) from ``spacy init config --optimize efficiency|accuracy`` without vectors, run by
  bench/spacy_textcat.py in ``.venv-bench``; spaCy early-stops on ``dev`` (a seeded 10 % of
  ``train`` where a dataset has no ``dev``) and its best checkpoint is kept when the cap stops it.

Measures (scores in points, 0-100): single-label ``accuracy`` and ``macro_f1`` (over classes in
gold or predicted); multi-label ``micro_f1``, ``macro_f1`` (over the label set) and
``accuracy`` (subset accuracy); single-label ``ece``: the expected calibration error (0-1, 15
equal-width bins) of the chosen class's confidence, for the Lexicraft systems (null for the
others). ``train_s``: wall-clock of the training subprocess (interpreter
start and imports included). ``docs_per_s``: test documents per second, predicted in batches of
256 after a warm-up batch, model load excluded. ``peak_mb``: peak RSS of the training
subprocess and its children. ``size_mb``: the saved model folder.

``--few-shot``: banking77 with 8 and 32 labelled examples per class (seeds 0, 1, 2; full test
set), mean accuracy per system under ``runs["banking77-few-8"]`` / ``["banking77-few-32"]``.

Results merge into ``--output`` (other datasets' and systems' entries are kept); a Markdown
table per dataset is written beside it (``.md``). Usage: ``python bench/classify.py
[--dataset NAME ...] [--systems a,b] [--cap-minutes 15] [--few-shot]``.
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
SPACY_SCRIPT = BENCH_DIR / "spacy_textcat.py"

#: Dataset → how its classes are read: "single", "joined" (single-label over the "#"-joined
#: sorted classes) or "multi".
DATASETS: dict[str, str] = {
    "banking77": "single",
    "ag_news": "single",
    "atis": "joined",
    "goemotions": "multi",
}
SYSTEMS = ("lexicraft", "lexicraft-fast", "tfidf-logreg", "spacy-efficiency", "spacy-accuracy")
FEW_SHOT_DATASET = "banking77"
FEW_SHOT_SIZES = (8, 32)
FEW_SHOT_SEEDS = (0, 1, 2)
FEW_SHOT_SYSTEMS = ("lexicraft", "lexicraft-fast")
#: System → (single-label, multi-label) backend: the default config's recipe on one encoder.
ENCODER_SYSTEMS = {"lexicraft-e5": ("textcat.e5.v1", "textcat.e5-multi.v1")}
#: Used while ``registry.FAST_TRAINING_CONFIG_VERSION`` does not exist yet.
FALLBACK_BACKENDS = {False: "textcat.linear.v1", True: "textcat.linear-multi.v1"}
METRICS = (
    "accuracy", "macro_f1", "micro_f1", "ece", "train_s", "docs_per_s", "peak_mb", "size_mb",
)  # fmt: skip
JOIN = "#"
TRAIN_LIMIT_SEED = 0
PREDICT_BATCH = 256
WARM_UP_DOCS = 32
#: Prediction is not what the cap is about, but a hung predictor must not hang the bench.
PREDICT_CAP_S = 3600.0
#: spaCy's script counts the cap from its own start, then may take this long to save and check.
SPACY_EXTRA_S = 180.0
TFIDF_C = 10.0
TFIDF_MAX_ITERATIONS = 1000
TFIDF_THRESHOLD = 0.5


@dataclass(slots=True)
class Task:
    """One training set and the test set it is scored on, in the bench's neutral records."""

    group: str
    dataset: str
    multi_label: bool
    train: list[dict[str, Any]]
    dev: list[dict[str, Any]] | None
    test: list[dict[str, Any]]
    labels: list[str]

    def write(self, folder: Path) -> dict[str, Path]:
        """Write train/dev/test JSON Lines and labels.json into ``folder``; their paths."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"train": folder / "train.jsonl", "test": folder / "test.jsonl"}
        write_jsonl(paths["train"], self.train)
        write_jsonl(paths["test"], self.test)
        if self.dev is not None:
            paths["dev"] = folder / "dev.jsonl"
            write_jsonl(paths["dev"], self.dev)
        paths["labels"] = folder / "labels.json"
        paths["labels"].write_text(json.dumps(self.labels, ensure_ascii=False), encoding="utf-8")
        return paths


class SystemFailedError(RuntimeError):
    """A system did not produce a model or predictions; the message says why."""


# --- data ------------------------------------------------------------------------------------


def neutral(records: list[dict[str, Any]], mode: str) -> list[dict[str, Any]]:
    """``{"text", "classes"}`` records, with atis-style classes joined into one."""
    result = []
    for record in records:
        classes = list(record["classes"])
        if mode == "joined":
            classes = [JOIN.join(sorted(set(classes)))]
        result.append({"text": record["text"], "classes": classes})
    return result


def load_task(dataset: str, train_limit: int | None) -> Task:
    mode = DATASETS[dataset]
    train = neutral(load_split(dataset, "train"), mode)
    if train_limit is not None and train_limit < len(train):
        # The files are often sorted by class; a seeded sample keeps every class likely.
        train = random.Random(TRAIN_LIMIT_SEED).sample(train, train_limit)
    try:
        dev: list[dict[str, Any]] | None = neutral(load_split(dataset, "dev"), mode)
    except FileNotFoundError:
        dev = None
    test = neutral(load_split(dataset, "test"), mode)
    labels = sorted({category for record in train for category in record["classes"]})
    return Task(dataset, dataset, mode == "multi", train, dev, test, labels)


def few_shot_task(full: Task, per_class: int, seed: int) -> Task:
    """``per_class`` training examples of every class, drawn with ``seed``."""
    rng = random.Random(seed)
    by_class: dict[str, list[dict[str, Any]]] = {}
    for record in full.train:
        by_class.setdefault(record["classes"][0], []).append(record)
    train: list[dict[str, Any]] = []
    for category in sorted(by_class):
        examples = by_class[category]
        train.extend(rng.sample(examples, min(per_class, len(examples))))
    rng.shuffle(train)
    group = f"{full.dataset}-few-{per_class}"
    return Task(group, full.dataset, False, train, None, full.test, full.labels)


# --- scoring ---------------------------------------------------------------------------------


def score(
    task: Task, predicted: Sequence[Sequence[str]], confidences: Sequence[float] | None = None
) -> dict[str, float | None]:
    """accuracy / macro_f1 / micro_f1 in points, and single-label ``ece`` of the chosen
    classes' ``confidences`` where the system gives them (see the module docstring)."""
    from lexicraft.ml.evaluation import evaluate_classification, expected_calibration_error

    gold = [record["classes"] for record in task.test]
    if len(predicted) != len(gold):
        raise SystemFailedError(f"{len(predicted)} predictions for {len(gold)} test documents")
    exact = sum(
        set(expected) == set(found) for expected, found in zip(gold, predicted, strict=True)
    )
    accuracy = 100.0 * exact / len(gold)
    seen = sorted({category for classes in [*gold, *predicted] for category in classes})
    if task.multi_label:
        labels = list(dict.fromkeys([*task.labels, *seen]))
        summary = evaluate_classification(gold, predicted, labels, multi_label=True)
        return {
            "accuracy": accuracy,
            "macro_f1": 100.0 * summary["macroF1"],
            "micro_f1": 100.0 * summary["microF1"],
        }
    summary = evaluate_classification(gold, [list(found[:1]) for found in predicted], seen, False)
    ece = None
    if confidences is not None:
        pairs = zip(gold, predicted, strict=True)
        correct = [list(found[:1]) == list(expected) for expected, found in pairs]
        ece = expected_calibration_error(confidences, correct)
    return {
        "accuracy": accuracy,
        "macro_f1": 100.0 * summary["macroF1"],
        "micro_f1": None,
        "ece": ece,
    }


# --- systems ---------------------------------------------------------------------------------


def lexicraft_backend(system: str, multi_label: bool) -> tuple[str, str | None]:
    """(backend name, trainingConfigVersion or None when falling back) for a lexicraft system."""
    from lexicraft.ml import registry

    if system in ENCODER_SYSTEMS:
        return ENCODER_SYSTEMS[system][multi_label], registry.DEFAULT_TRAINING_CONFIG_VERSION
    kind = (
        registry.CUSTOM_MULTI_LABEL_CLASSIFICATION
        if multi_label
        else registry.CUSTOM_SINGLE_LABEL_CLASSIFICATION
    )
    if system == "lexicraft":
        version: str | None = registry.DEFAULT_TRAINING_CONFIG_VERSION
    else:
        version = getattr(registry, "FAST_TRAINING_CONFIG_VERSION", None)
    if version is None:
        return FALLBACK_BACKENDS[multi_label], None
    return registry.resolve_backend_name(version, kind), version


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
    """Train, predict and score one system on one task; its results entry."""
    work.mkdir(parents=True, exist_ok=True)
    model_dir = work / "model"
    predictions_path = work / "predictions.json"
    entry: dict[str, Any] = {}
    if system.startswith("spacy-"):
        if not SPACY_PYTHON.is_file():
            raise SystemFailedError(f"{SPACY_PYTHON} missing; run `make .venv-bench/.installed`")
        optimize = system.removeprefix("spacy-")
        pipeline = "textcat_multilabel" if task.multi_label else "textcat"
        result_path = work / "spacy-result.json"
        command = [
            str(SPACY_PYTHON), str(SPACY_SCRIPT), "train",
            "--train", str(paths["train"]), "--labels", str(paths["labels"]),
            "--pipeline", pipeline, "--optimize", optimize, "--cap-seconds", str(cap_s),
            "--work", str(work / "spacy"), "--result", str(result_path),
        ]  # fmt: skip
        if "dev" in paths:
            command += ["--dev", str(paths["dev"])]
        log_path = work / "train.log"
        train_run = run_capped(command, cap_s + SPACY_EXTRA_S, log_path=log_path)
        checked(train_run, log_path, "spacy_textcat.py train", cap_s + SPACY_EXTRA_S)
        spacy_result = json.loads(result_path.read_text(encoding="utf-8"))
        model_dir = Path(spacy_result["model_dir"])
        entry["backend"] = f"spaCy {spacy_result['spacy_version']} {pipeline} ({optimize})"
        entry["stopped_at_cap"] = spacy_result["stopped_at_cap"]
        fit_s = spacy_result["spacy_train_s"]
        predict = [
            str(SPACY_PYTHON), str(SPACY_SCRIPT), "predict", "--model", str(model_dir),
            "--test", str(paths["test"]), "--output", str(predictions_path),
            "--batch-size", str(PREDICT_BATCH),
        ]  # fmt: skip
    else:
        if system == "tfidf-logreg":
            kind = "tfidf"
            train = worker_command("train-tfidf")
            entry["backend"] = "tfidf-logreg (scikit-learn)"
        else:
            kind = "lexicraft"
            backend, version = lexicraft_backend(system, task.multi_label)
            train = worker_command("train-lexicraft", "--backend", backend)
            entry["backend"] = backend
            entry["training_config_version"] = version
        train += ["--train", str(paths["train"]), "--labels", str(paths["labels"])]
        train += ["--model", str(model_dir), "--timing", str(work / "fit.json")]
        train += ["--cap-seconds", str(cap_s)]
        if task.multi_label:
            train.append("--multi-label")
        log_path = work / "train.log"
        train_run = run_capped(train, cap_s, log_path=log_path)
        checked(train_run, log_path, f"{system} training", cap_s)
        fit_s = json.loads((work / "fit.json").read_text(encoding="utf-8"))["fit_s"]
        if kind == "lexicraft":  # TF-IDF's folder is the bench's own, with no config.json
            entry.update(trained_length(model_dir))
        predict = worker_command(
            "predict", "--kind", kind, "--model", str(model_dir), "--test", str(paths["test"]),
            "--output", str(predictions_path),
        )  # fmt: skip
    log_path = work / "predict.log"
    predict_run = run_capped(predict, PREDICT_CAP_S, log_path=log_path)
    checked(predict_run, log_path, f"{system} prediction", PREDICT_CAP_S)
    output = json.loads(predictions_path.read_text(encoding="utf-8"))
    entry.update(score(task, output["predictions"], output.get("confidences")))
    entry["train_s"] = train_run.wall_s
    entry["fit_s"] = fit_s
    entry["docs_per_s"] = output["docs"] / output["predict_s"] if output["predict_s"] else None
    entry["peak_mb"] = train_run.peak_mb
    entry["size_mb"] = directory_size_mb(model_dir)
    entry["train_docs"] = len(task.train)
    return rounded(entry)


def rounded(entry: dict[str, Any]) -> dict[str, Any]:
    ordered = {key: entry.get(key) for key in METRICS}
    ordered.update({key: value for key, value in entry.items() if key not in ordered})
    return {
        key: round(value, 4 if key == "ece" else 2) if isinstance(value, float) else value
        for key, value in ordered.items()
    }


def failed(reason: str) -> dict[str, Any]:
    return {**dict.fromkeys(METRICS), "error": reason}


# --- workers (run as subprocesses: `classify.py _worker ...`) --------------------------------


def worker_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="classify.py _worker")
    parser.add_argument("action", choices=("train-lexicraft", "train-tfidf", "predict"))
    parser.add_argument("--backend")
    parser.add_argument("--kind", choices=("lexicraft", "tfidf"))
    parser.add_argument("--train")
    parser.add_argument("--labels")
    parser.add_argument("--multi-label", action="store_true")
    parser.add_argument("--model", required=True)
    parser.add_argument("--test")
    parser.add_argument("--output")
    parser.add_argument("--timing", help="train: JSON file for the in-process fit seconds")
    parser.add_argument("--cap-seconds", type=float, help="train: the wall-clock cap it runs under")
    arguments = parser.parse_args(argv)
    model_dir = Path(arguments.model)
    if arguments.action == "predict":
        texts = [record["text"] for record in read_jsonl(Path(arguments.test))]
        predict_timed(arguments.kind, model_dir, texts, Path(arguments.output))
        return 0
    records = read_jsonl(Path(arguments.train))
    labels = json.loads(Path(arguments.labels).read_text(encoding="utf-8"))
    # Import the trainer's modules before the clock starts: fit_s is training proper.
    if arguments.action == "train-lexicraft":
        importlib.import_module("lexicraft.ml.registry")
    else:
        for module in ("sklearn.feature_extraction.text", "sklearn.linear_model"):
            importlib.import_module(module)
    started = time.perf_counter()
    if arguments.action == "train-lexicraft":
        train_lexicraft(arguments.backend, records, labels, model_dir, arguments.cap_seconds)
    else:
        train_tfidf(records, labels, arguments.multi_label, model_dir)
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
    from lexicraft.ml.base import ClassExample

    backend = within_cap(registry.get_classification_backend(backend_name), cap_s)
    examples = [ClassExample(record["text"], tuple(record["classes"])) for record in records]
    backend.train(examples, labels, model_dir)


TFIDF_FILE = "tfidf-logreg.pkl"


def train_tfidf(
    records: list[dict[str, Any]], labels: list[str], multi_label: bool, model_dir: Path
) -> None:
    """The TF-IDF + logistic regression baseline, pickled (it is our own file)."""
    import pickle

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import MultiLabelBinarizer

    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )
    regression = LogisticRegression(C=TFIDF_C, max_iter=TFIDF_MAX_ITERATIONS)
    texts = [record["text"] for record in records]
    if multi_label:
        binarizer = MultiLabelBinarizer(classes=labels)
        targets: Any = binarizer.fit_transform([record["classes"] for record in records])
        model = make_pipeline(features, OneVsRestClassifier(regression))
    else:
        targets = [record["classes"][0] for record in records]
        model = make_pipeline(features, regression)
    model.fit(texts, targets)
    model_dir.mkdir(parents=True, exist_ok=True)
    with (model_dir / TFIDF_FILE).open("wb") as out:
        pickle.dump({"model": model, "labels": labels, "multi_label": multi_label}, out)


def predict_timed(kind: str, model_dir: Path, texts: list[str], output: Path) -> None:
    """Load a model, warm it up, then time batched prediction of ``texts``."""
    if kind == "lexicraft":
        from lexicraft.ml import registry

        predictor = registry.load_classification_predictor(model_dir)

        def predict(batch: list[str]) -> list[list[str]]:
            found = predictor.predict(batch)
            # Single-label: the chosen class's confidence, for the calibration error.
            confidences.extend(scores[0].confidence if scores else 0.0 for scores in found)
            return [[score.category for score in scores] for scores in found]

    else:
        import pickle

        import numpy as np

        with (model_dir / TFIDF_FILE).open("rb") as saved:
            bundle = pickle.load(saved)  # noqa: S301 - the bench's own file, written above
        model = bundle["model"]
        labels = bundle["labels"]

        def predict(batch: list[str]) -> list[list[str]]:
            if not bundle["multi_label"]:
                return [[str(category)] for category in model.predict(batch)]
            probabilities = model.predict_proba(batch)
            result = []
            for row in probabilities:
                chosen = np.flatnonzero(row >= TFIDF_THRESHOLD)
                chosen = chosen[np.argsort(-row[chosen], kind="stable")]
                result.append([labels[index] for index in chosen])
            return result

    confidences: list[float] = []
    predict(texts[:WARM_UP_DOCS])
    confidences.clear()
    started = time.perf_counter()
    predictions: list[list[str]] = []
    for start in range(0, len(texts), PREDICT_BATCH):
        predictions.extend(predict(texts[start : start + PREDICT_BATCH]))
    predict_s = time.perf_counter() - started
    result = {"predictions": predictions, "predict_s": predict_s, "docs": len(texts)}
    if confidences:
        result["confidences"] = confidences
    output.write_text(json.dumps(result), encoding="utf-8")


# --- the bench -------------------------------------------------------------------------------


def system_descriptions() -> dict[str, str]:
    descriptions = {}
    for system in ("lexicraft", "lexicraft-fast", *ENCODER_SYSTEMS):
        single, version = lexicraft_backend(system, False)
        multi, _ = lexicraft_backend(system, True)
        source = (
            f"trainingConfigVersion {version}"
            if version is not None
            else "fallback: registry.FAST_TRAINING_CONFIG_VERSION is not defined"
        )
        descriptions[system] = f"{single} / {multi} ({source})"
    descriptions["tfidf-logreg"] = (
        "scikit-learn TfidfVectorizer word 1-2-grams + char_wb 2-5-grams (sublinear tf) -> "
        f"LogisticRegression(C={TFIDF_C:g}); multi-label: one-vs-rest, threshold "
        f"{TFIDF_THRESHOLD}"
    )
    for optimize in ("efficiency", "accuracy"):
        descriptions[f"spacy-{optimize}"] = (
            f"spaCy textcat / textcat_multilabel, init config --optimize {optimize}, no vectors"
        )
    return descriptions


def record(
    output: Path, group: str, system: str, entry: dict[str, Any], meta: dict[str, Any]
) -> None:
    """Merge one entry into the results file, refresh its meta, rewrite the Markdown."""
    results = load_results(output)
    # Which run measured this entry: merged files hold entries of several runs.
    entry = {**entry, "run": {"date": meta["date"], "git": meta["git"]}}
    merge_runs(results, {group: {system: entry}})
    results["meta"].update({key: value for key, value in meta.items() if key != "group"})
    results["meta"].setdefault("groups", {})[group] = meta["group"]
    spacy_backend = str(entry.get("backend", ""))
    if spacy_backend.startswith("spaCy "):
        results["meta"]["spacy_version"] = spacy_backend.split()[1]
    save_results(output, results)
    output.with_suffix(".md").write_text(render_markdown(results), encoding="utf-8")


def print_entry(group: str, system: str, entry: dict[str, Any]) -> None:
    if entry.get("error"):
        print(f"{group:<18} {system:<17} FAILED: {entry['error']}", flush=True)
        return
    cells = "  ".join(
        f"{key}={format_cell(entry.get(key), 4 if key == 'ece' else 1)}"
        for key in METRICS
        if entry.get(key) is not None
    )
    print(f"{group:<18} {system:<17} {cells}", flush=True)


def run_group(
    task: Task,
    systems: Sequence[str],
    cap_s: float,
    work: Path,
    output: Path,
    meta: dict[str, Any],
) -> None:
    paths = task.write(work / task.group / "data")
    for system in systems:
        try:
            entry = run_system(system, task, paths, cap_s, work / task.group / system)
        except SystemFailedError as error:
            entry = failed(str(error))
        record(output, task.group, system, entry, meta)
        print_entry(task.group, system, entry)


def run_few_shot(
    systems: Sequence[str], cap_s: float, work: Path, output: Path, meta: dict[str, Any]
) -> None:
    full = load_task(FEW_SHOT_DATASET, None)
    for per_class in FEW_SHOT_SIZES:
        for system in systems:
            per_seed: list[dict[str, Any]] = []
            for seed in FEW_SHOT_SEEDS:
                task = few_shot_task(full, per_class, seed)
                folder = work / task.group / f"seed-{seed}"
                paths = task.write(folder / "data")
                try:
                    per_seed.append(run_system(system, task, paths, cap_s, folder / system))
                except SystemFailedError as error:
                    per_seed.append(failed(str(error)))
            entry = few_shot_entry(per_seed, per_class)
            group = f"{FEW_SHOT_DATASET}-few-{per_class}"
            group_meta = {
                **meta,
                "group": {
                    **meta["group"],
                    "task": "few-shot",
                    "train_docs": per_class * len(full.labels),
                    "test_docs": len(full.test),
                    "labels": len(full.labels),
                    "per_class": per_class,
                    "seeds": list(FEW_SHOT_SEEDS),
                },
            }
            record(output, group, system, entry, group_meta)
            print_entry(group, system, entry)


def few_shot_entry(per_seed: list[dict[str, Any]], per_class: int) -> dict[str, Any]:
    """Means over seeds (peak memory: the maximum); per-seed accuracy kept beside them."""
    errors = [entry["error"] for entry in per_seed if entry.get("error")]
    if errors:
        return {**failed(errors[0]), "seeds": list(FEW_SHOT_SEEDS)}
    entry: dict[str, Any] = {}
    for key in (*METRICS, "fit_s"):
        values = [run[key] for run in per_seed if run.get(key) is not None]
        if not values:
            entry[key] = None
        elif key == "peak_mb":
            entry[key] = max(values)
        else:
            entry[key] = statistics.fmean(values)
    entry["accuracy_per_seed"] = [run["accuracy"] for run in per_seed]
    entry["accuracy_stdev"] = statistics.stdev(entry["accuracy_per_seed"])
    entry["seeds"] = list(FEW_SHOT_SEEDS)
    entry["per_class"] = per_class
    entry["backend"] = per_seed[0].get("backend")
    return rounded(entry)


# --- Markdown --------------------------------------------------------------------------------

SINGLE_COLUMNS = [
    ("system", "system"), ("accuracy", "accuracy"), ("macro_f1", "macro-F1"), ("ece", "ECE"),
    ("train_s", "train s"), ("fit_s", "fit s"), ("docs_per_s", "docs/s"),
    ("peak_mb", "peak MB"), ("size_mb", "size MB"),
]  # fmt: skip
MULTI_COLUMNS = [
    ("system", "system"), ("micro_f1", "micro-F1"), ("macro_f1", "macro-F1"),
    ("accuracy", "subset acc."), ("train_s", "train s"), ("fit_s", "fit s"),
    ("docs_per_s", "docs/s"), ("peak_mb", "peak MB"), ("size_mb", "size MB"),
]  # fmt: skip
FEW_SHOT_COLUMNS = [
    ("system", "system"), ("accuracy", "mean accuracy"), ("accuracy_per_seed", "per seed"),
    ("macro_f1", "mean macro-F1"), ("train_s", "mean train s"), ("fit_s", "mean fit s"),
    ("docs_per_s", "docs/s"),
    ("peak_mb", "peak MB"), ("size_mb", "size MB"),
]  # fmt: skip


#: Entries written before the bench recorded which run measured them.
UNRECORDED = "runs not recorded"


def provenance(systems: dict[str, Any], order: Sequence[str]) -> str:
    """Which run (start date, git revision) measured each system of a table."""
    by_run: dict[str, list[str]] = {}
    for system in order:
        run = systems[system].get("run")
        label = f"{run['date']} ({run['git']})" if run else UNRECORDED
        by_run.setdefault(label, []).append(system)
    if len(by_run) == 1 and UNRECORDED not in by_run:
        return f"all systems from one run: {next(iter(by_run))}"
    parts = [f"{', '.join(names)}: {label}" for label, names in by_run.items()]
    return "runs: " + "; ".join(parts)


def render_markdown(results: dict[str, Any]) -> str:
    meta = results.get("meta", {})
    machine = meta.get("machine", {})
    lines = [
        "# Classification benchmark",
        "",
        f"Written by `bench/classify.py`, last run {meta.get('date', '?')} on "
        f"{machine.get('cpu', '?')} ({machine.get('usable_cpus', '?')} CPUs), "
        f"spaCy {meta.get('spacy_version', '?')}. Scores in points (0-100); train s is the "
        "wall-clock of the training subprocess (imports included), fit s the training "
        "proper inside it (spaCy: the `spacy train` run); docs/s is batched prediction of the "
        "test set, model load excluded; peak MB is the training process's peak RSS.",
        "",
    ]
    groups = meta.get("groups", {})
    order = [*DATASETS, *(f"{FEW_SHOT_DATASET}-few-{size}" for size in FEW_SHOT_SIZES)]
    names = [name for name in order if name in results["runs"]]
    names += sorted(name for name in results["runs"] if name not in order)
    for name in names:
        systems = results["runs"][name]
        info = groups.get(name, {})
        task = info.get("task", "single-label")
        heading = f"## {name} ({task}"
        if info.get("train_docs") is not None:
            heading += f"; train {info['train_docs']:,} / test {info.get('test_docs', 0):,}"
        if info.get("cap_minutes") is not None:
            heading += f"; cap {info['cap_minutes']:g} min"
        heading += f"; {info.get('date', '?')})"
        lines += [heading, ""]
        if info.get("train_limit") is not None:
            lines += [f"**Smoke run: training limited to {info['train_limit']} documents.**", ""]
        columns = {"multi-label": MULTI_COLUMNS, "few-shot": FEW_SHOT_COLUMNS}.get(
            task, SINGLE_COLUMNS
        )
        order_systems = [s for s in SYSTEMS if s in systems]
        order_systems += sorted(s for s in systems if s not in SYSTEMS)
        rows = []
        notes = []
        for system in order_systems:
            entry = systems[system]
            rows.append({"system": system, **entry})
            if entry.get("error"):
                first_line = str(entry["error"]).splitlines()[0]
                notes.append(f"- {system}: failed: {first_line}")
            if entry.get("stopped_at_cap"):
                notes.append(f"- {system}: stopped at the cap; best checkpoint used")
        lines += [
            markdown_table(
                rows,
                columns,
                {
                    "accuracy_per_seed": lambda values: " / ".join(
                        f"{v:.1f}" for v in values or []
                    ),
                    "ece": lambda value: format_cell(value, 3),
                },
            ),
            "",
        ]
        lines += [f"- {provenance(systems, order_systems)}"]
        if notes:
            lines += [*notes]
        lines.append("")
    measured = {system for systems in results["runs"].values() for system in systems}
    systems_meta = {
        name: text for name, text in meta.get("systems", {}).items() if name in measured
    }
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
        choices=list(DATASETS),
        help="repeatable; default: all four (none when --few-shot is given)",
    )
    parser.add_argument("--systems", help=f"comma-separated; default: {','.join(SYSTEMS)}")
    parser.add_argument("--cap-minutes", type=float, default=15.0, help="training cap per system")
    parser.add_argument("--train-limit", type=int, help="smoke runs only: sample N train docs")
    parser.add_argument("--few-shot", action="store_true", help="banking77 with 8 / 32 per class")
    parser.add_argument(
        "--output", type=Path, default=BENCH_DIR / "results" / "classify.json", help="JSON file"
    )
    parser.add_argument("--work-dir", type=Path, help="keep data, logs and models here")
    arguments = parser.parse_args()

    datasets = arguments.dataset or ([] if arguments.few_shot else list(DATASETS))
    default_systems = SYSTEMS if datasets else FEW_SHOT_SYSTEMS
    systems = arguments.systems.split(",") if arguments.systems else list(default_systems)
    unknown = sorted(set(systems) - {*SYSTEMS, *ENCODER_SYSTEMS})
    if unknown:
        parser.error(f"unknown systems {unknown}; choose from {[*SYSTEMS, *ENCODER_SYSTEMS]}")
    if any(system.startswith("spacy-") for system in systems) and not SPACY_PYTHON.is_file():
        parser.error(f"{SPACY_PYTHON} is missing: run `make .venv-bench/.installed` first")
    few_shot_systems = arguments.systems.split(",") if arguments.systems else FEW_SHOT_SYSTEMS
    cap_s = arguments.cap_minutes * 60.0
    descriptions = system_descriptions()
    if "fallback" in descriptions["lexicraft-fast"]:
        print("note: registry.FAST_TRAINING_CONFIG_VERSION is not defined; lexicraft-fast uses")
        print(f"      {descriptions['lexicraft-fast'].split(' (')[0]}", flush=True)
    date = now_iso()
    meta: dict[str, Any] = {
        "date": date,
        "machine": machine_info(),
        "git": git_revision(),
        "cap_minutes": arguments.cap_minutes,
        "command": command_line(),
        "systems": descriptions,
    }

    with tempfile.TemporaryDirectory(prefix="lexicraft-bench-classify-") as temporary:
        work = arguments.work_dir or Path(temporary)
        for dataset in datasets:
            task = load_task(dataset, arguments.train_limit)
            group_meta = {
                "task": "multi-label" if task.multi_label else "single-label",
                "date": date,
                "cap_minutes": arguments.cap_minutes,
                "command": meta["command"],
                "train_docs": len(task.train),
                "dev_docs": len(task.dev) if task.dev is not None else None,
                "test_docs": len(task.test),
                "labels": len(task.labels),
                "train_limit": arguments.train_limit,
            }
            if DATASETS[dataset] == "joined":
                group_meta["note"] = "single-label over the '#'-joined sorted class string"
            run_group(task, systems, cap_s, work, arguments.output, {**meta, "group": group_meta})
        if arguments.few_shot:
            few_meta = {
                "date": date,
                "cap_minutes": arguments.cap_minutes,
                "command": meta["command"],
            }
            run_few_shot(
                few_shot_systems, cap_s, work, arguments.output, {**meta, "group": few_meta}
            )
    print(f"wrote {arguments.output} and {arguments.output.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
