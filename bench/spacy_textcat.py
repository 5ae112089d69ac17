"""spaCy ``textcat`` / ``textcat_multilabel`` baseline for bench/classify.py.

Runs INSIDE the spaCy environment (``.venv-bench``, ``make .venv-bench/.installed``), never in
Lexicraft's: ``.venv-bench/bin/python bench/spacy_textcat.py {train,predict} ...``. It reads
and writes the bench's neutral files only, so nothing of Lexicraft is imported here.

``train``: JSON Lines (``{"text", "classes"}``) → ``DocBin`` with a blank English tokenizer;
``spacy init config --lang en --pipeline textcat|textcat_multilabel --optimize
efficiency|accuracy`` with static vectors switched off (the accuracy template asks for
``en_core_web_lg`` vectors; the baseline uses none); ``spacy train`` with the config's own
defaults (patience 1600, max_steps 20000, evaluation every 200 steps on the dev set) under a
wall-clock cap that counts from this script's start. At the cap, ``spacy train`` gets SIGINT,
which makes it write ``model-last`` before it exits. The model used is ``model-best`` if it
exists and loads, else ``model-last``. Without ``--dev``, a seeded 10 % of ``--train`` is held
out as spaCy's dev set (and not trained on). Dev documents whose single class is not among the
labels are dropped (exclusive ``textcat`` needs one known class per document).

``predict``: loads the model, predicts a warm-up batch (not timed), then times
``nlp.pipe`` over every test text. Single-label: the best-scoring class. Multi-label: every class
scoring at least ``--threshold`` (0.5, spaCy's own default), best first; possibly none.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import spacy
from common import directory_size_mb, read_jsonl
from spacy.tokens import DocBin
from spacy_common import SpacyTrainingFailed, train_capped
from thinc.api import Config

PIPELINES = ("textcat", "textcat_multilabel")
OPTIMIZE = ("efficiency", "accuracy")
WARM_UP_DOCS = 32


def to_docbin(
    nlp: Any, records: list[dict[str, Any]], labels: list[str], exclusive: bool
) -> tuple[Any, int]:
    """A ``DocBin`` of ``records`` with ``doc.cats`` over ``labels``; also the dropped count."""
    known = set(labels)
    docbin = DocBin()
    dropped = 0
    for record in records:
        classes = [category for category in record["classes"] if category in known]
        if exclusive and len(classes) != 1:
            dropped += 1
            continue
        doc = nlp.make_doc(record["text"])
        doc.cats = {label: 1.0 if label in classes else 0.0 for label in labels}
        docbin.add(doc)
    return docbin, dropped


def write_config(path: Path, pipeline: str, optimize: str) -> None:
    """``spacy init config`` for ``pipeline`` / ``optimize``, with static vectors off."""
    subprocess.run(
        [
            sys.executable, "-m", "spacy", "init", "config", str(path), "--lang", "en",
            "--pipeline", pipeline, "--optimize", optimize, "--force",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    config = Config().from_disk(path, interpolate=False)
    config["paths"]["vectors"] = None
    tok2vec = config["components"].get("tok2vec")
    if tok2vec is not None:
        tok2vec["model"]["embed"]["include_static_vectors"] = False
    config.to_disk(path)


def train(arguments: argparse.Namespace) -> int:
    started = time.perf_counter()
    work = Path(arguments.work)
    work.mkdir(parents=True, exist_ok=True)
    labels: list[str] = json.loads(Path(arguments.labels).read_text(encoding="utf-8"))
    exclusive = arguments.pipeline == "textcat"
    train_records = read_jsonl(Path(arguments.train))
    if arguments.dev:
        dev_records = read_jsonl(Path(arguments.dev))
    else:
        order = list(range(len(train_records)))
        random.Random(arguments.seed).shuffle(order)
        dev_size = max(1, round(len(order) * arguments.dev_fraction))
        dev_records = [train_records[index] for index in order[:dev_size]]
        train_records = [train_records[index] for index in order[dev_size:]]

    nlp = spacy.blank("en")
    train_bin, train_dropped = to_docbin(nlp, train_records, labels, exclusive)
    dev_bin, dev_dropped = to_docbin(nlp, dev_records, labels, exclusive)
    if train_dropped:
        print(f"error: {train_dropped} training documents have no known class", file=sys.stderr)
        return 2
    train_bin.to_disk(work / "train.spacy")
    dev_bin.to_disk(work / "dev.spacy")
    config_path = work / "config.cfg"
    write_config(config_path, arguments.pipeline, arguments.optimize)

    remaining = arguments.cap_seconds - (time.perf_counter() - started)
    try:
        model_dir, run = train_capped(config_path, work, remaining)
    except SpacyTrainingFailed as error:
        print(error, file=sys.stderr)
        return 1
    meta = json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))
    result = {
        "model_dir": str(model_dir),
        "size_mb": directory_size_mb(model_dir),
        "stopped_at_cap": run.capped,
        "spacy_train_s": run.wall_s,
        "spacy_version": spacy.__version__,
        "train_docs": len(train_bin),
        "dev_docs": len(dev_bin),
        "dev_docs_dropped": dev_dropped,
        "dev_performance": meta.get("performance", {}),
    }
    Path(arguments.result).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


def predict(arguments: argparse.Namespace) -> int:
    nlp = spacy.load(Path(arguments.model))
    multi_label = "textcat_multilabel" in nlp.pipe_names
    texts = [record["text"] for record in read_jsonl(Path(arguments.test))]
    list(nlp.pipe(texts[:WARM_UP_DOCS], batch_size=arguments.batch_size))
    started = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=arguments.batch_size))
    predict_s = time.perf_counter() - started
    predictions: list[list[str]] = []
    for doc in docs:
        ranked = sorted(doc.cats.items(), key=lambda item: (-item[1], item[0]))
        if multi_label:
            predictions.append([label for label, score in ranked if score >= arguments.threshold])
        else:
            predictions.append([ranked[0][0]] if ranked else [])
    output = {"predictions": predictions, "predict_s": predict_s, "docs": len(texts)}
    Path(arguments.output).write_text(json.dumps(output) + "\n", encoding="utf-8")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train_parser = commands.add_parser("train", help="convert, configure and train under a cap")
    train_parser.add_argument("--train", required=True, help="training JSON Lines")
    train_parser.add_argument("--dev", help="dev JSON Lines (default: hold out part of --train)")
    train_parser.add_argument("--labels", required=True, help="JSON file: list of labels")
    train_parser.add_argument("--pipeline", choices=PIPELINES, required=True)
    train_parser.add_argument("--optimize", choices=OPTIMIZE, required=True)
    train_parser.add_argument("--cap-seconds", type=float, required=True)
    train_parser.add_argument("--work", required=True, help="folder for data, config, model")
    train_parser.add_argument("--result", required=True, help="JSON file to write")
    train_parser.add_argument("--dev-fraction", type=float, default=0.1)
    train_parser.add_argument("--seed", type=int, default=0)
    train_parser.set_defaults(handler=train)

    predict_parser = commands.add_parser("predict", help="predict a test set, timed")
    predict_parser.add_argument("--model", required=True)
    predict_parser.add_argument("--test", required=True, help="JSON Lines with a text field")
    predict_parser.add_argument("--output", required=True, help="predictions JSON to write")
    predict_parser.add_argument("--batch-size", type=int, default=256)
    predict_parser.add_argument("--threshold", type=float, default=0.5)
    predict_parser.set_defaults(handler=predict)

    arguments = parser.parse_args()
    handler = arguments.handler
    return int(handler(arguments))


if __name__ == "__main__":
    sys.exit(main())
