"""Every entity of a text: learned spans and the list, regex and prebuilt components, composed."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from lexicraft.domain.conversations import ConversationEntity, EntityComponent
from lexicraft.ml.base import PredictedSpan
from lexicraft.ml.components.composition import compose
from lexicraft.ml.components.lists import ListMatcher
from lexicraft.ml.components.matches import EntityMatch
from lexicraft.ml.components.prebuilts import PrebuiltMatcher
from lexicraft.ml.components.regexes import RegexMatcher, pattern_problem

log = logging.getLogger(__name__)

#: Longest regex pattern :func:`entity_problems` accepts unless told otherwise (the setting
#: ``clu_max_regex_pattern_chars`` has the same default).
DEFAULT_MAX_PATTERN_CHARS = 1000


class EntityResolver:
    """A project's entity components, built once (per loaded deployment) and used per text.

    ``language`` is the project's: texts sent without a language are read in it.
    """

    def __init__(
        self, entities: Sequence[ConversationEntity], language: str, *, regex_timeout_s: float
    ) -> None:
        self._entities = tuple(entities)
        self._index = {entity.category: i for i, entity in enumerate(self._entities)}
        self._language = language
        self._lists = ListMatcher(self._entities)
        self._regexes = RegexMatcher(self._entities, timeout_s=regex_timeout_s)
        self._prebuilts = PrebuiltMatcher(
            {i: entity.prebuilts for i, entity in enumerate(self._entities)},
            [entity.category for entity in self._entities],
        )
        # Load the prebuilt models now: building them takes up to a second.
        self._prebuilts.warm(language)

    def find(
        self, text: str, learned: Sequence[PredictedSpan], language: str | None = None
    ) -> list[EntityMatch]:
        """Every entity of the text, sorted by start.

        Learned spans plus every component's matches, composed per entity's
        ``compositionSetting``, ``requiredComponents`` enforced (see
        :mod:`lexicraft.ml.components.composition`). No two matches of one entity overlap,
        except under ``separateComponents``, where matches of different components may (as
        Azure). Learned spans of a category the project does not define pass through as they
        are.
        """
        language = language or self._language
        found: dict[int, dict[EntityComponent, list[EntityMatch]]] = {}
        strangers: list[EntityMatch] = []
        learned_by: dict[int, list[EntityMatch]] = {}
        for span in learned:
            match = EntityMatch(span.start, span.end, span.category, span.confidence)
            index = self._index.get(span.category)
            if index is None:
                strangers.append(match)
            else:
                learned_by.setdefault(index, []).append(match)
        for index, matches in learned_by.items():
            found.setdefault(index, {})[EntityComponent.LEARNED] = _longest_first(matches)
        for component, per_entity in (
            (EntityComponent.LIST, self._lists.find(text, language) if self._lists else {}),
            (EntityComponent.PREBUILTS, self._prebuilts.find(text, language)),
            (EntityComponent.REGEX, self._regexes.find(text, language) if self._regexes else {}),
        ):
            for index, matches in per_entity.items():
                found.setdefault(index, {})[component] = matches
        out = list(strangers)
        for index, by_component in found.items():
            entity = self._entities[index]
            out.extend(
                compose(
                    entity.category,
                    entity.composition,
                    entity.required_components,
                    by_component,
                )
            )
        out.sort(key=lambda m: (m.start, m.end, m.category))
        return out


def _longest_first(matches: list[EntityMatch]) -> list[EntityMatch]:
    """A model's spans of one entity without overlaps: the longest, then the most confident."""
    chosen: list[EntityMatch] = []
    for match in sorted(matches, key=lambda m: (-m.length, -m.confidence, m.start)):
        if not any(match.overlaps(other) for other in chosen):
            chosen.append(match)
    return chosen


def entity_problems(
    entities: Sequence[ConversationEntity],
    *,
    max_pattern_chars: int = DEFAULT_MAX_PATTERN_CHARS,
) -> list[tuple[str, str]]:
    """``(wire path, message)`` for each entity definition that cannot work; [] when all can.

    Regex patterns that do not compile, are longer than ``max_pattern_chars`` or could
    backtrack catastrophically; ``requiredComponents`` naming a component the entity lacks
    (every entity has the learned one: its labels live in the utterances, not here).
    Prebuilt categories Lexicraft does not find are not problems (an import warns of them:
    :func:`prebuilt_warnings`).
    """
    problems: list[tuple[str, str]] = []
    for i, entity in enumerate(entities):
        base = f"assets.entities[{i}]"
        for j, expression in enumerate(entity.regexes):
            problem = pattern_problem(expression.pattern, max_pattern_chars)
            if problem is not None:
                problems.append((f"{base}.regex.expressions[{j}].regexPattern", problem))
        present = {
            EntityComponent.LEARNED: True,
            EntityComponent.LIST: bool(entity.list_items),
            EntityComponent.PREBUILTS: bool(entity.prebuilts),
            EntityComponent.REGEX: bool(entity.regexes),
        }
        wire_name = {
            EntityComponent.LIST: "list",
            EntityComponent.PREBUILTS: "prebuilts",
            EntityComponent.REGEX: "regex",
        }
        for k, component in enumerate(entity.required_components):
            if not present[component]:
                problems.append(
                    (
                        f"{base}.requiredComponents[{k}]",
                        f"'{component.value}' is required but entity '{entity.category}' has "
                        f"no {wire_name[component]} component",
                    )
                )
    return problems


def prebuilt_warnings(entities: Sequence[ConversationEntity]) -> list[tuple[str, str]]:
    """``(wire path, message)`` for each prebuilt category Lexicraft does not find."""
    from lexicraft.ml.components.prebuilts import SUPPORTED_PREBUILTS

    return [
        (
            f"assets.entities[{i}].prebuilts[{j}].category",
            f"prebuilt '{category}' of entity '{entity.category}' is not supported by "
            "Lexicraft: it will find nothing",
        )
        for i, entity in enumerate(entities)
        for j, category in enumerate(entity.prebuilts)
        if category not in SUPPORTED_PREBUILTS
    ]
