"""What every entity component finds: :class:`EntityMatch`, and the language rule they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class EntityMatch:
    """One entity found in a text (code points, half-open) and what the finders know of it.

    ``resolutions`` and ``extra_information`` are wire-ready: each item carries its
    ``resolutionKind`` / ``extraInformationKind`` and the fields of Azure's shape (spec §1.4).
    """

    start: int
    end: int
    category: str
    confidence: float
    resolutions: tuple[dict[str, Any], ...] = field(default=())
    extra_information: tuple[dict[str, Any], ...] = field(default=())

    @property
    def length(self) -> int:
        """How many code points the match covers."""
        return self.end - self.start

    def overlaps(self, other: EntityMatch) -> bool:
        """Whether the two matches share at least one code point."""
        return self.start < other.end and other.start < self.end


def primary_language(language: str | None) -> str | None:
    """``"en-US"`` → ``"en"``: synonyms and expressions written for ``en`` serve ``en-us`` too.

    Azure's project languages are mostly bare (``en``) while utterances may say ``en-us``;
    comparing the primary subtag, case-insensitively, lets either spelling reach the other.
    """
    if language is None:
        return None
    return language.strip().replace("_", "-").split("-", 1)[0].casefold() or None


def serves(component_language: str | None, text_language: str | None) -> bool:
    """Whether a synonym or expression of ``component_language`` applies to a text.

    A component without a language applies to every text; a text without a language (no
    project language either) is matched by every component.
    """
    if component_language is None or text_language is None:
        return True
    return primary_language(component_language) == primary_language(text_language)
