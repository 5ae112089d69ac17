"""Answer ``:analyze-conversations``: one utterance through a deployed conversation model.

The use case behind ``POST /language/:analyze-conversations`` (spec §1): check the
utterance, find the model the deployment pins, run it through the compute (the same
prediction slots, fair turns and model checks as the analyze jobs), then let the entity
components (list, regex, prebuilt; composition and required components applied) add to what
the learned component found, and shape the answer: every intent with a score, sorted, the top
intent (``None`` under the project's ``confidenceThreshold``), entities with offsets in the
caller's unit.

Which intents and components a deployment answers with: those of the project its model was
trained on, as Azure's deployments do (a changed list component, intent or threshold takes
effect once the model is trained and deployed again). A training keeps the project file with
its model (``trained_models.snapshot``) and a deploy or a swap copies it, utterances left out,
into the deployment's pin (``deployments.model_snapshot``), since retraining the label
replaces the model row while the deployment keeps serving the earlier run. Everything but
the model itself comes from that one snapshot: the intents listed, the entity components,
the language they are read in, ``confidenceThreshold``. Each training run has its own
artifact key, so the components are built once per served model and kept in the context's
:class:`~lexicraft.services.entity_resolvers.EntityResolvers` under it: a request reads the
project's kind and the deployment's pin, compiles no pattern and indexes no synonym. The
snapshot is looked up by the run, not the deployment's name, so a swap between the two reads
never pairs a run with another's project (the pin is then read again).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from lexicraft.domain.conversations import NONE_INTENT
from lexicraft.domain.projects import ProjectKind
from lexicraft.domain.text import StringIndexType
from lexicraft.errors import (
    InvalidParameterValue,
    InvalidUtterance,
    ModelUnavailable,
    ServiceUnavailable,
)
from lexicraft.ml.base import ClassScore, ConversationOutput
from lexicraft.ml.offsets import OffsetMap
from lexicraft.services.context import ServiceContext
from lexicraft.services.entity_resolvers import ServedComponents
from lexicraft.storage.sql import conversation_serving as serving_store
from lexicraft.storage.sql import models as model_store
from lexicraft.wire.conversation_file import parse_conversation_file

if TYPE_CHECKING:
    from lexicraft.ml.components import EntityMatch

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
    """What a deployment answers with: its model and what the model was trained on."""

    artifact: str
    components: ServedComponents


def check_text(text: str, max_characters: int) -> None:
    """Refuse an empty utterance or one over ``max_characters`` text elements (spec §1.8)."""
    if not text.strip():
        raise InvalidUtterance(
            f"the utterance is empty; send 1 to {max_characters} characters in {TEXT_TARGET}",
            target=TEXT_TARGET,
        )
    # A text has at most as many text elements as code points: only a long one is counted.
    if len(text) > max_characters:
        characters = OffsetMap(text).length_in(StringIndexType.TEXT_ELEMENTS)
        if characters > max_characters:
            raise InvalidUtterance(
                f"the utterance has {characters} characters (text elements); the limit is "
                f"{max_characters} characters (setting LEXICRAFT_CLU_MAX_QUERY_CHARACTERS)",
                target=TEXT_TARGET,
            )


def analyze_conversation(
    context: ServiceContext, query: ConversationQuery, *, client: Hashable = None
) -> ConversationPrediction:
    """The deployed model's answer for ``query``, predicted as a turn of ``client``."""
    # Imported here, as predictions.py does: loading the ML backends is slow, and the API
    # imports this module for ConversationQuery.
    from lexicraft.services import training

    check_text(query.text, context.settings.clu_max_query_characters)
    served = _served(context, query.project_name, query.deployment_name)

    def answer(outputs: Sequence[object]) -> ConversationPrediction:
        # Runs in the prediction's turn: the components are CPU work like the model's.
        (output,) = outputs
        return _answer(query, served, cast(ConversationOutput, output))

    return training.run_model(
        context,
        ProjectKind.CONVERSATION,
        served.artifact,
        [query.text],
        answer,
        client,
    )


#: How often a request reads a deployment's pin again when it moved (a deploy or a swap)
#: while the request read what the pinned run answers with.
_PIN_READS = 3


class _PinMoved(Exception):
    """No deployment pins the run any more: read the pin again."""


def _served(context: ServiceContext, project_name: str, deployment_name: str) -> _Served:
    """The deployment's model and what it answers with (404s when either is missing)."""
    for _ in range(_PIN_READS):
        with context.database.session() as session:
            project = serving_store.get_project_metadata(session, project_name)
            if project.kind is not ProjectKind.CONVERSATION:
                raise InvalidParameterValue(
                    f"project {project_name!r} is a {project.kind.value} project; "
                    ":analyze-conversations answers for Conversation projects only (custom "
                    "text projects: POST /language/analyze-text/jobs)",
                    target="parameters.projectName",
                )
            model = model_store.get_deployment(session, project_name, deployment_name).model
        artifact_dir = model.artifact_dir
        try:
            components = context.entity_resolvers.get(
                artifact_dir, partial(_components, context, project_name, artifact_dir)
            )
        except _PinMoved:
            continue
        return _Served(artifact_dir, components)
    raise ServiceUnavailable(
        f"deployment {deployment_name!r} changed while the request was answered; send it again"
    )


def _components(context: ServiceContext, project_name: str, artifact_dir: str) -> ServedComponents:
    """What the run ``artifact_dir`` answers with, built: its snapshot's intents, entity
    components (in the snapshot's language) and threshold."""
    from lexicraft.ml.components import EntityResolver

    with context.database.session() as session:
        pinned, snapshot = model_store.served_snapshot(session, project_name, artifact_dir)
    if not pinned:
        raise _PinMoved
    if snapshot is None:
        # Only a pin written before deployments kept snapshots (no conversation deployment
        # can be one): deploying the model again gives it one.
        raise ModelUnavailable(
            "this deployment does not know the project its model was trained on; deploy the "
            "model again"
        )
    trained_on = parse_conversation_file(snapshot, project_name)
    threshold = trained_on.project.settings.get("confidenceThreshold", 0.0)
    resolver = EntityResolver(
        trained_on.assets.entities,
        trained_on.project.language,
        regex_timeout_s=context.settings.clu_regex_timeout_s,
    )
    return ServedComponents(
        trained_on.assets,
        resolver,
        # Checked when the file was imported; anything else reads as no threshold.
        float(threshold) if isinstance(threshold, int | float) else 0.0,
    )


def _answer(
    query: ConversationQuery, served: _Served, output: ConversationOutput
) -> ConversationPrediction:
    top_intent, intents = apply_threshold(
        rank_intents(served.components.assets.intents, output.intents),
        served.components.confidence_threshold,
    )
    matches = served.components.resolver.find(
        query.text, list(output.entities), language=query.language
    )
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


def apply_threshold(
    intents: tuple[ClassScore, ...], threshold: float
) -> tuple[str, tuple[ClassScore, ...]]:
    """The top intent and the list to answer: the best of ``intents`` (ranked), or ``None``,
    listed first, when the best score is under the project's ``confidenceThreshold``."""
    if intents[0].confidence >= threshold:
        return intents[0].category, intents
    return NONE_INTENT, (
        *(intent for intent in intents if intent.category == NONE_INTENT),
        *(intent for intent in intents if intent.category != NONE_INTENT),
    )


def _found(text: str, offsets: OffsetMap, match: EntityMatch, unit: StringIndexType) -> FoundEntity:
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
