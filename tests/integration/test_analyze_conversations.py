"""``POST /language/:analyze-conversations`` over plain HTTP: what the SDK flows do not reach.

The limits and refusals, any dated api-version, prebuilt resolutions, and which project a
deployment answers with: the one its model was trained on (an import changes the entity
components and the intents once a model trained on it is deployed; see
``services/conversation_runtime.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conversation_project import project_file
from tests.integration.databases import Databases
from tests.integration.server import FAST, LiveServer

ANALYZE = "/language/:analyze-conversations"
CLU = "/language/authoring/analyze-conversations/projects"
TEXT = "/language/authoring/analyze-text/projects"
V = {"api-version": "2023-04-01"}
NAME = "Flights"


def ask(live: LiveServer, text: str, project: str = NAME, **parameters: Any) -> Any:
    return live.client.post(
        ANALYZE,
        params=parameters.pop("params", V),
        json={
            "kind": "Conversation",
            "analysisInput": {"conversationItem": {"id": "1", "participantId": "1", "text": text}},
            "parameters": {"projectName": project, "deploymentName": "production"} | parameters,
        },
    )


def clu_job(live: LiveServer, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response = live.client.request(method, f"{CLU}/{path}", params=V, **kwargs)
    assert response.status_code == 202, response.text
    body = live.wait_job(response.headers["Operation-Location"])
    assert body["status"] == "succeeded", body
    return body


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Iterator[LiveServer]:
    """A server with the project trained (fast) and deployed as ``production``."""
    with databases.serve(tmp_path_factory.mktemp("clu")) as live:
        clu_job(live, "POST", f"{NAME}/:import", json=project_file(NAME))
        training = {"modelLabel": "m1", "trainingMode": "standard", "trainingConfigVersion": FAST}
        clu_job(live, "POST", f"{NAME}/:train", json=training)
        clu_job(live, "PUT", f"{NAME}/deployments/production", json={"trainedModelLabel": "m1"})
        yield live


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


@pytest.mark.parametrize("version", ["2022-05-01", "2024-11-01", "2025-11-15-preview"])
def test_any_dated_api_version_answers(live: LiveServer, version: str) -> None:
    response = ask(live, "book a flight to Paris", params={"api-version": version})
    assert response.status_code == 200, response.text
    assert response.json()["result"]["prediction"]["topIntent"] == "BookFlight"


def test_an_utterance_over_the_limit_is_refused_naming_the_setting(live: LiveServer) -> None:
    limit = live.settings.clu_max_query_characters
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one character of 5 code points
    assert ask(live, family * limit).status_code == 200  # counted in text elements
    error = error_of(ask(live, family * (limit + 1)), 400)
    assert (error["code"], error["innererror"]["code"]) == ("InvalidRequest", "InvalidDocument")
    assert error["target"] == "analysisInput.conversationItem.text"
    assert "LEXICRAFT_CLU_MAX_QUERY_CHARACTERS" in error["message"]


def test_a_custom_text_project_is_refused(live: LiveServer) -> None:
    created = live.client.patch(
        f"{TEXT}/notes",
        params=V,
        headers={"Content-Type": "application/merge-patch+json"},
        json={
            "projectKind": "CustomEntityRecognition",
            "projectName": "notes",
            "language": "en",
            "storageInputContainerName": "notes",
        },
    )
    assert created.status_code == 201, created.text
    error = error_of(ask(live, "hello", project="notes"), 400)
    assert error["innererror"]["code"] == "InvalidParameterValue"
    assert error["target"] == "parameters.projectName"
    assert "CustomEntityRecognition" in error["message"]


def test_a_deployment_answers_with_the_project_its_model_was_trained_on(
    live: LiveServer,
) -> None:
    text = "book a flight on Condor to Paris"

    def airlines_and_intents(deployment: str) -> tuple[list[Any], set[str]]:
        response = ask(live, text, deploymentName=deployment)
        assert response.status_code == 200, response.text
        prediction = response.json()["result"]["prediction"]
        airlines = [
            (e["text"], e["extraInformation"])
            for e in prediction["entities"]
            if e["category"] == "Airline"
        ]
        return airlines, {intent["category"] for intent in prediction["intents"]}

    assert airlines_and_intents("production") == ([], {"BookFlight", "CheckWeather", "None"})

    # Re-import with a new airline and a new intent: the deployment answers as before...
    changed = copy.deepcopy(project_file(NAME))
    airline = next(e for e in changed["assets"]["entities"] if e["category"] == "Airline")
    airline["list"]["sublists"].append({"listKey": "condor", "synonyms": [{"values": ["Condor"]}]})
    changed["assets"]["intents"].append({"category": "CancelFlight"})
    clu_job(live, "POST", f"{NAME}/:import", json=changed)
    assert airlines_and_intents("production") == ([], {"BookFlight", "CheckWeather", "None"})

    # ...until a model trained on it is deployed. CancelFlight has no utterance: 0.0.
    training = {"modelLabel": "m2", "trainingMode": "standard", "trainingConfigVersion": FAST}
    clu_job(live, "POST", f"{NAME}/:train", json=training)
    clu_job(live, "PUT", f"{NAME}/deployments/latest", json={"trainedModelLabel": "m2"})
    condor = [("Condor", [{"extraInformationKind": "ListKey", "key": "condor"}])]
    everything = {"BookFlight", "CheckWeather", "CancelFlight", "None"}
    assert airlines_and_intents("latest") == (condor, everything)
    assert airlines_and_intents("production") == ([], {"BookFlight", "CheckWeather", "None"})
    scores = {
        i["category"]: i["confidenceScore"]
        for i in ask(live, text, deploymentName="latest").json()["result"]["prediction"]["intents"]
    }
    assert scores["CancelFlight"] == 0.0

    # A swap exchanges what the two answer with, with their models.
    clu_job(
        live,
        "POST",
        f"{NAME}/deployments/:swap",
        json={"firstDeploymentName": "production", "secondDeploymentName": "latest"},
    )
    assert airlines_and_intents("production") == (condor, everything)
    assert airlines_and_intents("latest") == ([], {"BookFlight", "CheckWeather", "None"})
    clu_job(
        live,
        "POST",
        f"{NAME}/deployments/:swap",
        json={"firstDeploymentName": "production", "secondDeploymentName": "latest"},
    )

    # Retraining the label a deployment pins changes nothing it answers with.
    clu_job(live, "POST", f"{NAME}/:train", json=training | {"modelLabel": "m1"})
    assert airlines_and_intents("production") == ([], {"BookFlight", "CheckWeather", "None"})


def test_a_prebuilt_component_gives_its_resolution(live: LiveServer) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 5 code points, 1 text element
    text = f"{family} book three tickets to Paris"
    for unit, offset in (("TextElements_v8", 7), ("UnicodeCodePoint", 11)):
        response = ask(live, text, stringIndexType=unit)
        assert response.status_code == 200, response.text
        found = [
            e
            for e in response.json()["result"]["prediction"]["entities"]
            if e["category"] == "Passengers"
        ]
        assert len(found) == 1, found
        assert (found[0]["text"], found[0]["offset"], found[0]["length"]) == ("three", offset, 5)
        assert {"resolutionKind": "NumberResolution", "numberKind": "Integer", "value": 3} in (
            found[0]["resolutions"]
        )


def test_an_unknown_deployment_is_not_found(live: LiveServer) -> None:
    error = error_of(ask(live, "hello", deploymentName="staging"), 404)
    assert error["code"] == "NotFound"
    assert "staging" in error["message"]
