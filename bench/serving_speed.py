"""In-process serving speed and accuracy of the fine-tuned encoders, for bench/runtime.py.

For the default NER model (``ner.minilm.v1``, trained on conll2003) and the default single-label
classifier (``textcat.minilm.v2``, trained on banking77), one run measures four ways to run the
same network: PyTorch fp32 (the baseline: how a model was served before ONNX), PyTorch int8
(``torch.ao.quantization.quantize_dynamic`` of its Linear layers), ONNX Runtime fp32
(``serving.onnx``) and ONNX Runtime int8 (``serving.int8.onnx``, what a deploy writes), each
on the same slice of the dataset's test split, in batches of ``--batch`` documents after a
warm-up, in the serving thread settings (ONNX Runtime's intra-op threads and PyTorch's threads
both :func:`lexicraft.ml.serving.intra_op_threads`; best of ``--passes`` passes). Reported per
variant: words/s (the dataset's whitespace tokens) and word pieces/s, each also per core,
docs/s, and F1 (NER, exact span and type) or accuracy (classification) in points. The *serving
path* is the graph a deploy would pick by the deploy's own rule
(:func:`lexicraft.ml.serving.decide`, on this slice).

The GEMM peak: a 384x1536 fp32 weight times ``--gemm-rows`` rows of activations, as one ONNX
MatMul run in a loop by ONNX Runtime in the same thread settings (the FFN matrix of MiniLM):
GFLOP/s = 2 x rows x 384 x 1536 per run. The NER serving path's share of it counts the
encoder's multiply-adds per word piece (:data:`FLOP_PER_PIECE`) over the pieces it read
(padding excluded).

Models are trained here (default training configs, or ``--train-documents`` /
``--train-steps`` for smoke runs) into ``--work-dir``, and reused from there when present.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from common import load_split

from lexicraft.ml import serving
from lexicraft.ml.base import ClassExample, NerExample, Span
from lexicraft.ml.classification.transformer import TransformerClassificationBackend
from lexicraft.ml.evaluation import evaluate_classification, evaluate_ner
from lexicraft.ml.finetune import TorchNetwork
from lexicraft.ml.ner.transformer import TransformerNerBackend
from lexicraft.ml.registry import prepare_for_serving
from lexicraft.ml.serving import SERVING_FILE, SERVING_INT8_FILE

#: Multiply-adds x 2 per word piece of MiniLM-L6 (hidden 384, FFN 1536): per layer Q, K, V
#: and output projections (4 x 384 x 384) and the FFN (2 x 384 x 1536), six layers; the
#: attention scores (which grow with the window) and the small heads are left out.
FLOP_PER_PIECE = 6 * 2 * (4 * 384 * 384 + 2 * 384 * 1536)
VARIANTS = ("pytorch-fp32", "pytorch-int8", "onnx-fp32", "onnx-int8")
NER_LABELS = ("PER", "LOC", "ORG", "MISC")


def ner_examples(records: Sequence[dict[str, Any]]) -> list[NerExample]:
    return [
        NerExample(
            record["text"],
            tuple(
                Span(e["offset"], e["offset"] + e["length"], e["category"])
                for e in record["entities"]
            ),
        )
        for record in records
    ]


def sample(records: list[dict[str, Any]], count: int | None, seed: int = 0) -> list[Any]:
    if count is None or count >= len(records):
        return records
    return random.Random(seed).sample(records, count)


def train_models(
    work_dir: Path, train_documents: int | None, train_steps: int | None
) -> dict[str, Path]:
    """The conll2003 NER model and the banking77 classifier, trained unless in ``work_dir``."""
    folders = {"ner": work_dir / "conll2003-ner", "classify": work_dir / "banking77-classify"}
    backends: dict[str, Any] = {
        "ner": TransformerNerBackend(),
        "classify": TransformerClassificationBackend(),
    }
    for task, folder in folders.items():
        if (folder / "config.json").is_file():
            continue
        backend = backends[task]
        settings = backend.hyperparameters
        if train_steps is not None:
            settings = replace(settings, epochs=1, min_steps=train_steps, max_train_pieces=None)
        staging = folder.with_name(folder.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        started = time.perf_counter()
        if task == "ner":
            records = sample(load_split("conll2003", "train"), train_documents)
            backend.train(ner_examples(records), NER_LABELS, staging, hyperparameters=settings)
        else:
            records = sample(load_split("banking77", "train"), train_documents)
            labels = sorted({c for record in records for c in record["classes"]})
            examples = [ClassExample(r["text"], tuple(r["classes"])) for r in records]
            backend.train(examples, labels, staging, hyperparameters=settings)
        print(f"trained {task} in {time.perf_counter() - started:.0f} s", flush=True)
        staging.replace(folder)
    for folder in folders.values():
        prepare_for_serving(folder)
    return folders


def load_variant(task: str, model_dir: Path, variant: str, scratch: Path) -> Any:
    """The model in ``model_dir`` run the ``variant`` way."""
    backend: Any = TransformerNerBackend() if task == "ner" else TransformerClassificationBackend()
    if variant.startswith("onnx"):
        return backend.load(model_dir, variant.removeprefix("onnx-"))
    # Without its ONNX graphs the folder loads in PyTorch (on a CPU machine).
    copy = scratch / f"{task}-pytorch"
    if not copy.exists():
        shutil.copytree(
            model_dir, copy, ignore=shutil.ignore_patterns(SERVING_FILE, SERVING_INT8_FILE)
        )
    predictor = backend.load(copy)
    if variant == "pytorch-int8":
        module = predictor.network._model
        with warnings.catch_warnings():
            # PyTorch deprecates its eager-mode quantization API; it still runs.
            warnings.simplefilter("ignore")
            quantized = torch.ao.quantization.quantize_dynamic(
                module, {torch.nn.Linear}, dtype=torch.qint8
            )
        predictor._network = TorchNetwork(quantized)
    return predictor


def timed(
    predict: Callable[[list[str]], Any], texts: list[str], batch: int, passes: int
) -> tuple[float, list[Any]]:
    """Best seconds of ``passes`` passes over ``texts`` in batches, and the outputs."""
    predict(texts[:batch])  # warm-up
    best, outputs = float("inf"), []
    for _ in range(passes):
        started = time.perf_counter()
        found: list[Any] = []
        for start in range(0, len(texts), batch):
            found.extend(predict(texts[start : start + batch]))
        best = min(best, time.perf_counter() - started)
        outputs = found
    return best, outputs


def pieces_read(predictor: Any, texts: list[str], window: int) -> int:
    """Word pieces the encoder reads for ``texts`` ([CLS]/[SEP] included, no padding)."""
    vocabulary = predictor._vocabulary if hasattr(predictor, "_vocabulary") else predictor._pieces
    total = 0
    for number, document in enumerate(vocabulary.documents(texts)):
        windows = vocabulary.windows(number, document, window, 0) or [
            vocabulary.empty_window(number)
        ]
        total += sum(len(w.ids) for w in windows)
    return total


def measure_task(
    task: str, model_dir: Path, eval_documents: int, batch: int, passes: int, scratch: Path
) -> dict[str, Any]:
    """Every variant's speed and score on the task's test slice, and the serving path."""
    threads = serving.intra_op_threads()
    torch.set_num_threads(threads)
    if task == "ner":
        records = sample(load_split("conll2003", "test"), eval_documents)
        gold_spans = [example.spans for example in ner_examples(records)]
    else:
        records = sample(load_split("banking77", "test"), eval_documents)
    texts = [record["text"] for record in records]
    words = sum(len(text.split()) for text in texts)
    results: dict[str, Any] = {}
    pieces = 0
    for variant in VARIANTS:
        predictor = load_variant(task, model_dir, variant, scratch)
        if not pieces:
            window = 256 if task == "ner" else 128
            pieces = pieces_read(predictor, texts, window)
        seconds, outputs = timed(predictor.predict, texts, batch, passes)
        if task == "ner":
            score = 100 * evaluate_ner(gold_spans, outputs, NER_LABELS)["microF1"]
        else:
            predicted = [[found[0].category] for found in outputs]
            labels = sorted({c for r in records for c in r["classes"]} | {p[0] for p in predicted})
            gold = [r["classes"] for r in records]
            score = (
                100 * evaluate_classification(gold, predicted, labels, multi_label=False)["microF1"]
            )
        results[variant] = {
            "seconds": round(seconds, 3),
            "docs_per_s": round(len(texts) / seconds, 1),
            "words_per_s": round(words / seconds, 1),
            "words_per_s_per_core": round(words / seconds / threads, 1),
            "pieces_per_s": round(pieces / seconds, 1),
            "pieces_per_s_per_core": round(pieces / seconds / threads, 1),
            "f1" if task == "ner" else "accuracy": round(score, 2),
        }
        print(f"{task} {variant}: {results[variant]}", flush=True)
        del predictor
    metric = "f1" if task == "ner" else "accuracy"
    choice = serving.decide(
        {p: {metric: results[f"onnx-{p}"][metric]} for p in ("fp32", "int8")},
        {p: results[f"onnx-{p}"]["seconds"] for p in ("fp32", "int8")},
        0.3,
        documents=f"{len(texts)} test documents",
    )
    return {
        "variants": results,
        "serving_path": f"onnx-{choice.precision}",
        "serving_path_reason": choice.reason,
        "documents": len(texts),
        "words": words,
        "pieces": pieces,
        "threads": threads,
    }


def gemm_peak(rows: int, seconds: float) -> dict[str, Any]:
    """GFLOP/s of a ``rows`` x 384 by 384 x 1536 fp32 MatMul in ONNX Runtime, serving threads."""
    import onnx
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    weight = np.random.default_rng(0).standard_normal((384, 1536)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "gemm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 384])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1536])],
        [numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    session = onnxruntime.InferenceSession(
        onnx.shape_inference.infer_shapes(model).SerializeToString(),
        sess_options=serving.session_options(),
        providers=["CPUExecutionProvider"],
    )
    x = np.random.default_rng(1).standard_normal((rows, 384)).astype(np.float32)
    session.run(None, {"x": x})
    runs, per_run = 0, []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or runs < 5:
        started = time.perf_counter()
        session.run(None, {"x": x})
        per_run.append(time.perf_counter() - started)
        runs += 1
    flop = 2 * rows * 384 * 1536
    # The median run: the loop's speed with the odd descheduled run left out.
    return {
        "gflop_per_s": round(flop / statistics.median(per_run) / 1e9, 1),
        "rows": rows,
        "runs": runs,
        "threads": serving.intra_op_threads(),
    }


def model_load_and_rss(task: str, model_dir: Path, precision: str) -> dict[str, Any]:
    """Seconds to load the model from its ``precision`` graph, and resident MiB per loaded
    copy (the second copy's growth: the first also sets ONNX Runtime itself up)."""
    backend: Any = TransformerNerBackend() if task == "ner" else TransformerClassificationBackend()
    copies = []
    rss = [_rss_mb()]
    load_s = []
    for _ in range(2):
        started = time.perf_counter()
        predictor = backend.load(model_dir, precision)
        load_s.append(time.perf_counter() - started)
        predictor.predict(["Warm up with one sentence in Vienna."])
        copies.append(predictor)
        rss.append(_rss_mb())
    return {
        "load_s": round(min(load_s), 3),
        "rss_mb_per_model": round(rss[2] - rss[1], 1),
        "rss_mb_first_model": round(rss[1] - rss[0], 1),
        "graph": getattr(copies[0].network.path, "name", "pytorch"),
    }


def _rss_mb() -> float:
    with Path(f"/proc/{os.getpid()}/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure_all(arguments: Any) -> dict[str, Any]:
    """Everything above, as runtime.json's ``serving`` entry."""
    work_dir: Path = arguments.work_dir
    work_dir.mkdir(parents=True, exist_ok=True)
    folders = train_models(work_dir, arguments.train_documents, arguments.train_steps)
    scratch = work_dir / "scratch"
    scratch.mkdir(exist_ok=True)
    result: dict[str, Any] = {"gemm": gemm_peak(arguments.gemm_rows, arguments.gemm_seconds)}
    for task, folder in folders.items():
        result[task] = measure_task(
            task, folder, arguments.eval_documents, arguments.batch, arguments.passes, scratch
        )
        precision = result[task]["serving_path"].removeprefix("onnx-")
        result[task]["load"] = model_load_and_rss(task, folder, precision)
    (work_dir / "serving.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result
