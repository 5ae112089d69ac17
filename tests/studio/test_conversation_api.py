"""The Studio's conversation (CLU) labeling routes over real HTTP: utterances added and changed
one at a time, intents and entities added, renamed and removed, each under the import's rules,
with Azure error envelopes naming the request's field, and nothing half-written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.server import API_VERSION, HTTP_TIMEOUT_S, LiveServer, run_server
from tests.studio.clu_project import CONVERSATIONS, clu_project_file

LABELING = "/language/lexicraft/projects"
V = {"api-version": API_VERSION}
EMOJI_TEXT = "🎉 fly to Kraków 🇵🇱 with LO3915"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real uvicorn server over a fresh data dir."""
    with run_server(tmp_path_factory.mktemp("studio-clu-api")) as live:
        yield live


@pytest.fixture
def project(server: LiveServer, request: pytest.FixtureRequest) -> str:
    """The 30-utterance project imported under the test's own name."""
    name = "clu-" + re.sub(r"[^A-Za-z0-9]+", "-", request.node.name.removeprefix("test_"))[:60]
    server.run_job("POST", f"{CONVERSATIONS}/{name}/:import", params=V, json=clu_project_file(name))
    return name


def assert_error(response: httpx.Response, status: int, code: str, target: str) -> str:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert error.get("target") == target, error
    message: str = error["message"]
    return message


def documents(server: LiveServer, name: str) -> list[dict[str, Any]]:
    response = server.client.get(f"{LABELING}/{name}/documents")
    assert response.status_code == 200, response.text
    value: list[dict[str, Any]] = response.json()["value"]
    return value


def exported(server: LiveServer, name: str) -> dict[str, Any]:
    state = server.run_job(
        "POST", f"{CONVERSATIONS}/{name}/:export", params={**V, "stringIndexType": "Utf16CodeUnit"}
    )
    response = server.client.get(state["resultUrl"])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def code_points(text: str, surface: str, category: str) -> dict[str, Any]:
    return {"category": category, "offset": text.index(surface), "length": len(surface)}


def test_documents_of_a_conversation_carry_their_intent(server: LiveServer, project: str) -> None:
    response = server.client.get(f"{LABELING}/{project}/documents")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["projectKind"] == "Conversation"
    assert body["labels"] == ["City", "FlightNumber"]
    assert body["counts"]["total"] == 30
    assert body["counts"]["test"] == 5
    first = body["value"][0]
    assert first["text"] == "book a flight to Paris"
    assert first["intent"] == "BookFlight"
    assert first["entities"] == [{"category": "City", "offset": 17, "length": 5}]
    assert "classes" not in first


def test_conversation_lists_intents_entities_and_components(
    server: LiveServer, project: str
) -> None:
    response = server.client.get(f"{LABELING}/{project}/conversation")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["projectKind"] == "Conversation"
    assert body["intents"] == [
        {"category": "BookFlight", "utteranceCount": 12},
        {"category": "GetWeather", "utteranceCount": 12},
        {"category": "None", "utteranceCount": 6},
    ]
    city, flight = body["entities"]
    assert city["category"] == "City"
    assert city["utteranceCount"] == 24
    assert city["list"]["sublists"][0] == {
        "listKey": "paris",
        "synonyms": [{"language": "en-us", "values": ["Paris", "City of Light"]}],
    }
    assert flight["utteranceCount"] == 0
    assert flight["regex"]["expressions"][0]["regexPattern"] == "[A-Z]{2}\\d{3,4}"


def test_add_an_utterance_in_code_points_exports_in_utf16(server: LiveServer, project: str) -> None:
    entities = [
        code_points(EMOJI_TEXT, "Kraków", "City"),
        code_points(EMOJI_TEXT, "LO3915", "FlightNumber"),
    ]
    response = server.client.post(
        f"{LABELING}/{project}/utterances",
        json={"text": EMOJI_TEXT, "intent": "BookFlight", "entities": entities, "dataset": "Test"},
    )
    assert response.status_code == 201, response.text
    added = response.json()
    assert added["intent"] == "BookFlight"
    assert added["entities"] == entities
    assert added["stringIndexType"] == "UnicodeCodePoint"
    assert added["language"] == "en-us"
    assert added["location"].startswith("utterance-")
    # The same text again gets a name of its own.
    again = server.client.post(f"{LABELING}/{project}/utterances", json={"text": EMOJI_TEXT})
    assert again.status_code == 201, again.text
    assert again.json()["location"] == added["location"] + "-2"
    assert again.json()["intent"] == "None"

    utterance = next(
        u
        for u in exported(server, project)["assets"]["utterances"]
        if u["text"] == EMOJI_TEXT and u["intent"] == "BookFlight"
    )
    # 🎉 is two UTF-16 code units (Kraków: code point 9, UTF-16 unit 10), 🇵🇱 four.
    assert utterance["entities"] == [
        {"category": "City", "offset": 10, "length": 6},
        {"category": "FlightNumber", "offset": 27, "length": 6},
    ]
    assert utterance["dataset"] == "Test"


def test_patch_intent_spans_dataset_and_text(server: LiveServer, project: str) -> None:
    location = documents(server, project)[0]["location"]
    path = f"{LABELING}/{project}/utterances/{location}"
    text = "book a flight to Paris"
    # Entities of different entities may overlap; the import allows it. Stored by position.
    entities = [code_points(text, "Pa", "FlightNumber"), code_points(text, "Paris", "City")]
    response = server.client.patch(
        path, json={"intent": "GetWeather", "entities": entities, "dataset": None}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["intent"], body["entities"], body["dataset"]) == ("GetWeather", entities, None)
    stored = server.client.get(f"{LABELING}/{project}/documents/{location}").json()
    assert stored["intent"] == "GetWeather"
    assert stored["entities"] == entities

    # A new text without entities clears them: they pointed into the old text.
    response = server.client.patch(path, json={"text": "fly to Rome"})
    assert response.status_code == 200, response.text
    assert response.json()["text"] == "fly to Rome"
    assert response.json()["entities"] == []
    assert response.json()["location"] == location
    assert documents(server, project)[0]["text"] == "fly to Rome"


@pytest.mark.parametrize(
    ("body", "target", "words"),
    [
        ({"intent": "Unknown"}, "intent", "not one of the project's intents"),
        (
            {"entities": [{"category": "Airport", "offset": 0, "length": 4}]},
            "entities[0].category",
            "not one of the project's entities",
        ),
        (
            {"entities": [{"category": "City", "offset": 17, "length": 9}]},
            "entities[0].offset",
            "outside",
        ),
        (
            {"entities": [{"category": "City", "offset": 3, "length": 0}]},
            "entities[0].offset",
            "empty",
        ),
        (
            {
                "entities": [
                    {"category": "City", "offset": 17, "length": 5},
                    {"category": "City", "offset": 19, "length": 2},
                ]
            },
            "entities[1]",
            "overlap",
        ),
        ({"text": "   "}, "text", "empty"),
        ({"text": "x" * 501}, "text", "LEXICRAFT_CLU_MAX_UTTERANCE_CHARACTERS"),
        ({"language": "not a language"}, "language", "language code"),
    ],
)
def test_bad_utterance_changes_are_refused_whole(
    server: LiveServer, project: str, body: dict[str, Any], target: str, words: str
) -> None:
    before = documents(server, project)[0]
    path = f"{LABELING}/{project}/utterances/{before['location']}"
    # Every other field of the change is valid: nothing of it may be stored.
    change = {"dataset": "Test", "intent": "None", **body}
    message = assert_error(server.client.patch(path, json=change), 400, "InvalidRequest", target)
    assert words in message
    assert "assets." not in message
    assert documents(server, project)[0] == before


def test_add_utterance_is_checked_too(server: LiveServer, project: str) -> None:
    response = server.client.post(
        f"{LABELING}/{project}/utterances", json={"text": "hello", "intent": "Greet"}
    )
    assert_error(response, 400, "InvalidRequest", "intent")
    response = server.client.post(f"{LABELING}/{project}/utterances", json={"intent": "None"})
    assert_error(response, 400, "InvalidRequest", "text")
    assert len(documents(server, project)) == 30


def test_intents_add_rename_delete(server: LiveServer, project: str) -> None:
    base = f"{LABELING}/{project}/intents"
    response = server.client.post(base, json={"category": "Cancel"})
    assert response.status_code == 200, response.text
    assert [i["category"] for i in response.json()["intents"]] == [
        "BookFlight", "GetWeather", "None", "Cancel"
    ]  # fmt: skip
    assert_error(server.client.post(base, json={"category": "Cancel"}), 409, "Conflict", "category")
    assert_error(
        server.client.post(base, json={"category": " padded"}), 400, "InvalidRequest", "category"
    )

    response = server.client.patch(f"{base}/BookFlight", json={"category": "Book"})
    assert response.status_code == 200, response.text
    assert response.json()["intents"][0] == {"category": "Book", "utteranceCount": 12}
    assert documents(server, project)[0]["intent"] == "Book"
    # A rename onto a taken name changes nothing.
    response = server.client.patch(f"{base}/Book", json={"category": "GetWeather"})
    assert_error(response, 409, "Conflict", "category")
    assert documents(server, project)[0]["intent"] == "Book"
    assert_error(
        server.client.patch(f"{base}/None", json={"category": "Nothing"}),
        400,
        "InvalidRequest",
        "category",
    )
    assert_error(
        server.client.patch(f"{base}/Nope", json={"category": "X"}),
        400,
        "InvalidRequest",
        "category",
    )

    message = assert_error(server.client.delete(f"{base}/Book"), 409, "Conflict", "category")
    assert "12 utterance(s)" in message
    assert_error(server.client.delete(f"{base}/None"), 400, "InvalidRequest", "category")
    response = server.client.delete(f"{base}/Cancel")
    assert response.status_code == 200, response.text
    assert [i["category"] for i in response.json()["intents"]] == ["Book", "GetWeather", "None"]
    assert [i["category"] for i in exported(server, project)["assets"]["intents"]] == [
        "Book", "GetWeather", "None"
    ]  # fmt: skip


def test_entities_add_rename_list_delete(server: LiveServer, project: str) -> None:
    base = f"{LABELING}/{project}/entities"
    response = server.client.post(base, json={"category": "Date"})
    assert response.status_code == 200, response.text
    assert response.json()["entities"][-1] == {
        "category": "Date",
        "compositionSetting": "combineComponents",
        "utteranceCount": 0,
    }
    assert_error(server.client.post(base, json={"category": "City"}), 409, "Conflict", "category")

    response = server.client.patch(f"{base}/City", json={"category": "Town"})
    assert response.status_code == 200, response.text
    town = response.json()["entities"][0]
    assert (town["category"], town["utteranceCount"]) == ("Town", 24)
    assert town["list"]["sublists"][1]["listKey"] == "london"  # the components stay
    assert documents(server, project)[0]["entities"][0]["category"] == "Town"
    listing = server.client.get(f"{LABELING}/{project}/documents").json()
    assert listing["labels"] == ["Town", "FlightNumber", "Date"]

    sublists = [{"listKey": "rome", "synonyms": [{"values": ["Rome", "Roma"]}]}]
    response = server.client.patch(f"{base}/Town", json={"list": {"sublists": sublists}})
    assert response.status_code == 200, response.text
    assert response.json()["entities"][0]["list"] == {"sublists": sublists}
    exported_town = exported(server, project)["assets"]["entities"][0]
    assert exported_town["list"] == {"sublists": sublists}

    message = assert_error(server.client.delete(f"{base}/Town"), 409, "Conflict", "category")
    assert "24 utterance(s)" in message
    response = server.client.delete(f"{base}/Date")
    assert response.status_code == 200, response.text
    assert [e["category"] for e in response.json()["entities"]] == ["Town", "FlightNumber"]


def test_custom_text_routes_refuse_conversation_projects(server: LiveServer, project: str) -> None:
    location = documents(server, project)[0]["location"]
    response = server.client.put(f"{LABELING}/{project}/labels", json={"labels": ["City"]})
    assert "…/entities" in assert_error(response, 400, "InvalidRequest", "projectName")
    response = server.client.post(f"{LABELING}/{project}/documents", json={"text": "hi"})
    assert "…/utterances" in assert_error(response, 400, "InvalidRequest", "projectName")
    response = server.client.patch(
        f"{LABELING}/{project}/documents/{location}", json={"entities": []}
    )
    assert_error(response, 400, "InvalidRequest", "projectName")
    # Deleting an utterance is the document route's.
    response = server.client.delete(f"{LABELING}/{project}/documents/{location}")
    assert response.status_code == 204, response.text
    assert len(documents(server, project)) == 29


def test_conversation_routes_refuse_custom_text_projects(server: LiveServer) -> None:
    name = "studio-ner-not-clu"
    response = server.client.patch(
        f"/language/authoring/analyze-text/projects/{name}",
        params=V,
        json={
            "projectKind": "CustomEntityRecognition",
            "language": "en-us",
            "storageInputContainerName": name,
            "projectName": name,
        },
    )
    assert response.status_code == 201, response.text
    response = server.client.get(f"{LABELING}/{name}")
    assert response.json()["authoringPath"] == f"/language/authoring/analyze-text/projects/{name}"
    response = server.client.post(f"{LABELING}/{name}/intents", json={"category": "X"})
    assert_error(response, 400, "InvalidRequest", "projectName")
    response = server.client.get(f"{LABELING}/missing-project/conversation")
    assert response.status_code == 404, response.text


def test_default_training_config_version(server: LiveServer) -> None:
    response = server.client.get("/language/lexicraft/training-config-versions/default")
    assert response.status_code == 200, response.text
    assert response.json() == {"trainingConfigVersion": "2022-05-01"}
    response = httpx.get(
        server.base_url + "/language/lexicraft/training-config-versions/default",
        timeout=HTTP_TIMEOUT_S,
    )
    assert response.status_code == 401


def test_project_kind_names_the_authoring_api(server: LiveServer, project: str) -> None:
    response = server.client.get(f"{LABELING}/{project}")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "projectName": project,
        "projectKind": "Conversation",
        "authoringPath": f"{CONVERSATIONS}/{project}",
    }
    response = server.client.get(response.json()["authoringPath"], params=V)
    assert response.status_code == 200, response.text
    assert response.json()["projectKind"] == "Conversation"
    assert server.client.get(f"{LABELING}/no-such-project").status_code == 404
