"""Conversation project files ⇄ stored utterances: the content rules of an import.

The file's wire shape is :mod:`lexicraft.wire.conversation_file`; this module checks what
needs the texts and the settings (labels inside their utterance, one entity's labels apart,
the service limits, the entity definitions) and turns entries into domain documents, UTF-16
label offsets into code points (through :mod:`lexicraft.ml.offsets` only). Every refusal is
an Azure error whose target is the field's path in the file, e.g.
``assets.utterances[3].entities[0].offset``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lexicraft.domain.conversation_files import ConversationFile, UtteranceEntry
from lexicraft.domain.conversations import ConversationAssets, ConversationEntity
from lexicraft.domain.project_files import RawLabel
from lexicraft.domain.projects import Document, Project
from lexicraft.domain.spans import Span, first_span_problem
from lexicraft.domain.text import StringIndexType
from lexicraft.errors import InvalidProjectContent, InvalidRequestBody
from lexicraft.ml.components import entity_problems, prebuilt_warnings
from lexicraft.ml.offsets import OffsetMap
from lexicraft.services.project_files import utf16_labels
from lexicraft.settings import Settings
from lexicraft.wire.luis import convert_luis_app


@dataclass(frozen=True, slots=True)
class ConversationContent:
    """A checked conversation project: metadata, intents and entities, utterances (code
    points), and warnings the import reports (prebuilt entities Lexicraft lacks…)."""

    project: Project
    assets: ConversationAssets
    utterances: tuple[Document, ...]
    warnings: tuple[dict[str, str], ...] = ()


# -- reading a file ---------------------------------------------------------------------------


def read_conversation_file(settings: Settings, parsed: ConversationFile) -> ConversationContent:
    """Check ``parsed`` against the content rules and the limits; its utterances as documents.

    Nothing is stored here: a file that breaks a rule is refused whole.
    """
    project, assets = parsed.project, parsed.assets
    _check_count(settings, "clu_max_intents_per_project", len(assets.intents), "assets.intents")
    _check_count(settings, "clu_max_entities_per_project", len(assets.entities), "assets.entities")
    _check_count(
        settings, "clu_max_utterances_per_project", len(parsed.utterances), "assets.utterances"
    )
    _check_entities(settings, assets.entities)
    intents = set(assets.intents)
    entities = set(assets.entity_categories)
    locations: Counter[str] = Counter()
    documents = []
    for index, entry in enumerate(parsed.utterances):
        where = f"assets.utterances[{index}]"
        spans = _utterance_spans(settings, entry, intents, entities, where)
        location = _location(entry.text, locations)
        documents.append(
            Document(
                location=location,
                text=entry.text,
                language=entry.language,
                dataset=entry.dataset,
                spans=spans,
                classes=(entry.intent,),
            )
        )
    return ConversationContent(project, assets, tuple(documents), _prebuilt_warnings(assets))


def _check_count(settings: Settings, setting: str, count: int, target: str) -> None:
    """``count`` (of what ``target`` lists) must not exceed the limit ``setting``."""
    limit: int = getattr(settings, setting)
    if count > limit:
        raise InvalidProjectContent(
            f"{target} has {count} items; the limit is {limit} "
            f"(setting LEXICRAFT_{setting.upper()})",
            target=target,
        )


def _check_entities(settings: Settings, entities: Sequence[ConversationEntity]) -> None:
    for index, entity in enumerate(entities):
        count = len(entity.prebuilts)
        where = f"assets.entities[{index}].prebuilts"
        _check_count(settings, "clu_max_prebuilts_per_entity", count, where)
    synonyms = sum(
        len(words.values)
        for entity in entities
        for item in entity.list_items
        for words in item.synonyms
    )
    _check_count(settings, "clu_max_list_synonyms_per_project", synonyms, "assets.entities")
    expressions = sum(len(entity.regexes) for entity in entities)
    _check_count(settings, "clu_max_regex_expressions_per_project", expressions, "assets.entities")
    # The components module owns their rules (it runs them): regular expressions that do not
    # compile, are too long or could backtrack without bound; required components missing.
    for path, message in entity_problems(
        entities, max_pattern_chars=settings.clu_max_regex_pattern_chars
    ):
        raise InvalidProjectContent(f"{path}: {message}", target=path)


def _utterance_spans(
    settings: Settings,
    entry: UtteranceEntry,
    intents: set[str],
    entities: set[str],
    where: str,
) -> tuple[Span, ...]:
    """The utterance's labels as code-point spans, each rule checked with its path."""
    text = entry.text
    if not text.strip():
        raise InvalidProjectContent(
            f"{where}.text is empty; an utterance needs some text", target=f"{where}.text"
        )
    limit = settings.clu_max_utterance_characters
    if len(text) > limit:
        raise InvalidProjectContent(
            f"{where}.text is {len(text)} characters long; the limit for a training utterance "
            f"is {limit} (setting LEXICRAFT_CLU_MAX_UTTERANCE_CHARACTERS)",
            target=f"{where}.text",
        )
    if entry.intent not in intents:
        raise InvalidProjectContent(
            f"{where}.intent {entry.intent!r} is not one of the project's intents "
            f"{sorted(intents)}",
            target=f"{where}.intent",
        )
    offsets = OffsetMap(text)
    spans: list[Span] = []
    for index, label in enumerate(entry.labels):
        spans.append(_label_span(offsets, label, entities, f"{where}.entities[{index}]"))
    # Labels of different entities may overlap (an entity inside another); one entity's may not.
    for category in {span.category for span in spans}:
        indices = [i for i, span in enumerate(spans) if span.category == category]
        found = first_span_problem(text, [spans[i] for i in indices])
        if found is not None:
            target = f"{where}.entities[{indices[found[0]]}]"
            raise InvalidProjectContent(f"{target}: {found[1]}", target=target)
    return tuple(sorted(spans, key=lambda span: (span.start, span.end)))


def _label_span(offsets: OffsetMap, label: RawLabel, entities: set[str], where: str) -> Span:
    if label.category not in entities:
        raise InvalidProjectContent(
            f"{where}.category {label.category!r} is not one of the project's entities "
            f"{sorted(entities)}",
            target=f"{where}.category",
        )
    size = offsets.length_in(StringIndexType.UTF16)
    if not 0 <= label.offset < size:
        raise InvalidProjectContent(
            f"{where}.offset {label.offset} is outside the utterance (0…{size - 1} UTF-16 "
            "code units)",
            target=f"{where}.offset",
        )
    if not 0 < label.length <= size - label.offset:
        raise InvalidProjectContent(
            f"{where}.length {label.length} is empty or runs past the utterance's end "
            f"({size} UTF-16 code units)",
            target=f"{where}.length",
        )
    try:
        start, end = offsets.span_from_unit(label.offset, label.length, StringIndexType.UTF16)
    except ValueError as error:
        raise InvalidProjectContent(f"{where}: {error}", target=f"{where}.offset") from error
    return Span(start, end, label.category)


def _location(text: str, taken: Counter[str]) -> str:
    """A stable name for an utterance: its text's hash (``-2``, ``-3``… for repeats), so an
    utterance keeps its name, and its side of the percentage split, across imports."""
    base = "utterance-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    taken[base] += 1
    return base if taken[base] == 1 else f"{base}-{taken[base]}"


def utterance_location(text: str, taken: Collection[str]) -> str:
    """The name :func:`read_conversation_file` gives an utterance of ``text``, made unique
    among the ``taken`` names (an utterance added one at a time, by the Studio)."""
    counter: Counter[str] = Counter()
    while True:
        location = _location(text, counter)
        if location not in taken:
            return location


def _prebuilt_warnings(assets: ConversationAssets) -> tuple[dict[str, str], ...]:
    """A warning for each prebuilt component Lexicraft cannot recognise: the import keeps it
    (an export gives it back) but it finds nothing."""
    return tuple(
        {"code": "UnsupportedPrebuiltEntity", "message": message, "target": path}
        for path, message in prebuilt_warnings(assets.entities)
    )


# -- writing a file ---------------------------------------------------------------------------


def utterance_entries(documents: Sequence[Document]) -> list[UtteranceEntry]:
    """Stored utterances as the file's entries (UTF-16 offsets)."""
    return [
        UtteranceEntry(
            text=document.text,
            intent=document.classes[0],
            language=document.language,
            dataset=document.dataset,
            labels=utf16_labels(OffsetMap(document.text), document.spans),
        )
        for document in documents
    ]


# -- LUIS -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LuisImport:
    """A LUIS app converted into a CLU project file, and what the conversion did."""

    project_file: dict[str, Any]
    warnings: tuple[dict[str, str], ...]


def convert_luis(app: object, project_name: str) -> LuisImport:
    """A LUIS app JSON export as a CLU project file (``:import?format=Luis``).

    What was converted and what was dropped (patterns, phrase lists, features) become the
    import job's warnings: nothing is dropped silently.
    """
    if not isinstance(app, Mapping):
        raise InvalidRequestBody("a LUIS app must be a JSON object")
    conversion = convert_luis_app(app, project_name)
    warnings = [
        {"code": "LuisConverted", "message": f"converted: {item}"} for item in conversion.converted
    ]
    warnings += [
        {"code": "LuisDropped", "message": f"dropped (no CLU equivalent): {item}"}
        for item in conversion.dropped
    ]
    return LuisImport(dict(conversion.project_file), tuple(warnings))
