"""How the matches of one entity's components become that entity's spans.

Azure documents the four ``compositionSetting`` values in a sentence each; these are the
rules Lexicraft follows. Each component (learned, list, prebuilts, regex) first yields
matches that do not overlap one another (the components see to it: the longest wins). Two
matches *overlap* when they share a code point; a *cluster* is a maximal group of matches,
from any components, joined by overlaps (transitively).

``combineComponents`` (the default)
    Each cluster becomes one span from its first to its last code point; its confidence is
    the highest of the cluster's, its resolutions and extra information those of all its
    matches (duplicates once, in component order learned, list, prebuilts, regex).
``separateComponents``
    Every component's matches are returned as they are, as Azure does: matches of different
    components may overlap (and may even share a span) — the one setting where one entity's
    spans can overlap.
``returnLongestOverlap``
    Where matches overlap, the longest is returned (ties: higher confidence, then earlier
    start, then component order), the others dropped; chosen greedily, longest first, so a
    cluster can yield more than one span when its ends do not overlap each other.
``requireExactOverlap``
    A cluster is returned only if all its matches cover exactly the same span (every
    component that fired there agrees); then as one span, merged as for
    ``combineComponents``. A cluster of one match is trivially exact.

``requiredComponents``: a span is returned only if every required component has a match
overlapping it (for ``requireExactOverlap``: covering exactly it). For
``returnLongestOverlap`` the test runs before the choice, so a shorter match that has its
required components wins over a longer one that lacks them. An empty list requires nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lexicraft.domain.conversations import CompositionSetting, EntityComponent
from lexicraft.ml.components.matches import EntityMatch

#: The order components' matches and their information are listed in.
COMPONENT_ORDER = (
    EntityComponent.LEARNED,
    EntityComponent.LIST,
    EntityComponent.PREBUILTS,
    EntityComponent.REGEX,
)


def compose(
    category: str,
    setting: CompositionSetting,
    required: Sequence[EntityComponent],
    by_component: Mapping[EntityComponent, Sequence[EntityMatch]],
) -> list[EntityMatch]:
    """One entity's spans from its components' matches, sorted by start."""
    tagged = [
        (component, match)
        for component in COMPONENT_ORDER
        for match in by_component.get(component, ())
    ]
    if not tagged:
        return []
    needed = tuple(dict.fromkeys(required))
    out: list[EntityMatch]
    if setting is CompositionSetting.SEPARATE_COMPONENTS:
        out = [m for _, m in tagged if _has_required(m, needed, tagged, exact=False)]
    elif setting is CompositionSetting.RETURN_LONGEST_OVERLAP:
        eligible = [t for t in tagged if _has_required(t[1], needed, tagged, exact=False)]
        order = {component: rank for rank, component in enumerate(COMPONENT_ORDER)}
        eligible.sort(key=lambda t: (-t[1].length, -t[1].confidence, t[1].start, order[t[0]]))
        out = []
        for _, match in eligible:
            if not any(match.overlaps(other) for other in out):
                out.append(match)
    else:
        exact = setting is CompositionSetting.REQUIRE_EXACT_OVERLAP
        out = []
        for cluster in _clusters(tagged):
            spans = {(m.start, m.end) for _, m in cluster}
            if exact and len(spans) > 1:
                continue
            cluster.sort(key=lambda t: COMPONENT_ORDER.index(t[0]))
            merged = _merge(category, [m for _, m in cluster])
            if _has_required(merged, needed, cluster, exact=exact):
                out.append(merged)
    return sorted((_named(m, category) for m in out), key=lambda m: (m.start, m.end, -m.confidence))


def _has_required(
    span: EntityMatch,
    required: Sequence[EntityComponent],
    tagged: Sequence[tuple[EntityComponent, EntityMatch]],
    *,
    exact: bool,
) -> bool:
    for component in required:
        if not any(
            c is component
            and ((m.start, m.end) == (span.start, span.end) if exact else m.overlaps(span))
            for c, m in tagged
        ):
            return False
    return True


def _clusters(
    tagged: list[tuple[EntityComponent, EntityMatch]],
) -> list[list[tuple[EntityComponent, EntityMatch]]]:
    clusters: list[list[tuple[EntityComponent, EntityMatch]]] = []
    reach = -1
    for item in sorted(tagged, key=lambda t: (t[1].start, t[1].end)):
        if clusters and item[1].start < reach:
            clusters[-1].append(item)
            reach = max(reach, item[1].end)
        else:
            clusters.append([item])
            reach = item[1].end
    return clusters


def _merge(category: str, matches: Sequence[EntityMatch]) -> EntityMatch:
    if len(matches) == 1:
        return matches[0]
    return EntityMatch(
        min(m.start for m in matches),
        max(m.end for m in matches),
        category,
        max(m.confidence for m in matches),
        _unique(r for m in matches for r in m.resolutions),
        _unique(e for m in matches for e in m.extra_information),
    )


def _unique(items: Iterable[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    seen: list[dict[str, Any]] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return tuple(seen)


def _named(match: EntityMatch, category: str) -> EntityMatch:
    if match.category == category:
        return match
    return EntityMatch(
        match.start,
        match.end,
        category,
        match.confidence,
        match.resolutions,
        match.extra_information,
    )
