"""A fine-tuned encoder's network written as ONNX, and served from it on a CPU.

PyTorch runs a small batch op by op from Python: each op takes the GIL and its OpenMP team
stalls whenever another thread of the server (an HTTP poll, a heartbeat) or another process
wants one of the cores. ONNX Runtime runs the whole graph in one call, without the GIL, which
is what a 1-document analyze job needs. A deployed model's network is therefore written once as
``serving.onnx`` beside its weights (:func:`prepare`, run by the deploy job) and loaded from
there when the machine has no CUDA (:func:`serving_network`); on a GPU, PyTorch serves it.

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

from lexicraft.ml.finetune import pick_device
from lexicraft.ml.wordpieces import Network, OnnxNetwork, TorchNetwork

#: The network as ONNX, written into a model folder when the model is deployed.
SERVING_FILE = "serving.onnx"
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
            _publish_once(Path(temporary), path)
    finally:
        exporter_log.setLevel(level)
        Path(temporary).unlink(missing_ok=True)


def _publish_once(temporary: Path, path: Path) -> None:
    """Give ``temporary`` the name ``path`` unless a file has it already (then keep that one)."""
    try:
        # A hard link fails on an existing name, where a rename would replace it.
        os.link(temporary, path)
    except FileExistsError:
        return
    except OSError:
        # A file system without hard links: a rename, which a concurrent writer may undo.
        if not path.exists():
            temporary.replace(path)


def prepare(model_dir: Path, build: Callable[[], torch.nn.Module]) -> bool:
    """Write ``model_dir``'s serving network unless it is there; True when it was written."""
    path = model_dir / SERVING_FILE
    if path.exists():
        return False
    write_onnx(build(), path, replace=False)
    return True


def serving_network(model_dir: Path, build: Callable[[], torch.nn.Module]) -> Network:
    """The network to serve ``model_dir`` with: ONNX Runtime on a CPU when it was prepared."""
    path = model_dir / SERVING_FILE
    if path.exists() and pick_device().type == "cpu":
        return OnnxNetwork(path)
    return TorchNetwork(build())
