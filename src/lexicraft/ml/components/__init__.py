"""Entity components of conversation (CLU) projects: list, regex and prebuilt finders, and
how their matches and a model's learned spans compose into entities.

- :mod:`.lists` — synonyms (``ListKey``), :mod:`.regexes` — patterns (``RegexKey``), bounded
  in time, :mod:`.prebuilts` — Recognizers-Text (numbers, units, dates, email, URL, phone,
  yes/no) in Azure's resolution shapes, :mod:`.composition` — ``compositionSetting`` and
  ``requiredComponents``, :mod:`.resolver` — :class:`EntityResolver` and
  :func:`entity_problems`.
"""

from lexicraft.ml.components.matches import EntityMatch
from lexicraft.ml.components.prebuilts import (
    SUPPORTED_PREBUILTS,
    PrebuiltCategory,
    prebuilt_catalog,
)
from lexicraft.ml.components.resolver import (
    DEFAULT_MAX_PATTERN_CHARS,
    EntityResolver,
    entity_problems,
    prebuilt_warnings,
)

__all__ = [
    "DEFAULT_MAX_PATTERN_CHARS",
    "SUPPORTED_PREBUILTS",
    "EntityMatch",
    "EntityResolver",
    "PrebuiltCategory",
    "entity_problems",
    "prebuilt_catalog",
    "prebuilt_warnings",
]
