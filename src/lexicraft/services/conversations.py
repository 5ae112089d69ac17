"""Answer ``:analyze-conversations``: one utterance through a deployed conversation model.

The use case behind ``POST /language/:analyze-conversations`` (spec §1): check the
utterance, find the model the deployment pins, run it through the compute (the same
prediction slots, fair turns and model checks as the analyze jobs), then let the entity
components (list, regex, prebuilt; composition and required components applied) add to what
the learned component found, and shape the answer: every intent with a score, sorted, the top
intent (``None`` under the project's ``confidenceThreshold``), entities with offsets in the
caller's unit.

Which components a deployment serves: those of the project as it was when the deployed model
was trained, not as it is now (:func:`served_assets`). Azure behaves so (a changed list
component takes effect after training and deploying again), and it keeps a deployment's
answers stable while the project is edited. One :class:`EntityResolver` is built per served
model (its artifact key: every training run gets its own) and kept in the context's
:class:`~lexicraft.services.entity_resolvers.EntityResolvers`, so a request compiles no pattern and indexes no synonym.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from lexicraft.domain.conversations import NONE_INTENT, ConversationAssets
from lexicraft.domain.projects import ProjectKind
from lexicraft.domain.text import StringIndexType
from lexicraft.errors import InvalidParameterValue, InvalidUtterance
from lexicraft.ml.base import ClassScore, ConversationOutput
from lexicraft.ml.offsets import OffsetMap
from lexicraft.services.context import ServiceContext
from lexicraft.storage.sql import conversations as conversation_store
from lexicraft.storage.sql import models as model_store
from lexicraft.storage.sql import projects as project_store

if TYPE_CHECKING:
    from lexicraft.ml.components import EntityMatch, EntityResolver

#: The wire path of the utterance, which the errors about it name.
TEXT_TARGET = "analysisInput.conversationItem.text"


@dataclass(frozen=True, slots=True)
class ConversationQuery:
    """One ``:analyze-conversations`` request, wire-neutral."""

    project_name: str
    deployment_name: str
    text: str
    language: str | None = None
    string_index_type: StringIndexType = StringIndexType.TEXT_ELEMENTS


@dataclass(frozen=True, slots=True)
class FoundEntity:
    """An entity of the answer; ``offset``/``length`` in the query's unit."""

    category: str
    text: str
    offset: int
    length: int
    confidence: float
    resolutions: tuple[dict[str, Any], ...] = ()
    extra_information: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class ConversationPrediction:
    """The answer to one query (spec §1.3)."""

    query: str
    top_intent: str
    intents: tuple[ClassScore, ...]
    entities: tuple[FoundEntity, ...]


@dataclass(frozen=True, slots=True)
class _Served:
    """What a deployment serves: its model and the project it answers for."""

    artifact: str
    assets: ConversationAssets
    language: str
    confidence_threshold: float


def check_text(text: str, max_characters: int) -> None:
    """Refuse an empty utterance or one over ``max_characters`` text elements (spec §1.8)."""
    if not text.strip():
        raise InvalidUtterance(
            "the utterance is empty; send 1 to "
            f"{max_characters} characters in {TEXT_TARGET}",
            target=TEXT_TARGET,
        )
    # A text has at most as many text elements as code points: only a long one is counted.
    if len(text) > max_characters:
        characters = OffsetMap(text).length_in(StringIndexType.TEXT_ELEMENTS)
        if characters > max_characters:
            raise InvalidUtterance(
                f"the utterance has {characters} characters (text elements); the limit is "
                f"{max_characters} characters (setting LEXICRAFT_MAX_CONVERSATION_CHARACTERS)",
                target=TEXT_TARGET,
            )


def analyze_conversation(
    context: ServiceContext, query: ConversationQuery, *, client: Hashable = None
) -> ConversationPrediction:
    """The deployed model's answer for ``query``, predicted as a turn of ``client``."""
    # Imported here, as predictions.py does: loading the ML backends and the prebuilt
    # recognizers is slow, and the API imports this module for ConversationQuery.
    from lexicraft.ml.components import EntityResolver
    from lexicraft.services import training

    check_text(query.text, context.settings.max_conversation_characters)
    served = _served(context, query.project_name, query.deployment_name)
    resolver = context.entity_resolvers.get(
        served.artifact,
        lambda: EntityResolver(
            served.assets.entities,
            served.language,
            regex_timeout_s=context.settings.entity_regex_timeout_s,
        ),
    )

    def answer(outputs: Sequence[object]) -> ConversationPrediction:
        # Runs in the prediction's turn: the components are CPU work like the model's.
        (output,) = outputs
        return _answer(query, served, resolver, cast(ConversationOutput, output))

    return training.run_model(
        context,
        ProjectKind.CONVERSATION,
        served.artifact,
        [query.text],
        answer,
        client,
    )


def _served(context: ServiceContext, project_name: str, deployment_name: str) -> _Served:
    """The deployment's model and the project snapshot it was trained on (404s otherwise)."""
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        if project.kind is not ProjectKind.CONVERSATION:
            raise InvalidParameterValue(
                f"project {project_name!r} is a {project.kind.value} project; "
                ":analyze-conversations answers for Conversation projects only (custom text "
                "projects: POST /language/analyze-text/jobs)",
                target="parameters.projectName",
            )
        deployment = model_store.get_deployment(session, project_name, deployment_name)
        assets = conversation_store.model_assets(session, project_name, deployment.model)
    threshold = project.settings.get("confidenceThreshold", 0.0)
    return _Served(
        artifact=deployment.model.artifact_dir,
        assets=assets,
        language=project.language,
        confidence_threshold=float(threshold) if isinstance(threshold, int | float) else 0.0,
    )


def _answer(
    query: ConversationQuery,
    served: _Served,
    resolver: EntityResolver,
    output: ConversationOutput,
) -> ConversationPrediction:
    intents = rank_intents(served.assets.intents, output.intents)
    top_intent = intents[0].category
    if intents[0].confidence < served.confidence_threshold:
        # Under the project's threshold the answer is None, listed first (spec §1.3).
        top_intent = NONE_INTENT
        intents = (
            *(intent for intent in intents if intent.category == NONE_INTENT),
            *(intent for intent in intents if intent.category != NONE_INTENT),
        )
    matches = resolver.find(query.text, list(output.entities), language=query.language)
    offsets = OffsetMap(query.text)
    return ConversationPrediction(
        query=query.text,
        top_intent=top_intent,
        intents=intents,
        entities=tuple(
            _found(query.text, offsets, match, query.string_index_type) for match in matches
        ),
    )


def rank_intents(
    project_intents: Sequence[str], scored: Sequence[ClassScore]
) -> tuple[ClassScore, ...]:
    """Every intent of the project (``None`` always among them) with the model's score, or
    0.0 for one the model was not trained on; best first, ties in project order."""
    scores = {intent.category: intent.confidence for intent in scored}
    names = list(dict.fromkeys([*project_intents, NONE_INTENT, *scores]))
    ranked = sorted(names, key=lambda name: -scores.get(name, 0.0))
    return tuple(ClassScore(name, scores.get(name, 0.0)) for name in ranked)


def _found(
    text: str, offsets: OffsetMap, match: EntityMatch, unit: StringIndexType
) -> FoundEntity:
    offset, length = offsets.span_to_unit(match.start, match.end, unit)
    return FoundEntity(
        category=match.category,
        text=text[match.start : match.end],
        offset=offset,
        length=length,
        confidence=match.confidence,
        resolutions=tuple(match.resolutions),
        extra_information=tuple(match.extra_information),
    )
