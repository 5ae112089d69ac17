"""The entity components of served conversation models, built once per model per process."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lexicraft.ml.components import EntityResolver


@dataclass
class EntityResolvers:
    """The entity components of the models this process served, one resolver per model.

    Keyed by the model's artifact key (each training run has its own, and its components are
    those of that run's snapshot), least recently used dropped beyond ``capacity``. Building
    a resolver compiles the regexes and indexes every synonym, which a request must not pay.
    """

    capacity: int = 8
    _resolvers: OrderedDict[Hashable, EntityResolver] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Hashable, build: Callable[[], EntityResolver]) -> EntityResolver:
        """The resolver cached under ``key``, built (outside the lock) when missing."""
        with self._lock:
            resolver = self._resolvers.get(key)
            if resolver is not None:
                self._resolvers.move_to_end(key)
                return resolver
        # Two requests may build the same resolver at once; both results are equal.
        resolver = build()
        with self._lock:
            self._resolvers[key] = resolver
            self._resolvers.move_to_end(key)
            while len(self._resolvers) > max(self.capacity, 1):
                self._resolvers.popitem(last=False)
        return resolver

    def __len__(self) -> int:
        with self._lock:
            return len(self._resolvers)
