"""What runs a loaded encoder model's network: ONNX Runtime on a CPU, PyTorch on CUDA.

A deployed model's folder holds its network as ONNX graphs (:mod:`lexicraft.ml.onnx_serving`
writes them at deploy time); on a machine without CUDA it is served from one of them
(:func:`serving_network`, the graph :func:`lexicraft.ml.serving.graph_to_serve` picks) and
PyTorch is never imported: the process saves the seconds and some 400 MB that PyTorch and
transformers take to import, which a CLI ``predict`` or a server that only serves would pay for
nothing. PyTorch serves a folder that was never prepared, and every folder on CUDA
(:class:`lexicraft.ml.finetune.TorchNetwork`, imported only then).

The networks take ``ids``, ``cases`` and ``mask`` (batch by word pieces, int64) and give
``logits``.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from lexicraft.ml import serving
from lexicraft.ml.serving import Precision, ServingOptions, session_options
from lexicraft.ml.wordpieces import FloatArray, IntArray

if TYPE_CHECKING:
    import torch

#: The NVIDIA driver's library, which every CUDA program loads.
_CUDA_DRIVER = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"


class Network(Protocol):
    """The network of a loaded model, in whichever runtime runs it."""

    #: Which runtime runs it: ``"pytorch"`` or ``"onnxruntime"``.
    runtime: str
    #: The ONNX graph it runs (None: PyTorch).
    path: Path | None

    def logits(self, ids: IntArray, cases: IntArray, mask: IntArray) -> FloatArray:
        """The network's output for a padded batch of windows (see
        :func:`lexicraft.ml.wordpieces.padded`)."""
        ...


class OnnxNetwork:
    """The network exported as ONNX (inputs ids, cases, mask; output logits), in one session
    with this process's serving thread settings (:mod:`lexicraft.ml.serving`)."""

    runtime = "onnxruntime"

    def __init__(self, path: Path, options: ServingOptions | None = None) -> None:
        import onnxruntime

        self.path: Path | None = path
        self._session = onnxruntime.InferenceSession(
            str(path), sess_options=session_options(options), providers=onnx_providers()
        )

    def logits(self, ids: IntArray, cases: IntArray, mask: IntArray) -> FloatArray:
        (result,) = self._session.run(["logits"], {"ids": ids, "cases": cases, "mask": mask})
        return np.asarray(result, dtype=np.float32)


def onnx_providers() -> list[str]:
    """ONNX Runtime providers to use: CUDA when available, else the CPU."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    return [name for name in ("CUDAExecutionProvider", "CPUExecutionProvider") if name in available]


@functools.cache
def cuda_available() -> bool:
    """Whether PyTorch runs on CUDA here (``torch.cuda.is_available()``), without importing
    PyTorch on a machine where it cannot: CUDA needs the NVIDIA driver's library, and where
    that does not load PyTorch's own check says no. Asked once per process (every model load
    and training asks)."""
    if "torch" not in sys.modules:
        try:
            ctypes.CDLL(_CUDA_DRIVER)
        except OSError:
            return False
    import torch

    return bool(torch.cuda.is_available())


def serving_network(
    model_dir: Path, build: Callable[[], torch.nn.Module], precision: Precision | None = None
) -> Network:
    """The network to serve ``model_dir`` with: ONNX Runtime on a CPU when it was prepared
    (the graph :func:`lexicraft.ml.serving.graph_to_serve` picks, or the ``precision`` one),
    else the PyTorch module ``build`` makes (only then is it called)."""
    if not cuda_available():
        path: Path | None
        if precision is not None:
            path = model_dir / serving.GRAPH_FILES[precision]
            if not path.exists():
                raise FileNotFoundError(f"{model_dir} has no {precision} serving graph")
        else:
            path = serving.graph_to_serve(model_dir)
        if path is not None:
            return OnnxNetwork(path)
    from lexicraft.ml.finetune import TorchNetwork

    return TorchNetwork(build())
