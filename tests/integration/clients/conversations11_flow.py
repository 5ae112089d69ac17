"""Drive CLU with the official ``azure-ai-language-conversations`` 1.1.0 clients.

Run with the client venv's python (``.venv-clients/conversations11/bin/python``), never ours:
this script must not import lexicraft. Usage::

    conversations11_flow.py ENDPOINT KEY PROJECT_NAME PROJECT_FILE.json QUERIES.json

With the package's authoring client (dicts in and out, api-version 2023-04-01): create the
project, import the file (format ``Conversation``), train ``m1`` on the fast configuration,
read its evaluation summary, deploy it as ``production``. With its runtime client:
``analyze_conversation`` for each query of ``QUERIES.json`` (``[{"name", "text",
"stringIndexType"?}]``; no ``stringIndexType`` means the client sends none), then raise the
project's ``confidenceThreshold`` to 1.0, ask the first query again, train and deploy a model
``strict`` and ask it, then the errors: an
unknown deployment, an unknown project, an empty utterance, a bad ``stringIndexType``. Prints ONE JSON object on stdout:
what the clients returned or raised, plus the HTTP trace of every response.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from azure.ai.language.conversations import ConversationAnalysisClient
from azure.ai.language.conversations.authoring import ConversationAuthoringClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.pipeline import PipelineResponse

MODEL_LABEL = "m1"
DEPLOYMENT_NAME = "production"
TRAINING_CONFIG_VERSION = "2022-05-01-fast"
POLLING_INTERVAL_S = 1


class Trace:
    """Every HTTP response the client pipelines saw (azure-core's ``raw_response_hook``)."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def __call__(self, pipeline_response: PipelineResponse[Any, Any]) -> None:
        request = pipeline_response.http_request
        response = pipeline_response.http_response
        url = urlsplit(request.url)
        self.entries.append(
            {
                "method": request.method,
                "path": url.path,
                "query": url.query,
                "status": response.status_code,
                "operationLocation": response.headers.get("Operation-Location"),
                "retryAfter": response.headers.get("Retry-After"),
            }
        )


def task(project: str, deployment: str, text: str, index_type: str | None) -> dict[str, Any]:
    """The ``analyze_conversation`` body as users of 1.1.0 write it (spec CLU §3.6)."""
    parameters: dict[str, Any] = {"projectName": project, "deploymentName": deployment}
    if index_type is not None:
        parameters["stringIndexType"] = index_type
    return {
        "kind": "Conversation",
        "analysisInput": {"conversationItem": {"id": "1", "participantId": "user", "text": text}},
        "parameters": parameters,
    }


def raised(call: Any) -> dict[str, Any]:
    """Run ``call``, which must raise; describe the exception as a user's code sees it."""
    try:
        result = call()
    except HttpResponseError as error:
        inner = getattr(error.error, "innererror", None) if error.error is not None else None
        return {
            "raised": type(error).__name__,
            "notFound": isinstance(error, ResourceNotFoundError),
            "status": error.status_code,
            "code": error.error.code if error.error is not None else None,
            "innerCode": inner.get("code") if isinstance(inner, dict) else None,
            "target": error.error.target if error.error is not None else None,
            "message": error.error.message if error.error is not None else str(error),
        }
    return {"raised": None, "result": result}


def main(argv: list[str]) -> int:
    endpoint, key, name, project_path, queries_path = argv
    project_file = json.loads(Path(project_path).read_text(encoding="utf-8"))
    queries = json.loads(Path(queries_path).read_text(encoding="utf-8"))
    trace = Trace()
    credential = AzureKeyCredential(key)
    authoring = ConversationAuthoringClient(
        endpoint, credential, polling_interval=POLLING_INTERVAL_S, raw_response_hook=trace
    )
    runtime = ConversationAnalysisClient(endpoint, credential, raw_response_hook=trace)
    observed: dict[str, Any] = {}
    with authoring, runtime:
        metadata = project_file["metadata"]
        status, created = authoring.create_project(
            name,
            metadata,
            cls=lambda response, body, _headers: (response.http_response.status_code, body),
        )
        observed["create"] = {"status": status, "body": created}

        imported = authoring.begin_import_project(
            name, project_file, exported_project_format="Conversation"
        )
        observed["import"] = {"result": imported.result(), "status": imported.status()}
        observed["project"] = authoring.get_project(name)

        train = authoring.begin_train(
            name,
            {
                "modelLabel": MODEL_LABEL,
                "trainingMode": "standard",
                "trainingConfigVersion": TRAINING_CONFIG_VERSION,
                "evaluationOptions": {
                    "kind": "percentage",
                    "trainingSplitPercentage": 80,
                    "testingSplitPercentage": 20,
                },
            },
        )
        observed["train"] = {"result": train.result(), "status": train.status()}
        observed["evaluation"] = authoring.get_model_evaluation_summary(name, MODEL_LABEL)

        deploy = authoring.begin_deploy_project(
            name, DEPLOYMENT_NAME, {"trainedModelLabel": MODEL_LABEL}
        )
        observed["deploy"] = {"result": deploy.result(), "status": deploy.status()}

        observed["answers"] = {
            query["name"]: runtime.analyze_conversation(
                task(name, DEPLOYMENT_NAME, query["text"], query.get("stringIndexType"))
            )
            for query in queries
        }

        # A threshold no score reaches. The deployment answers with the project its model
        # was trained on, so only a model trained since, deployed as "strict", applies it.
        authoring.create_project(name, {**metadata, "settings": {"confidenceThreshold": 1.0}})
        observed["thresholdBeforeTraining"] = runtime.analyze_conversation(
            task(name, DEPLOYMENT_NAME, queries[0]["text"], None)
        )
        authoring.begin_train(
            name,
            {
                "modelLabel": "strict",
                "trainingMode": "standard",
                "trainingConfigVersion": TRAINING_CONFIG_VERSION,
            },
        ).result()
        authoring.begin_deploy_project(name, "strict", {"trainedModelLabel": "strict"}).result()
        observed["underThreshold"] = runtime.analyze_conversation(
            task(name, "strict", queries[0]["text"], None)
        )

        observed["unknownDeployment"] = raised(
            lambda: runtime.analyze_conversation(task(name, "staging", "hello", None))
        )
        observed["unknownProject"] = raised(
            lambda: runtime.analyze_conversation(task("no-such-app", DEPLOYMENT_NAME, "hi", None))
        )
        observed["emptyText"] = raised(
            lambda: runtime.analyze_conversation(task(name, DEPLOYMENT_NAME, "", None))
        )
        observed["badIndexType"] = raised(
            lambda: runtime.analyze_conversation(task(name, DEPLOYMENT_NAME, "hi", "Utf8"))
        )
    observed["http"] = trace.entries
    json.dump(observed, sys.stdout, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
