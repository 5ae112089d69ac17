"""Loaded predictors, kept per process and keyed by artifact folder.

Artifact folders are unique per training run, so a swap or redeploy (which points a deployment
at another folder) never serves a stale model, and no explicit invalidation is needed. Every
use first asks the process's :class:`~lexicraft.ml.checksums.ModelVerifier` about the folder
(a few ``stat`` calls while its files are unchanged): a model whose files were damaged on disk
stops being served at once, although the copy in memory is intact, because the next process to
load it would load the damage.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lexicraft.ml.checksums import ModelDamagedError, ModelVerifier
from lexicraft.telemetry.metrics import MODEL_CACHE_HITS, MODEL_CACHE_LOADS


class PredictorCache:
    """A small LRU of loaded models; a slow load only blocks callers of the same model."""

    def __init__(self, capacity: int = 8, verifier: ModelVerifier | None = None) -> None:
        self.capacity = capacity
        self.verifier = verifier or ModelVerifier()
        self._loaded: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def get(self, model_dir: Path, load: Callable[[Path], Any]) -> Any:
        """The predictor for ``model_dir``, loading it with ``load`` the first time.

        Raises :class:`ModelDamagedError` when the folder's files no longer match their
        checksums (and drops the loaded model).
        """
        key = str(model_dir.resolve())
        verdict = self.verifier.check(model_dir)
        if verdict.damaged:
            with self._lock:
                self._loaded.pop(key, None)
            raise ModelDamagedError(verdict.problem)
        with self._lock:
            if key in self._loaded:
                self._loaded.move_to_end(key)
                MODEL_CACHE_HITS.inc()
                return self._loaded[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._loaded:  # loaded by the caller this one waited for
                    MODEL_CACHE_HITS.inc()
                    return self._loaded[key]
            predictor = load(model_dir)
            MODEL_CACHE_LOADS.inc()
            # Asked again (stat calls, unless a file changed during the load): what was
            # loaded is what was verified.
            verdict = self.verifier.check(model_dir)
            if verdict.damaged:
                raise ModelDamagedError(verdict.problem)
            with self._lock:
                self._loaded[key] = predictor
                while len(self._loaded) > self.capacity:
                    self._loaded.popitem(last=False)
            return predictor

    def discard(self, model_dir: Path) -> None:
        """Forget ``model_dir`` (its files are being deleted, or changed by a deploy)."""
        with self._lock:
            self._loaded.pop(str(model_dir.resolve()), None)
        self.verifier.forget(model_dir)
