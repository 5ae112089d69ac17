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

from lexicraft.errors import Conflict

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


def finds_by_components(entity: ConversationEntity) -> bool:
    """Whether ``entity`` has a list, prebuilt or regex component beside its learned one."""
    return bool(entity.list_items or entity.prebuilts or entity.regexes)


def merged_entity(
    kept: ConversationEntity, absorbed: ConversationEntity, *, target: str
) -> ConversationEntity:
    """One entity, ``kept``'s name, from two merged into it (an entity renamed onto another's
    name): what each found, the merged entity finds.

    - list items: ``kept``'s, then ``absorbed``'s; an item whose key ``kept`` has already
      adds its words to that item's (per language, each word once);
    - prebuilt components and regex expressions: ``kept``'s, then ``absorbed``'s new ones;
    - description: ``kept``'s, else ``absorbed``'s (it changes no prediction);
    - ``compositionSetting``: the one they share; when they differ, that of the one entity
      with list, prebuilt or regex components (the other, learned only, composes one
      component: its setting changes nothing) or, when neither has any, ``kept``'s;
    - ``requiredComponents``: the ones they share.

    Two settings that both change predictions cannot be combined without changing one
    entity's: different composition settings of two entities with components, or different
    ``requiredComponents``, are a :class:`~lexicraft.errors.Conflict` naming them (on
    ``target``), never a guess.
    """
    composition = kept.composition
    if kept.composition != absorbed.composition:
        if finds_by_components(kept) and finds_by_components(absorbed):
            raise Conflict(
                f"entities {absorbed.category!r} ({absorbed.composition.value}) and "
                f"{kept.category!r} ({kept.composition.value}) compose their components "
                "differently; merging them would change what one of them finds. Give them the "
                "same compositionSetting first (import the project file with it changed)",
                target=target,
            )
        if finds_by_components(absorbed):
            composition = absorbed.composition
    if set(kept.required_components) != set(absorbed.required_components):

        def named(entity: ConversationEntity) -> str:
            required = [component.value for component in entity.required_components]
            return f"{entity.category!r} ({required or 'nothing'})"

        raise Conflict(
            f"entities {named(absorbed)} and {named(kept)} require different components; "
            "merging them would change what one of them finds. Give them the same "
            "requiredComponents first (import the project file with it changed)",
            target=target,
        )
    return ConversationEntity(
        category=kept.category,
        composition=composition,
        description=kept.description if kept.description is not None else absorbed.description,
        list_items=_merged_list(kept.list_items, absorbed.list_items),
        prebuilts=tuple(dict.fromkeys((*kept.prebuilts, *absorbed.prebuilts))),
        regexes=tuple(dict.fromkeys((*kept.regexes, *absorbed.regexes))),
        required_components=kept.required_components,
    )


def _merged_list(kept: tuple[ListItem, ...], added: tuple[ListItem, ...]) -> tuple[ListItem, ...]:
    """``kept``'s list items, then ``added``'s: an item with a key ``kept`` has already (a key
    is what a match resolves to) adds its words to that item; an identical item is kept once."""
    items = list(kept)
    for item in added:
        same_key = [
            index
            for index, mine in enumerate(items)
            if item.key is not None and mine.key == item.key
        ]
        if same_key:
            items[same_key[0]] = ListItem(
                item.key, _merged_synonyms(items[same_key[0]].synonyms, item.synonyms)
            )
        elif item not in items:
            items.append(item)
    return tuple(items)


def _merged_synonyms(
    kept: tuple[Synonyms, ...], added: tuple[Synonyms, ...]
) -> tuple[Synonyms, ...]:
    """``kept``'s words, ``added``'s joining those of their language (each word once)."""
    merged = list(kept)
    for synonyms in added:
        at = next((i for i, s in enumerate(merged) if s.language == synonyms.language), None)
        if at is None:
            merged.append(synonyms)
        else:
            values = tuple(dict.fromkeys((*merged[at].values, *synonyms.values)))
            merged[at] = Synonyms(synonyms.language, values)
    return tuple(merged)
