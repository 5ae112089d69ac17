"""The official CLU clients against a real server: authoring, training, deploying, and
``POST /language/:analyze-conversations`` (spec CLU §1, §3).

Neither client can share our environment, nor each other's (spec CLU §3.1: the authoring
package installs into the runtime package's import path): ``azure-ai-language-conversations``
1.1.0 lives in ``.venv-clients/conversations11`` and ``azure-ai-language-conversations-authoring``
1.0.0b4 in ``.venv-clients/conversations-authoring`` (both built by ``make test``; the latter
pulls the typed runtime client 2.0.0b2, which asks the deployment once too). Each runs a
script of ``clients/`` as a subprocess that prints what the client returned or raised; the
tests assert on that. The project is small (40 utterances) and trains the fast
configuration, so each flow takes seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import regex

from tests.conversation_project import AIRLINES, FLIGHT_NUMBER_PATTERN, project_file
from tests.integration.databases import Databases
from tests.integration.server import TEST_KEY, LiveServer

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENTS = REPO_ROOT / ".venv-clients"
SCRIPTS = Path(__file__).resolve().parent / "clients"
ANALYZE = "/language/:analyze-conversations"

#: An utterance whose offsets differ in every unit: a non-BMP emoji (2 UTF-16 units), a
#: family emoji (5 code points, 1 text element) and combining marks ("u\u0308": 2 code points,
#: 1 text element) before and inside the entities.
EMOJI_TEXT = (
    "\U0001f6eb\U0001f468\u200d\U0001f469\u200d\U0001f467 book a flight to Zu\u0308rich "
    "on Ko\u0308ln Air LH1234"
)
QUERIES = [
    {"name": "codePoints", "text": EMOJI_TEXT, "stringIndexType": "UnicodeCodePoint"},
    {"name": "default", "text": EMOJI_TEXT},
    {"name": "utf16", "text": EMOJI_TEXT, "stringIndexType": "Utf16CodeUnit"},
    {"name": "weather", "text": "what's the weather in Paris today"},
    {"name": "nothing", "text": "tell me a joke"},
]
UNITS = {"codePoints": "UnicodeCodePoint", "default": "TextElements_v8", "utf16": "Utf16CodeUnit"}


def client_python(venv: str) -> Path:
    """A client venv's interpreter; a missing venv is a failure, never a skip."""
    python = CLIENTS / venv / "bin" / "python"
    if not python.is_file() or not (CLIENTS / venv / ".installed").is_file():
        pytest.fail(
            f"the official-client venv .venv-clients/{venv} is missing or incomplete: run "
            f"`make .venv-clients/{venv}/.installed` (make test builds it)",
            pytrace=False,
        )
    return python


def run_script(venv: str, script: str, *args: str) -> dict[str, Any]:
    """Run ``clients/<script>`` with the client venv's python; the JSON object it printed."""
    env = dict(os.environ)
    # Talk to 127.0.0.1 directly even where a proxy is configured.
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = ",".join(filter(None, [env.get(name), "127.0.0.1", "localhost"]))
    completed = subprocess.run(
        [str(client_python(venv)), str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO_ROOT,
        env=env,
        check=False,
    )
    assert completed.returncode == 0, (
        f"{script} {args[-1]} exited {completed.returncode}\n"
        f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    )
    observed: dict[str, Any] = json.loads(completed.stdout)
    return observed


def slice_in(text: str, offset: int, length: int, unit: str) -> str:
    """``text[offset:offset+length]`` counted in ``unit``, independently of ml/offsets.py."""
    if unit == "UnicodeCodePoint":
        return text[offset : offset + length]
    if unit == "Utf16CodeUnit":
        units = text.encode("utf-16-le")
        return units[2 * offset : 2 * (offset + length)].decode("utf-16-le")
    clusters = regex.findall(r"\X", text)
    return "".join(clusters[offset : offset + length])


def position_in(text: str, covered: str, unit: str) -> tuple[int, int]:
    """Where ``covered`` first is in ``text``, as (offset, length) in ``unit``."""
    start = text.index(covered)
    if unit == "UnicodeCodePoint":
        return start, len(covered)
    if unit == "Utf16CodeUnit":
        return len(text[:start].encode("utf-16-le")) // 2, len(covered.encode("utf-16-le")) // 2
    return len(regex.findall(r"\X", text[:start])), len(regex.findall(r"\X", covered))


def entity(prediction: dict[str, Any], category: str, text: str | None = None) -> dict[str, Any]:
    """The one ``category`` entity (covering ``text``, when given: the learned component of
    a 40-utterance model may find more)."""
    found = [
        e
        for e in prediction["entities"]
        if e["category"] == category and (text is None or e["text"] == text)
    ]
    assert len(found) == 1, prediction["entities"]
    return found[0]


def assert_prediction(answer: dict[str, Any], text: str) -> dict[str, Any]:
    """The shape every answer has (spec CLU §1.3); returns its ``prediction``."""
    assert answer["kind"] == "ConversationResult"
    assert answer["result"]["query"] == text
    prediction: dict[str, Any] = answer["result"]["prediction"]
    assert prediction["projectKind"] == "Conversation"
    intents = prediction["intents"]
    assert sorted(i["category"] for i in intents) == ["BookFlight", "CheckWeather", "None"]
    scores = [i["confidenceScore"] for i in intents]
    assert all(0.0 <= score <= 1.0 for score in scores)
    assert isinstance(prediction["entities"], list)
    return prediction


def test_conversations_1_1_0_authoring_and_runtime(tmp_path: Path, databases: Databases) -> None:
    name = "FlightsApp"
    project_path = tmp_path / "project.json"
    project_path.write_text(json.dumps(project_file(name)), encoding="utf-8")
    queries_path = tmp_path / "queries.json"
    queries_path.write_text(json.dumps(QUERIES), encoding="utf-8")

    with databases.serve(tmp_path / "data") as live:
        observed = run_script(
            "conversations11",
            "conversations11_flow.py",
            live.base_url,
            TEST_KEY,
            name,
            str(project_path),
            str(queries_path),
        )
        # What the server holds agrees with what the client was told.
        direct = live.client.post(
            ANALYZE,
            params={"api-version": "2024-11-01"},
            json={
                "kind": "Conversation",
                "analysisInput": {"conversationItem": {"id": "1", "participantId": "1",
                                                       "text": EMOJI_TEXT}},
                "parameters": {"projectName": name, "deploymentName": "production"},
            },
        )  # fmt: skip

    # Authoring with the same package: create → import → train → evaluation → deploy.
    assert observed["create"]["status"] == 201
    assert observed["create"]["body"]["projectKind"] == "Conversation"
    assert observed["import"]["status"] == "succeeded"
    assert observed["project"]["projectKind"] == "Conversation"
    train = observed["train"]
    assert train["status"] == "succeeded"
    assert train["result"]["status"] == "succeeded"
    assert train["result"]["result"]["modelLabel"] == "m1"
    assert train["result"]["result"]["trainingConfigVersion"] == "2022-05-01-fast"
    evaluation = observed["evaluation"]
    assert set(evaluation["intentsEvaluation"]["intents"]) >= {"BookFlight", "CheckWeather"}
    assert "City" in evaluation["entitiesEvaluation"]["entities"]
    assert observed["deploy"]["status"] == "succeeded"
    assert observed["deploy"]["result"]["deploymentName"] == "production"

    answers = observed["answers"]
    for query in QUERIES:
        assert_prediction(answers[query["name"]], query["text"])

    # The emoji utterance in each unit: the model's intent, the list and regex entities where
    # the unit puts them, and every entity's offsets cover its text.
    for query_name, unit in UNITS.items():
        prediction = answers[query_name]["result"]["prediction"]
        assert prediction["topIntent"] == "BookFlight" == prediction["intents"][0]["category"]
        for found in prediction["entities"]:
            assert slice_in(EMOJI_TEXT, found["offset"], found["length"], unit) == found["text"]
            assert 0.0 <= found["confidenceScore"] <= 1.0
        airline = entity(prediction, "Airline")
        assert airline["text"] == AIRLINES["koelnair"][0]
        assert (airline["offset"], airline["length"]) == position_in(
            EMOJI_TEXT, airline["text"], unit
        )
        assert airline["extraInformation"] == [
            {"extraInformationKind": "ListKey", "key": "koelnair"}
        ]
        city = entity(prediction, "City", "Zu\u0308rich")
        assert (city["offset"], city["length"]) == position_in(EMOJI_TEXT, "Zu\u0308rich", unit)
        assert {"extraInformationKind": "ListKey", "key": "zurich"} in city["extraInformation"]
        flight = entity(prediction, "FlightNumber")
        assert flight["text"] == "LH1234"
        assert flight["extraInformation"] == [
            {"extraInformationKind": "RegexKey", "key": "iata", "regexPattern": FLIGHT_NUMBER_PATTERN}
        ]  # fmt: skip
    # The three units differ on this text (the test would prove nothing otherwise).
    offsets = {
        unit: entity(answers[query_name]["result"]["prediction"], "Airline")["offset"]
        for query_name, unit in UNITS.items()
    }
    assert len(set(offsets.values())) == 3, offsets
    # Without stringIndexType the unit is text elements (the SDK sends none).
    assert direct.status_code == 200, direct.text
    assert (
        direct.json()["result"]["prediction"]["entities"]
        == (answers["default"]["result"]["prediction"]["entities"])
    )

    weather = answers["weather"]["result"]["prediction"]
    assert weather["topIntent"] == "CheckWeather"
    entity(weather, "City", "Paris")
    nothing = answers["nothing"]["result"]["prediction"]
    assert nothing["entities"] == []

    # confidenceThreshold 1.0: the deployed model answers as before (it was trained with 0.0);
    # a model trained since applies it: no score reaches 1.0, so the answer is None, first.
    before = assert_prediction(observed["thresholdBeforeTraining"], EMOJI_TEXT)
    assert before["topIntent"] == "BookFlight"
    under = assert_prediction(observed["underThreshold"], EMOJI_TEXT)
    assert under["topIntent"] == "None"
    assert under["intents"][0]["category"] == "None"
    assert max(i["confidenceScore"] for i in under["intents"]) < 1.0

    # Errors, as the client raises them.
    assert observed["unknownDeployment"] | {"message": None} == {
        "raised": "ResourceNotFoundError", "notFound": True, "status": 404, "code": "NotFound",
        "innerCode": None, "target": None, "message": None,
    }  # fmt: skip
    assert observed["unknownProject"]["notFound"] is True
    assert observed["unknownProject"]["code"] == "ProjectNotFound"
    empty = observed["emptyText"]
    assert (empty["status"], empty["code"], empty["innerCode"]) == (
        400,
        "InvalidRequest",
        "InvalidDocument",
    )
    assert empty["target"] == "analysisInput.conversationItem.text"
    bad_unit = observed["badIndexType"]
    assert (bad_unit["status"], bad_unit["innerCode"], bad_unit["target"]) == (
        400,
        "InvalidParameterValue",
        "parameters.stringIndexType",
    )

    # Synchronous: every analyze call was one POST answered 200 (or its error), no job.
    calls = [entry for entry in observed["http"] if entry["path"] == ANALYZE]
    assert len(calls) == len(QUERIES) + 6
    assert all(entry["method"] == "POST" for entry in calls)
    assert all(entry["operationLocation"] is None for entry in calls)
    assert [entry["status"] for entry in calls[: len(QUERIES) + 2]] == [200] * (len(QUERIES) + 2)
    assert all("api-version=2023-04-01" in entry["query"] for entry in calls)


def test_conversations_authoring_1_0_0b4(tmp_path: Path, databases: Databases) -> None:
    name = "FlightsAuthoring"
    project_path = tmp_path / "project.json"
    project_path.write_text(json.dumps(project_file(name)), encoding="utf-8")
    data = tmp_path / "data"

    def phase(live: LiveServer, which: str) -> dict[str, Any]:
        return run_script(
            "conversations-authoring",
            "conversations_authoring_flow.py",
            live.base_url,
            TEST_KEY,
            name,
            str(project_path),
            "--phase",
            which,
        )

    with databases.serve(data) as live:
        built = phase(live, "build")
        analyzed = phase(live, "analyze")
        base_url = live.base_url
    # No workers: the training the client starts waits, so its cancel is certain to find
    # it unfinished (a finished training cannot be cancelled).
    with databases.serve(data, run_workers=False) as live:
        cancelled = phase(live, "cancel")
    with databases.serve(data) as live:
        deleted = phase(live, "delete")

    assert built["create"] == {
        "status": 201,
        "projectKind": "Conversation",
        "projectName": name,
    }
    assert built["import"] == {"result": None, "status": "succeeded"}
    assert built["train"] == {
        "status": "succeeded",
        "type": "TrainingJobResult",
        "modelLabel": "m1",
        "trainingConfigVersion": "2022-05-01-fast",
        "trainingMode": "standard",
        "trainingStatus": "succeeded",
        "percentComplete": 100,
        "evaluationStatus": "succeeded",
    }
    assert built["deploy"] == {"result": None, "status": "succeeded"}
    assert built["deployment"]["deploymentName"] == "production"
    assert built["export"]["status"] == "succeeded"
    assert built["export"]["resultUri"].startswith(base_url + "/language/authoring/")
    exported = built["exported"]
    assert exported["status"] == 200
    assert exported["body"]["metadata"]["projectName"] == name
    assert exported["body"]["assets"]["projectKind"] == "Conversation"
    assert len(exported["body"]["assets"]["utterances"]) == 40
    assert built["models"] == [{"label": "m1", "trainingConfigVersion": "2022-05-01-fast"}]
    # 1.0.0b4 accepts only 202 from a trigger (spec CLU §3.5).
    triggers = [entry for entry in built["http"] if entry["operationLocation"] is not None]
    assert {entry["status"] for entry in triggers} == {202}

    # The typed runtime client (2.0.0b2) deserializes every discriminated shape we send.
    typed = analyzed["analyze"]
    text = "\U0001f6eb book three tickets to Zu\u0308rich on Ko\u0308ln Air LH1234"
    assert (typed["type"], typed["predictionType"]) == (
        "ConversationActionResult",
        "ConversationPrediction",
    )
    assert typed["query"] == text
    assert typed["topIntent"] == "BookFlight"
    assert sorted(typed["intents"]) == ["BookFlight", "CheckWeather", "None"]
    by_text = {(e["category"], e["text"]): e for e in typed["entities"]}
    for found in typed["entities"]:
        assert text[found["offset"] : found["offset"] + found["length"]] == found["text"]
    assert by_text["Airline", "Ko\u0308ln Air"]["extraInformation"] == [["ListKey", "koelnair"]]
    assert by_text["FlightNumber", "LH1234"]["extraInformation"] == [["RegexKey", "iata"]]
    assert ["NumberResolution", 3] in by_text["Passengers", "three"]["resolutions"]
    analyze_calls = [e for e in analyzed["http"] if e["path"] == ANALYZE]
    assert [
        (e["status"], "api-version=2025-11-15-preview" in e["query"]) for e in analyze_calls
    ] == [(200, True)]

    assert cancelled["cancel"] == {
        "waitingStatus": "notStarted",
        "pollerStatus": "Canceled",
        "type": "TrainingJobResult",
        "modelLabel": "m2",
        "jobStatus": "cancelled",
    }

    assert deleted["delete"] == {"result": None, "status": "succeeded"}
    assert deleted["afterDelete"] == {"raised": "ResourceNotFoundError", "status": 404}
