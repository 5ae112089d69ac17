"""Loaded predictors, kept per process and keyed by artifact folder.

Artifact folders are unique per training run, so a swap or redeploy (which points a deployment
at another folder) never serves a stale model, and no explicit invalidation is needed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lexicraft.telemetry.metrics import MODEL_CACHE_HITS, MODEL_CACHE_LOADS


class PredictorCache:
    """A small LRU of loaded models; a slow load only blocks callers of the same model."""

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = capacity
        self._loaded: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def get(self, model_dir: Path, load: Callable[[Path], Any]) -> Any:
        """The predictor for ``model_dir``, loading it with ``load`` the first time."""
        key = str(model_dir.resolve())
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
            with self._lock:
                self._loaded[key] = predictor
                while len(self._loaded) > self.capacity:
                    self._loaded.popitem(last=False)
            return predictor

    def discard(self, model_dir: Path) -> None:
        """Forget ``model_dir`` (its files are being deleted)."""
        with self._lock:
            self._loaded.pop(str(model_dir.resolve()), None)
