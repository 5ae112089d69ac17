"""Review and agreement over real HTTP, on SQLite and PostgreSQL.

A reviewer accepts documents or sends them back (an annotator may not); a label change clears
the review; a project set to train on reviewed documents trains on the accepted ones alone (and
refuses to train with none); annotators' own versions of the double-annotation sample are
compared (the numbers are those of ``domain.agreement`` on the same labels) and a reviewer
resolves them into the document's labels. Conversation (CLU) projects the same way, through the
same routes: an utterance's review, its annotators' versions (intent and entities), agreement on
both parts (intent kappa, entity span F1), resolution, and training on accepted utterances.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection
from sqlalchemy import text as sql

from lexicraft.domain.agreement import (
    pairwise_class_agreement,
    pairwise_span_agreement,
    pairwise_utterance_agreement,
)
from lexicraft.domain.spans import Span
from tests.integration.clu_projects import CLU, clu_import, clu_project_file
from tests.integration.databases import Databases, database_at
from tests.integration.server import API_VERSION, AUTHORING, FAST, LiveServer, run_server
from tests.integration.test_users_and_roles import add_user
from tests.studio.test_documents_api import LABELING, assert_error, create_project, span

V = {"api-version": API_VERSION}
TEXTS = {
    "a.txt": "Ana met Rita in Porto.",
    "b.txt": "Bruno flew to Lisbon.",
    "c.txt": "Carla lives in Braga.",
    "d.txt": "Duarte visited Faro.",
}


@dataclass
class Team:
    """The module's server and the keys of two annotators and a reviewer."""

    server: LiveServer
    keys: dict[str, str]

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request with ``who``'s key (``configured``: the server's own key)."""
        if who == "configured":
            return self.server.client.request(method, path, **kwargs)
        headers = {"Ocp-Apim-Subscription-Key": self.keys[who]}
        return self.server.client.request(method, path, headers=headers, **kwargs)

    def ok(self, who: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """:meth:`call`, asserting a 200 or 201; the body."""
        response = self.call(who, method, path, **kwargs)
        assert response.status_code in (200, 201), response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="module")
def team(server: LiveServer) -> Team:
    return Team(
        server,
        {
            "ana": add_user(server, "ana", "annotator"),
            "bo": add_user(server, "bo", "annotator"),
            "rita": add_user(server, "rita", "reviewer"),
        },
    )


def ner_project(team: Team, name: str, texts: dict[str, str] = TEXTS) -> str:
    create_project(team.server, name, "CustomEntityRecognition", ["Person", "City"])
    for location, text in texts.items():
        team.ok(
            "configured",
            "POST",
            f"{LABELING}/{name}/documents",
            json={"text": text, "location": location},
        )
    return name


def label(team: Team, who: str, project: str, location: str, **body: Any) -> dict[str, Any]:
    return team.ok(who, "PATCH", f"{LABELING}/{project}/documents/{location}", json=body)


def review(team: Team, who: str, project: str, location: str, **body: Any) -> httpx.Response:
    return team.call(who, "POST", f"{LABELING}/{project}/documents/{location}:review", json=body)


def listed(team: Team, project: str, **query: str) -> list[str]:
    body = team.ok("configured", "GET", f"{LABELING}/{project}/documents", params=query)
    return [document["location"] for document in body["value"]]


def test_reviewers_accept_or_send_back_and_a_label_change_clears_the_review(team: Team) -> None:
    project = ner_project(team, "review-states")
    text = TEXTS["a.txt"]
    labeled = label(team, "ana", project, "a.txt", entities=[span(text, "Ana", "Person")])
    assert (labeled["state"], labeled["labeledBy"], labeled["reviewedBy"]) == (
        "labeled",
        "ana",
        None,
    )
    label(team, "bo", project, "b.txt", entities=[span(TEXTS["b.txt"], "Bruno", "Person")])

    # An annotator may not review: 403 naming the permission.
    error = assert_error(review(team, "ana", project, "a.txt", decision="accept"), 403, "Forbidden")
    assert "'review'" in error["message"]
    response = review(team, "rita", project, "a.txt", decision="accept")
    assert response.status_code == 200, response.text
    accepted = response.json()
    assert (accepted["state"], accepted["reviewedBy"], accepted["labeledBy"]) == (
        "accepted",
        "rita",
        "ana",
    )
    assert accepted["reviewedDateTime"]
    response = review(
        team, "rita", project, "b.txt", decision="sendBack", comment="Lisbon is a City"
    )
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["reviewComment"]) == (
        "sentBack",
        "Lisbon is a City",
    )

    assert listed(team, project, state="accepted") == ["a.txt"]
    assert listed(team, project, state="sentBack") == ["b.txt"]
    assert listed(team, project, state="unlabeled") == ["c.txt", "d.txt"]
    assert listed(team, project, annotator="bo") == ["b.txt"]
    assert_error(
        team.call("configured", "GET", f"{LABELING}/{project}/documents", params={"state": "x"}),
        400,
        "InvalidRequest",
    )
    assert_error(review(team, "rita", project, "a.txt", decision="maybe"), 400, "InvalidRequest")
    assert_error(review(team, "rita", project, "nowhere.txt", decision="accept"), 404, "NotFound")

    events = team.ok("rita", "GET", f"{LABELING}/{project}/documents/b.txt/history")["value"]
    assert [(e["action"], e["actor"], e["comment"]) for e in events][-1] == (
        "sentBack",
        "rita",
        "Lisbon is a City",
    )

    # A dataset change keeps the review; a label change (by anyone) clears it.
    assert label(team, "ana", project, "a.txt", dataset="Train")["state"] == "accepted"
    relabeled = label(
        team,
        "bo",
        project,
        "a.txt",
        entities=[span(text, "Ana", "Person"), span(text, "Porto", "City")],
    )
    assert (relabeled["state"], relabeled["labeledBy"], relabeled["reviewedBy"]) == (
        "labeled",
        "bo",
        None,
    )
    assert listed(team, project, state="accepted") == []


def _train(server: LiveServer, project: str) -> httpx.Response:
    return server.client.post(
        f"{AUTHORING}/{project}/:train",
        params=V,
        json={
            "modelLabel": "m1",
            "trainingConfigVersion": "2022-05-01-fast",
            "evaluationOptions": {"kind": "manual"},
        },
    )


def test_a_project_trained_on_reviewed_documents_uses_the_accepted_ones(team: Team) -> None:
    people = ["Ana", "Bruno", "Carla", "Duarte", "Eva", "Filipe", "Gil", "Helena"]
    cities = ["Porto", "Lisbon", "Braga", "Faro", "Évora", "Aveiro", "Viseu", "Leiria"]
    texts = {
        f"t{i}.txt": f"{p} moved to {c}."
        for i, (p, c) in enumerate(zip(people, cities, strict=True))
    }
    project = ner_project(team, "review-train", texts)
    for index, (location, text) in enumerate(texts.items()):
        label(
            team,
            "ana",
            project,
            location,
            entities=[span(text, people[index], "Person"), span(text, cities[index], "City")],
            dataset="Test" if index >= 5 else "Train",
        )
    settings = f"{LABELING}/{project}/review-settings"
    assert_error(
        team.call("ana", "PATCH", settings, json={"trainReviewedOnly": True}), 403, "Forbidden"
    )
    assert team.ok("configured", "PATCH", settings, json={"trainReviewedOnly": True}) == {
        "trainReviewedOnly": True,
        "doubleAnnotationFraction": 0.0,
    }
    assert team.ok("ana", "GET", settings)["trainReviewedOnly"] is True

    # Nothing accepted: refused before a job is queued, saying why.
    error = assert_error(_train(team.server, project), 400, "InvalidRequest")
    assert "trainReviewedOnly" in error["message"]

    accepted = ["t0.txt", "t1.txt", "t2.txt", "t6.txt"]
    for location in accepted:
        assert review(team, "rita", project, location, decision="accept").status_code == 200
    # Sent back: not accepted, so not trained on either.
    assert review(team, "rita", project, "t7.txt", decision="sendBack").status_code == 200
    response = _train(team.server, project)
    assert response.status_code == 202, response.text
    job = team.server.wait_job(response.headers["Operation-Location"])
    assert job["status"] == "succeeded", job
    results = team.ok(
        "configured",
        "GET",
        f"{AUTHORING}/{project}/models/m1/evaluation/result",
        params={**V, "stringIndexType": "Utf16CodeUnit"},
    )["value"]
    # The only accepted Test document is the only one evaluated (t5 and t7 are Test too).
    assert [result["location"] for result in results] == ["t6.txt"]


def _spans(entities: list[dict[str, Any]]) -> tuple[Span, ...]:
    return tuple(Span(e["offset"], e["offset"] + e["length"], e["category"]) for e in entities)


def test_double_annotation_agreement_and_resolving_a_conflict(team: Team) -> None:
    project = ner_project(team, "review-double")
    mine = f"{LABELING}/{project}/documents/a.txt/annotations/mine"
    a, b = TEXTS["a.txt"], TEXTS["b.txt"]
    ana_a = [span(a, "Ana", "Person"), span(a, "Rita", "Person"), span(a, "Porto", "City")]
    # Outside the sample (fraction 0) there is nothing to annotate twice.
    assert_error(team.call("ana", "PUT", mine, json={"entities": ana_a}), 409, "Conflict")
    team.ok(
        "configured",
        "PATCH",
        f"{LABELING}/{project}/review-settings",
        json={"doubleAnnotationFraction": 1},
    )
    versions = {
        "ana": {
            "a.txt": ana_a,
            "b.txt": [span(b, "Bruno", "Person"), span(b, "Lisbon", "City")],
        },
        "bo": {
            "a.txt": [span(a, "Ana", "Person"), span(a, "Porto", "Person")],
            "b.txt": [span(b, "Bruno", "Person"), span(b, "Lisbon", "City")],
        },
    }
    for who, documents in versions.items():
        for location, entities in documents.items():
            saved = team.ok(
                who,
                "PUT",
                f"{LABELING}/{project}/documents/{location}/annotations/mine",
                json={"entities": entities},
            )
            assert (saved["annotator"], saved["entities"]) == (who, entities)
    # A version is checked as the document's labels are: no undeclared label.
    bad = [{"category": "Boat", "offset": 0, "length": 3}]
    assert_error(team.call("bo", "PUT", mine, json={"entities": bad}), 400, "InvalidRequest")

    # The document's own labels did not change; it lists who has a version.
    document = team.ok("configured", "GET", f"{LABELING}/{project}/documents/a.txt")
    assert (document["entities"], document["state"]) == ([], "unlabeled")
    assert (document["doubleAnnotation"], document["annotators"]) == (True, ["ana", "bo"])
    assert listed(team, project, annotator="bo") == ["a.txt", "b.txt"]

    agreement = team.ok("rita", "GET", f"{LABELING}/{project}/agreement")
    assert (agreement["measure"], agreement["annotators"], agreement["documentCount"]) == (
        "spanF1",
        ["ana", "bo"],
        2,
    )
    (pair,) = agreement["pairs"]
    (expected,) = pairwise_span_agreement(
        {
            who: {location: _spans(entities) for location, entities in documents.items()}
            for who, documents in versions.items()
        },
        ["Person", "City"],
    )
    assert pair["annotators"] == ["ana", "bo"]
    assert pair["overall"] == pytest.approx(expected.overall)
    # By hand: 3 of ana's 5 spans and bo's 4 match → 6 / 9.
    assert pair["overall"] == pytest.approx(6 / 9)
    assert [(row["category"], row["score"]) for row in pair["labels"]] == [
        (label.category, pytest.approx(label.score)) for label in expected.labels
    ]
    assert pair["conflicts"] == ["a.txt"]

    listing = team.ok("rita", "GET", f"{LABELING}/{project}/documents/a.txt/annotations")
    assert [(v["annotator"], v["entities"]) for v in listing["value"]] == [
        ("ana", versions["ana"]["a.txt"]),
        ("bo", versions["bo"]["a.txt"]),
    ]

    resolve = f"{LABELING}/{project}/documents/a.txt:resolve"
    assert_error(team.call("ana", "POST", resolve, json={"from": "ana"}), 403, "Forbidden")
    assert_error(team.call("rita", "POST", resolve, json={"from": "zed"}), 400, "InvalidRequest")
    resolved = team.ok("rita", "POST", resolve, json={"from": "ana"})
    assert resolved["entities"] == versions["ana"]["a.txt"]
    assert (resolved["state"], resolved["labeledBy"], resolved["reviewedBy"]) == (
        "accepted",
        "ana",
        "rita",
    )
    merged = [span(a, "Ana", "Person")]
    resolved = team.ok(
        "rita", "POST", resolve, json={"entities": merged, "comment": "Only Ana is sure"}
    )
    assert (resolved["entities"], resolved["labeledBy"]) == (merged, "rita")
    events = team.ok("rita", "GET", f"{LABELING}/{project}/documents/a.txt/history")["value"]
    assert [(e["action"], e["actor"]) for e in events][-2:] == [
        ("resolved", "rita"),
        ("resolved", "rita"),
    ]


def test_classification_agreement_is_cohens_kappa(team: Team) -> None:
    project = "review-classes"
    create_project(team.server, project, "CustomSingleLabelClassification", ["Sport", "News"])
    team.ok(
        "configured",
        "PATCH",
        f"{LABELING}/{project}/review-settings",
        json={"doubleAnnotationFraction": 1.0},
    )
    versions = {
        "ana": {"1.txt": ["Sport"], "2.txt": ["Sport"], "3.txt": ["News"], "4.txt": []},
        "bo": {"1.txt": ["Sport"], "2.txt": ["News"], "3.txt": ["News"], "4.txt": []},
    }
    for location in versions["ana"]:
        team.ok(
            "configured",
            "POST",
            f"{LABELING}/{project}/documents",
            json={"text": f"Text {location}", "location": location},
        )
    for who, documents in versions.items():
        for location, classes in documents.items():
            team.ok(
                who,
                "PUT",
                f"{LABELING}/{project}/documents/{location}/annotations/mine",
                json={"classes": classes},
            )
    (pair,) = team.ok("configured", "GET", f"{LABELING}/{project}/agreement")["pairs"]
    (expected,) = pairwise_class_agreement(
        {who: {k: tuple(v) for k, v in docs.items()} for who, docs in versions.items()},
        ["Sport", "News"],
        single_label=True,
    )
    assert pair["measure"] == "cohenKappa"
    # By hand: pₒ = 3/4, pₑ = (2·1 + 1·2 + 1·1) / 16 → κ = (3/4 - 5/16) / (11/16) = 7/11.
    assert pair["overall"] == pytest.approx(7 / 11) == expected.overall
    assert [row["score"] for row in pair["labels"]] == [
        pytest.approx(label.score) for label in expected.labels
    ]
    assert pair["conflicts"] == ["2.txt"]


# -- conversation (CLU) projects ---------------------------------------------------------------

UTTERANCES = {
    "flight": ("book a flight to Paris", "BookFlight"),
    "weather": ("what is the weather in Oslo", "GetWeather"),
    "rome": ("fly me to Rome", "BookFlight"),
    "joke": ("tell me a joke", "None"),
}


def clu_project(team: Team, name: str) -> dict[str, str]:
    """A conversation project (intents BookFlight and GetWeather, entity City) whose
    utterances ana added through the Studio's routes: key of :data:`UTTERANCES` → location."""
    created = team.call(
        "configured",
        "PATCH",
        f"{CLU}/{name}",
        params=V,
        json={"projectKind": "Conversation", "projectName": name, "language": "en-us"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert created.status_code == 201, created.text
    for intent in ("BookFlight", "GetWeather"):
        team.ok("configured", "POST", f"{LABELING}/{name}/intents", json={"category": intent})
    team.ok("configured", "POST", f"{LABELING}/{name}/entities", json={"category": "City"})
    locations = {}
    for key, (text, intent) in UTTERANCES.items():
        city = [word for word in ("Paris", "Oslo", "Rome") if word in text]
        added = team.ok(
            "ana",
            "POST",
            f"{LABELING}/{name}/utterances",
            json={
                "text": text,
                "intent": intent,
                "entities": [span(text, city[0], "City")] if city else [],
            },
        )
        assert (added["state"], added["labeledBy"]) == ("labeled", "ana")
        locations[key] = added["location"]
    return locations


def change_utterance(
    team: Team, who: str, project: str, location: str, **body: Any
) -> dict[str, Any]:
    return team.ok(who, "PATCH", f"{LABELING}/{project}/utterances/{location}", json=body)


def test_utterances_are_reviewed_and_a_change_of_intent_or_text_clears_the_review(
    team: Team,
) -> None:
    project = "review-clu-states"
    at = clu_project(team, project)
    error = assert_error(
        review(team, "ana", project, at["flight"], decision="accept"), 403, "Forbidden"
    )
    assert "'review'" in error["message"]
    for key in ("flight", "rome"):
        accepted = review(team, "rita", project, at[key], decision="accept")
        assert accepted.status_code == 200, accepted.text
        assert (accepted.json()["state"], accepted.json()["reviewedBy"]) == ("accepted", "rita")
        assert accepted.json()["intent"] == "BookFlight"  # an utterance renders as one
    sent = review(team, "rita", project, at["weather"], decision="sendBack", comment="Oslo?")
    assert sent.status_code == 200, sent.text
    assert (sent.json()["state"], sent.json()["reviewComment"]) == ("sentBack", "Oslo?")

    assert listed(team, project, state="accepted") == [at["flight"], at["rome"]]
    assert listed(team, project, state="sentBack") == [at["weather"]]
    assert listed(team, project, state="labeled") == [at["joke"]]
    events = team.ok("rita", "GET", f"{LABELING}/{project}/documents/{at['weather']}/history")
    last = events["value"][-1]
    assert (last["action"], last["actor"], last["comment"]) == ("sentBack", "rita", "Oslo?")

    # A dataset change keeps the review; another intent, or another text, clears it.
    moved = change_utterance(team, "bo", project, at["flight"], dataset="Test")
    assert (moved["state"], moved["labeledBy"]) == ("accepted", "ana")
    changed = change_utterance(team, "bo", project, at["flight"], intent="GetWeather")
    assert (changed["state"], changed["labeledBy"], changed["reviewedBy"]) == (
        "labeled",
        "bo",
        None,
    )
    retyped = change_utterance(team, "bo", project, at["rome"], text="fly me to Rome tonight")
    assert (retyped["state"], retyped["labeledBy"]) == ("labeled", "bo")
    assert listed(team, project, state="accepted") == []
    assert listed(team, project, annotator="bo") == [at["flight"], at["rome"]]


def _utterance_labels(
    versions: dict[str, dict[str, dict[str, Any]]],
) -> dict[str, dict[str, tuple[str | None, tuple[Span, ...]]]]:
    return {
        who: {loc: (body["intent"], _spans(body["entities"])) for loc, body in mine.items()}
        for who, mine in versions.items()
    }


def test_utterance_double_annotation_agreement_on_intents_and_entities_and_resolving(
    team: Team,
) -> None:
    project = "review-clu-double"
    at = clu_project(team, project)
    texts = {key: text for key, (text, _) in UTTERANCES.items()}
    mine = f"{LABELING}/{project}/documents/{at['rome']}/annotations/mine"
    rome = {"intent": "GetWeather", "entities": [span(texts["rome"], "Rome", "City")]}
    assert_error(team.call("ana", "PUT", mine, json=rome), 409, "Conflict")
    settings = team.ok(
        "configured",
        "PATCH",
        f"{LABELING}/{project}/review-settings",
        json={"doubleAnnotationFraction": 1},
    )
    assert settings["doubleAnnotationFraction"] == 1.0

    def city(key: str, surface: str) -> list[dict[str, Any]]:
        return [span(texts[key], surface, "City")]

    by_key: dict[str, dict[str, dict[str, Any]]] = {
        "ana": {
            "flight": {"intent": "BookFlight", "entities": city("flight", "Paris")},
            "weather": {"intent": "GetWeather", "entities": city("weather", "Oslo")},
            "rome": {"intent": "BookFlight", "entities": city("rome", "Rome")},
            "joke": {"intent": "None", "entities": []},
        },
        "bo": {
            "flight": {"intent": "BookFlight", "entities": city("flight", "Paris")},
            "weather": {"intent": "GetWeather", "entities": []},
            "rome": rome,
            "joke": {"intent": "None"},  # entities absent: none
        },
    }
    for who, labels in by_key.items():
        for key, body in labels.items():
            saved = team.ok(
                who,
                "PUT",
                f"{LABELING}/{project}/documents/{at[key]}/annotations/mine",
                json=body,
            )
            assert (saved["annotator"], saved["intent"]) == (who, body["intent"])
            assert saved["entities"] == body.get("entities", [])
    # A version is checked as an utterance's labels are, naming the request's field.
    for body, target in (
        ({"entities": []}, "intent"),
        ({"intent": "Dance"}, "intent"),
        ({"intent": "None", "classes": ["BookFlight"]}, "classes"),
        (
            {"intent": "None", "entities": [{"category": "City", "offset": 9, "length": 40}]},
            "entities[0].offset",
        ),
    ):
        error = assert_error(team.call("bo", "PUT", mine, json=body), 400, "InvalidRequest")
        assert error["target"] == target, error

    # The utterance's own labels did not change; it lists who has a version.
    document = team.ok("configured", "GET", f"{LABELING}/{project}/documents/{at['rome']}")
    assert (document["intent"], document["state"], document["labeledBy"]) == (
        "BookFlight",
        "labeled",
        "ana",
    )
    assert (document["doubleAnnotation"], document["annotators"]) == (True, ["ana", "bo"])
    assert listed(team, project, annotator="bo") == list(at.values())

    agreement = team.ok("rita", "GET", f"{LABELING}/{project}/agreement")
    assert (agreement["projectKind"], agreement["measure"], agreement["documentCount"]) == (
        "Conversation",
        "cohenKappa",
        4,
    )
    assert agreement["parts"] == [
        {"part": "intents", "measure": "cohenKappa"},
        {"part": "entities", "measure": "spanF1"},
    ]
    (pair,) = agreement["pairs"]
    intents, entities = pair["parts"]
    assert (intents["part"], entities["part"]) == ("intents", "entities")
    # By hand. Intents: ana and bo agree on 3 of 4; ana BookFlight 2, GetWeather 1, None 1,
    # bo 1, 2, 1 → pₑ = (2·1 + 1·2 + 1·1) / 16 = 5/16, κ = (3/4 - 5/16) / (11/16) = 7/11.
    assert intents["overall"] == pytest.approx(7 / 11)
    # Entities: ana Paris, Oslo, Rome; bo Paris, Rome → F1 = 2·2 / (3 + 2) = 4/5.
    assert entities["overall"] == pytest.approx(4 / 5)
    assert [
        (row["category"], row["firstCount"], row["secondCount"], row["bothCount"])
        for row in entities["labels"]
    ] == [("City", 3, 2, 2)]
    assert intents["conflicts"] == [at["rome"]]
    assert entities["conflicts"] == [at["weather"]]
    # The pair's own fields: the first part's scores, and every utterance that differs.
    assert (pair["measure"], pair["overall"], pair["labels"]) == (
        "cohenKappa",
        intents["overall"],
        intents["labels"],
    )
    assert sorted(pair["conflicts"]) == sorted([at["rome"], at["weather"]])
    (expected,) = pairwise_utterance_agreement(
        _utterance_labels(
            {
                who: {at[key]: {"entities": [], **body} for key, body in labels.items()}
                for who, labels in by_key.items()
            }
        ),
        ["None", "BookFlight", "GetWeather"],
        ["City"],
    )
    assert pair["conflicts"] == list(expected.conflicts)
    assert [row["category"] for row in intents["labels"]] == ["None", "BookFlight", "GetWeather"]
    assert [row["score"] for row in intents["labels"]] == [
        pytest.approx(label.score) for label in expected.parts[0].labels
    ]

    listing = team.ok("rita", "GET", f"{LABELING}/{project}/documents/{at['rome']}/annotations")
    assert [(v["annotator"], v["intent"], v["entities"]) for v in listing["value"]] == [
        ("ana", "BookFlight", city("rome", "Rome")),
        ("bo", "GetWeather", city("rome", "Rome")),
    ]

    resolve = f"{LABELING}/{project}/documents/{at['rome']}:resolve"
    assert_error(team.call("ana", "POST", resolve, json={"from": "bo"}), 403, "Forbidden")
    error = assert_error(
        team.call("rita", "POST", resolve, json={"classes": ["GetWeather"]}), 400, "InvalidRequest"
    )
    assert error["target"] == "classes"
    resolved = team.ok("rita", "POST", resolve, json={"from": "bo"})
    assert (resolved["intent"], resolved["entities"]) == ("GetWeather", rome["entities"])
    assert (resolved["state"], resolved["labeledBy"], resolved["reviewedBy"]) == (
        "accepted",
        "bo",
        "rita",
    )
    # A merge: the intent sent, the entities as they are.
    resolve = f"{LABELING}/{project}/documents/{at['weather']}:resolve"
    merged = team.ok(
        "rita", "POST", resolve, json={"intent": "GetWeather", "comment": "ana's entities"}
    )
    assert (merged["intent"], merged["entities"]) == ("GetWeather", city("weather", "Oslo"))
    assert (merged["state"], merged["reviewComment"]) == ("accepted", "ana's entities")
    events = team.ok("rita", "GET", f"{LABELING}/{project}/documents/{at['rome']}/history")
    last = events["value"][-1]
    assert (last["action"], last["actor"]) == ("resolved", "rita")
    assert (last["before"]["intent"], last["after"]["intent"]) == ("BookFlight", "GetWeather")
    assert listed(team, project, state="accepted") == [at["weather"], at["rome"]]


def test_a_conversation_trained_on_reviewed_utterances_uses_the_accepted_ones(
    team: Team,
) -> None:
    project = "review-clu-train"
    clu_import(team.server, project, clu_project_file(project))
    utterances = team.ok("configured", "GET", f"{LABELING}/{project}/documents")["value"]
    settings = f"{LABELING}/{project}/review-settings"
    assert_error(
        team.call("ana", "PATCH", settings, json={"trainReviewedOnly": True}), 403, "Forbidden"
    )
    team.ok("configured", "PATCH", settings, json={"trainReviewedOnly": True})

    def train() -> httpx.Response:
        return team.server.client.post(
            f"{CLU}/{project}/:train",
            params=V,
            json={
                "modelLabel": "m1",
                "trainingMode": "standard",
                "trainingConfigVersion": FAST,
                "evaluationOptions": {"kind": "manual"},
            },
        )

    # Nothing accepted: refused before a job is queued, saying why.
    error = assert_error(train(), 400, "InvalidRequest")
    assert "trainReviewedOnly" in error["message"]

    # Two Train utterances of each intent and one Test utterance accepted; another Test
    # utterance sent back (not accepted, so not evaluated on either).
    accepted: list[dict[str, Any]] = []
    for intent in ("SendEmail", "BookFlight", "CheckWeather"):
        of_intent = [u for u in utterances if u["intent"] == intent and u["dataset"] == "Train"]
        accepted += of_intent[:2]
    tests = [u for u in utterances if u["dataset"] == "Test"]
    assert len(tests) == 6
    accepted.append(tests[0])
    for utterance in accepted:
        reviewed = review(team, "rita", project, utterance["location"], decision="accept")
        assert reviewed.status_code == 200, reviewed.text
    sent = review(team, "rita", project, tests[1]["location"], decision="sendBack")
    assert sent.status_code == 200, sent.text
    response = train()
    assert response.status_code == 202, response.text
    job = team.server.wait_job(response.headers["Operation-Location"])
    assert job["status"] == "succeeded", job
    results = team.ok(
        "configured",
        "GET",
        f"{CLU}/{project}/models/m1/evaluation/result",
        params={**V, "stringIndexType": "Utf16CodeUnit"},
    )["value"]
    # The only accepted Test utterance is the only one evaluated (6 utterances are Test).
    assert [result["text"] for result in results] == [tests[0]["text"]]


# -- documents labeled before review existed ----------------------------------------------------


@pytest.fixture
def database_at_0009(tmp_path: Path, databases: Databases) -> Iterator[tuple[Path, str | None]]:
    """A data dir whose database is at revision 0009 (before review) with a labeled document;
    its URL (None: the data dir's own SQLite file)."""
    data_dir = tmp_path / "old"
    data_dir.mkdir()

    def seed(connection: Connection) -> None:
        connection.execute(
            sql(
                "INSERT INTO projects (name, kind, language, storage_container, multilingual,"
                " settings, labels, created_at, modified_at) VALUES ('old-ner',"
                " 'CustomEntityRecognition', 'en', 'old-ner', false, '{}', '[\"Person\"]',"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            sql(
                "INSERT INTO documents (project_id, position, location, language, text,"
                " annotations, file_written) SELECT id, 0, 'a.txt', 'en', 'Ana met Rita.',"
                " '[[0, 3, \"Person\"]]', false FROM projects WHERE name = 'old-ner'"
            )
        )

    with database_at("0009", data_dir, databases, seed) as url:
        yield data_dir, url


def test_documents_labeled_before_review_existed_need_review(
    database_at_0009: tuple[Path, str | None],
) -> None:
    data_dir, url = database_at_0009
    with run_server(data_dir, database_url=url) as live:
        document = live.client.get(f"{LABELING}/old-ner/documents/a.txt")
        assert document.status_code == 200, document.text
        body = document.json()
        assert (body["state"], body["labeledBy"], body["reviewedBy"]) == ("labeled", None, None)
        assert body["doubleAnnotation"] is False
        settings = live.client.get(f"{LABELING}/old-ner/review-settings").json()
        assert settings == {"trainReviewedOnly": False, "doubleAnnotationFraction": 0.0}
        reviewed = live.client.post(
            f"{LABELING}/old-ner/documents/a.txt:review", json={"decision": "accept"}
        )
        assert reviewed.status_code == 200, reviewed.text
        assert reviewed.json()["state"] == "accepted"
        assert reviewed.json()["reviewedBy"] == "LEXICRAFT_API_KEY"
