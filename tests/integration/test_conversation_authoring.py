"""The conversation (CLU) authoring API over real HTTP: the whole lifecycle, LUIS import, the
route family boundary, and every bad input with its error code, status and target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lexicraft.wire.luis import SUPPORTED_LUIS_SCHEMA_VERSIONS
from tests.integration.clu_projects import (
    CLU,
    V,
    changed,
    clu_export,
    clu_import,
    clu_project_file,
    clu_train,
)
from tests.integration.databases import Databases
from tests.integration.server import AUTHORING, FAST, LiveServer, demo_project_file

METRICS = {
    "f1", "precision", "recall", "truePositiveCount", "trueNegativeCount",
    "falsePositiveCount", "falseNegativeCount",
}  # fmt: skip
AVERAGES = {"microF1", "microPrecision", "microRecall", "macroF1", "macroPrecision", "macroRecall"}


def assert_error(response: Any, status: int, code: str, target: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert error.get("target") == target, error
    return error


def test_lifecycle_import_train_evaluate_deploy_swap_export_delete(server: LiveServer) -> None:
    name = "clu-life"
    project_file = clu_project_file(name)
    import_job = clu_import(server, name, project_file)
    # Lexicraft has no person-name recogniser: kept, and said.
    assert [(w["code"], w["target"]) for w in import_job["warnings"]] == [
        ("UnsupportedPrebuiltEntity", "assets.entities[0].prebuilts[0].category")
    ]
    assert "Person.Name" in import_job["warnings"][0]["message"]

    project = server.client.get(f"{CLU}/{name}", params=V).json()
    assert project["projectKind"] == "Conversation"
    assert "storageInputContainerName" not in project
    assert project["settings"] == {"confidenceThreshold": 0.2}
    assert project["createdDateTime"].endswith("Z")

    # The export is the file imported, UTF-16 offsets after emoji included.
    assert clu_export(server, name) == project_file

    train_job = clu_train(server, name, "m1")
    result = train_job["result"]
    assert result["modelLabel"] == "m1"
    assert result["trainingConfigVersion"] == FAST
    assert result["trainingMode"] == "standard"
    assert result["trainingStatus"]["percentComplete"] == 100
    assert result["evaluationStatus"]["status"] == "succeeded"
    clu_train(server, name, "m2", trainingMode="Advanced")

    jobs = server.client.get(f"{CLU}/{name}/train/jobs", params=V).json()
    assert {job["result"]["modelLabel"] for job in jobs["value"]} == {"m1", "m2"}
    assert jobs["nextLink"] is None
    models = server.client.get(f"{CLU}/{name}/models", params=V).json()["value"]
    assert [model["label"] for model in models] == ["m1", "m2"]
    model = server.client.get(f"{CLU}/{name}/models/m1", params=V).json()
    assert model["modelTrainingConfigVersion"] == FAST

    summary = server.client.get(
        f"{CLU}/{name}/models/m1/evaluation/summary-result", params=V
    ).json()
    assert set(summary) == {"intentsEvaluation", "entitiesEvaluation", "evaluationOptions"}
    intents = summary["intentsEvaluation"]
    assert set(intents["intents"]) == {"None", "SendEmail", "BookFlight", "CheckWeather"}
    assert all(set(metrics) == METRICS for metrics in intents["intents"].values())
    assert set(intents) >= AVERAGES
    assert intents["microF1"] >= 0.75, intents
    assert intents["confusionMatrix"]["SendEmail"]["SendEmail"]["rawValue"] >= 1
    entities = summary["entitiesEvaluation"]
    assert set(entities["entities"]) == {"Contact", "City"}
    assert all(m["trueNegativeCount"] == 0 for m in entities["entities"].values())
    assert set(entities) >= AVERAGES
    assert "confusionMatrix" in entities

    test_utterances = [u for u in project_file["assets"]["utterances"] if u["dataset"] == "Test"]
    page = server.client.get(
        f"{CLU}/{name}/models/m1/evaluation/result",
        params={**V, "stringIndexType": "Utf16CodeUnit", "maxpagesize": 4},
    ).json()
    results = page["value"]
    while page.get("nextLink"):
        page = server.client.get(page["nextLink"]).json()
        results.extend(page["value"])
    assert sorted(r["text"] for r in results) == sorted(u["text"] for u in test_utterances)
    by_text = {u["text"]: u for u in test_utterances}
    for item in results:
        expected = by_text[item["text"]]
        assert item["intentsResult"]["expectedIntent"] == expected["intent"]
        assert item["entitiesResult"]["expectedEntities"] == expected["entities"]
        assert "predictedIntent" in item["intentsResult"]
    assert_error(
        server.client.get(f"{CLU}/{name}/models/m1/evaluation/result", params=V),
        400,
        "InvalidRequest",
        "stringIndexType",
    )

    server.run_job(
        "PUT", f"{CLU}/{name}/deployments/production", params=V, json={"trainedModelLabel": "m1"}
    )
    server.run_job(
        "PUT", f"{CLU}/{name}/deployments/staging", params=V, json={"trainedModelLabel": "m2"}
    )
    production = server.client.get(f"{CLU}/{name}/deployments/production", params=V).json()
    assert production["modelId"] == model["modelId"]
    server.run_job(
        "POST",
        f"{CLU}/{name}/deployments/:swap",
        params=V,
        json={"firstDeploymentName": "production", "secondDeploymentName": "staging"},
    )
    serving = {
        d["deploymentName"]: d["modelId"]
        for d in server.client.get(f"{CLU}/{name}/deployments", params=V).json()["value"]
    }
    assert serving["staging"] == model["modelId"] != serving["production"]

    # A model a deployment serves cannot go; once undeployed it can (204, no body).
    assert server.client.delete(f"{CLU}/{name}/models/m1", params=V).status_code == 409
    server.run_job("DELETE", f"{CLU}/{name}/deployments/staging", params=V)
    deleted = server.client.delete(f"{CLU}/{name}/models/m1", params=V)
    assert deleted.status_code == 204 and deleted.content == b""

    # Re-import replaces the project whole: one intent fewer, the utterances with it.
    smaller = clu_project_file(name)
    assets = smaller["assets"]
    assets["intents"] = [i for i in assets["intents"] if i["category"] != "CheckWeather"]
    assets["utterances"] = [u for u in assets["utterances"] if u["intent"] != "CheckWeather"]
    clu_import(server, name, smaller, format="Conversation")
    assert clu_export(server, name) == smaller

    # A model keeps what it was trained on: loading its snapshot brings the project back.
    m2 = server.client.get(f"{CLU}/{name}/models/m2", params=V).json()
    assert m2["hasSnapshot"] is True
    loading = server.client.post(f"{CLU}/{name}/models/m2/:load-snapshot", params=V)
    assert loading.status_code == 202, loading.text
    location = loading.headers["Operation-Location"]
    assert f"/{name}/models/m2/load-snapshot/jobs/" in location
    assert server.wait_job(location)["status"] == "succeeded"
    assert clu_export(server, name) == project_file
    assert_error(
        server.client.post(f"{CLU}/{name}/models/nope/:load-snapshot", params=V),
        404, "NotFound", None,
    )  # fmt: skip

    deletion = server.client.delete(f"{CLU}/{name}", params=V)
    assert deletion.status_code == 202
    location = deletion.headers["Operation-Location"]
    assert "/analyze-conversations/projects/global/deletion-jobs/" in location
    assert server.wait_job(location)["status"] == "succeeded"
    assert_error(server.client.get(f"{CLU}/{name}", params=V), 404, "ProjectNotFound", None)


def test_create_patch_list_and_the_family_boundary(server: LiveServer) -> None:
    body = {
        "projectKind": "Conversation",
        "projectName": "clu-meta",
        "language": "en-us",
        "settings": {"confidenceThreshold": 0.5, "normalizeCasing": True},
        # Sent by newer SDK models; a conversation project has no container.
        "storageInputContainerName": "ignored",
    }
    headers = {"Content-Type": "application/merge-patch+json"}
    created = server.client.patch(f"{CLU}/clu-meta", params=V, json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["settings"] == {"confidenceThreshold": 0.5, "normalizeCasing": True}
    assert "storageInputContainerName" not in created.json()
    updated = server.client.patch(
        f"{CLU}/clu-meta", params=V, json={"description": "changed"}, headers=headers
    )
    assert updated.status_code == 200 and updated.json()["description"] == "changed"
    assert updated.json()["language"] == "en-us"

    # Custom text and conversation projects share names but not routes.
    server.import_project("text-neighbour", demo_project_file("demo-classify", "text-neighbour"))
    clu_names = [p["projectName"] for p in server.client.get(CLU, params=V).json()["value"]]
    text_names = [p["projectName"] for p in server.client.get(AUTHORING, params=V).json()["value"]]
    assert "clu-meta" in clu_names and "text-neighbour" not in clu_names
    assert "text-neighbour" in text_names and "clu-meta" not in text_names
    assert_error(
        server.client.get(f"{CLU}/text-neighbour/models", params=V), 404, "ProjectNotFound", None
    )
    assert_error(server.client.get(f"{AUTHORING}/clu-meta", params=V), 404, "ProjectNotFound", None)
    assert_error(
        server.client.post(
            f"{CLU}/text-neighbour/:import", params=V, json=clu_project_file("text-neighbour")
        ),
        409,
        "Conflict",
        "projectName",
    )
    assert_error(
        server.client.patch(f"{AUTHORING}/clu-meta", params=V, json=body, headers=headers),
        409,
        "Conflict",
        "projectName",
    )

    # The globals of the conversation family.
    versions = server.client.get(
        f"{CLU}/global/training-config-versions", params={**V, "projectKind": "Conversation"}
    ).json()["value"]
    assert FAST in {v["trainingConfigVersion"] for v in versions}
    assert "latest" not in {v["trainingConfigVersion"] for v in versions}
    languages = server.client.get(
        f"{CLU}/global/languages", params={**V, "projectKind": "Conversation"}
    ).json()
    assert {"languageName": "English (United States)", "languageCode": "en-us"} in languages[
        "value"
    ]
    prebuilts = server.client.get(
        f"{CLU}/global/prebuilt-entities", params={**V, "language": "en-us", "top": 50}
    ).json()["value"]
    number = next(p for p in prebuilts if p["category"] == "Quantity.Number")
    assert number["description"] and "," in number["examples"]


def test_training_resolves_latest_and_can_be_cancelled(server: LiveServer) -> None:
    name = "clu-cancel"
    clu_import(server, name, clu_project_file(name))
    # A fast training holds the one authoring worker, so the next job waits (notStarted).
    blocker = server.client.post(
        f"{CLU}/{name}/:train",
        params=V,
        json={"modelLabel": "fast", "trainingMode": "standard", "trainingConfigVersion": FAST},
    )
    assert blocker.status_code == 202, blocker.text
    # No trainingConfigVersion: "latest", the accurate default; cancelled before it runs.
    response = server.client.post(
        f"{CLU}/{name}/:train", params=V, json={"modelLabel": "slow", "trainingMode": "standard"}
    )
    assert response.status_code == 202, response.text
    location = response.headers["Operation-Location"]
    job = server.client.get(location).json()
    assert job["result"]["trainingConfigVersion"] not in ("latest", "")
    assert job["result"]["trainingMode"] == "standard"
    cancel = server.client.post(f"{CLU}/{name}/train/jobs/{job['jobId']}/:cancel", params=V)
    assert cancel.status_code == 202, cancel.text
    assert server.wait_job(location)["status"] == "cancelled"
    assert server.wait_job(blocker.headers["Operation-Location"])["status"] == "succeeded"
    models = server.client.get(f"{CLU}/{name}/models", params=V).json()["value"]
    assert [model["label"] for model in models] == ["fast"]
    versions = {v["trainingConfigVersion"] for v in server.client.get(
        f"{CLU}/global/training-config-versions", params=V).json()["value"]}  # fmt: skip
    assert job["result"]["trainingConfigVersion"] in versions


def test_every_project_has_the_none_intent(server: LiveServer) -> None:
    project_file = clu_project_file("clu-none")
    assets = project_file["assets"]
    assets["intents"] = [i for i in assets["intents"] if i["category"] != "None"]
    del assets["projectKind"]  # optional: the metadata's kind
    clu_import(server, "clu-none", project_file)
    exported = clu_export(server, "clu-none")
    assert [i["category"] for i in exported["assets"]["intents"]] == [
        "None", "SendEmail", "BookFlight", "CheckWeather",
    ]  # fmt: skip
    assert exported["assets"]["projectKind"] == "Conversation"


LUIS_APP: dict[str, Any] = {
    "luis_schema_version": SUPPORTED_LUIS_SCHEMA_VERSIONS[-1],
    "versionId": "0.1",
    "name": "Mini",
    "desc": "",
    "culture": "en-us",
    "intents": [{"name": "None"}, {"name": "Greet"}],
    "entities": [{"name": "Person", "roles": [], "children": [], "features": []}],
    "closedLists": [],
    "regex_entities": [],
    "prebuiltEntities": [],
    "composites": [],
    "patternAnyEntities": [],
    "phraselists": [{"name": "Hellos", "words": "hi,hello", "mode": True, "activated": True}],
    "patterns": [{"pattern": "hello {Person}", "intent": "Greet"}],
    "utterances": [
        {
            "text": "hi ann",
            "intent": "Greet",
            "entities": [{"entity": "Person", "startPos": 3, "endPos": 5}],
        },
        {"text": "what time is it", "intent": "None", "entities": []},
    ],
}


def test_luis_import_reports_what_it_converted_and_dropped(server: LiveServer) -> None:
    job = clu_import(server, "clu-luis", LUIS_APP, format="Luis")
    codes = {warning["code"] for warning in job["warnings"]}
    assert {"LuisConverted", "LuisDropped"} <= codes
    dropped = " ".join(w["message"] for w in job["warnings"] if w["code"] == "LuisDropped")
    assert "Hellos" in dropped or "phrase" in dropped.lower()
    exported = clu_export(server, "clu-luis")
    assert {i["category"] for i in exported["assets"]["intents"]} == {"None", "Greet"}
    assert exported["assets"]["utterances"][0]["entities"] == [
        {"category": "Person", "offset": 3, "length": 3}
    ]
    bad = {**LUIS_APP, "luis_schema_version": "1.0.0"}
    assert_error(
        server.client.post(f"{CLU}/clu-luis/:import", params={**V, "format": "Luis"}, json=bad),
        400,
        "InvalidRequest",
        "luis_schema_version",
    )


# -- bad input: the error, and nothing half-imported -------------------------------------------

U = "assets.utterances"
BAD_FILES: list[tuple[str, str, Any, str]] = [
    # (id, path to change, new value or function of the old, expected target)
    ("unknown-intent", f"{U}[1].intent", "Dance", f"{U}[1].intent"),
    ("unknown-entity", f"{U}[1].entities[0].category", "Planet", f"{U}[1].entities[0].category"),
    ("offset-outside", f"{U}[1].entities[0].offset", 99, f"{U}[1].entities[0].offset"),
    ("negative-offset", f"{U}[1].entities[0].offset", -1, f"{U}[1].entities[0].offset"),
    ("length-past-end", f"{U}[1].entities[0].length", 60, f"{U}[1].entities[0].length"),
    ("empty-length", f"{U}[1].entities[0].length", 0, f"{U}[1].entities[0].length"),
    # "📧 email Dave…": offset 1 falls inside the emoji's surrogate pair.
    ("splits-surrogate", f"{U}[3].entities[0].offset", 1, f"{U}[3].entities[0].offset"),
    (
        "overlap-in-one-entity",
        f"{U}[0].entities",
        lambda labels: [*labels, {**labels[0], "offset": labels[0]["offset"] + 1}],
        f"{U}[0].entities[1]",
    ),
    ("empty-text", f"{U}[2].text", "   ", f"{U}[2].text"),
    ("too-long", f"{U}[2].text", "x" * 501, f"{U}[2].text"),
    ("kind-mismatch", "assets.projectKind", "CustomEntityRecognition", "assets.projectKind"),
    ("orchestration", "metadata.projectKind", "Orchestration", "projectKind"),
    (
        "duplicate-intent",
        "assets.intents",
        lambda intents: [*intents, {"category": "SendEmail"}],
        "assets.intents[4].category",
    ),
    (
        "duplicate-entity",
        "assets.entities",
        lambda entities: [*entities, {"category": "City"}],
        "assets.entities[2].category",
    ),
    ("threshold", "metadata.settings", {"confidenceThreshold": 2}, None),
    ("index-type", "stringIndexType", "Utf8", "stringIndexType"),
    ("no-text", f"{U}[0]", {"intent": "SendEmail"}, f"{U}[0].text"),
    ("composition", "assets.entities[0].compositionSetting", "sometimes", None),
    (
        "regex-does-not-compile",
        "assets.entities[1].regex.expressions[0].regexPattern",
        "([0-9]",
        "assets.entities[1].regex.expressions[0].regexPattern",
    ),
    (
        "regex-backtracks",
        "assets.entities[1].regex.expressions[0].regexPattern",
        "(a+)+$",
        "assets.entities[1].regex.expressions[0].regexPattern",
    ),
    (
        "required-component-missing",
        "assets.entities[1].requiredComponents",
        ["learned", "list"],
        "assets.entities[1].requiredComponents[1]",
    ),
]


@pytest.mark.parametrize(("path", "value", "target"), [case[1:] for case in BAD_FILES],
                         ids=[case[0] for case in BAD_FILES])  # fmt: skip
def test_bad_project_file_is_refused_whole(
    server: LiveServer, path: str, value: Any, target: str | None
) -> None:
    name = "clu-bad"
    good = clu_project_file(name)
    if server.client.get(f"{CLU}/{name}", params=V).status_code == 404:
        clu_import(server, name, good)
    response = server.client.post(
        f"{CLU}/{name}/:import", params=V, json=changed(good, path, value)
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] in ("InvalidRequest", "InvalidArgument"), error
    if target is not None:
        assert error["target"] == target, error
    elif path == "metadata.settings":
        assert error["target"] == "metadata.settings.confidenceThreshold", error
    else:
        assert error["target"].startswith(path), error
    # Nothing half-imported: the project is the one imported before.
    assert clu_export(server, name) == good


def test_bad_requests_name_their_field(server: LiveServer) -> None:
    name = "clu-requests"
    clu_import(server, name, clu_project_file(name))
    train = f"{CLU}/{name}/:train"
    assert_error(
        server.client.post(train, params=V, json={"modelLabel": "m"}),
        400, "InvalidRequest", "trainingMode",
    )  # fmt: skip
    assert_error(
        server.client.post(train, params=V, json={"modelLabel": "m", "trainingMode": "turbo"}),
        400, "InvalidRequest", "trainingMode",
    )  # fmt: skip
    assert_error(
        server.client.post(
            train,
            params=V,
            json={"modelLabel": "m", "trainingMode": "standard", "trainingConfigVersion": "9"},
        ),
        400, "InvalidRequest", "trainingConfigVersion",
    )  # fmt: skip
    assert_error(
        server.client.post(f"{CLU}/{name}/:export", params=V),
        400, "InvalidRequest", "stringIndexType",
    )  # fmt: skip
    assert_error(
        server.client.post(f"{CLU}/{name}/:import", params={**V, "format": "Xml"}, json={}),
        400, "InvalidRequest", "format",
    )  # fmt: skip
    headers = {"Content-Type": "application/merge-patch+json"}
    create = {"projectKind": "Conversation", "language": "en"}
    assert_error(
        server.client.patch(f"{CLU}/global", params=V, json=create, headers=headers),
        400, "InvalidRequest", "projectName",
    )  # fmt: skip
    assert_error(
        server.client.patch(
            f"{CLU}/orch", params=V, json={**create, "projectKind": "Orchestration"},
            headers=headers,
        ),
        400, "InvalidRequest", "projectKind",
    )  # fmt: skip
    assert_error(
        server.client.patch(
            f"{CLU}/thresh", params=V, json={**create, "settings": {}}, headers=headers
        ),
        400, "InvalidRequest", "settings.confidenceThreshold",
    )  # fmt: skip
    for version in ("2023-13", "latest", ""):
        assert_error(
            server.client.get(CLU, params={"api-version": version}),
            400, "InvalidRequest", "api-version",
        )  # fmt: skip
    for version in ("2022-05-01", "2023-04-01", "2025-11-15-preview", "2031-01-01"):
        assert server.client.get(CLU, params={"api-version": version}).status_code == 200
    assert_error(
        server.client.get(f"{CLU}/{name}/train/jobs/nope", params=V),
        404, "OperationNotFound", None,
    )  # fmt: skip


#: Low limits, and a small file that fits them all; each case breaks exactly one.
LOW_LIMITS = {
    "clu_max_utterances_per_project": 3,
    "clu_max_intents_per_project": 3,
    "clu_max_entities_per_project": 1,
    "clu_max_utterance_characters": 30,
    "clu_max_regex_expressions_per_project": 0,
}


def small_file() -> dict[str, Any]:
    file = clu_project_file("clu-limits")
    assets = file["assets"]
    assets["intents"] = [{"category": "None"}, {"category": "SendEmail"}]
    assets["entities"] = [{"category": "Contact"}]
    assets["utterances"] = assets["utterances"][:2]
    return file


def _more_utterances(file: dict[str, Any]) -> dict[str, Any]:
    file["assets"]["utterances"] *= 2
    return file


def _more_intents(file: dict[str, Any]) -> dict[str, Any]:
    file["assets"]["intents"] += [{"category": "A"}, {"category": "B"}]
    return file


def _more_entities(file: dict[str, Any]) -> dict[str, Any]:
    file["assets"]["entities"].append({"category": "City"})
    return file


def _a_regex(file: dict[str, Any]) -> dict[str, Any]:
    file["assets"]["entities"][0]["regex"] = {"expressions": [{"regexPattern": "x"}]}
    return file


def _long_text(file: dict[str, Any]) -> dict[str, Any]:
    file["assets"]["utterances"][1]["text"] += " and more words after it"
    return file


LIMITS = [
    ("clu_max_utterances_per_project", _more_utterances, "assets.utterances"),
    ("clu_max_intents_per_project", _more_intents, "assets.intents"),
    ("clu_max_entities_per_project", _more_entities, "assets.entities"),
    ("clu_max_regex_expressions_per_project", _a_regex, "assets.entities"),
    ("clu_max_utterance_characters", _long_text, "assets.utterances[1].text"),
]


def test_limits_are_settings(tmp_path: Path, databases: Databases) -> None:
    with databases.serve(tmp_path / "data", **LOW_LIMITS) as limited:
        clu_import(limited, "clu-limits", small_file())
        for setting, breaks, target in LIMITS:
            response = limited.client.post(
                f"{CLU}/clu-limits/:import", params=V, json=breaks(small_file())
            )
            error = assert_error(response, 400, "InvalidRequest", target)
            assert f"LEXICRAFT_{setting.upper()}" in error["message"], error
