"""Inter-annotator agreement: pure functions over annotators' versions of the same documents.

For every pair of annotators, over the documents both annotated:

* entity recognition: span F1 — a span agrees when the other annotator has the same start, end
  and category. With one annotator as the reference, precision and recall swap with the
  other's, so F1 = 2·matched / (first's spans + second's spans) whichever is the reference.
  Per category, and over all spans (micro).
* classification: Cohen's kappa, κ = (pₒ - pₑ) / (1 - pₑ), agreement beyond chance. Per class,
  a binary decision per document (the class given or not; for a single-label project that is
  the class one-vs-rest). Overall: for a single-label project the kappa over the documents'
  classes (no class is a category of its own); for a multi-label one the kappa of every
  (document, class) decision pooled.
* conversation (CLU) utterances: both, one part each (:func:`utterance_agreement`): Cohen's
  kappa over the intents (an utterance has exactly one: the single-label rule) and span F1 over
  the entities. An utterance conflicts when either part differs.

Each score measures one :class:`Part` of the labels; a :class:`PairReport` holds every part
measured for a pair (one for custom text, two for utterances: :func:`measured_parts`).

A score is None where it is undefined: no span of a category by either annotator (F1), or no
variation at all (pₑ = 1: both annotators gave every document the same single answer).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import combinations

from lexicraft.domain.projects import ProjectKind
from lexicraft.domain.spans import Span


class Measure(StrEnum):
    """What an agreement score measures."""

    SPAN_F1 = "spanF1"
    COHEN_KAPPA = "cohenKappa"


class Part(StrEnum):
    """Which part of a document's labels a score compares."""

    ENTITIES = "entities"
    CLASSES = "classes"
    INTENTS = "intents"


def measured_parts(kind: ProjectKind) -> tuple[tuple[Part, Measure], ...]:
    """The parts of a ``kind`` project's labels that agreement compares, and how, in the
    order reports list them (the first is a pair's headline score)."""
    if kind.is_conversation:
        return ((Part.INTENTS, Measure.COHEN_KAPPA), (Part.ENTITIES, Measure.SPAN_F1))
    if kind.is_classification:
        return ((Part.CLASSES, Measure.COHEN_KAPPA),)
    return ((Part.ENTITIES, Measure.SPAN_F1),)


@dataclass(frozen=True, slots=True)
class LabelAgreement:
    """Agreement on one entity category or class: ``first`` and ``second`` count each
    annotator's spans (or documents given the class), ``both`` those they share."""

    category: str
    score: float | None
    first: int
    second: int
    both: int


@dataclass(frozen=True, slots=True)
class PairAgreement:
    """Two annotators' agreement on one ``part`` of their labels over the documents both
    annotated; ``conflicts``: the documents where that part differs."""

    first: str
    second: str
    measure: Measure
    part: Part
    documents: tuple[str, ...]
    overall: float | None
    labels: tuple[LabelAgreement, ...]
    conflicts: tuple[str, ...]


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa of two raters' answers (one pair per item); None with no items, or when
    chance agreement is certain (pₑ = 1) and kappa is undefined."""
    if not pairs:
        return None
    total = len(pairs)
    observed = sum(1 for first, second in pairs if first == second) / total
    firsts = Counter(first for first, _ in pairs)
    seconds = Counter(second for _, second in pairs)
    expected = sum(firsts[answer] * seconds[answer] for answer in firsts) / (total * total)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def span_f1(first: Sequence[Span], second: Sequence[Span]) -> tuple[float | None, int]:
    """F1 of two annotators' spans (exact start, end and category) and how many match; None
    when neither has a span."""
    matched = len(set(first) & set(second))
    if not first and not second:
        return None, 0
    return 2 * matched / (len(first) + len(second)), matched


def span_agreement(
    first: str,
    second: str,
    versions: tuple[Mapping[str, Sequence[Span]], Mapping[str, Sequence[Span]]],
    categories: Sequence[str],
) -> PairAgreement:
    """Span F1 of annotators ``first`` and ``second`` over the documents in both of their
    ``versions`` (location → spans), per category of ``categories`` and over all spans."""
    mine, theirs = versions
    common = tuple(location for location in mine if location in theirs)
    all_first = [span for location in common for span in mine[location]]
    all_second = [span for location in common for span in theirs[location]]
    overall, _ = span_f1(all_first, all_second)
    seen = list(categories) + sorted(
        {span.category for span in all_first + all_second} - set(categories)
    )
    labels = []
    for category in seen:
        one = [span for span in all_first if span.category == category]
        other = [span for span in all_second if span.category == category]
        score, matched = span_f1(one, other)
        labels.append(LabelAgreement(category, score, len(one), len(other), matched))
    conflicts = tuple(
        location for location in common if set(mine[location]) != set(theirs[location])
    )
    return PairAgreement(
        first, second, Measure.SPAN_F1, Part.ENTITIES, common, overall, tuple(labels), conflicts
    )


def class_agreement(
    first: str,
    second: str,
    versions: tuple[Mapping[str, Sequence[str]], Mapping[str, Sequence[str]]],
    categories: Sequence[str],
    *,
    single_label: bool,
    part: Part = Part.CLASSES,
) -> PairAgreement:
    """Cohen's kappa of annotators ``first`` and ``second`` over the documents in both of their
    ``versions`` (location → classes): per class (given or not), and overall. ``part``: what
    the classes are (an utterance's intent is its one class)."""
    mine, theirs = versions
    common = tuple(location for location in mine if location in theirs)
    seen = list(categories) + sorted(
        {c for location in common for c in (*mine[location], *theirs[location])} - set(categories)
    )
    labels = []
    decisions: list[tuple[Hashable, Hashable]] = []
    for category in seen:
        pairs = [(category in mine[location], category in theirs[location]) for location in common]
        decisions.extend(pairs)
        labels.append(
            LabelAgreement(
                category,
                cohen_kappa(pairs),
                sum(1 for one, _ in pairs if one),
                sum(1 for _, other in pairs if other),
                sum(1 for one, other in pairs if one and other),
            )
        )
    if single_label:
        # A document without a class is an answer too ("none of them").
        overall = cohen_kappa(
            [(_only(mine[location]), _only(theirs[location])) for location in common]
        )
    else:
        overall = cohen_kappa(decisions)
    conflicts = tuple(
        location for location in common if set(mine[location]) != set(theirs[location])
    )
    return PairAgreement(
        first, second, Measure.COHEN_KAPPA, part, common, overall, tuple(labels), conflicts
    )


def _only(classes: Sequence[str]) -> str | None:
    return classes[0] if classes else None


def _sharing(versions: Mapping[str, Mapping[str, object]]) -> list[tuple[str, str]]:
    """Every pair of annotators (by name) whose versions share a document."""
    return [
        (first, second)
        for first, second in combinations(sorted(versions), 2)
        if set(versions[first]) & set(versions[second])
    ]


def pairwise_span_agreement(
    versions: Mapping[str, Mapping[str, Sequence[Span]]], categories: Sequence[str]
) -> list[PairAgreement]:
    """:func:`span_agreement` of every pair of annotators (by name) that share a document."""
    return [
        span_agreement(first, second, (versions[first], versions[second]), categories)
        for first, second in _sharing(versions)
    ]


def pairwise_class_agreement(
    versions: Mapping[str, Mapping[str, Sequence[str]]],
    categories: Sequence[str],
    *,
    single_label: bool,
) -> list[PairAgreement]:
    """:func:`class_agreement` of every pair of annotators (by name) that share a document."""
    return [
        class_agreement(
            first,
            second,
            (versions[first], versions[second]),
            categories,
            single_label=single_label,
        )
        for first, second in _sharing(versions)
    ]


# -- every part of a pair's labels ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PairReport:
    """Two annotators' agreement on every part of their labels (:func:`measured_parts`), over
    the documents both annotated; ``conflicts``: those where any part differs, in order."""

    first: str
    second: str
    documents: tuple[str, ...]
    parts: tuple[PairAgreement, ...]
    conflicts: tuple[str, ...]

    @classmethod
    def of(cls, *parts: PairAgreement) -> PairReport:
        """The report of one pair's ``parts`` (each over the same documents)."""
        head = parts[0]
        differ = {location for part in parts for location in part.conflicts}
        conflicts = tuple(location for location in head.documents if location in differ)
        return cls(head.first, head.second, head.documents, parts, conflicts)


#: An utterance's labels: its intent (None: not given) and its entity spans.
UtteranceLabels = tuple[str | None, Sequence[Span]]


def utterance_agreement(
    first: str,
    second: str,
    versions: tuple[Mapping[str, UtteranceLabels], Mapping[str, UtteranceLabels]],
    intents: Sequence[str],
    entities: Sequence[str],
) -> PairReport:
    """Annotators ``first`` and ``second`` on the utterances in both of their ``versions``
    (location → (intent, spans)): Cohen's kappa over the intents (single-label: an utterance
    has one), then span F1 over the entities."""
    mine, theirs = versions

    def intents_of(labels: Mapping[str, UtteranceLabels]) -> dict[str, tuple[str, ...]]:
        return {
            location: () if intent is None else (intent,)
            for location, (intent, _) in labels.items()
        }

    def spans_of(labels: Mapping[str, UtteranceLabels]) -> dict[str, Sequence[Span]]:
        return {location: spans for location, (_, spans) in labels.items()}

    return PairReport.of(
        class_agreement(
            first,
            second,
            (intents_of(mine), intents_of(theirs)),
            intents,
            single_label=True,
            part=Part.INTENTS,
        ),
        span_agreement(first, second, (spans_of(mine), spans_of(theirs)), entities),
    )


def pairwise_utterance_agreement(
    versions: Mapping[str, Mapping[str, UtteranceLabels]],
    intents: Sequence[str],
    entities: Sequence[str],
) -> list[PairReport]:
    """:func:`utterance_agreement` of every pair of annotators (by name) that share an
    utterance."""
    return [
        utterance_agreement(first, second, (versions[first], versions[second]), intents, entities)
        for first, second in _sharing(versions)
    ]
