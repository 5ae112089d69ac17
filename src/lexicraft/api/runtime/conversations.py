"""``POST /language/:analyze-conversations``: conversational language understanding (CLU).

Synchronous, as Azure's (spec §1): one utterance in, HTTP 200 with the prediction out; there
is no job. The route parses its typed body, calls the conversation service, renders. It is a
plain ``def``: FastAPI runs it in its threadpool, so the database look-ups, the model and the
entity components never run on the event loop.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from lexicraft.api.dependencies import ApiVersion, CallerKeyId, Context
from lexicraft.api.errors import ERRORS
from lexicraft.api.permissions import needs
from lexicraft.api.requests import WireModel
from lexicraft.api.runtime.schemas import AnalyzeConversationsInput
from lexicraft.domain.users import Permission
from lexicraft.services import conversation_runtime
from lexicraft.services.conversation_runtime import ConversationPrediction, FoundEntity

SYNC = "/language/:analyze-conversations"
router = APIRouter(tags=["runtime"], dependencies=[needs(Permission.ANALYZE)])


# -- the documented answer (spec §1.3); render() builds it --------------------------------------


class _Shape(WireModel):
    # Our own output: any field not listed here is a bug in the renderer or in the docs.
    model_config = ConfigDict(extra="forbid")


class IntentScore(_Shape):
    """An intent of the project and the model's confidence in it (0 … 1)."""

    category: str
    confidence_score: float


class ConversationEntity(_Shape):
    """An entity; ``offset``/``length`` in the request's ``stringIndexType``."""

    category: str
    text: str
    offset: int
    length: int
    confidence_score: float
    resolutions: list[dict[str, Any]] | None = Field(
        default=None, description="Prebuilt components' resolutions (resolutionKind…)."
    )
    extra_information: list[dict[str, Any]] | None = Field(
        default=None,
        description="ListKey (list), RegexKey (regex) or EntitySubtype (prebuilt) details.",
    )


class ConversationPredictionShape(_Shape):
    """``prediction``: every intent, sorted, and the entities."""

    project_kind: Literal["Conversation"]
    top_intent: str
    intents: list[IntentScore]
    entities: list[ConversationEntity]


class ConversationResultBody(_Shape):
    """``result``: the query as sent and the prediction."""

    query: str
    prediction: ConversationPredictionShape


class AnalyzeConversationsResult(_Shape):
    """The 200 answer of ``:analyze-conversations``."""

    kind: Literal["ConversationResult"]
    result: ConversationResultBody


def _entity(entity: FoundEntity) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": entity.category,
        "text": entity.text,
        "offset": entity.offset,
        "length": entity.length,
        # float(): a backend may score with NumPy types, which JSON cannot encode.
        "confidenceScore": float(entity.confidence),
    }
    # Present only when a component gave them (list, regex, prebuilt), as Azure's answers.
    if entity.resolutions:
        body["resolutions"] = list(entity.resolutions)
    if entity.extra_information:
        body["extraInformation"] = list(entity.extra_information)
    return body


def render(prediction: ConversationPrediction) -> dict[str, Any]:
    """The wire answer (spec §1.3). The discriminators are exact: the typed SDK (2.0.0b2)
    deserializes nothing useful otherwise, and ``entities`` is always a list."""
    return {
        "kind": "ConversationResult",
        "result": {
            "query": prediction.query,
            "prediction": {
                "projectKind": "Conversation",
                "topIntent": prediction.top_intent,
                "intents": [
                    {"category": intent.category, "confidenceScore": float(intent.confidence)}
                    for intent in prediction.intents
                ],
                "entities": [_entity(entity) for entity in prediction.entities],
            },
        },
    }


@router.post(
    SYNC,
    response_model=None,
    responses={
        200: {"model": AnalyzeConversationsResult, "description": "The prediction."},
        **ERRORS,
    },
)
def analyze_conversations(
    body: AnalyzeConversationsInput,
    context: Context,
    _version: ApiVersion,
    key_id: CallerKeyId,
) -> JSONResponse:
    """Predict the intent and entities of one utterance with a deployed Conversation model."""
    prediction = conversation_runtime.analyze_conversation(context, body.to_query(), client=key_id)
    return JSONResponse(render(prediction))
