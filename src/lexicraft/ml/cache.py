"""Loaded predictors, kept per process and keyed by artifact folder, within a memory budget.

Artifact folders are unique per training run, so a swap or redeploy (which points a deployment
at another folder) never serves a stale model, and no explicit invalidation is needed. Every
use first asks the process's :class:`~lexicraft.ml.checksums.ModelVerifier` about the folder
(a few ``stat`` calls while its files are unchanged): a model whose files were damaged on disk
stops being served at once, although the copy in memory is intact, because the next process to
load it would load the damage.

Two bounds, both least recently used out first: the estimated bytes of the loaded models
(``model_memory_budget_mb``; see :func:`model_footprint`) and their count
(``loaded_models_per_process``). The bytes bound what a model costs in proportion to its
weights; the count bounds what every loaded model costs whatever its size (an ONNX Runtime
session's thread pool, a CLU deployment's entity resolver, which is cached by the same count).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lexicraft.ml.checksums import ModelDamagedError, ModelVerifier
from lexicraft.telemetry.metrics import (
    MODEL_CACHE_EVICTIONS,
    MODEL_CACHE_HITS,
    MODEL_CACHE_LOADS,
    MODEL_LOAD_SECONDS,
    MODEL_LOADED_BYTES,
)

logger = logging.getLogger(__name__)

MIB = 1 << 20

#: A fine-tuned encoder's folder holds its network up to three times: the PyTorch weights and,
#: once it is deployed, the same network as fp32 and as int8 ONNX. A process loads one of them
#: (an ONNX graph on a CPU, PyTorch on a GPU), never two, so :func:`model_footprint` counts
#: only the largest (an int8-served model is overestimated by its fp32 size: the budget errs
#: on the safe side). The names are ``finetune.WEIGHTS_FILE``, ``serving.SERVING_FILE`` and
#: ``serving.SERVING_INT8_FILE`` (spelled out here because the first module imports PyTorch;
#: a unit test keeps them equal).
ALTERNATIVE_NETWORK_FILES = ("model.safetensors", "serving.onnx", "serving.int8.onnx")

#: Resident memory a model takes per byte of the files it loads from. Measured on the default
#: NER model (``ner.minilm.v1`` served by ONNX Runtime: 87.4 MiB of files, ``serving.onnx``
#: and a 0.5 MB tokenizer) loaded four times into one process, predicting once after each
#: load: the resident set grew by 97.8, 98.5 and 113.8 MiB for the second to fourth copies
#: (1.12 to 1.30 times the files) and by 134.9 MiB for the first, which also sets up ONNX
#: Runtime itself. 1.25 covers the copies but the highest; the first model's set-up is the
#: process's, not a model's, and is left out of the budget. In a server with 10 such models
#: (bench/results/memory.json) the estimate was 1092.6 MiB against 1071.8 MiB of growth.
RESIDENT_BYTES_PER_FILE_BYTE = 1.25


def model_footprint(model_dir: Path) -> int:
    """Estimated resident bytes of the model in ``model_dir`` once loaded.

    The bytes of the files it loads from (every file of the folder and its subfolders, an
    encoder's network counted once: :data:`ALTERNATIVE_NETWORK_FILES`) times
    :data:`RESIDENT_BYTES_PER_FILE_BYTE`. A few ``stat`` calls: it runs before every load,
    so that room is made before the model arrives rather than after.
    """
    if not model_dir.is_dir():
        return 0  # nothing to load: the loader reports that in its own terms
    total = 0
    for folder in (model_dir, *(path for path in model_dir.rglob("*") if path.is_dir())):
        sizes = {path.name: path.stat().st_size for path in folder.iterdir() if path.is_file()}
        networks = [sizes.pop(name) for name in ALTERNATIVE_NETWORK_FILES if name in sizes]
        total += sum(sizes.values()) + max(networks, default=0)
    return round(total * RESIDENT_BYTES_PER_FILE_BYTE)


@dataclass(slots=True)
class _Loaded:
    predictor: Any
    size: int


class PredictorCache:
    """An LRU of loaded models bounded by count and by estimated bytes; a slow load only
    blocks callers of the same model.

    ``budget_bytes`` 0 means no byte bound. A model larger than the whole budget is still
    served: it is loaded once every other model is dropped, a warning says so, and it is the
    first model dropped when another one is loaded.

    Dropping a model only removes the cache's reference to it. A prediction running on it
    holds its own reference (the predictor returned by :meth:`get`), so CPython's reference
    counting keeps the model, ONNX Runtime session included, alive until that prediction
    returns, and frees it then: a model is never freed under a running prediction, and the
    memory of a dropped model is back once its last prediction ends (tests/unit/ml/
    test_cache.py checks both with a weak reference).
    """

    def __init__(
        self,
        capacity: int = 8,
        verifier: ModelVerifier | None = None,
        *,
        budget_bytes: int = 0,
        footprint: Callable[[Path], int] = model_footprint,
    ) -> None:
        self.capacity = max(1, capacity)
        self.budget_bytes = budget_bytes
        self.verifier = verifier or ModelVerifier()
        self._footprint = footprint
        self._loaded: OrderedDict[str, _Loaded] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    @property
    def loaded_bytes(self) -> int:
        """The estimated bytes of the models loaded now."""
        with self._lock:
            return sum(entry.size for entry in self._loaded.values())

    def loaded(self) -> list[str]:
        """The folders of the models loaded now, least recently used first."""
        with self._lock:
            return list(self._loaded)

    def get(self, model_dir: Path, load: Callable[[Path], Any]) -> Any:
        """The predictor for ``model_dir``, loading it with ``load`` the first time.

        Raises :class:`ModelDamagedError` when the folder's files no longer match their
        checksums (and drops the loaded model).
        """
        key = str(model_dir.resolve())
        verdict = self.verifier.check(model_dir)
        if verdict.damaged:
            with self._lock:
                self._drop(key)
            raise ModelDamagedError(verdict.problem)
        with self._lock:
            entry = self._loaded.get(key)
            if entry is not None:
                self._loaded.move_to_end(key)
                MODEL_CACHE_HITS.inc()
                return entry.predictor
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                entry = self._loaded.get(key)
                if entry is not None:  # loaded by the caller this one waited for
                    MODEL_CACHE_HITS.inc()
                    return entry.predictor
            size = self._footprint(model_dir)
            if self.budget_bytes and size > self.budget_bytes:
                logger.warning(
                    "The model in %s needs about %.1f MiB, more than the whole model memory "
                    "budget (model_memory_budget_mb, %.1f MiB): it is served alone, and dropped "
                    "first when another model is loaded.",
                    model_dir,
                    size / MIB,
                    self.budget_bytes / MIB,
                )
            # Room is made before the load, so that the process never holds the new model
            # beside models it is about to drop (except those still predicting: see above).
            with self._lock:
                self._make_room(size, keep=None)
            started = time.perf_counter()
            predictor = load(model_dir)
            seconds = time.perf_counter() - started
            MODEL_LOAD_SECONDS.observe(seconds)
            MODEL_CACHE_LOADS.inc()
            logger.info(
                "Loaded the model in %s in %.3f s (about %.1f MiB).", model_dir, seconds, size / MIB
            )
            # Asked again (stat calls, unless a file changed during the load): what was
            # loaded is what was verified.
            verdict = self.verifier.check(model_dir)
            if verdict.damaged:
                raise ModelDamagedError(verdict.problem)
            with self._lock:
                self._loaded[key] = _Loaded(predictor, size)
                MODEL_LOADED_BYTES.inc(size)
                # Again: other models may have been loaded during this one's load.
                self._make_room(0, keep=key)
            return predictor

    def discard(self, model_dir: Path) -> None:
        """Forget ``model_dir`` (its files are being deleted, or changed by a deploy)."""
        with self._lock:
            self._drop(str(model_dir.resolve()))
        self.verifier.forget(model_dir)

    def _make_room(self, size: int, keep: str | None) -> None:
        """Drop models until ``size`` more bytes fit the budget and one more model (or, with
        ``keep``, that model) fits the count; never ``keep``. Holds ``_lock``."""
        extra = 0 if keep is not None else 1
        while True:
            total = sum(entry.size for entry in self._loaded.values()) + size
            over_budget = self.budget_bytes > 0 and total > self.budget_bytes
            if not over_budget and len(self._loaded) + extra <= self.capacity:
                return
            victims = [name for name in self._loaded if name != keep]
            if not victims:
                return  # a model over the whole budget, alone
            # A model over the whole budget goes first, whatever its recency; then the least
            # recently used (the dict's order).
            oversized = [
                name for name in victims if self._loaded[name].size > self.budget_bytes > 0
            ]
            self._drop((oversized or victims)[0])
            MODEL_CACHE_EVICTIONS.inc()

    def _drop(self, key: str) -> None:
        entry = self._loaded.pop(key, None)
        if entry is not None:
            MODEL_LOADED_BYTES.dec(entry.size)
