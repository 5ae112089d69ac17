"""Regex components: a project's patterns found in a text, bounded in time, and checked early.

Patterns are compiled with the ``regex`` package (closer to .NET's syntax, which Azure's
projects are written in, than ``re``: ``\\p{L}``, ``(?<name>…)``, atomic groups), with no
flags: like .NET, matching is case-sensitive unless the pattern says ``(?i)``. Every
expression of an entity runs over the whole text (``finditer``); empty matches are ignored;
where expressions of one entity overlap, the longest wins (then the earlier).

Two guards keep a user's pattern from stalling a request. At import, :func:`pattern_problem`
refuses patterns that do not compile, that are longer than a limit, or whose shape can
backtrack exponentially (a repeated group that itself holds a variable repeat, ``(a+)+``,
``(\\d{1,3},?)+``, ``(.*a){20}``; or a repeated alternation whose alternatives can match the
same start, ``(a|aa)+``): the test is on the parse tree, conservative, and not complete.
At run time each expression gets ``timeout_s`` per text (the ``regex`` package's own
``timeout``, checked inside the matcher); past it, the entity's regex component finds
nothing in that text and the log says which pattern timed out.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import regex

from lexicraft.domain.conversations import ConversationEntity
from lexicraft.ml.components.matches import EntityMatch, serves

log = logging.getLogger(__name__)

# The stdlib's regular-expression parser, for the shape of a pattern (a private module:
# imported by name so a change of its home breaks here, at import, not in a request).
_sre: Any = importlib.import_module("re._parser")
_const: Any = importlib.import_module("re._constants")

_REPEATS = {_const.MAX_REPEAT, _const.MIN_REPEAT}

# .NET / `regex` spellings the stdlib parser lacks, rewritten only to read the shape.
_DOTNET_TO_RE = (
    (regex.compile(r"\\[pP]\{[^}]*\}"), r"\\w"),
    (regex.compile(r"\(\?<([A-Za-z_]\w*)>"), r"(?P<\1>"),
    (regex.compile(r"\(\?'([A-Za-z_]\w*)'"), r"(?P<\1>"),
    (regex.compile(r"\\k<([A-Za-z_]\w*)>"), r"(?P=\1)"),
    (regex.compile(r"\\z"), r"\\Z"),
)
# Fallback when the stdlib cannot parse it: a group holding a quantifier, itself quantified.
_NESTED_QUANTIFIER = regex.compile(
    r"\((?:[^()\\]|\\.)*(?:[+*]|\{\d*,\d*\})(?:[^()\\]|\\.)*\)\s*[+*{]"
)


def pattern_problem(pattern: str, max_chars: int) -> str | None:
    """Why ``pattern`` cannot be a regex component, or None when it can."""
    if not pattern:
        return "is empty"
    if len(pattern) > max_chars:
        return f"is {len(pattern)} characters long; the limit is {max_chars}"
    try:
        regex.compile(pattern)
    except (regex.error, ValueError, OverflowError) as exc:
        return f"does not compile: {exc}"
    danger = _backtracking_danger(pattern)
    if danger is not None:
        return (
            f"could backtrack catastrophically: {danger}; "
            "use an atomic group or a possessive quantifier"
        )
    return None


def _backtracking_danger(pattern: str) -> str | None:
    readable = pattern
    for dotnet, stdlib in _DOTNET_TO_RE:
        readable = dotnet.sub(stdlib, readable)
    try:
        tree = _sre.parse(readable)
    except Exception:  # the stdlib reads less syntax than `regex`; fall back to the text
        if _NESTED_QUANTIFIER.search(pattern):
            return "a quantified group holds a quantifier"
        return None
    return _walk(list(tree), inside_repeat=False)


def _walk(items: list[tuple[Any, Any]], *, inside_repeat: bool) -> str | None:
    for op, av in items:
        found: str | None = None
        if op in _REPEATS:
            low, high, body = av
            if inside_repeat and (high == _const.MAXREPEAT or high - low >= 2):
                return "a repeated group holds a variable repeat (such as (a+)+)"
            found = _walk(list(body), inside_repeat=inside_repeat or high > 1)
        elif op is _const.SUBPATTERN:
            found = _walk(list(av[3]), inside_repeat=inside_repeat)
        elif op is _const.BRANCH:
            branches = [list(branch) for branch in av[1]]
            if inside_repeat and _branches_overlap(branches):
                return (
                    "a repeated alternation has alternatives that match the same text "
                    "(such as (a|aa)+)"
                )
            for branch in branches:
                found = found or _walk(branch, inside_repeat=inside_repeat)
        elif op in (_const.ASSERT, _const.ASSERT_NOT):
            found = _walk(list(av[1]), inside_repeat=inside_repeat)
        elif op is _const.GROUPREF_EXISTS:
            for branch in av[1:]:
                if branch is not None:
                    found = found or _walk(list(branch), inside_repeat=inside_repeat)
        elif op in (_const.ATOMIC_GROUP, _const.POSSESSIVE_REPEAT):
            # Neither gives back what it matched: what is inside cannot multiply the tries.
            body = av if op is _const.ATOMIC_GROUP else av[2]
            found = _walk(list(body), inside_repeat=False)
        if found is not None:
            return found
    return None


def _branches_overlap(branches: list[list[tuple[Any, Any]]]) -> bool:
    """Whether two alternatives can start on the same character (as far as literals tell).

    The stdlib parser factors a shared prefix out (``a|aa`` → ``a(?:|a)``), so an empty
    alternative is the sign of alternatives where one is a prefix of another.
    """
    firsts: list[int] = []
    for branch in branches:
        if not branch:
            return True
        op, av = branch[0]
        if op is _const.LITERAL:
            if av in firsts:
                return True
            firsts.append(av)
    return False


@dataclass(frozen=True, slots=True)
class _Expression:
    key: str | None
    language: str | None
    source: str
    compiled: Any  # regex.Pattern[str]


class RegexMatcher:
    """The regex components of every entity of a project, compiled once."""

    def __init__(self, entities: Sequence[ConversationEntity], *, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._categories = [entity.category for entity in entities]
        self._expressions: dict[int, list[_Expression]] = {}
        for index, entity in enumerate(entities):
            for expression in entity.regexes:
                try:
                    compiled = regex.compile(expression.pattern)
                except (regex.error, ValueError, OverflowError):
                    # Imports refuse such patterns (entity_problems); one that got in some
                    # other way finds nothing rather than failing every request.
                    log.warning(
                        "regex component of entity %r does not compile, ignored: %r",
                        entity.category,
                        expression.pattern,
                    )
                    continue
                self._expressions.setdefault(index, []).append(
                    _Expression(expression.key, expression.language, expression.pattern, compiled)
                )

    def __bool__(self) -> bool:
        return bool(self._expressions)

    def find(self, text: str, language: str | None) -> dict[int, list[EntityMatch]]:
        """Each entity's (by index) non-overlapping regex matches in ``text``."""
        found: dict[int, list[EntityMatch]] = {}
        for index, expressions in self._expressions.items():
            matches = self._entity_matches(index, expressions, text, language)
            if matches:
                found[index] = matches
        return found

    def _entity_matches(
        self, index: int, expressions: list[_Expression], text: str, language: str | None
    ) -> list[EntityMatch]:
        candidates: list[EntityMatch] = []
        for expression in expressions:
            if not serves(expression.language, language):
                continue
            try:
                spans = [
                    m.span()
                    for m in expression.compiled.finditer(text, timeout=self._timeout_s)
                    if m.end() > m.start()
                ]
            except TimeoutError:
                log.warning(
                    "regex component of entity %r timed out after %.3f s on a text of %d "
                    "characters; it finds nothing there: %r",
                    self._categories[index],
                    self._timeout_s,
                    len(text),
                    expression.source,
                )
                return []
            extra: dict[str, Any] = {"extraInformationKind": "RegexKey"}
            if expression.key is not None:  # Azure's regexKey is optional; no key, no field
                extra["key"] = expression.key
            extra["regexPattern"] = expression.source
            candidates.extend(
                EntityMatch(
                    start, end, self._categories[index], 1.0, extra_information=(dict(extra),)
                )
                for start, end in spans
            )
        chosen: list[EntityMatch] = []
        for match in sorted(candidates, key=lambda m: (-m.length, m.start)):
            if not any(match.overlaps(other) for other in chosen):
                chosen.append(match)
        return sorted(chosen, key=lambda m: m.start)
