"""Project-wide labeling changes over real HTTP, on SQLite and PostgreSQL: renaming and merging an
entity type or class (``…/labels/{name}:rename``) and moving several documents into a dataset
at once (``…/documents:assign-dataset``), each all or nothing."""

from __future__ import annotations

from typing import Any

import pytest

from lexicraft.errors import DatabaseUnavailable
from lexicraft.storage.sql import documents as document_store
from tests.integration.server import LiveServer
from tests.studio.test_documents_api import LABELING, assert_error, create_project, span

TEXT = "Microsoft hired Anna in Redmond."


def add(server: LiveServer, project: str, location: str, text: str, **labels: Any) -> None:
    response = server.client.post(
        f"{LABELING}/{project}/documents", json={"text": text, "location": location}
    )
    assert response.status_code == 201, response.text
    if labels:
        response = server.client.patch(f"{LABELING}/{project}/documents/{location}", json=labels)
        assert response.status_code == 200, response.text


def documents(server: LiveServer, project: str) -> dict[str, dict[str, Any]]:
    response = server.client.get(f"{LABELING}/{project}/documents")
    assert response.status_code == 200, response.text
    return {document["location"]: document for document in response.json()["value"]}


def rename(server: LiveServer, project: str, name: str, new_name: Any) -> Any:
    return server.client.post(
        f"{LABELING}/{project}/labels/{name}:rename", json={"newName": new_name}
    )


@pytest.fixture
def ner(server: LiveServer, request: pytest.FixtureRequest) -> str:
    """Org, Company, Person and City; two documents use Org, one also Company."""
    name = f"bulk-{request.node.originalname.removeprefix('test_')[:40].replace('_', '-')}"
    create_project(server, name, "CustomEntityRecognition", ["Org", "Company", "Person", "City"])
    add(
        server,
        name,
        "a.txt",
        TEXT,
        entities=[span(TEXT, "Microsoft", "Org"), span(TEXT, "Anna", "Person")],
    )
    add(
        server,
        name,
        "b.txt",
        "Contoso and Fabrikam.",
        entities=[
            span("Contoso and Fabrikam.", "Contoso", "Org"),
            span("Contoso and Fabrikam.", "Fabrikam", "Company"),
        ],
    )
    add(server, name, "c.txt", "Nothing here.")
    return name


def test_rename_changes_the_label_list_and_every_document(server: LiveServer, ner: str) -> None:
    response = rename(server, ner, "Org", "Organization")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["merged"] is False
    assert body["changedDocuments"] == 2
    # The renamed label keeps its place (and so its key and colour in the Studio).
    assert [(label["category"], label["documentCount"]) for label in body["labels"]] == [
        ("Organization", 2),
        ("Company", 1),
        ("Person", 1),
        ("City", 0),
    ]
    stored = documents(server, ner)
    assert stored["a.txt"]["entities"] == [
        span(TEXT, "Microsoft", "Organization"),
        span(TEXT, "Anna", "Person"),
    ]
    assert [e["category"] for e in stored["b.txt"]["entities"]] == ["Organization", "Company"]
    # The old name is gone: renaming it again is a 404.
    assert_error(rename(server, ner, "Org", "X"), 404, "NotFound")


def test_rename_onto_an_existing_label_merges_them(server: LiveServer, ner: str) -> None:
    response = rename(server, ner, "Org", "Company")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["merged"] is True
    assert body["changedDocuments"] == 2
    assert [(label["category"], label["documentCount"]) for label in body["labels"]] == [
        ("Company", 2),
        ("Person", 1),
        ("City", 0),
    ]
    stored = documents(server, ner)
    assert [e["category"] for e in stored["b.txt"]["entities"]] == ["Company", "Company"]
    labels = server.client.get(f"{LABELING}/{ner}/labels").json()["labels"]
    assert [label["category"] for label in labels] == ["Company", "Person", "City"]


def test_merging_classes_collapses_a_document_s_duplicates(server: LiveServer) -> None:
    project = "bulk-multi"
    create_project(server, project, "CustomMultiLabelClassification", ["Cost", "Price", "Screen"])
    add(server, project, "both.txt", "Too expensive, bad screen.", classes=["Cost", "Price"])
    add(server, project, "one.txt", "Costs too much.", classes=["Cost", "Screen"])
    response = rename(server, project, "Cost", "Price")
    assert response.status_code == 200, response.text
    assert response.json()["merged"] is True
    stored = documents(server, project)
    assert stored["both.txt"]["classes"] == [{"category": "Price"}]
    assert stored["one.txt"]["classes"] == [{"category": "Price"}, {"category": "Screen"}]


def test_renaming_a_single_label_class_and_a_label_with_a_slash(server: LiveServer) -> None:
    project = "bulk-single"
    create_project(server, project, "CustomSingleLabelClassification", ["Sport/Games", "News"])
    add(server, project, "s.txt", "A great match.", classes=["Sport/Games"])
    response = rename(server, project, "Sport%2FGames", "Sports")
    assert response.status_code == 200, response.text
    assert documents(server, project)["s.txt"]["classes"] == [{"category": "Sports"}]
    # The same name: nothing to do, nothing changed.
    response = rename(server, project, "Sports", "Sports")
    assert response.status_code == 200, response.text
    assert response.json()["changedDocuments"] == 0


def test_rename_errors_are_azure_envelopes(server: LiveServer, ner: str) -> None:
    assert_error(rename(server, ner, "Nope", "X"), 404, "NotFound")
    assert_error(rename(server, "no-such-project", "Org", "X"), 404, "ProjectNotFound")
    for bad in ["", " Org", "a" * 101, "tab\there", 7, None]:
        assert_error(rename(server, ner, "Org", bad), 400, "InvalidRequest")
    response = server.client.post(f"{LABELING}/{ner}/labels/Org:rename", json={})
    assert_error(response, 400, "InvalidRequest")
    # Nothing changed by any of them.
    labels = server.client.get(f"{LABELING}/{ner}/labels").json()["labels"]
    assert [label["category"] for label in labels] == ["Org", "Company", "Person", "City"]


def test_a_rename_failing_part_way_changes_nothing(
    server: LiveServer, ner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = documents(server, ner)

    # The documents are written (flushed) first; the database is lost before the label list's
    # write, as when its server restarts mid-request.
    def lost(*_args: Any, **_kwargs: Any) -> None:
        raise DatabaseUnavailable("the database cannot be reached")

    monkeypatch.setattr(document_store, "save_labels", lost)
    assert_error(rename(server, ner, "Org", "Company"), 503, "ServiceUnavailable")
    monkeypatch.undo()
    assert documents(server, ner) == before
    labels = server.client.get(f"{LABELING}/{ner}/labels").json()["labels"]
    assert [label["category"] for label in labels] == ["Org", "Company", "Person", "City"]


def test_conversation_projects_rename_through_their_own_routes(server: LiveServer) -> None:
    response = server.client.patch(
        "/language/authoring/analyze-conversations/projects/bulk-clu",
        params={"api-version": "2023-04-01"},
        json={"projectKind": "Conversation", "language": "en-us", "projectName": "bulk-clu"},
    )
    assert response.status_code == 201, response.text
    error = assert_error(rename(server, "bulk-clu", "None", "X"), 400, "InvalidRequest")
    assert "…/intents/{name}" in error["message"]


def assign(server: LiveServer, project: str, body: dict[str, Any]) -> Any:
    return server.client.post(f"{LABELING}/{project}/documents:assign-dataset", json=body)


def test_bulk_dataset_assignment(server: LiveServer, ner: str) -> None:
    response = assign(server, ner, {"locations": ["a.txt", "c.txt"], "dataset": "test"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dataset"] == "Test"
    assert body["changed"] == ["a.txt", "c.txt"]
    assert body["counts"] == {
        "total": 3,
        "labeled": 2,
        "unlabeled": 1,
        "train": 0,
        "test": 2,
        "unassigned": 1,
    }
    # Those already there are not counted as changed; a location named twice counts once.
    response = assign(server, ner, {"locations": ["a.txt", "b.txt", "b.txt"], "dataset": "Test"})
    assert response.json()["changed"] == ["b.txt"]
    stored = documents(server, ner)
    assert {location: doc["dataset"] for location, doc in stored.items()} == {
        "a.txt": "Test",
        "b.txt": "Test",
        "c.txt": "Test",
    }
    # The labels stay as they were.
    assert stored["a.txt"]["entities"][0]["category"] == "Org"
    # null takes them out of every dataset.
    response = assign(server, ner, {"locations": ["a.txt"], "dataset": None})
    assert response.status_code == 200, response.text
    assert documents(server, ner)["a.txt"]["dataset"] is None


def test_bulk_dataset_assignment_is_all_or_nothing(server: LiveServer, ner: str) -> None:
    error = assert_error(
        assign(server, ner, {"locations": ["a.txt", "missing.txt"], "dataset": "Train"}),
        404,
        "NotFound",
    )
    assert "missing.txt" in error["message"]
    assert all(doc["dataset"] is None for doc in documents(server, ner).values())
    assert_error(assign(server, ner, {"locations": [], "dataset": "Train"}), 400, "InvalidRequest")
    assert_error(assign(server, ner, {"locations": ["a.txt"]}), 400, "InvalidRequest")
    assert_error(
        assign(server, ner, {"locations": ["a.txt"], "dataset": "Validation"}),
        400,
        "InvalidRequest",
    )
    assert_error(
        assign(server, "no-such-project", {"locations": ["a.txt"], "dataset": "Train"}),
        404,
        "ProjectNotFound",
    )


def test_conversation_intents_rename_and_merge(server: LiveServer) -> None:
    project = "bulk-intents"
    base = f"{LABELING}/{project}"
    response = server.client.patch(
        f"/language/authoring/analyze-conversations/projects/{project}",
        params={"api-version": "2023-04-01"},
        json={"projectKind": "Conversation", "language": "en-us", "projectName": project},
    )
    assert response.status_code == 201, response.text
    for intent in ("Book", "Reserve", "Weather"):
        assert server.client.post(f"{base}/intents", json={"category": intent}).is_success
    for text, intent in [("book a room", "Book"), ("reserve a table", "Reserve")]:
        added = server.client.post(f"{base}/utterances", json={"text": text, "intent": intent})
        assert added.status_code == 201, added.text

    # Onto a free name: a rename; onto a taken one: a merge (the PATCH route still refuses).
    response = server.client.post(f"{base}/intents/Reserve:rename", json={"newName": "Hold"})
    assert response.status_code == 200, response.text
    assert_error(
        server.client.patch(f"{base}/intents/Hold", json={"category": "Book"}), 409, "Conflict"
    )
    response = server.client.post(f"{base}/intents/Hold:rename", json={"newName": "Book"})
    assert response.status_code == 200, response.text
    assert [(i["category"], i["utteranceCount"]) for i in response.json()["intents"]] == [
        ("None", 0),
        ("Book", 2),
        ("Weather", 0),
    ]
    assert sorted(d["intent"] for d in documents(server, project).values()) == ["Book", "Book"]
    # The None intent keeps its name and takes no other intent's.
    response = server.client.post(f"{base}/intents/Weather:rename", json={"newName": "None"})
    assert_error(response, 400, "InvalidRequest")
    response = server.client.post(f"{base}/intents/Book:rename", json={"newName": " bad"})
    assert_error(response, 400, "InvalidRequest")
