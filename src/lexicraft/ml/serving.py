"""How this process serves fine-tuned encoders through ONNX Runtime: threads and which graph.

A deploy writes an encoder's network twice beside its weights (:mod:`lexicraft.ml.onnx_serving`):
``serving.onnx`` (fp32) and ``serving.int8.onnx`` (its MatMuls dynamically quantized to int8),
then checks the int8 graph against the fp32 one on the model's own test split and times both
(:mod:`lexicraft.services.serving_check`). The verdict is ``serving.json`` in the model folder,
written once: which graph serves the model under ``serving_precision`` ``auto`` and, when it is
fp32, why. ``fp32`` or ``int8`` force a graph whatever the verdict.

ONNX Runtime sessions get ``serving_intra_op_threads`` threads for one graph's operators (0: the
process's CPU share, divided among its ``predict_concurrency`` prediction slots, so concurrent
forward passes never ask for more cores than there are) and one inter-op thread (the graphs are
a chain of operators; a second pool would only oversubscribe). One session per loaded model:
the model cache holds the predictor, the predictor its session.

This module imports neither PyTorch nor ONNX Runtime at import time: the composition root
configures it in every process, and most CLI commands never predict.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import onnxruntime

#: The network as ONNX (fp32), written into a model folder when the model is deployed.
SERVING_FILE = "serving.onnx"
#: The same network with its MatMuls quantized to int8 (dynamic quantization).
SERVING_INT8_FILE = "serving.int8.onnx"
#: The deploy's verdict: which graph serves the model under precision ``auto``, and why.
CHOICE_FILE = "serving.json"

Precision = Literal["fp32", "int8"]
PrecisionMode = Literal["auto", "fp32", "int8"]
GRAPH_FILES: dict[str, str] = {"fp32": SERVING_FILE, "int8": SERVING_INT8_FILE}


@dataclass(frozen=True, slots=True)
class ServingOptions:
    """The serving settings of this process (see :func:`configure`)."""

    #: Threads of one forward pass; 0: :func:`cpu_share` divided by ``prediction_slots``.
    intra_op_threads: int = 0
    #: Forward passes this process runs at once (``predict_concurrency``).
    prediction_slots: int = 1
    #: ``auto``: the graph the deploy chose; ``fp32`` / ``int8``: that graph, if written.
    precision: PrecisionMode = "auto"
    #: Whether idle ONNX Runtime threads spin (lower latency, but they burn the cores the
    #: API's threads and other processes want).
    spin_wait: bool = False


_options = ServingOptions()
_lock = threading.Lock()


def configure(options: ServingOptions) -> None:
    """Set this process's serving options (the composition root does, from the settings).

    Sessions created afterwards use them; loaded models keep the sessions they have.
    """
    global _options
    with _lock:
        _options = options


def current() -> ServingOptions:
    """This process's serving options."""
    return _options


def cpu_share() -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 quota: the affinity is the share
    return max(1, cores)


def intra_op_threads(options: ServingOptions | None = None) -> int:
    """Threads one forward pass gets under ``options`` (default: this process's)."""
    chosen = options or _options
    if chosen.intra_op_threads > 0:
        return chosen.intra_op_threads
    return max(1, cpu_share() // max(1, chosen.prediction_slots))


def session_options(options: ServingOptions | None = None) -> onnxruntime.SessionOptions:
    """ONNX Runtime session options under ``options`` (default: this process's)."""
    import onnxruntime

    chosen = options or _options
    session = onnxruntime.SessionOptions()
    session.intra_op_num_threads = intra_op_threads(chosen)
    session.inter_op_num_threads = 1
    session.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    session.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    spin = "1" if chosen.spin_wait else "0"
    session.add_session_config_entry("session.intra_op.allow_spinning", spin)
    session.add_session_config_entry("session.inter_op.allow_spinning", spin)
    return session


@dataclass(frozen=True, slots=True)
class PrecisionChoice:
    """The deploy's verdict on a model's int8 graph (``serving.json``)."""

    precision: Precision
    #: Why fp32 was kept (None when int8 was chosen).
    reason: str | None = None
    #: What was measured: scores, documents, seconds (for operators; free-form).
    measured: dict[str, Any] | None = None


def decide(
    scores: dict[str, dict[str, float]],
    seconds: dict[str, float],
    tolerance_points: float,
    *,
    speed_check: bool = True,
    documents: str = "the check",
) -> PrecisionChoice:
    """The rule that picks a model's graph: int8 when none of its ``scores`` (points, per
    precision and metric) is more than ``tolerance_points`` below fp32's and (with
    ``speed_check``) it took fewer ``seconds``; else fp32, with the reason in words.
    ``documents`` names what was measured, for the reason."""
    fp32, int8 = scores["fp32"], scores["int8"]
    drops = {name: fp32[name] - int8[name] for name in fp32}
    if drops and max(drops.values()) > tolerance_points:
        described = ", ".join(f"{name} {int8[name]:.2f} against {fp32[name]:.2f}" for name in fp32)
        return PrecisionChoice(
            "fp32",
            f"on {documents} the int8 network scored {described} points, more than "
            f"{tolerance_points:g} points below the fp32 network "
            "(setting serving_int8_tolerance_points).",
        )
    if speed_check and seconds["int8"] >= seconds["fp32"]:
        return PrecisionChoice(
            "fp32",
            f"it was not faster on this host: {seconds['int8'] * 1000:.0f} ms against "
            f"{seconds['fp32'] * 1000:.0f} ms for the fp32 network on {documents}.",
        )
    return PrecisionChoice("int8")


def read_choice(model_dir: Path) -> PrecisionChoice | None:
    """The verdict recorded in ``model_dir`` (None: none, or one this code cannot read)."""
    try:
        raw = json.loads((model_dir / CHOICE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    precision = raw.get("precision") if isinstance(raw, dict) else None
    if precision not in GRAPH_FILES:
        return None
    reason = raw.get("reason")
    measured = raw.get("measured")
    return PrecisionChoice(
        precision,
        reason if isinstance(reason, str) else None,
        measured if isinstance(measured, dict) else None,
    )


def write_choice(model_dir: Path, choice: PrecisionChoice) -> bool:
    """Record ``choice`` in ``model_dir`` unless a verdict is there; True when written.

    Written once, like the graphs: the folder's checksums cover the file once it exists, so
    it is never rewritten (two deploys of one model may check it at the same time; the first
    verdict stays).
    """
    path = model_dir / CHOICE_FILE
    if path.exists():
        return False
    text = json.dumps(
        {"precision": choice.precision, "reason": choice.reason, "measured": choice.measured},
        indent=2,
    )
    handle, temporary = tempfile.mkstemp(prefix=".serving.", suffix=".json", dir=model_dir)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text + "\n")
        return publish_once(Path(temporary), path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def publish_once(temporary: Path, path: Path) -> bool:
    """Give ``temporary`` the name ``path`` unless a file has it already (then keep that
    one); True when ``temporary`` took the name."""
    try:
        # A hard link fails on an existing name, where a rename would replace it.
        os.link(temporary, path)
    except FileExistsError:
        return False
    except OSError:
        # A file system without hard links: a rename, which a concurrent writer may undo.
        if path.exists():
            return False
        temporary.replace(path)
    return True


def graph_to_serve(model_dir: Path, options: ServingOptions | None = None) -> Path | None:
    """The ONNX graph that serves ``model_dir`` under ``options`` (None: none written).

    ``auto`` serves int8 only when the deploy recorded that choice; a folder deployed before
    int8 graphs existed, or whose check has not run, serves fp32.
    """
    mode = (options or _options).precision
    precision: Precision
    if mode == "auto":
        choice = read_choice(model_dir)
        precision = choice.precision if choice is not None else "fp32"
    else:
        precision = mode
    path = model_dir / GRAPH_FILES[precision]
    if path.exists():
        return path
    fallback = model_dir / SERVING_FILE
    return fallback if fallback.exists() else None
