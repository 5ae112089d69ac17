"""spaCy ``ner`` baseline for bench/ner.py.

Runs INSIDE the spaCy environment (``.venv-bench``, ``make .venv-bench/.installed``), never in
Lexicraft's: ``.venv-bench/bin/python bench/spacy_ner.py {train,predict} ...``. It reads and
writes the bench's neutral files only, so nothing of Lexicraft is imported here.

``train``: JSON Lines (``{"text", "entities": [{"category", "offset", "length"}]}``, offsets in
code points) → ``DocBin`` through a blank ``--lang`` pipeline's tokenizer, each entity placed
with ``doc.char_span(..., alignment_mode="strict")``. The shared datasets' texts are their
tokens joined by single spaces, so every entity should fall on spaCy token boundaries; a
document with an entity that does not is left out (of train or dev) and counted in the result
(``misaligned_entities`` / ``dropped_docs``), never silently trained as "no entity". Then
``spacy init config --lang LANG --pipeline ner --optimize efficiency|accuracy`` with static
vectors switched off (the accuracy template asks for ``*_core_*_lg`` vectors; the baseline uses
none), and ``spacy train`` with the config's own defaults (patience 1600 steps, max_steps 20000,
evaluation on the dev set every 200 steps, early-stopping score ``ents_f``) under a wall-clock
cap that counts from this script's start. At the cap, ``spacy train`` gets SIGINT, which makes
it write ``model-last`` before it exits. The model used is ``model-best`` if it exists and
loads, else ``model-last``.

``predict``: loads the model, predicts a warm-up batch (not timed), times ``nlp.pipe`` over
every test text (batched), then times ``nlp(text)`` on the first ``--single-docs`` texts one at
a time (median). Each entity is written as ``[start_char, end_char, label, null]``: spaCy's
transition-based NER gives no per-entity score, so the confidence is null.
"""

from __future__ import annotations

import argparse
import json
import statistics
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

OPTIMIZE = ("efficiency", "accuracy")
WARM_UP_DOCS = 32


def to_docbin(nlp: Any, records: list[dict[str, Any]]) -> tuple[Any, dict[str, Any]]:
    """A ``DocBin`` of ``records`` with ``doc.ents``; also counts of what did not align."""
    docbin = DocBin()
    misaligned_entities = 0
    dropped_docs = 0
    examples: list[str] = []
    for record in records:
        text = record["text"]
        doc = nlp.make_doc(text)
        ents = []
        misaligned = 0
        for entity in record["entities"]:
            start = int(entity["offset"])
            end = start + int(entity["length"])
            span = doc.char_span(start, end, label=entity["category"], alignment_mode="strict")
            if span is None:
                misaligned += 1
                if len(examples) < 5:
                    examples.append(f"{text[start:end]!r} in {text!r}")
            else:
                ents.append(span)
        if misaligned:
            misaligned_entities += misaligned
            dropped_docs += 1
            continue
        doc.ents = ents
        docbin.add(doc)
    counts = {
        "docs": len(docbin),
        "misaligned_entities": misaligned_entities,
        "dropped_docs": dropped_docs,
        "misaligned_examples": examples,
    }
    return docbin, counts


def write_config(path: Path, lang: str, optimize: str) -> None:
    """``spacy init config`` for ``ner`` / ``optimize`` in ``lang``, with static vectors off."""
    subprocess.run(
        [
            sys.executable, "-m", "spacy", "init", "config", str(path), "--lang", lang,
            "--pipeline", "ner", "--optimize", optimize, "--force",
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
    nlp = spacy.blank(arguments.lang)
    train_bin, train_counts = to_docbin(nlp, read_jsonl(Path(arguments.train)))
    dev_bin, dev_counts = to_docbin(nlp, read_jsonl(Path(arguments.dev)))
    for name, counts in (("train", train_counts), ("dev", dev_counts)):
        if counts["misaligned_entities"]:
            print(
                f"{name}: {counts['misaligned_entities']} entities do not align with spaCy "
                f"tokens; {counts['dropped_docs']} documents left out, e.g. "
                + "; ".join(counts["misaligned_examples"]),
                flush=True,
            )
    if len(train_bin) == 0 or len(dev_bin) == 0:
        print("error: no training or no dev document left after alignment", file=sys.stderr)
        return 2
    train_bin.to_disk(work / "train.spacy")
    dev_bin.to_disk(work / "dev.spacy")
    config_path = work / "config.cfg"
    write_config(config_path, arguments.lang, arguments.optimize)

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
        "train_docs": train_counts["docs"],
        "dev_docs": dev_counts["docs"],
        "misaligned_entities": train_counts["misaligned_entities"]
        + dev_counts["misaligned_entities"],
        "dropped_docs": train_counts["dropped_docs"] + dev_counts["dropped_docs"],
        "alignment": {"train": train_counts, "dev": dev_counts},
        "dev_performance": meta.get("performance", {}),
    }
    Path(arguments.result).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


def entities(doc: Any) -> list[list[Any]]:
    """``[start, end, label, confidence]`` per entity; spaCy's NER has no confidence."""
    return [[ent.start_char, ent.end_char, ent.label_, None] for ent in doc.ents]


def predict(arguments: argparse.Namespace) -> int:
    nlp = spacy.load(Path(arguments.model))
    texts = [record["text"] for record in read_jsonl(Path(arguments.test))]
    list(nlp.pipe(texts[:WARM_UP_DOCS], batch_size=arguments.batch_size))
    started = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=arguments.batch_size))
    predict_s = time.perf_counter() - started
    single_ms: list[float] = []
    for text in texts[: arguments.single_docs]:
        one_started = time.perf_counter()
        nlp(text)
        single_ms.append(1000.0 * (time.perf_counter() - one_started))
    output = {
        "predictions": [entities(doc) for doc in docs],
        "predict_s": predict_s,
        "docs": len(texts),
        "single_doc_ms": statistics.median(single_ms) if single_ms else None,
        "single_docs": len(single_ms),
    }
    Path(arguments.output).write_text(json.dumps(output) + "\n", encoding="utf-8")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train_parser = commands.add_parser("train", help="convert, configure and train under a cap")
    train_parser.add_argument("--train", required=True, help="training JSON Lines")
    train_parser.add_argument("--dev", required=True, help="dev JSON Lines (early stopping)")
    train_parser.add_argument("--lang", required=True, help="spaCy language code: en, de, …")
    train_parser.add_argument("--optimize", choices=OPTIMIZE, required=True)
    train_parser.add_argument("--cap-seconds", type=float, required=True)
    train_parser.add_argument("--work", required=True, help="folder for data, config, model")
    train_parser.add_argument("--result", required=True, help="JSON file to write")
    train_parser.set_defaults(handler=train)

    predict_parser = commands.add_parser("predict", help="predict a test set, timed")
    predict_parser.add_argument("--model", required=True)
    predict_parser.add_argument("--test", required=True, help="JSON Lines with a text field")
    predict_parser.add_argument("--output", required=True, help="predictions JSON to write")
    predict_parser.add_argument("--batch-size", type=int, default=256)
    predict_parser.add_argument("--single-docs", type=int, default=200)
    predict_parser.set_defaults(handler=predict)

    arguments = parser.parse_args()
    handler = arguments.handler
    return int(handler(arguments))


if __name__ == "__main__":
    sys.exit(main())
