"""Conversation (CLU) projects: intents, entities and the components that find entities.

A conversation project's utterances are domain :class:`~lexicraft.domain.projects.Document`
values: ``classes`` holds exactly the utterance's one intent, ``spans`` its labelled entities
(code points), ``location`` a stable name Lexicraft gives the utterance. What custom text
projects call labels are, here, the intents and the entities with their components
(:class:`ConversationAssets`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: The intent every conversation project has, and the answer when no intent is confident enough.
NONE_INTENT = "None"


class EntityComponent(StrEnum):
    """The parts that can find an entity (Azure's ``requiredComponents`` values)."""

    LEARNED = "learned"
    LIST = "list"
    PREBUILTS = "prebuilts"
    REGEX = "regex"


class CompositionSetting(StrEnum):
    """How overlapping matches of one entity's components become entities."""

    COMBINE_COMPONENTS = "combineComponents"
    SEPARATE_COMPONENTS = "separateComponents"
    RETURN_LONGEST_OVERLAP = "returnLongestOverlap"
    REQUIRE_EXACT_OVERLAP = "requireExactOverlap"


@dataclass(frozen=True, slots=True)
class Synonyms:
    """The words of one list item in one language (None: every language)."""

    language: str | None
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ListItem:
    """One item of a list component: its canonical key and the words that mean it."""

    key: str | None
    synonyms: tuple[Synonyms, ...]


@dataclass(frozen=True, slots=True)
class RegexExpression:
    """One pattern of a regex component (``language`` None: every language)."""

    key: str | None
    language: str | None
    pattern: str


@dataclass(frozen=True, slots=True)
class ConversationEntity:
    """An entity of a conversation project and its components."""

    category: str
    composition: CompositionSetting = CompositionSetting.COMBINE_COMPONENTS
    description: str | None = None
    list_items: tuple[ListItem, ...] = ()
    prebuilts: tuple[str, ...] = ()
    regexes: tuple[RegexExpression, ...] = ()
    required_components: tuple[EntityComponent, ...] = ()


@dataclass(frozen=True, slots=True)
class ConversationAssets:
    """A conversation project's intents (``None`` included) and entities."""

    intents: tuple[str, ...]
    entities: tuple[ConversationEntity, ...]

    @property
    def entity_categories(self) -> tuple[str, ...]:
        """The entities' names, in project order."""
        return tuple(entity.category for entity in self.entities)
