"""A fine-tuned encoder's network written as ONNX, and served from it on a CPU.

PyTorch runs a small batch op by op from Python: each op takes the GIL and its OpenMP team
stalls whenever another thread of the server (an HTTP poll, a heartbeat) or another process
wants one of the cores. ONNX Runtime runs the whole graph in one call, without the GIL, which
is what a 1-document analyze job needs. A deployed model's network is therefore written once as
``serving.onnx`` beside its weights (:func:`prepare`, run by the deploy job), with an int8 copy
``serving.int8.onnx`` (:func:`quantize`), and loaded from there when the machine has no CUDA
(:func:`serving_network`; which of the two, and with how many threads: :mod:`lexicraft.ml.serving`);
on a GPU, PyTorch serves it.

The networks take ``ids``, ``cases`` and ``mask`` (batch by word pieces, int64) and give
``logits``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from lexicraft.ml import serving
from lexicraft.ml.finetune import pick_device
from lexicraft.ml.serving import SERVING_FILE, SERVING_INT8_FILE, Precision, publish_once
from lexicraft.ml.wordpieces import Network, OnnxNetwork, TorchNetwork

__all__ = [
    "SERVING_FILE",
    "SERVING_INT8_FILE",
    "prepare",
    "quantize",
    "serving_network",
    "write_onnx",
]

INPUT_NAMES = ("ids", "cases", "mask")
OUTPUT_NAME = "logits"


def write_onnx(model: torch.nn.Module, path: Path, *, replace: bool = True) -> None:
    """Write ``model`` (ids, cases, mask → logits) to ``path`` as ONNX, atomically.

    Readers never see a half-written file: the graph goes to a temporary file beside ``path``
    and is renamed over it. With ``replace`` False a file already at ``path`` is kept (the
    temporary is dropped): two deploys of one model may write it at the same time, and the
    checksum one of them records must stay the checksum of the file that stays.
    """
    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in INPUT_NAMES)
    batch, pieces = torch.export.Dim("batch"), torch.export.Dim("pieces")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".onnx", dir=path.parent)
    os.close(handle)
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    # The exporter reports its steps on stdout and logs and warns about its own internals (e.g.
    # that torchvision is missing); none of it concerns the user, and a failed export raises.
    exporter_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model.eval(),
                example,
                temporary,
                input_names=list(INPUT_NAMES),
                output_names=[OUTPUT_NAME],
                dynamic_shapes={name: {0: batch, 1: pieces} for name in INPUT_NAMES},
                dynamo=True,
                external_data=False,
                opset_version=18,
            )
        if replace:
            Path(temporary).replace(path)
        else:
            publish_once(Path(temporary), path)
    finally:
        exporter_log.setLevel(level)
        Path(temporary).unlink(missing_ok=True)


def quantize(source: Path, path: Path, *, embeddings: bool = False) -> None:
    """Write the fp32 graph ``source`` with its MatMuls dynamically quantized to int8 to
    ``path`` (kept if a file is there already, as :func:`write_onnx` with ``replace`` False).

    Dynamic quantization: weights are int8 (per output channel: an encoder's columns differ
    in range by orders of magnitude, and one scale per tensor loses the small ones),
    activations are quantized per batch at run time, so no calibration data is needed. Only
    MatMul: LayerNorm and Softmax stay fp32, where int8 costs accuracy and saves little time,
    and so do the embedding tables (Gather) unless ``embeddings``: a large vocabulary's table
    is most of the graph (multilingual-e5-small's 250,002 pieces: 384 MB of 408), and int8
    makes it a quarter of that (the deploy's int8 check still decides whether it serves).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".onnx", dir=path.parent)
    os.close(handle)
    # The quantizer logs advice (pre-processing, which was measured no faster here) on the
    # root logger; it does not concern the user.
    advice = _FromQuantizer()
    logging.getLogger().addFilter(advice)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            quantize_dynamic(
                source,
                temporary,
                op_types_to_quantize=["MatMul", "Gather"] if embeddings else ["MatMul"],
                per_channel=True,
                weight_type=QuantType.QInt8,
            )
        publish_once(Path(temporary), path)
    finally:
        logging.getLogger().removeFilter(advice)
        Path(temporary).unlink(missing_ok=True)


class _FromQuantizer(logging.Filter):
    """Drops the records ONNX Runtime's quantizer logs on the root logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "onnxruntime" not in record.pathname


def prepare(
    model_dir: Path, build: Callable[[], torch.nn.Module], *, quantize_embeddings: bool = False
) -> bool:
    """Write ``model_dir``'s serving networks (fp32, then int8, its embedding tables too with
    ``quantize_embeddings``: see :func:`quantize`) unless they are there; True when one was
    written."""
    path = model_dir / SERVING_FILE
    wrote = False
    if not path.exists():
        write_onnx(build(), path, replace=False)
        wrote = True
    quantized = model_dir / SERVING_INT8_FILE
    if not quantized.exists():
        quantize(path, quantized, embeddings=quantize_embeddings)
        wrote = True
    return wrote


def serving_network(
    model_dir: Path, build: Callable[[], torch.nn.Module], precision: Precision | None = None
) -> Network:
    """The network to serve ``model_dir`` with: ONNX Runtime on a CPU when it was prepared
    (the graph :func:`lexicraft.ml.serving.graph_to_serve` picks, or the ``precision`` one),
    else PyTorch."""
    if pick_device().type == "cpu":
        path: Path | None
        if precision is not None:
            path = model_dir / serving.GRAPH_FILES[precision]
            if not path.exists():
                raise FileNotFoundError(f"{model_dir} has no {precision} serving graph")
        else:
            path = serving.graph_to_serve(model_dir)
        if path is not None:
            return OnnxNetwork(path)
    return TorchNetwork(build())
