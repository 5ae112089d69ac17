"""The authoring API over real HTTP: lifecycle per project kind, round trips, bad input, auth."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.integration.projects import multi_label_project_file, unicode_ner_project_file
from tests.integration.server import API_VERSION, AUTHORING, FAST, LiveServer, demo_project_file

V = {"api-version": API_VERSION}

EVALUATION_KEYS = {
    "CustomEntityRecognition": ("customEntityRecognitionEvaluation", "entities"),
    "CustomSingleLabelClassification": ("customSingleLabelClassificationEvaluation", "classes"),
    "CustomMultiLabelClassification": ("customMultiLabelClassificationEvaluation", "classes"),
}
RESULT_KEYS = {
    "CustomEntityRecognition": "customEntityRecognitionResult",
    "CustomSingleLabelClassification": "customSingleLabelClassificationResult",
    "CustomMultiLabelClassification": "customMultiLabelClassificationResult",
}


def project_file_for(kind: str, name: str) -> dict[str, Any]:
    if kind == "CustomEntityRecognition":
        return demo_project_file("demo-ner", name)
    if kind == "CustomSingleLabelClassification":
        return demo_project_file("demo-classify", name)
    return multi_label_project_file(name)


def without_inline_text(project_file: dict[str, Any]) -> dict[str, Any]:
    """The file as an export shows it: our inline ``text`` extension is not exported."""
    stripped = copy.deepcopy(project_file)
    for document in stripped["assets"]["documents"]:
        document.pop("text", None)
    return stripped


@pytest.mark.parametrize("kind", list(EVALUATION_KEYS))
def test_lifecycle_import_train_evaluate_deploy_swap_delete(server: LiveServer, kind: str) -> None:
    name = f"life-{kind[6:12].lower()}"
    project_file = project_file_for(kind, name)
    server.import_project(name, project_file)

    project = server.client.get(f"{AUTHORING}/{name}", params=V).json()
    assert project["projectKind"] == kind
    assert project["storageInputContainerName"] == name
    assert project["createdDateTime"].endswith("Z")

    # Export equals import (minus the inline texts, which live in the container now).
    exported_job = server.run_job(
        "POST", f"{AUTHORING}/{name}/:export", params={**V, "stringIndexType": "Utf16CodeUnit"}
    )
    exported = server.client.get(exported_job["resultUrl"]).json()
    assert exported == without_inline_text(project_file)

    train_job = server.train(name, "m1")
    assert train_job["result"]["modelLabel"] == "m1"
    assert train_job["result"]["trainingStatus"]["percentComplete"] == 100
    assert train_job["result"]["evaluationStatus"]["status"] == "succeeded"
    server.train(name, "m2")

    models = server.client.get(f"{AUTHORING}/{name}/models", params=V).json()["value"]
    assert [m["label"] for m in models] == ["m1", "m2"]
    model = server.client.get(f"{AUTHORING}/{name}/models/m1", params=V).json()
    assert model["modelTrainingConfigVersion"] == FAST
    assert model["lastTrainingDurationInSeconds"] >= 0

    summary = server.client.get(
        f"{AUTHORING}/{name}/models/m1/evaluation/summary-result", params=V
    ).json()
    key, per_label = EVALUATION_KEYS[kind]
    evaluation = summary[key]
    assert summary["projectKind"] == kind
    assert summary["evaluationOptions"]["kind"] == "manual"
    assert evaluation["microF1"] > 0.7, evaluation
    declared = {item["category"] for item in project_file["assets"][per_label]}
    assert set(evaluation[per_label]) == declared
    for metrics in evaluation[per_label].values():
        assert set(metrics) == {
            "f1", "precision", "recall", "truePositiveCount", "trueNegativeCount",
            "falsePositiveCount", "falseNegativeCount",
        }  # fmt: skip
    assert ("confusionMatrix" in evaluation) is (kind != "CustomMultiLabelClassification")

    test_documents = [d for d in project_file["assets"]["documents"] if d["dataset"] == "Test"]
    first_page = server.client.get(
        f"{AUTHORING}/{name}/models/m1/evaluation/result",
        params={**V, "stringIndexType": "Utf16CodeUnit", "top": 5},
    ).json()
    assert len(first_page["value"]) == 5
    paged = server.client.get(
        f"{AUTHORING}/{name}/models/m1/evaluation/result",
        params={**V, "stringIndexType": "Utf16CodeUnit", "maxpagesize": 7},
    ).json()
    results = paged["value"]
    while paged.get("nextLink"):
        paged = server.client.get(paged["nextLink"]).json()
        results.extend(paged["value"])
    assert sorted(r["location"] for r in results) == sorted(d["location"] for d in test_documents)
    assert all(RESULT_KEYS[kind] in r for r in results)

    server.deploy(name, "production", "m1")
    server.deploy(name, "staging", "m2")
    deployment = server.client.get(f"{AUTHORING}/{name}/deployments/production", params=V).json()
    assert deployment["modelId"] == model["modelId"]

    server.run_job(
        "POST",
        f"{AUTHORING}/{name}/deployments/:swap",
        params=V,
        json={"firstDeploymentName": "production", "secondDeploymentName": "staging"},
    )
    swapped = server.client.get(f"{AUTHORING}/{name}/deployments", params=V).json()["value"]
    serving = {d["deploymentName"]: d["modelId"] for d in swapped}
    assert serving["staging"] == model["modelId"]
    assert serving["production"] != model["modelId"]

    in_use = server.client.delete(f"{AUTHORING}/{name}/models/m1", params=V)
    assert in_use.status_code == 409
    assert in_use.json()["error"]["code"] == "Conflict"

    server.run_job("DELETE", f"{AUTHORING}/{name}/deployments/staging", params=V)
    missing = server.client.get(f"{AUTHORING}/{name}/deployments/staging", params=V)
    assert missing.status_code == 404
    assert server.client.delete(f"{AUTHORING}/{name}/models/m1", params=V).status_code == 204
    assert server.client.get(f"{AUTHORING}/{name}/models/m1", params=V).status_code == 404

    deletion = server.client.delete(f"{AUTHORING}/{name}", params=V)
    assert deletion.status_code == 202
    assert "/global/deletion-jobs/" in deletion.headers["Operation-Location"]
    assert server.wait_job(deletion.headers["Operation-Location"])["status"] == "succeeded"
    assert server.client.get(f"{AUTHORING}/{name}", params=V).status_code == 404


def test_unicode_offsets_round_trip_exactly(server: LiveServer) -> None:
    project_file = unicode_ner_project_file("unicode-trip")
    server.import_project("unicode-trip", project_file)
    job = server.run_job(
        "POST",
        f"{AUTHORING}/unicode-trip/:export",
        params={**V, "stringIndexType": "Utf16CodeUnit"},
    )
    exported = server.client.get(job["resultUrl"]).json()
    assert exported == without_inline_text(project_file)
    # The files written to the container hold the exact text, \r\n and all.
    for document in project_file["assets"]["documents"]:
        stored = server.settings.storage_dir / "unicode-trip" / document["location"]
        assert stored.read_bytes() == document["text"].encode("utf-8")


def test_import_reads_documents_from_the_storage_container(server: LiveServer) -> None:
    project_file = demo_project_file("demo-classify", "from-files")
    for document in project_file["assets"]["documents"][:20]:
        text = document.pop("text")
        response = server.client.put(
            f"/language/lexicraft/storage/from-files/{document['location']}",
            content=text.encode("utf-8"),
        )
        assert response.status_code == 201
    project_file["assets"]["documents"] = project_file["assets"]["documents"][:20]
    server.import_project("from-files", project_file)
    exported_job = server.run_job(
        "POST", f"{AUTHORING}/from-files/:export", params={**V, "stringIndexType": "Utf16CodeUnit"}
    )
    assert server.client.get(exported_job["resultUrl"]).json() == project_file


def test_project_patch_creates_then_merges(server: LiveServer) -> None:
    body = {
        "projectName": "patched",
        "language": "en",
        "projectKind": "CustomEntityRecognition",
        "description": "first",
        "multilingual": False,
        "storageInputContainerName": "patched",
    }
    created = server.client.patch(
        f"{AUTHORING}/patched",
        params=V,
        content=json.dumps(body),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert created.status_code == 201
    assert created.json()["description"] == "first"
    updated = server.client.patch(f"{AUTHORING}/patched", params=V, json={"description": "second"})
    assert updated.status_code == 200
    assert updated.json()["description"] == "second"
    assert updated.json()["language"] == "en"


def test_lists_page_with_next_link(server: LiveServer) -> None:
    for index in range(3):
        response = server.client.patch(
            f"{AUTHORING}/paging-{index}",
            params=V,
            json={
                "projectKind": "CustomSingleLabelClassification",
                "language": "en",
                "storageInputContainerName": f"paging-{index}",
            },
        )
        assert response.status_code == 201
    page = server.client.get(f"{AUTHORING}", params={**V, "maxpagesize": 2}).json()
    names = [p["projectName"] for p in page["value"]]
    while page.get("nextLink"):
        page = server.client.get(page["nextLink"]).json()
        names.extend(p["projectName"] for p in page["value"])
    assert {"paging-0", "paging-1", "paging-2"} <= set(names)
    assert len(names) == len(set(names))


def test_global_helpers(server: LiveServer) -> None:
    versions = server.client.get(
        f"{AUTHORING}/global/training-config-versions",
        params={**V, "projectKind": "CustomEntityRecognition"},
    ).json()["value"]
    assert "2022-05-01" in [v["trainingConfigVersion"] for v in versions]
    languages = server.client.get(f"{AUTHORING}/global/languages", params=V).json()["value"]
    assert {"languageName": "German", "languageCode": "de"} in languages
