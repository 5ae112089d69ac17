"""Renaming and merging a conversation (CLU) entity over real HTTP (``POST
…/entities/{name}:rename``), in one request and one transaction: every utterance's spans, the
annotators' own versions and the entity definitions move to the new name; a merge collapses
the spans that become the same and combines the two definitions, or refuses (409) where the
combination would change what an entity finds. Also: the intent's ``:rename`` and the custom
text label ``:rename`` rename annotators' versions too, and only authors may rename."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lexicraft.errors import DatabaseUnavailable
from lexicraft.storage.sql import projects as project_store
from tests.integration.server import API_VERSION, LiveServer, run_server
from tests.integration.test_users_and_roles import add_user
from tests.studio.clu_project import CONVERSATIONS, utf16_span
from tests.studio.test_documents_api import create_project, span

LABELING = "/language/lexicraft/projects"
V = {"api-version": API_VERSION}

# Paris is labeled City and Place at once (entities may share a span); "New York" is a City
# with a Region inside it; Bath is a Town (learned only).
UTTERANCES = {
    "paris": ("fly to Paris", "BookFlight", [("Paris", "City"), ("Paris", "Place")]),
    "rome": ("fly to Rome", "BookFlight", [("Rome", "Place")]),
    "lyon": ("fly to Lyon", "BookFlight", [("Lyon", "City")]),
    "bath": ("a weekend in Bath", "BookFlight", [("Bath", "Town")]),
    "york": ("fly to New York", "BookFlight", [("New York", "City"), ("York", "Region")]),
    "joke": ("tell me a joke", "None", []),
}


def _list(*items: tuple[str, list[str]]) -> dict[str, Any]:
    return {
        "sublists": [
            {"listKey": key, "synonyms": [{"language": "en-us", "values": words}]}
            for key, words in items
        ]
    }


ENTITIES: list[dict[str, Any]] = [
    {
        "category": "City",
        "compositionSetting": "combineComponents",
        "description": "Where to",
        "list": _list(("paris", ["Paris", "City of Light"]), ("london", ["London"])),
    },
    {
        "category": "Place",
        "compositionSetting": "combineComponents",
        "description": "Somewhere",
        "list": _list(("paris", ["Paname", "Paris"]), ("rome", ["Rome"])),
        "prebuilts": [{"category": "Geography.Location"}],
        "regex": {"expressions": [{"regexKey": "zip", "regexPattern": "\\d{5}"}]},
    },
    # Learned only: its composition setting composes one component, so it changes nothing.
    {"category": "Town", "compositionSetting": "returnLongestOverlap"},
    {"category": "Region", "compositionSetting": "combineComponents"},
    {
        "category": "Airline",
        "compositionSetting": "separateComponents",
        "list": _list(("lo", ["LOT"])),
    },
    {
        "category": "Code",
        "compositionSetting": "combineComponents",
        "regex": {"expressions": [{"regexKey": "code", "regexPattern": "[A-Z]{3}"}]},
        "requiredComponents": ["regex"],
    },
]


def project_file(name: str) -> dict[str, Any]:
    utterances = []
    for text, intent, labels in UTTERANCES.values():
        entities = []
        for surface, category in labels:
            offset, length = utf16_span(text, surface)
            entities.append({"category": category, "offset": offset, "length": length})
        utterances.append(
            {"text": text, "intent": intent, "dataset": "Train", "entities": entities}
        )
    return {
        "projectFileVersion": "2023-04-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {
            "projectKind": "Conversation",
            "projectName": name,
            "language": "en-us",
            "settings": {"confidenceThreshold": 0.0},
        },
        "assets": {
            "projectKind": "Conversation",
            "intents": [{"category": "BookFlight"}, {"category": "Travel"}, {"category": "None"}],
            "entities": ENTITIES,
            "utterances": utterances,
        },
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real uvicorn server over a fresh data dir."""
    with run_server(tmp_path_factory.mktemp("studio-clu-rename")) as live:
        yield live


@pytest.fixture(scope="module")
def keys(server: LiveServer) -> dict[str, str]:
    """An annotator's and an admin's keys (the admin may author, the annotator may not)."""
    return {"ana": add_user(server, "ana", "annotator"), "ada": add_user(server, "ada", "admin")}


@pytest.fixture
def project(server: LiveServer, request: pytest.FixtureRequest) -> str:
    """:func:`project_file` imported under the test's own name."""
    name = "ren-" + re.sub(r"[^A-Za-z0-9]+", "-", request.node.name.removeprefix("test_"))[:60]
    server.run_job("POST", f"{CONVERSATIONS}/{name}/:import", params=V, json=project_file(name))
    return name


def call(
    server: LiveServer, key: str | None, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    headers = {} if key is None else {"Ocp-Apim-Subscription-Key": key}
    return server.client.request(method, path, headers=headers, **kwargs)


def rename(
    server: LiveServer, project: str, name: str, new_name: Any, key: str | None = None
) -> httpx.Response:
    path = f"{LABELING}/{project}/entities/{name}:rename"
    return call(server, key, "POST", path, json={"newName": new_name})


def assert_error(response: httpx.Response, status: int, code: str, target: str | None) -> str:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert (error["code"], error.get("target")) == (code, target), error
    assert "Traceback" not in error["message"]
    message: str = error["message"]
    return message


def by_text(server: LiveServer, project: str) -> dict[str, dict[str, Any]]:
    response = server.client.get(f"{LABELING}/{project}/documents")
    assert response.status_code == 200, response.text
    return {item["text"]: item for item in response.json()["value"]}


def surfaces(item: dict[str, Any]) -> list[tuple[str, str]]:
    text = item["text"]
    return [
        (text[e["offset"] : e["offset"] + e["length"]], e["category"]) for e in item["entities"]
    ]


def conversation(server: LiveServer, project: str) -> dict[str, Any]:
    response = server.client.get(f"{LABELING}/{project}/conversation")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def exported(server: LiveServer, project: str) -> dict[str, Any]:
    state = server.run_job(
        "POST",
        f"{CONVERSATIONS}/{project}/:export",
        params={**V, "stringIndexType": "Utf16CodeUnit"},
    )
    response = server.client.get(state["resultUrl"])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def history(server: LiveServer, project: str, location: str) -> list[dict[str, Any]]:
    response = server.client.get(f"{LABELING}/{project}/documents/{location}/history")
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["value"]
    return events


def double_annotate(server: LiveServer, project: str) -> None:
    response = server.client.patch(
        f"{LABELING}/{project}/review-settings", json={"doubleAnnotationFraction": 1}
    )
    assert response.status_code == 200, response.text


def own_version(
    server: LiveServer, key: str, project: str, location: str, body: dict[str, Any]
) -> dict[str, Any]:
    path = f"{LABELING}/{project}/documents/{location}/annotations/mine"
    response = call(server, key, "PUT", path, json=body)
    assert response.status_code == 200, response.text
    saved: dict[str, Any] = response.json()
    return saved


def versions(server: LiveServer, project: str, location: str) -> list[dict[str, Any]]:
    response = server.client.get(f"{LABELING}/{project}/documents/{location}/annotations")
    assert response.status_code == 200, response.text
    value: list[dict[str, Any]] = response.json()["value"]
    return value


def code_points(text: str, surface: str, category: str) -> dict[str, Any]:
    return {"category": category, "offset": text.index(surface), "length": len(surface)}


# -- rename ------------------------------------------------------------------------------------


def test_rename_moves_spans_definition_and_versions_to_the_new_name(
    server: LiveServer, project: str, keys: dict[str, str]
) -> None:
    double_annotate(server, project)
    lyon = by_text(server, project)["fly to Lyon"]
    text = lyon["text"]
    mine = own_version(
        server,
        keys["ana"],
        project,
        lyon["location"],
        {"intent": "Travel", "entities": [code_points(text, "Lyon", "City")]},
    )

    response = rename(server, project, "City", "Destination", key=keys["ada"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["merged"], body["changedUtterances"]) == (False, 3)
    # The definition keeps its place in the list and its components.
    destination = body["entities"][0]
    assert (destination["category"], destination["utteranceCount"]) == ("Destination", 3)
    assert destination["description"] == "Where to"
    assert destination["list"] == ENTITIES[0]["list"]
    assert [e["category"] for e in body["entities"]] == [
        "Destination", "Place", "Town", "Region", "Airline", "Code"
    ]  # fmt: skip

    stored = by_text(server, project)
    assert surfaces(stored["fly to Paris"]) == [("Paris", "Destination"), ("Paris", "Place")]
    assert surfaces(stored["fly to New York"]) == [
        ("New York", "Destination"),
        ("York", "Region"),
    ]
    # The utterance list's labels follow.
    listing = server.client.get(f"{LABELING}/{project}/documents").json()
    assert listing["labels"] == ["Destination", "Place", "Town", "Region", "Airline", "Code"]

    # Each changed utterance's history names who renamed; the others have no new entry.
    last = history(server, project, lyon["location"])[-1]
    assert (last["action"], last["actor"]) == ("labelRenamed", "ada")
    assert [e["category"] for e in last["before"]["entities"]] == ["City"]
    assert [e["category"] for e in last["after"]["entities"]] == ["Destination"]
    rome = stored["fly to Rome"]["location"]
    assert [e["action"] for e in history(server, project, rome)] == []

    # ana's own version is renamed too, and still says when she saved it.
    (version,) = versions(server, project, lyon["location"])
    assert version["annotator"] == "ana"
    assert version["entities"] == [code_points(text, "Lyon", "Destination")]
    assert version["lastModifiedDateTime"] == mine["lastModifiedDateTime"]

    # The export (what :export gives Azure) has the new name, the old one nowhere.
    assets = exported(server, project)["assets"]
    assert assets["entities"][0]["category"] == "Destination"
    assert assets["entities"][0]["list"] == ENTITIES[0]["list"]
    labels = {e["category"] for u in assets["utterances"] for e in u["entities"]}
    assert labels == {"Destination", "Place", "Town", "Region"}

    # The old name is gone: a 404; renaming back restores everything.
    assert_error(rename(server, project, "City", "X"), 404, "NotFound", "category")
    response = rename(server, project, "Destination", "City")
    assert response.status_code == 200, response.text
    assert surfaces(by_text(server, project)["fly to Lyon"]) == [("Lyon", "City")]
    assert exported(server, project)["assets"]["entities"][0] == ENTITIES[0]


def test_renaming_to_the_same_name_changes_nothing(server: LiveServer, project: str) -> None:
    response = rename(server, project, "City", "City")
    assert response.status_code == 200, response.text
    assert (response.json()["merged"], response.json()["changedUtterances"]) == (False, 0)
    lyon = by_text(server, project)["fly to Lyon"]["location"]
    assert [e["action"] for e in history(server, project, lyon)] == []


# -- merge -------------------------------------------------------------------------------------


def test_merge_collapses_spans_and_combines_the_definitions(
    server: LiveServer, project: str, keys: dict[str, str]
) -> None:
    double_annotate(server, project)
    stored = by_text(server, project)
    paris = stored["fly to Paris"]
    text = paris["text"]
    both = [code_points(text, "Paris", "City"), code_points(text, "Paris", "Place")]
    own_version(
        server, keys["ana"], project, paris["location"], {"intent": "Travel", "entities": both}
    )

    response = rename(server, project, "Place", "City", key=keys["ada"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["merged"], body["changedUtterances"]) == (True, 2)
    assert [e["category"] for e in body["entities"]] == [
        "City",
        "Town",
        "Region",
        "Airline",
        "Code",
    ]
    city = body["entities"][0]
    assert city["utteranceCount"] == 4
    # The list: City's items, Place's words joining the item of the same key, then Place's
    # other items; every component of both; City's description (it had one).
    assert city["list"] == _list(
        ("paris", ["Paris", "City of Light", "Paname"]), ("london", ["London"]), ("rome", ["Rome"])
    )
    assert city["prebuilts"] == [{"category": "Geography.Location"}]
    assert city["regex"] == {"expressions": [{"regexKey": "zip", "regexPattern": "\\d{5}"}]}
    assert (city["compositionSetting"], city["description"]) == ("combineComponents", "Where to")

    # Paris was both City and Place: one City span now.
    stored = by_text(server, project)
    assert surfaces(stored["fly to Paris"]) == [("Paris", "City")]
    assert surfaces(stored["fly to Rome"]) == [("Rome", "City")]
    last = history(server, project, paris["location"])[-1]
    assert (last["action"], last["actor"]) == ("labelRenamed", "ada")
    assert len(last["before"]["entities"]) == 2 and len(last["after"]["entities"]) == 1
    (version,) = versions(server, project, paris["location"])
    assert version["entities"] == [code_points(text, "Paris", "City")]

    exported_city = exported(server, project)["assets"]["entities"][0]
    assert exported_city["list"] == city["list"]
    assert exported_city["prebuilts"] == [{"category": "Geography.Location"}]
    # The merged name no longer exists.
    assert_error(rename(server, project, "Place", "City"), 404, "NotFound", "category")


def test_merging_into_a_learned_only_entity_keeps_the_composition_that_matters(
    server: LiveServer, project: str
) -> None:
    # City (combineComponents, a list) into Town (returnLongestOverlap, learned only): Town's
    # setting composed one component and changed nothing; City's composes the list with it.
    response = rename(server, project, "City", "Town")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["merged"], body["changedUtterances"]) == (True, 3)
    town = body["entities"][1]
    assert [e["category"] for e in body["entities"]] == [
        "Place", "Town", "Region", "Airline", "Code"
    ]  # fmt: skip
    assert (town["category"], town["compositionSetting"]) == ("Town", "combineComponents")
    # Town had no description and no list: City's.
    assert (town["description"], town["list"]) == ("Where to", ENTITIES[0]["list"])
    assert town["utteranceCount"] == 4
    stored = by_text(server, project)
    assert surfaces(stored["fly to Lyon"]) == [("Lyon", "Town")]
    assert surfaces(stored["a weekend in Bath"]) == [("Bath", "Town")]


# -- refusals ----------------------------------------------------------------------------------


def test_a_merge_that_cannot_be_combined_is_refused_and_changes_nothing(
    server: LiveServer, project: str
) -> None:
    before = (by_text(server, project), conversation(server, project))
    # Two entities with components, composed differently.
    message = assert_error(rename(server, project, "Airline", "City"), 409, "Conflict", "newName")
    assert "separateComponents" in message and "combineComponents" in message
    # Different required components.
    message = assert_error(rename(server, project, "Code", "City"), 409, "Conflict", "newName")
    assert "requiredComponents" in message and "'regex'" in message
    # Spans that would overlap without being the same: New York and York.
    message = assert_error(rename(server, project, "Region", "City"), 409, "Conflict", "newName")
    york = by_text(server, project)["fly to New York"]["location"]
    assert "1 utterance(s)" in message and york in message
    assert (by_text(server, project), conversation(server, project)) == before


def test_rename_errors_are_azure_envelopes(server: LiveServer, project: str) -> None:
    assert_error(rename(server, project, "Nope", "X"), 404, "NotFound", "category")
    assert_error(rename(server, "no-such-project", "City", "X"), 404, "ProjectNotFound", None)
    for bad in ["", " City", "a" * 101, "tab\there"]:
        assert_error(rename(server, project, "City", bad), 400, "InvalidRequest", "newName")
    for body in [{}, {"newName": 7}, {"newName": None}]:
        response = server.client.post(f"{LABELING}/{project}/entities/City:rename", json=body)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "InvalidRequest"
    # Intent names are not entity names.
    assert_error(rename(server, project, "BookFlight", "X"), 404, "NotFound", "category")
    # A custom text project has no such route for its labels.
    create_project(server, "ren-ner", "CustomEntityRecognition", ["Org"])
    response = rename(server, "ren-ner", "Org", "X")
    assert_error(response, 400, "InvalidRequest", "projectName")
    assert conversation(server, project)["entities"][0]["category"] == "City"


def test_a_rename_failing_part_way_changes_nothing(
    server: LiveServer, project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (by_text(server, project), conversation(server, project))

    # Utterances are written (flushed) first; the database is lost before the definitions'
    # write, as when its server restarts mid-request.
    def lost(*_args: Any, **_kwargs: Any) -> None:
        raise DatabaseUnavailable("the database cannot be reached")

    monkeypatch.setattr(project_store, "save_conversation_assets", lost)
    response = rename(server, project, "Place", "City")
    assert_error(response, 503, "ServiceUnavailable", None)
    monkeypatch.undo()
    assert (by_text(server, project), conversation(server, project)) == before


def test_annotators_may_not_rename_entities_or_intents(
    server: LiveServer, project: str, keys: dict[str, str]
) -> None:
    message = assert_error(
        rename(server, project, "City", "Town2", key=keys["ana"]), 403, "Forbidden", None
    )
    assert "'author'" in message
    response = call(
        server,
        keys["ana"],
        "POST",
        f"{LABELING}/{project}/intents/BookFlight:rename",
        json={"newName": "Book"},
    )
    assert_error(response, 403, "Forbidden", None)
    assert conversation(server, project)["entities"][0]["category"] == "City"


# -- the other renames rename annotators' versions too -------------------------------------------


def test_intent_rename_and_merge_rename_versions_and_say_what_changed(
    server: LiveServer, project: str, keys: dict[str, str]
) -> None:
    double_annotate(server, project)
    joke = by_text(server, project)["tell me a joke"]["location"]
    own_version(server, keys["ana"], project, joke, {"intent": "Travel"})
    path = f"{LABELING}/{project}/intents"
    response = server.client.post(f"{path}/Travel:rename", json={"newName": "Trip"})
    assert response.status_code == 200, response.text
    assert (response.json()["merged"], response.json()["changedUtterances"]) == (False, 0)
    assert versions(server, project, joke)[0]["intent"] == "Trip"
    response = server.client.post(f"{path}/Trip:rename", json={"newName": "BookFlight"})
    assert response.status_code == 200, response.text
    assert response.json()["merged"] is True
    assert versions(server, project, joke)[0]["intent"] == "BookFlight"
    response = server.client.post(f"{path}/BookFlight:rename", json={"newName": "Book"})
    assert (response.json()["merged"], response.json()["changedUtterances"]) == (False, 5)
    # The PATCH rename answers the intents and entities alone, as before.
    response = server.client.patch(f"{path}/Book", json={"category": "Booking"})
    assert response.status_code == 200, response.text
    assert "merged" not in response.json()


def test_label_rename_renames_versions_in_custom_text_projects(
    server: LiveServer, keys: dict[str, str]
) -> None:
    project = "ren-ner-versions"
    text = "Contoso hired Anna."
    create_project(server, project, "CustomEntityRecognition", ["Org", "Company", "Person"])
    added = server.client.post(
        f"{LABELING}/{project}/documents", json={"text": text, "location": "a.txt"}
    )
    assert added.status_code == 201, added.text
    double_annotate(server, project)
    own_version(
        server,
        keys["ana"],
        project,
        "a.txt",
        {"entities": [span(text, "Contoso", "Org"), span(text, "Anna", "Person")]},
    )
    response = server.client.post(
        f"{LABELING}/{project}/labels/Org:rename", json={"newName": "Company"}
    )
    assert response.status_code == 200, response.text
    (version,) = versions(server, project, "a.txt")
    assert version["entities"] == [span(text, "Contoso", "Company"), span(text, "Anna", "Person")]
