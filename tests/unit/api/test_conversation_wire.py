"""``:analyze-conversations`` without a server: the typed body, its errors, the rendered answer
(and that the documented response model accepts it, so ``/openapi.json`` cannot drift)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from lexicraft.api.errors import validation_error
from lexicraft.api.runtime.conversations import AnalyzeConversationsResult, render
from lexicraft.api.runtime.schemas import AnalyzeConversationsInput
from lexicraft.domain.text import StringIndexType
from lexicraft.errors import InvalidParameterValue, InvalidRequestBody, LexicraftError
from lexicraft.ml.base import ClassScore
from lexicraft.services.conversation_runtime import (
    ConversationPrediction,
    ConversationQuery,
    FoundEntity,
)


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "Conversation",
        "analysisInput": {
            "conversationItem": {
                "id": "1",
                "participantId": "user",
                "text": "fly to Zu\u0308rich",
                "modality": "text",
                "somethingNewer": {"x": 1},
            }
        },
        "parameters": {"projectName": "Flights", "deploymentName": "production"},
    }
    return base | changes


def failure(data: dict[str, Any]) -> LexicraftError:
    """The Azure error the API answers for ``data`` (a validator's own, or the map's)."""
    try:
        AnalyzeConversationsInput.model_validate(data)
    except LexicraftError as error:
        return error
    except ValidationError as error:
        return validation_error([{**e, "loc": ("body", *e["loc"])} for e in error.errors()])
    raise AssertionError("the body was accepted")


def test_the_body_becomes_the_service_query() -> None:
    parsed = AnalyzeConversationsInput.model_validate(body())
    assert parsed.to_query() == ConversationQuery(
        project_name="Flights",
        deployment_name="production",
        text="fly to Zu\u0308rich",
        language=None,
        string_index_type=StringIndexType.TEXT_ELEMENTS,  # the default (spec CLU §1.2)
    )
    with_unit = body(
        parameters={
            "projectName": "Flights",
            "deploymentName": "production",
            "stringIndexType": "UnicodeCodePoint",
            "verbose": True,
            "isLoggingEnabled": False,
            "directTarget": "ignored",
            "targetProjectParameters": {"x": {"targetProjectKind": "Luis"}},
        }
    )
    with_unit["analysisInput"]["conversationItem"]["language"] = "de"
    query = AnalyzeConversationsInput.model_validate(with_unit).to_query()
    assert query.string_index_type is StringIndexType.CODE_POINT
    assert query.language == "de"


@pytest.mark.parametrize("kind", ["conversation", "ConversationalAI", "Orchestration", ""])
def test_only_the_exact_conversation_kind_is_accepted(kind: str) -> None:
    error = failure(body(kind=kind))
    assert isinstance(error, InvalidParameterValue)
    assert error.target == "kind"
    assert "'Conversation'" in error.message


def test_a_bad_string_index_type_names_its_path() -> None:
    error = failure(
        body(parameters={"projectName": "p", "deploymentName": "d", "stringIndexType": "Utf8"})
    )
    assert isinstance(error, InvalidParameterValue)
    assert error.target == "parameters.stringIndexType"
    assert "UnicodeCodePoint" in error.message


@pytest.mark.parametrize(
    ("data", "target"),
    [
        ({"analysisInput": {"conversationItem": {"id": "1", "participantId": "1"}}},
         "analysisInput.conversationItem.text"),
        ({"analysisInput": {}}, "analysisInput.conversationItem"),
        ({"parameters": {"projectName": "p"}}, "parameters.deploymentName"),
        ({"parameters": {"projectName": "", "deploymentName": "d"}}, "parameters.projectName"),
        ({"kind": None}, "kind"),
    ],
)  # fmt: skip
def test_missing_or_wrong_fields_are_body_errors_with_their_path(
    data: dict[str, Any], target: str
) -> None:
    error = failure(body(**data))
    assert isinstance(error, InvalidRequestBody)
    assert error.target == target


def test_the_rendered_answer_has_the_documented_shape() -> None:
    answer = render(
        ConversationPrediction(
            query="fly to Zu\u0308rich",
            top_intent="BookFlight",
            intents=(ClassScore("BookFlight", 0.9), ClassScore("None", 0.0)),
            entities=(
                FoundEntity("City", "Zu\u0308rich", 7, 6, 1.0, (), (
                    {"extraInformationKind": "ListKey", "key": "zurich"},)),
                FoundEntity("When", "today", 0, 5, 0.5),
            ),
        )
    )  # fmt: skip
    AnalyzeConversationsResult.model_validate(answer)
    prediction = answer["result"]["prediction"]
    assert answer["kind"] == "ConversationResult"
    assert prediction["projectKind"] == "Conversation"
    assert prediction["intents"][0] == {"category": "BookFlight", "confidenceScore": 0.9}
    city, when = prediction["entities"]
    assert city["extraInformation"] == [{"extraInformationKind": "ListKey", "key": "zurich"}]
    # Absent, not empty, when no component gave any (as Azure's learned entities).
    assert "resolutions" not in city
    assert "extraInformation" not in when


def test_no_entities_is_an_empty_list() -> None:
    answer = render(ConversationPrediction("hi", "None", (ClassScore("None", 0.2),), ()))
    assert answer["result"]["prediction"]["entities"] == []
