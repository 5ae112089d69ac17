"""Typed wire schemas over real HTTP: what ``/openapi.json`` documents, and that a body the
schemas refuse gets an Azure error envelope (never FastAPI's 422 shape) while unknown fields
are ignored, as Azure ignores them. No models are needed: validation comes first."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute

from lexicraft.api.authoring.conversations import router as conversation_authoring_router
from lexicraft.api.authoring.routes import router as authoring_router
from lexicraft.api.authoring.storage import router as storage_router
from lexicraft.api.runtime.analyze_text import router as analyze_text_router
from lexicraft.api.runtime.conversations import router as conversations_router
from lexicraft.api.runtime.legacy import router as legacy_router
from lexicraft.api.studio_api import router as studio_router
from lexicraft.api.studio_conversations import router as studio_conversations_router
from tests.integration.databases import Databases
from tests.integration.server import API_VERSION, LiveServer

JOBS = "/language/analyze-text/jobs"
LEGACY = "/text/analytics/v3.2-preview.2/analyze"
LABELING = "/language/lexicraft/projects/nobody"
V = {"api-version": API_VERSION}
DOCS = {"documents": [{"id": "1", "text": "hello"}]}
NER_TASK = {
    "kind": "CustomEntityRecognition",
    "parameters": {"projectName": "nobody", "deploymentName": "prod"},
}
LEGACY_TASKS = {
    "customEntityRecognitionTasks": [
        {"parameters": {"project-name": "nobody", "deployment-name": "prod"}}
    ]
}
MAX_BYTES = 2_000
AUTHORING = "/language/authoring/analyze-text/projects/nobody"
TRAIN = {"modelLabel": "m1", "trainingConfigVersion": "latest"}

#: Write operations Azure defines without a body (job cancels, export's options are in the query).
BODYLESS = {
    ("POST", f"{JOBS}/{{job_id}}:cancel"),
    *(
        ("POST", f"/language/authoring/{family}/projects/{{project_name}}/{route}")
        for family in ("analyze-text", "analyze-conversations")
        for route in (":export", "train/jobs/{job_id}/:cancel")
    ),
    (
        "POST",
        "/language/authoring/analyze-conversations/projects/{project_name}/models/{label}"
        "/:load-snapshot",
    ),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Iterator[LiveServer]:
    """An empty server with a small body limit."""
    with databases.serve(
        tmp_path_factory.mktemp("wire"),
        max_request_bytes=MAX_BYTES,
        max_authoring_request_bytes=MAX_BYTES,
    ) as live:
        yield live


@pytest.fixture(scope="module")
def openapi(server: LiveServer) -> dict[str, Any]:
    response = server.client.get("/openapi.json")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = document["components"]["schemas"][name]
    return schema


# -- /openapi.json -----------------------------------------------------------------------------


def test_every_write_route_documents_its_body(openapi: dict[str, Any]) -> None:
    lacking = set()
    for path, operations in openapi["paths"].items():
        if not path.startswith(("/language", "/text")):
            continue
        for method, operation in operations.items():
            key = (method.upper(), path)
            if method not in ("post", "put", "patch") or key in BODYLESS:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            if not any(media.get("schema") for media in content.values()):
                lacking.add(key)
    assert not lacking, sorted(lacking)


def test_no_route_documents_the_422_shape(openapi: dict[str, Any]) -> None:
    for path, operations in openapi["paths"].items():
        if path.startswith(
            (
                "/language/analyze-text",
                "/language/:",
                "/text",
                "/language/lexicraft",
                "/language/authoring",
            )
        ):
            for operation in operations.values():
                assert "422" not in operation["responses"], path


def test_analyze_text_tasks_are_a_discriminated_union(openapi: dict[str, Any]) -> None:
    operation = openapi["paths"][JOBS]["post"]
    body = resolve(openapi, operation["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["required"]) == {"analysisInput", "tasks"}
    items = body["properties"]["tasks"]["items"]
    assert items["discriminator"]["propertyName"] == "kind"
    assert set(items["discriminator"]["mapping"]) == {
        "CustomEntityRecognition",
        "CustomSingleLabelClassification",
        "CustomMultiLabelClassification",
    }
    assert len(items["oneOf"]) == 3


def test_job_states_and_errors_are_documented(openapi: dict[str, Any]) -> None:
    language = openapi["paths"][f"{JOBS}/{{job_id}}"]["get"]["responses"]
    legacy = openapi["paths"]["/text/analytics/{version}/analyze/jobs/{job_id}"]["get"]
    for responses, name in (
        (language, "LanguageJobState"),
        (legacy["responses"], "LegacyJobState"),
    ):
        schema = responses["200"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith(f"/{name}")
        assert responses["default"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/ErrorResponse"
        )
    state = resolve(openapi, {"$ref": "#/components/schemas/LegacyJobState"})
    assert {"lastUpdateDateTime", "@nextLink"} <= set(state["properties"])


def test_storage_upload_documents_a_raw_body(openapi: dict[str, Any]) -> None:
    operation = openapi["paths"]["/language/lexicraft/storage/{container}/{location}"]["put"]
    assert set(operation["requestBody"]["content"]) == {"text/plain", "application/octet-stream"}


def test_routes_keep_sync_work_off_the_event_loop() -> None:
    """Plain ``def`` routes run in the threadpool; the async routes offload their database
    work: the upload's write, and the analyze submits' and polls' (which then wait for the
    job)."""
    routers = (
        analyze_text_router,
        conversations_router,
        legacy_router,
        studio_router,
        studio_conversations_router,
        storage_router,
        authoring_router,
        conversation_authoring_router,
    )
    async_routes = {
        route.name
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and inspect.iscoroutinefunction(route.endpoint)
    }
    assert async_routes == {"upload_document", "submit_job", "get_job"}


# -- validation failures are Azure envelopes ---------------------------------------------------


def language_body(**changes: Any) -> dict[str, Any]:
    return {"analysisInput": DOCS, "tasks": [NER_TASK]} | changes


def clu_body(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "Conversation",
        "analysisInput": {"conversationItem": {"id": "1", "participantId": "1", "text": "hi"}},
        "parameters": {"projectName": "nobody", "deploymentName": "prod"},
    } | changes


CLU = "/language/:analyze-conversations"
BAD = "InvalidRequestBodyFormat"
BAD_VALUE = "InvalidParameterValue"
P = f"{LEGACY}"


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        pytest.param("POST", JOBS, language_body(tasks=[{"kind": "CustomEntityRecognition", "parameters": {"projectName": "p"}}]),
                     (BAD, "tasks[0].parameters.deploymentName", "tasks[0].parameters.deploymentName is required"), id="no-deployment"),
        pytest.param("POST", JOBS, language_body(analysisInput={"documents": [{"id": "", "text": "x"}]}),
                     (BAD, "analysisInput.documents[0].id", None), id="empty-id"),
        pytest.param("POST", JOBS, language_body(analysisInput={"documents": [{"id": "1", "text": 5}]}),
                     (BAD, "analysisInput.documents[0].text", "analysisInput.documents[0].text must be a string"), id="text-not-string"),
        pytest.param("POST", JOBS, language_body(tasks="x"), (BAD, "tasks", "tasks must be a list"), id="tasks-not-list"),
        pytest.param("POST", JOBS, language_body(tasks=[]), (BAD, "tasks", None), id="no-tasks"),
        pytest.param("POST", JOBS, language_body(tasks=[{"parameters": {}}]), (BAD, "tasks[0].kind", None), id="no-kind"),
        pytest.param("POST", JOBS, language_body(tasks=[{"kind": "EntityRecognition"}]), (BAD_VALUE, "tasks[0].kind", None), id="prebuilt-kind"),
        pytest.param("POST", JOBS, language_body(tasks=[NER_TASK | {"taskName": 7}]),
                     (BAD, "tasks[0].taskName", "tasks[0].taskName must be a string"), id="task-name-not-string"),
        pytest.param("POST", JOBS, language_body(tasks=[{**NER_TASK, "parameters": {**NER_TASK["parameters"], "stringIndexType": "Bytes"}}]),
                     (BAD_VALUE, "stringIndexType", None), id="bad-index-type"),
        pytest.param("POST", JOBS, {"tasks": [NER_TASK]}, ("MissingInputDocuments", "analysisInput.documents", None), id="no-documents"),
        pytest.param("POST", JOBS, b"{nope", (BAD, None, None), id="bad-json"),
        pytest.param("POST", JOBS, b"[1, 2]", (BAD, None, "the request body must be a JSON object"), id="not-an-object"),
        pytest.param("POST", JOBS, b"", (BAD, None, "the request body is empty; send a JSON object"), id="empty-body"),
        pytest.param("POST", "/language/:analyze-text", {}, (BAD, "kind", "kind is required"), id="sync-no-kind"),
        pytest.param("POST", CLU, clu_body(kind="Orchestration"), (BAD_VALUE, "kind", None), id="clu-kind"),
        pytest.param("POST", CLU, clu_body(analysisInput={"conversationItem": {"id": "1", "participantId": "1"}}),
                     (BAD, "analysisInput.conversationItem.text", "analysisInput.conversationItem.text is required"), id="clu-no-text"),
        pytest.param("POST", CLU, clu_body(parameters={"projectName": "nobody"}),
                     (BAD, "parameters.deploymentName", None), id="clu-no-deployment"),
        pytest.param("POST", P, {"analysisInput": {"documents": []}, "tasks": LEGACY_TASKS},
                     ("MissingInputRecords", "analysisInput.documents", None), id="legacy-no-documents"),
        pytest.param("POST", P, {"analysisInput": DOCS, "tasks": []}, (BAD, "tasks", "tasks must be an object"), id="legacy-tasks-not-object"),
        pytest.param("POST", P, {"analysisInput": DOCS, "tasks": {"customEntityRecognitionTasks": [{"parameters": {"project-name": 5}}]}},
                     (BAD, "tasks.customEntityRecognitionTasks[0].parameters.project-name", None), id="legacy-name-not-string"),
        pytest.param("POST", P, {"analysisInput": DOCS, "tasks": {"customEntityRecognitionTasks": [{"parameters": {"project-name": "p"}}]}},
                     (BAD, "tasks.customEntityRecognitionTasks[0].parameters", None), id="legacy-no-deployment"),
        pytest.param("POST", P, {"analysisInput": DOCS, "tasks": {"sentimentAnalysisTasks": [{}]}},
                     (BAD_VALUE, "tasks.sentimentAnalysisTasks", None), id="legacy-prebuilt-list"),
        pytest.param("POST", f"{LABELING}/documents", {}, (BAD, "text", "text is required"), id="studio-no-text"),
        pytest.param("POST", f"{LABELING}/documents", {"text": "x", "dataset": "Dev"}, (BAD_VALUE, "dataset", None), id="studio-bad-dataset"),
        pytest.param("PATCH", f"{LABELING}/documents/a.txt", {"entities": [{"category": "A", "offset": "0", "length": 1}]},
                     (BAD, "entities[0].offset", "entities[0].offset must be an integer"), id="studio-offset-not-int"),
        pytest.param("PATCH", f"{LABELING}/documents/a.txt", {"entities": [{"offset": 0, "length": 1}]},
                     (BAD, "entities[0].category", "entities[0].category is required"), id="studio-no-category"),
        pytest.param("PATCH", f"{LABELING}/documents/a.txt", {"entities": "Person"}, (BAD, "entities", "entities must be a list"), id="studio-entities-not-list"),
        pytest.param("PATCH", f"{LABELING}/documents/a.txt", {"stringIndexType": "Utf16CodeUnit"}, (BAD, "stringIndexType", None), id="studio-utf16"),
        pytest.param("PUT", f"{LABELING}/labels", {}, (BAD, "labels", "labels is required"), id="labels-missing"),
        pytest.param("PUT", f"{LABELING}/labels", {"labels": [{"name": "A"}]}, (BAD, "labels[0]", "labels[0] must be a string"), id="label-not-a-name"),
        pytest.param("PATCH", AUTHORING, {"language": 5}, (BAD, "language", "language must be a string"), id="patch-language-not-string"),
        pytest.param("PATCH", AUTHORING, {"projectKind": "CustomPoetry"}, (BAD_VALUE, "projectKind", None), id="patch-bad-kind"),
        pytest.param("PATCH", AUTHORING, {"projectKind": None}, (BAD, "projectKind", "projectKind is required"), id="patch-null-kind"),
        pytest.param("PATCH", AUTHORING, {"projectName": "other"}, (BAD_VALUE, "projectName", None), id="patch-other-name"),
        pytest.param("POST", f"{AUTHORING}/:import", {"projectFileVersion": "2022-05-01", "stringIndexType": "Utf16CodeUnit"},
                     (BAD, "metadata", "metadata is required"), id="import-no-metadata"),
        pytest.param("POST", f"{AUTHORING}/:train", {"trainingConfigVersion": "latest"}, (BAD, "modelLabel", "modelLabel is required"), id="train-no-label"),
        pytest.param("POST", f"{AUTHORING}/:train", TRAIN | {"evaluationOptions": {"trainingSplitPercentage": "70"}},
                     (BAD, "evaluationOptions.trainingSplitPercentage", "evaluationOptions.trainingSplitPercentage must be an integer"), id="train-split-not-int"),
        pytest.param("POST", f"{AUTHORING}/:train", TRAIN | {"evaluationOptions": {"kind": "random"}}, (BAD_VALUE, "evaluationOptions.kind", None), id="train-bad-split-kind"),
        pytest.param("PUT", f"{AUTHORING}/deployments/prod", {}, (BAD, "trainedModelLabel", "trainedModelLabel is required"), id="deploy-no-label"),
        pytest.param("POST", f"{AUTHORING}/deployments/:swap", {"firstDeploymentName": "a"},
                     (BAD, "secondDeploymentName", "secondDeploymentName is required"), id="swap-no-second"),
        pytest.param("POST", f"{AUTHORING}/deployments/:swap", {"firstDeploymentName": "a", "secondDeploymentName": "a"},
                     (BAD_VALUE, "body", None), id="swap-itself"),
    ],
)  # fmt: skip
def test_validation_failures_are_azure_envelopes(
    server: LiveServer,
    method: str,
    path: str,
    body: Any,
    expected: tuple[str, str | None, str | None],
) -> None:
    response = send(server, method, path, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    inner, target, message = expected
    assert (error["code"], error["innererror"]["code"], error.get("target")) == (
        "InvalidRequest",
        inner,
        target,
    ), error
    assert error["message"] and error["innererror"]["message"] == error["message"]
    if message is not None:
        assert error["message"] == message
    assert "detail" not in response.json()
    assert "Operation-Location" not in response.headers


def send(server: LiveServer, method: str, path: str, body: Any) -> Any:
    params = V if path.startswith("/language/") else None
    if isinstance(body, bytes):
        headers = {"Content-Type": "application/json"}
        return server.client.request(method, path, params=params, content=body, headers=headers)
    return server.client.request(method, path, params=params, json=body)


def test_an_unserved_legacy_version_is_404_before_its_body(server: LiveServer) -> None:
    response = server.client.post("/text/analytics/v3.1/analyze", json={"tasks": 5})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotFound"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", JOBS, b'{"analysisInput": ' + b" " * MAX_BYTES + b"{"),
        ("POST", JOBS, language_body(displayName="x" * MAX_BYTES)),
        ("POST", LEGACY, {"analysisInput": DOCS, "tasks": LEGACY_TASKS, "pad": "x" * MAX_BYTES}),
        ("POST", f"{LABELING}/documents", {"text": "x" * MAX_BYTES}),
        ("POST", f"{AUTHORING}/:train", TRAIN | {"pad": "x" * MAX_BYTES}),
    ],
    ids=["invalid-json", "language", "legacy", "studio", "authoring"],
)
def test_the_body_limit_comes_before_parsing(
    server: LiveServer, method: str, path: str, body: Any
) -> None:
    response = send(server, method, path, body)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["innererror"]["code"] == "RequestEntityTooLarge"


# -- unknown fields are ignored ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [
        pytest.param("POST", JOBS, {
            "analysisInput": {"documents": [{"id": "1", "text": "x", "language": "en", "future": 1}], "more": {}},
            "tasks": [{**NER_TASK, "parameters": {**NER_TASK["parameters"], "loggingOptOut": True, "newKnob": "x"}, "extra": [1]}],
            "cancelAfter": 3600.0, "someNewField": {"a": 1},
        }, "ProjectNotFound", id="language"),
        pytest.param("POST", LEGACY, {
            "analysisInput": DOCS,
            "tasks": {"customEntityRecognitionTasks": [{"parameters": {"project-name": "nobody", "deployment-name": "prod", "loggingOptOut": False}, "x": 1}],
                      "entityRecognitionTasks": []},
            "newField": True,
        }, "ProjectNotFound", id="legacy"),
        pytest.param("POST", f"{LABELING}/documents", {"text": "x", "labeled": False, "colour": "red"}, "ProjectNotFound", id="studio-add"),
        pytest.param("PUT", f"{LABELING}/labels", {"labels": ["A", {"category": "B", "documentCount": 3}], "projectKind": "x"}, "ProjectNotFound", id="studio-labels"),
        pytest.param("POST", f"{AUTHORING}/:train", TRAIN | {"trainingMode": "advanced", "evaluationOptions": {"kind": "manual", "x": 1}, "new": 1},
                     "ProjectNotFound", id="train"),
        pytest.param("PUT", f"{AUTHORING}/deployments/prod", {"trainedModelLabel": "m1", "assignedResources": [{"resourceId": "r", "region": "westus"}], "x": 1},
                     "ProjectNotFound", id="deploy"),
        pytest.param("POST", f"{AUTHORING}/deployments/:swap", {"firstDeploymentName": "a", "secondDeploymentName": "b", "x": 1}, "ProjectNotFound", id="swap"),
    ],
)  # fmt: skip
def test_unknown_fields_are_ignored(
    server: LiveServer, method: str, path: str, body: Any, code: str
) -> None:
    """The body passes validation and reaches the service, which finds no such project."""
    response = send(server, method, path, body)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == code


def test_a_body_not_labeled_as_json_is_refused_with_a_hint(server: LiveServer) -> None:
    response = server.client.post(f"{LABELING}/documents", content=b'{"text": "x"}')
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["innererror"]["code"] == "InvalidRequestBodyFormat"
    assert "Content-Type: application/json" in error["message"]


def test_authoring_bodies_and_responses_are_documented(openapi: dict[str, Any]) -> None:
    projects = "/language/authoring/analyze-text/projects/{project_name}"
    import_body = openapi["paths"][f"{projects}/:import"]["post"]["requestBody"]
    schema = resolve(openapi, import_body["content"]["application/json"]["schema"])
    assert {"projectFileVersion", "stringIndexType", "metadata"} <= set(schema["required"])
    assets = schema["properties"]["assets"]["anyOf"][0]
    assert assets["discriminator"]["propertyName"] == "projectKind"
    patch = openapi["paths"][projects]["patch"]
    assert "required" not in resolve(
        openapi, patch["requestBody"]["content"]["application/json"]["schema"]
    )
    for path, method, name in (
        (projects, "get", "ProjectMetadata"),
        (f"{projects}/deployments/{{deployment_name}}", "get", "Deployment"),
        (f"{projects}/train/jobs/{{job_id}}", "get", "JobState"),
        (f"{projects}/models/{{label}}", "get", "TrainedModel"),
        (f"{projects}/models/{{label}}/evaluation/summary-result", "get", "EvaluationSummary"),
        (f"{projects}/deployments", "get", "DeploymentsPage"),
    ):
        responses = openapi["paths"][path][method]["responses"]
        assert responses["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
            f"/{name}"
        ), (path, responses["200"])
        assert "422" not in responses
