"""The labeling extension routes over real HTTP: add, list, label, move, delete documents and
change the label list, with Azure error envelopes for every broken rule and never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.server import API_VERSION, AUTHORING, HTTP_TIMEOUT_S, LiveServer, run_server

LABELING = "/language/lexicraft/projects"
V = {"api-version": API_VERSION}
EMOJI_TEXT = "🎉👩‍💻 Zoë met Anna in Kraków 🇵🇱 today."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real uvicorn server over a fresh data dir."""
    with run_server(tmp_path_factory.mktemp("studio-api")) as live:
        yield live


def create_project(server: LiveServer, name: str, kind: str, labels: list[str]) -> None:
    response = server.client.patch(
        f"{AUTHORING}/{name}",
        params=V,
        json={
            "projectKind": kind,
            "language": "en-us",
            "storageInputContainerName": name,
            "projectName": name,
        },
    )
    assert response.status_code == 201, response.text
    response = server.client.put(f"{LABELING}/{name}/labels", json={"labels": labels})
    assert response.status_code == 200, response.text


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    return error


@pytest.fixture
def blank_ner(server: LiveServer, request: pytest.FixtureRequest) -> str:
    """An NER project of the test's own (Person, City) without documents."""
    name = f"docs-{request.node.name.removeprefix('test_')[:40].replace('_', '-')}"
    create_project(server, name, "CustomEntityRecognition", ["Person", "City"])
    return name


@pytest.fixture(scope="module")
def ner(server: LiveServer) -> str:
    """An NER project with three documents; the tests that use it leave it as they found it.

    ``a/one.txt`` (Train, unlabeled), one with a generated location (no dataset, unlabeled)
    and ``emoji.txt`` (Test) with Anna as a Person and Kraków as a City.
    """
    name = "docs-ner"
    create_project(server, name, "CustomEntityRecognition", ["Person", "City"])
    added = [
        {"text": "Line one\r\nAnna flew to Paris.", "dataset": "Train", "location": "a/one.txt"},
        {"text": "Second text."},
        {"text": EMOJI_TEXT, "location": "emoji.txt"},
    ]
    for body in added:
        response = server.client.post(f"{LABELING}/{name}/documents", json=body)
        assert response.status_code == 201, response.text
    entities = [span(EMOJI_TEXT, "Anna", "Person"), span(EMOJI_TEXT, "Kraków", "City")]
    response = server.client.patch(
        f"{LABELING}/{name}/documents/emoji.txt", json={"entities": entities, "dataset": "Test"}
    )
    assert response.status_code == 200, response.text
    return name


@pytest.fixture(scope="module")
def single(server: LiveServer) -> str:
    create_project(server, "docs-single", "CustomSingleLabelClassification", ["Sports", "News"])
    return "docs-single"


def span(text: str, surface: str, category: str) -> dict[str, Any]:
    """A code-point span for the first ``surface`` in ``text``."""
    start = text.index(surface)  # Python indexes count code points
    return {"category": category, "offset": start, "length": len(surface)}


def test_add_writes_the_file_and_an_unlabeled_document(server: LiveServer, blank_ner: str) -> None:
    ner = blank_ner
    response = server.client.post(
        f"{LABELING}/{ner}/documents",
        json={
            "text": "Line one\r\nAnna flew to Paris.",
            "dataset": "Train",
            "location": "a/one.txt",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["location"] == "a/one.txt"
    assert body["language"] == "en-us"  # the project's
    assert body["dataset"] == "Train"
    assert body["labeled"] is False
    assert body["entities"] == []
    assert body["stringIndexType"] == "UnicodeCodePoint"
    # The text is in the project's storage container, byte for byte (\r\n kept).
    stored = server.client.get(f"/language/lexicraft/storage/{ner}/a/one.txt")
    assert stored.text == "Line one\r\nAnna flew to Paris."
    # A second document without a location gets a generated one.
    generated = server.client.post(f"{LABELING}/{ner}/documents", json={"text": "Second text."})
    assert generated.status_code == 201, generated.text
    assert generated.json()["location"].endswith(".txt")
    assert generated.json()["dataset"] is None


def test_spans_in_code_points_survive_emoji(server: LiveServer, blank_ner: str) -> None:
    ner = blank_ner
    added = server.client.post(
        f"{LABELING}/{ner}/documents", json={"text": EMOJI_TEXT, "location": "emoji.txt"}
    )
    assert added.status_code == 201, added.text
    entities = [span(EMOJI_TEXT, "Anna", "Person"), span(EMOJI_TEXT, "Kraków", "City")]
    response = server.client.patch(
        f"{LABELING}/{ner}/documents/emoji.txt", json={"entities": entities, "dataset": "Test"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["labeled"] is True
    assert body["dataset"] == "Test"
    assert body["entities"] == [
        {"category": "Person", "offset": 13, "length": 4},
        {"category": "City", "offset": 21, "length": 6},
    ]
    for entity in body["entities"]:
        surface = EMOJI_TEXT[entity["offset"] : entity["offset"] + entity["length"]]
        assert surface in ("Anna", "Kraków")
    # The Azure export of the same document counts UTF-16 units: 🎉, 👩 and 💻 are two each.
    job = server.run_job(
        "POST", f"{AUTHORING}/{ner}/:export", params={**V, "stringIndexType": "Utf16CodeUnit"}
    )
    exported = server.client.get(job["resultUrl"]).json()
    document = next(d for d in exported["assets"]["documents"] if d["location"] == "emoji.txt")
    labels = document["entities"][0]["labels"]
    assert labels[0] == {"category": "Person", "offset": 16, "length": 4}
    assert labels[1] == {"category": "City", "offset": 24, "length": 6}


def test_list_filters_and_counts(server: LiveServer, ner: str) -> None:
    everything = server.client.get(f"{LABELING}/{ner}/documents").json()
    assert everything["counts"]["total"] == len(everything["value"]) >= 3
    assert everything["labels"] == ["Person", "City"]
    unlabeled = server.client.get(f"{LABELING}/{ner}/documents", params={"status": "unlabeled"})
    assert all(not d["labeled"] for d in unlabeled.json()["value"])
    tests = server.client.get(f"{LABELING}/{ner}/documents", params={"dataset": "test"}).json()
    assert [d["location"] for d in tests["value"]] == ["emoji.txt"]
    none = server.client.get(f"{LABELING}/{ner}/documents", params={"dataset": "none"}).json()
    assert all(d["dataset"] is None for d in none["value"])
    assert everything["counts"]["unassigned"] == len(none["value"])
    paged = server.client.get(f"{LABELING}/{ner}/documents", params={"top": 1}).json()
    assert len(paged["value"]) == 1
    assert paged["counts"] == everything["counts"]
    bad = server.client.get(f"{LABELING}/{ner}/documents", params={"status": "done"})
    assert_error(bad, 400, "InvalidRequest")


@pytest.mark.parametrize(
    ("entities", "where"),
    [
        (
            [
                {"category": "Person", "offset": 0, "length": 5},
                {"category": "City", "offset": 3, "length": 4},
            ],
            "overlap",
        ),
        ([{"category": "Org", "offset": 0, "length": 4}], "not in the project's entity list"),
        ([{"category": "Person", "offset": 40, "length": 4}], "outside the text"),
        ([{"category": "Person", "offset": 2, "length": 0}], "empty"),
        ([{"category": "Person", "offset": "0", "length": 4}], "must be an integer"),
        ([{"offset": 0, "length": 4}], "category is required"),
        ("Person", "must be a list"),
    ],
)
def test_bad_spans_are_400(server: LiveServer, ner: str, entities: object, where: str) -> None:
    before = server.client.get(f"{LABELING}/{ner}/documents/emoji.txt").json()
    response = server.client.patch(
        f"{LABELING}/{ner}/documents/emoji.txt", json={"entities": entities}
    )
    error = assert_error(response, 400, "InvalidRequest")
    assert where in error["message"]
    assert server.client.get(f"{LABELING}/{ner}/documents/emoji.txt").json() == before


def test_other_bad_requests(server: LiveServer, ner: str, single: str) -> None:
    client = server.client
    assert_error(
        client.post(f"{LABELING}/{ner}/documents", json={"text": "   "}), 400, "InvalidRequest"
    )
    assert_error(client.post(f"{LABELING}/{ner}/documents", json={}), 400, "InvalidRequest")
    assert_error(
        client.post(f"{LABELING}/{ner}/documents", content=b"{nope"), 400, "InvalidRequest"
    )
    assert_error(
        client.post(f"{LABELING}/{ner}/documents", json={"text": "x", "location": "../escape.txt"}),
        400,
        "InvalidRequest",
    )
    assert_error(
        client.post(f"{LABELING}/{ner}/documents", json={"text": "x", "language": "english!"}),
        400,
        "InvalidRequest",
    )
    assert_error(
        client.post(f"{LABELING}/{ner}/documents", json={"text": "x", "dataset": "Dev"}),
        400,
        "InvalidRequest",
    )
    # A lone surrogate can travel in JSON but no file can hold it.
    assert_error(
        client.post(
            f"{LABELING}/{ner}/documents",
            content=b'{"text": "bad \\ud83d text"}',
            headers={"Content-Type": "application/json"},
        ),
        400,
        "InvalidRequest",
    )
    assert_error(
        client.post(f"{LABELING}/{ner}/documents", json={"text": "again", "location": "emoji.txt"}),
        409,
        "Conflict",
    )
    assert_error(
        client.patch(f"{LABELING}/{ner}/documents/emoji.txt", json={"classes": ["Sports"]}),
        400,
        "InvalidRequest",
    )
    assert_error(
        client.patch(
            f"{LABELING}/{ner}/documents/emoji.txt",
            json={"entities": [], "stringIndexType": "Utf16CodeUnit"},
        ),
        400,
        "InvalidRequest",
    )
    assert_error(client.get(f"{LABELING}/{ner}/documents/missing.txt"), 404, "NotFound")
    assert_error(client.get(f"{LABELING}/nope/documents"), 404, "ProjectNotFound")
    assert_error(
        client.put(f"{LABELING}/{ner}/labels", json={"labels": ["A", "A"]}), 400, "InvalidRequest"
    )
    assert_error(
        client.put(f"{LABELING}/{ner}/labels", json={"labels": [" A"]}), 400, "InvalidRequest"
    )
    assert_error(client.put(f"{LABELING}/{ner}/labels", json={}), 400, "InvalidRequest")
    added = client.post(f"{LABELING}/{single}/documents", json={"text": "Goal!"}).json()
    path = f"{LABELING}/{single}/documents/{added['location']}"
    assert_error(client.patch(path, json={"classes": ["Sports", "News"]}), 400, "InvalidRequest")
    assert_error(client.patch(path, json={"classes": ["Weather"]}), 400, "InvalidRequest")
    assert_error(client.patch(path, json={"entities": []}), 400, "InvalidRequest")


def test_the_key_is_required(server: LiveServer, ner: str) -> None:
    response = httpx.get(f"{server.base_url}{LABELING}/{ner}/documents", timeout=HTTP_TIMEOUT_S)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "401"


def test_classes_and_dataset(server: LiveServer, single: str) -> None:
    added = server.client.post(
        f"{LABELING}/{single}/documents", json={"text": "A late goal won the match ⚽."}
    )
    path = f"{LABELING}/{single}/documents/{added.json()['location']}"
    response = server.client.patch(path, json={"classes": [{"category": "Sports"}]})
    assert response.status_code == 200, response.text
    assert response.json()["classes"] == [{"category": "Sports"}]
    assert response.json()["labeled"] is True
    moved = server.client.patch(path, json={"dataset": "Test"}).json()
    assert moved["dataset"] == "Test"
    assert moved["classes"] == [{"category": "Sports"}]  # untouched by a dataset change
    cleared = server.client.patch(path, json={"dataset": None, "classes": []}).json()
    assert cleared["dataset"] is None
    assert cleared["labeled"] is False


def test_delete_document(server: LiveServer, blank_ner: str) -> None:
    ner = blank_ner
    server.client.post(f"{LABELING}/{ner}/documents", json={"text": "Bye.", "location": "bye.txt"})
    response = server.client.delete(f"{LABELING}/{ner}/documents/bye.txt")
    assert response.status_code == 204, response.text
    assert_error(server.client.get(f"{LABELING}/{ner}/documents/bye.txt"), 404, "NotFound")
    assert_error(server.client.delete(f"{LABELING}/{ner}/documents/bye.txt"), 404, "NotFound")
    locations = [
        d["location"] for d in server.client.get(f"{LABELING}/{ner}/documents").json()["value"]
    ]
    assert "bye.txt" not in locations


def test_label_list_add_and_remove(server: LiveServer, ner: str) -> None:
    # "City" and "Person" label emoji.txt; "Org" is new and unused.
    added = server.client.put(
        f"{LABELING}/{ner}/labels", json={"labels": ["Person", "City", "Org"]}
    )
    assert added.status_code == 200, added.text
    assert added.json()["labels"] == [
        {"category": "Person", "documentCount": 1},
        {"category": "City", "documentCount": 1},
        {"category": "Org", "documentCount": 0},
    ]
    in_use = server.client.put(f"{LABELING}/{ner}/labels", json={"labels": ["Person", "Org"]})
    error = assert_error(in_use, 409, "Conflict")
    assert "'City'" in error["message"] and "emoji.txt" in error["message"]
    assert [
        label["category"]
        for label in server.client.get(f"{LABELING}/{ner}/labels").json()["labels"]
    ] == ["Person", "City", "Org"]
    removed = server.client.put(f"{LABELING}/{ner}/labels", json={"labels": ["Person", "City"]})
    assert removed.status_code == 200, removed.text
    project = server.client.get(f"{LABELING}/{ner}/documents").json()
    assert project["labels"] == ["Person", "City"]


def test_a_labeled_project_trains(server: LiveServer, tmp_path: Path) -> None:
    """Documents added one by one are a project the authoring API trains on."""
    name = "docs-train"
    create_project(server, name, "CustomEntityRecognition", ["City"])
    for index, city in enumerate(["Paris", "Berlin", "Tokyo", "Madrid", "Oslo", "Rome"]):
        text = f"🎉 We flew to {city} last week."
        location = server.client.post(
            f"{LABELING}/{name}/documents",
            json={"text": text, "dataset": "Test" if index == 5 else "Train"},
        ).json()["location"]
        response = server.client.patch(
            f"{LABELING}/{name}/documents/{location}", json={"entities": [span(text, city, "City")]}
        )
        assert response.status_code == 200, response.text
    server.train(name, "m1")
    results = server.client.get(
        f"{AUTHORING}/{name}/models/m1/evaluation/result",
        params={**V, "stringIndexType": "Utf16CodeUnit"},
    ).json()["value"]
    assert len(results) == 1
    region = results[0]["customEntityRecognitionResult"]["entities"][0]
    # "🎉 We flew to " is 13 code points and 14 UTF-16 units.
    assert region["expectedEntities"] == [{"category": "City", "offset": 14, "length": 4}]
