"""Guardrails before training, over real HTTP: a training with nothing labeled is a clear 400
(never a job that fails later, or a model that can only predict nothing), a label without
training examples makes the job warn, and the Studio's estimates say how long each training
config should take from what this server measured (nothing until it measured something)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.server import API_VERSION, AUTHORING, FAST, LiveServer, run_server
from tests.studio.test_documents_api import LABELING, assert_error, create_project, span

V = {"api-version": API_VERSION}
TEXTS = ["Anna flew to Paris.", "Tom moved to Berlin.", "Maria lives in Tokyo.", "Omar left Cairo."]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server whose evaluation thresholds are not the defaults."""
    with run_server(
        tmp_path_factory.mktemp("guardrails"),
        evaluation_min_test_documents=7,
        evaluation_min_test_examples_per_label=3,
    ) as live:
        yield live


def add(server: LiveServer, project: str, text: str, **fields: Any) -> str:
    response = server.client.post(f"{LABELING}/{project}/documents", json={"text": text})
    assert response.status_code == 201, response.text
    location: str = response.json()["location"]
    if fields:
        changed = server.client.patch(f"{LABELING}/{project}/documents/{location}", json=fields)
        assert changed.status_code == 200, changed.text
    return location


def start_training(server: LiveServer, project: str, manual: bool = True) -> Any:
    return server.client.post(
        f"{AUTHORING}/{project}/:train",
        params=V,
        json={
            "modelLabel": "m1",
            "trainingConfigVersion": FAST,
            "evaluationOptions": {"kind": "manual" if manual else "percentage"},
        },
    )


def test_training_with_nothing_labeled_is_a_clear_400(server: LiveServer) -> None:
    create_project(server, "g-ner", "CustomEntityRecognition", ["Person", "City"])
    create_project(server, "g-single", "CustomSingleLabelClassification", ["Travel", "Home"])
    # No documents at all.
    error = assert_error(start_training(server, "g-ner"), 400, "InvalidRequest")
    assert "no document" in error["message"] and "labeled" in error["message"], error
    for text in TEXTS:
        add(server, "g-ner", text)
        add(server, "g-single", text)
    # Documents, but not one span / not one class: nothing to learn.
    error = assert_error(start_training(server, "g-ner"), 400, "InvalidRequest")
    assert "entity span" in error["message"], error
    error = assert_error(start_training(server, "g-single"), 400, "InvalidRequest")
    assert "classes" in error["message"], error
    # Every labeled document in Test: a manual split has nothing to train on.
    labeled = add(server, "g-single", "Flights to Rome.", classes=["Travel"], dataset="Test")
    error = assert_error(start_training(server, "g-single"), 400, "InvalidRequest")
    assert "training split is empty" in error["message"], error
    assert error["innererror"]["code"] == "InvalidParameterValue", error
    # No job was queued by any of these.
    jobs = server.client.get(f"{AUTHORING}/g-single/train/jobs", params=V).json()["value"]
    assert jobs == []
    # One labeled training document is enough to start.
    moved = server.client.patch(
        f"{LABELING}/g-single/documents/{labeled}", json={"dataset": "Train"}
    )
    assert moved.status_code == 200, moved.text
    response = start_training(server, "g-single")
    assert response.status_code == 202, response.text
    server.wait_job(response.headers["Operation-Location"])


def test_a_label_without_training_examples_makes_the_job_warn(server: LiveServer) -> None:
    create_project(server, "g-warn", "CustomEntityRecognition", ["Person", "City", "Date"])
    for index, text in enumerate(TEXTS):
        person, city = text.split(" ")[0], text.rstrip(".").split(" ")[-1]
        add(
            server,
            "g-warn",
            text,
            entities=[span(text, person, "Person"), span(text, city, "City")],
            dataset="Test" if index == 3 else "Train",
        )
    body = server.train("g-warn", "m1")
    warnings = [w for w in body["warnings"] if w["code"] == "LabelWithoutTrainingExamples"]
    assert len(warnings) == 1, body["warnings"]
    assert "'Date'" in warnings[0]["message"], warnings
    assert "'Person'" not in warnings[0]["message"] and "'City'" not in warnings[0]["message"]


def test_estimates_say_nothing_until_measured_then_scale_by_documents(server: LiveServer) -> None:
    create_project(server, "g-estimate", "CustomEntityRecognition", ["Person", "City"])
    url = f"{LABELING}/g-estimate/training-estimates"
    for text in TEXTS:
        person = text.split(" ")[0]
        add(server, "g-estimate", text, entities=[span(text, person, "Person")])
    before = server.client.get(url)
    assert before.status_code == 200, before.text
    body = before.json()
    assert body["projectKind"] == "CustomEntityRecognition"
    assert body["documentCount"] == len(TEXTS)
    assert body["defaultTrainingConfigVersion"] == "2022-05-01"
    versions = {item["trainingConfigVersion"]: item for item in body["value"]}
    assert set(versions) == {"2022-05-01", FAST}
    assert versions["2022-05-01"]["isDefault"] and not versions[FAST]["isDefault"]
    assert versions[FAST]["backend"] == "ner.crf.v1"
    assert all(item["description"] for item in versions.values())
    # Other tests of the module may have trained the same backend: only this project's own
    # training is counted below.
    fast_before = versions[FAST]["measuredTrainings"]

    server.train("g-estimate", "m1", manual=False)

    after = {item["trainingConfigVersion"]: item for item in server.client.get(url).json()["value"]}
    fast = after[FAST]
    assert fast["measuredTrainings"] == fast_before + 1
    assert fast["secondsPerDocument"] > 0
    assert fast["estimatedDurationInSeconds"] == pytest.approx(
        fast["secondsPerDocument"] * len(TEXTS)
    )
    # The accurate configuration was never trained here: no measurement, no made-up number.
    assert after["2022-05-01"]["measuredTrainings"] == 0
    assert after["2022-05-01"]["estimatedDurationInSeconds"] is None
    assert after["2022-05-01"]["secondsPerDocument"] is None
    # An unknown project is the usual 404.
    missing = server.client.get(f"{LABELING}/nope/training-estimates")
    assert missing.status_code == 404, missing.text


def test_estimates_name_the_backend_the_projects_language_trains(server: LiveServer) -> None:
    # Entities and classes in another language than English, or in several, train on the
    # multilingual encoder by default; the fast CRF and TF-IDF models know no language.
    for name, kind, language, multilingual, default, fast in (
        ("g-german", "CustomEntityRecognition", "de", False, "ner.e5.v1", "ner.crf.v1"),
        ("g-several", "CustomEntityRecognition", "en-us", True, "ner.e5.v1", "ner.crf.v1"),
        ("g-english", "CustomEntityRecognition", "en-us", False, "ner.minilm.v2", "ner.crf.v1"),
        (
            "g-german-classes",
            "CustomSingleLabelClassification",
            "de",
            False,
            "textcat.e5.v1",
            "textcat.linear.v1",
        ),
    ):
        created = server.client.patch(
            f"{AUTHORING}/{name}",
            params=V,
            json={
                "projectKind": kind,
                "language": language,
                "multilingual": multilingual,
                "storageInputContainerName": name,
                "projectName": name,
            },
        )
        assert created.status_code == 201, created.text
        body = server.client.get(f"{LABELING}/{name}/training-estimates").json()
        backends = {item["trainingConfigVersion"]: item["backend"] for item in body["value"]}
        assert backends == {"2022-05-01": default, FAST: fast}, name


def test_evaluation_thresholds_are_the_settings(server: LiveServer) -> None:
    response = server.client.get("/language/lexicraft/evaluation-thresholds")
    assert response.status_code == 200, response.text
    assert response.json() == {"minTestDocuments": 7, "minTestExamplesPerLabel": 3}
    unkeyed = server.client.get(
        "/language/lexicraft/evaluation-thresholds",
        headers={"Ocp-Apim-Subscription-Key": "wrong"},
    )
    assert unkeyed.status_code == 401
