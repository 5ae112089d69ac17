"""The entity components of served conversation models, built once per model per process."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lexicraft.domain.conversations import ConversationAssets

if TYPE_CHECKING:
    from lexicraft.ml.components import EntityResolver


@dataclass(frozen=True, slots=True)
class ServedComponents:
    """What a deployed model answers with beside itself: the intents and entities of the
    project it was trained on, their entity components built, and that project's
    ``confidenceThreshold``."""

    assets: ConversationAssets
    resolver: EntityResolver
    confidence_threshold: float = 0.0


@dataclass
class EntityResolvers:
    """The served components of the conversation models this process answered for.

    Keyed by what makes them (see ``services/conversation_runtime.py``), least recently used
    dropped beyond ``capacity``. Building a resolver compiles the regexes and indexes every
    synonym, which a request must not pay for.
    """

    capacity: int = 8
    _served: OrderedDict[Hashable, ServedComponents] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Hashable, build: Callable[[], ServedComponents]) -> ServedComponents:
        """The components cached under ``key``, built (outside the lock) when missing."""
        with self._lock:
            served = self._served.get(key)
            if served is not None:
                self._served.move_to_end(key)
                return served
        # Two requests may build the same components at once; both results are equal.
        served = build()
        with self._lock:
            self._served[key] = served
            self._served.move_to_end(key)
            while len(self._served) > max(self.capacity, 1):
                self._served.popitem(last=False)
        return served

    def keys(self) -> list[Hashable]:
        """The cached keys, least recently used first."""
        with self._lock:
            return list(self._served)
