"""List components: a project's synonyms found in a text.

Matching is by tokens, so a synonym is found only on word boundaries ("york" is not found in
"yorkshire"): text and synonyms are cut into the same tokens (a run of word characters, one
CJK/Thai-script character — those scripts write no spaces, so each character is a token — or
one other non-space character), each token NFKC-normalised and casefolded. A synonym is found
where its token sequence occurs in the text's; the spaces between tokens do not matter
("New  York" finds "new york"). Where synonyms of one entity overlap, the longest wins (then
the earlier). The table is one dict keyed by token tuples for all entities, built once per
resolver, so a lookup costs a few dict probes per token whatever the number of synonyms.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import regex

from lexicraft.domain.conversations import ConversationEntity
from lexicraft.ml.components.matches import EntityMatch, serves

# Scripts written without spaces: one character is one token there.
_UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_TOKEN = regex.compile(rf"[{_UNSPACED}]|[^\W{_UNSPACED}]+|[^\w\s]")


def _norm(token: str) -> str:
    return unicodedata.normalize("NFKC", token).casefold()


def tokens(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, normalised token)`` of each token of ``text``, code points."""
    return [(m.start(), m.end(), _norm(m.group())) for m in _TOKEN.finditer(text)]


@dataclass(frozen=True, slots=True)
class _Entry:
    entity: int
    language: str | None
    key: str


class ListMatcher:
    """Every list component of a project, matched in one pass over a text's tokens."""

    def __init__(self, entities: Sequence[ConversationEntity]) -> None:
        self._categories = [entity.category for entity in entities]
        self._table: dict[tuple[str, ...], list[_Entry]] = {}
        # The most tokens of any synonym starting with a token: bounds the probes per token.
        self._longest_from: dict[str, int] = {}
        for index, entity in enumerate(entities):
            for item in entity.list_items:
                for synonyms in item.synonyms:
                    if not synonyms.values:
                        continue
                    # Azure's ListKey is the sublist's listKey; without one, the words' first.
                    key = item.key if item.key is not None else synonyms.values[0]
                    for value in synonyms.values:
                        self._add(value, _Entry(index, synonyms.language, key))

    def _add(self, value: str, entry: _Entry) -> None:
        sequence = tuple(token for _, _, token in tokens(value))
        if not sequence:
            return
        entries = self._table.setdefault(sequence, [])
        # The first item that names a synonym keeps it (per entity and language).
        if any(e.entity == entry.entity and e.language == entry.language for e in entries):
            return
        entries.append(entry)
        first = sequence[0]
        self._longest_from[first] = max(self._longest_from.get(first, 0), len(sequence))

    def __bool__(self) -> bool:
        return bool(self._table)

    def find(self, text: str, language: str | None) -> dict[int, list[EntityMatch]]:
        """Each entity's (by index) non-overlapping list matches in ``text``."""
        if not self._table:
            return {}
        found = tokens(text)
        words = [token for _, _, token in found]
        candidates: dict[int, list[tuple[int, int, str]]] = {}
        for i, word in enumerate(words):
            longest = min(self._longest_from.get(word, 0), len(words) - i)
            for n in range(longest, 0, -1):
                entries = self._table.get(tuple(words[i : i + n]))
                if not entries:
                    continue
                start, end = found[i][0], found[i + n - 1][1]
                seen: set[int] = set()
                for entry in entries:
                    if entry.entity not in seen and serves(entry.language, language):
                        seen.add(entry.entity)
                        candidates.setdefault(entry.entity, []).append((start, end, entry.key))
        return {
            entity: _longest_first(spans, self._categories[entity])
            for entity, spans in candidates.items()
        }


def _longest_first(spans: list[tuple[int, int, str]], category: str) -> list[EntityMatch]:
    """The longest spans that do not overlap (ties: the earlier), as matches in text order."""
    chosen: list[EntityMatch] = []
    for start, end, key in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
        match = EntityMatch(
            start,
            end,
            category,
            1.0,
            extra_information=({"extraInformationKind": "ListKey", "key": key},),
        )
        if not any(match.overlaps(other) for other in chosen):
            chosen.append(match)
    return sorted(chosen, key=lambda m: m.start)
