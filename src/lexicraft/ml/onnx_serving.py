"""A fine-tuned encoder's network written as ONNX, and served from it on a CPU.

PyTorch runs a small batch op by op from Python: each op takes the GIL and its OpenMP team
stalls whenever another thread of the server (an HTTP poll, a heartbeat) or another process
wants one of the cores. ONNX Runtime runs the whole graph in one call, without the GIL, which
is what a 1-document analyze job needs. A deployed model's network is therefore written once as
``serving.onnx`` beside its weights (:func:`prepare`, run by the deploy job), with an int8 copy
``serving.int8.onnx`` (:func:`quantize`), both with ONNX Runtime's transformer fusions
(:func:`write_onnx`), and loaded from there when the machine has no CUDA
(:func:`lexicraft.ml.networks.serving_network`; which of the two, and with how many threads:
:mod:`lexicraft.ml.serving`); on a GPU, PyTorch serves it. Writing the graphs needs PyTorch;
serving them does not, so only deploys and exports import this module.

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
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from transformers import BertModel

from lexicraft.ml.serving import SERVING_FILE, SERVING_INT8_FILE, publish_once

__all__ = [
    "SERVING_FILE",
    "SERVING_INT8_FILE",
    "prepare",
    "quantize",
    "write_onnx",
]

INPUT_NAMES = ("ids", "cases", "mask")
OUTPUT_NAME = "logits"
#: The TorchScript exporter's opset (ONNX Runtime's transformer fusions are tested on it).
OPSET = 17


def write_onnx(model: torch.nn.Module, path: Path, *, replace: bool = True) -> None:
    """Write ``model`` (ids, cases, mask → logits) to ``path`` as ONNX with ONNX Runtime's
    transformer fusions, atomically.

    The graph comes from PyTorch's TorchScript exporter with the encoder's attention in its
    eager form, then ONNX Runtime's BERT optimizer fuses each layer's attention into one
    ``Attention`` operator, its residual adds into ``SkipLayerNormalization`` and its GELU into
    ``BiasGelu`` (operators of ONNX Runtime's ``com.microsoft`` domain: the graph needs ONNX
    Runtime). The optimizer recognises the patterns that exporter writes, not those of the
    ``torch.export`` one (whose graph, optimized the same way, fuses no attention). Side by
    side in one process on 2 cores (MiniLM-L6 and multilingual-e5-small, batches of 1 to 64
    windows): fp32 1.1 to 1.3x and int8 1.3 to 1.6x the ``torch.export`` graph's speed, logits
    within 1e-6 of it; ``bench/runtime.py`` measures the served result. ``model``'s encoder
    is left with eager attention (same outputs): callers pass a network built for the export.

    Readers never see a half-written file: the graph goes to a temporary file beside ``path``
    and is renamed over it. With ``replace`` False a file already at ``path`` is kept (the
    temporary is dropped): two deploys of one model may write it at the same time, and the
    checksum one of them records must stay the checksum of the file that stays.
    """
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    encoder = next(module for module in model.modules() if isinstance(module, BertModel))
    # Scaled-dot-product attention exports as one opaque operator the optimizer cannot fuse.
    encoder.set_attn_implementation("eager")
    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in INPUT_NAMES)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{path.stem}.", dir=path.parent) as folder:
        exported, optimized = Path(folder) / "exported.onnx", Path(folder) / "optimized.onnx"
        # The exporter and the optimizer report their steps on stdout and the root logger,
        # and warn about their own internals (the exporter's deprecation among them); none of
        # it concerns the user, and a failed export raises.
        with _quiet():
            torch.onnx.export(
                model.eval(),
                example,
                str(exported),
                input_names=list(INPUT_NAMES),
                output_names=[OUTPUT_NAME],
                dynamic_axes={name: {0: "batch", 1: "pieces"} for name in INPUT_NAMES},
                dynamo=False,
                opset_version=OPSET,
            )
            # Symbolic shape inference copies the whole model several times (e5's 384 MB
            # embedding table: 10 of a 33 s deploy) and changes nothing here: the same fused
            # operators, outputs identical to the bit (measured on e5 and MiniLM graphs).
            options = FusionOptions("bert")
            options.enable_shape_inference = False
            fused = optimize_model(
                str(exported),
                model_type="bert",
                num_heads=encoder.config.num_attention_heads,
                hidden_size=encoder.config.hidden_size,
                optimization_options=options,
            )
            fused.save_model_to_file(str(optimized))
        if replace:
            optimized.replace(path)
        else:
            publish_once(optimized, path)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence what ONNX tooling prints, warns and logs on the root logger (not errors)."""
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)
    from_onnxruntime = _FromOnnxRuntime()
    # ONNX Runtime's tools log on the root logger and on loggers of their own module names
    # (their folder is put on sys.path): a logger's filter sees only its own records, so the
    # filter goes on the handlers every record reaches (lastResort: when none is configured).
    root = logging.getLogger()
    filtered = [each for each in (root, *root.handlers, logging.lastResort) if each is not None]
    for each in filtered:
        each.addFilter(from_onnxruntime)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for each in filtered:
            each.removeFilter(from_onnxruntime)
        exporter_log.setLevel(level)


def quantize(source: Path, path: Path, *, embeddings: bool = False) -> None:
    """Write the fp32 graph ``source`` with its MatMuls and fused attention dynamically
    quantized to int8 to ``path`` (kept if a file is there already, as :func:`write_onnx` with
    ``replace`` False).

    Dynamic quantization: weights are int8 (per output channel: an encoder's columns differ
    in range by orders of magnitude, and one scale per tensor loses the small ones),
    activations are quantized per batch at run time, so no calibration data is needed. Only
    the matrix products: layer norms and GELUs stay fp32, where int8 costs accuracy and saves
    little time, and so do the embedding tables (Gather) unless ``embeddings``: a large
    vocabulary's table is most of the graph (multilingual-e5-small's 250,002 pieces: 384 MB
    of 408), and int8 makes it a quarter of that (the deploy's int8 check still decides
    whether it serves).
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".onnx", dir=path.parent)
    os.close(handle)
    # Fused attention is quantized too (its input projection is most of a layer's MatMul
    # work); the fused operators' outputs have no inferred type, so the quantizer is told
    # that tensors are fp32 unless it knows better.
    operators = ["MatMul", "Attention", "Gather"] if embeddings else ["MatMul", "Attention"]
    try:
        with _quiet():
            quantize_dynamic(
                source,
                temporary,
                op_types_to_quantize=operators,
                per_channel=True,
                weight_type=QuantType.QInt8,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        publish_once(Path(temporary), path)
    finally:
        Path(temporary).unlink(missing_ok=True)


class _FromOnnxRuntime(logging.Filter):
    """Drops the records ONNX Runtime's tools (optimizer, quantizer) log on the root logger:
    advice and progress that do not concern the user."""

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
