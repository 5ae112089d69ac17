"""Drive CLU authoring with the official ``azure-ai-language-conversations-authoring`` 1.0.0b4.

Run with the client venv's python (``.venv-clients/conversations-authoring/bin/python``), never
ours: this script must not import lexicraft. Usage::

    conversations_authoring_flow.py ENDPOINT KEY PROJECT_NAME PROJECT_FILE.json --phase PHASE

Phases (each against the server the test started for it):

- ``build``: create the project, import the file (format ``Conversation``), train ``m1`` on
  the fast configuration (the poller's result is the job's ``result`` object), deploy it as
  ``production``, export the project (the job's ``resultUrl``, then a GET of it with the key),
  list the trained models.
- ``cancel``: against a server that runs no workers, so the job waits: start training ``m2``
  without polling, then cancel it with the client's own cancel poller.
- ``analyze``: the runtime package 1.0.0b4 installs beside itself (2.0.0b2, typed models,
  default api-version 2025-11-15-preview) asks the deployment about ``TEXT`` (code points);
  its models deserialize only with the exact discriminators (spec CLU §3.3).
- ``delete``: delete the project; reading it afterwards raises ResourceNotFoundError.

Prints ONE JSON object on stdout: what the client returned or raised, plus the HTTP trace of
every response (method, path, status, Operation-Location).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from azure.ai.language.conversations import ConversationAnalysisClient
from azure.ai.language.conversations.authoring import (
    ConversationAuthoringClient,
    ConversationAuthoringProjectClient,
)
from azure.ai.language.conversations.authoring.models import (
    CreateDeploymentDetails,
    CreateProjectOptions,
    EvaluationDetails,
    ExportedProject,
    TrainingJobDetails,
)
from azure.ai.language.conversations.models import (
    ConversationActionContent,
    ConversationAnalysisInput,
    ConversationLanguageUnderstandingInput,
    TextConversationItem,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.pipeline import PipelineResponse
from azure.core.rest import HttpRequest

FAST = "2022-05-01-fast"
DEPLOYMENT_NAME = "production"
POLLING_INTERVAL_S = 1
#: What the typed runtime client asks (the test checks the offsets in code points).
TEXT = "\U0001f6eb book three tickets to Zu\u0308rich on Ko\u0308ln Air LH1234"


class Trace:
    """Every HTTP response the client pipeline saw (azure-core's ``raw_response_hook``)."""

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
            }
        )

    def last_job_id(self, verb: str) -> str:
        """The job id of the last ``verb`` trigger's ``Operation-Location``."""
        for entry in reversed(self.entries):
            location = entry["operationLocation"]
            if location is not None and f"/{verb}/jobs/" in location:
                return str(urlsplit(location).path.rsplit("/", 1)[1])
        raise AssertionError(f"no {verb} job was started")


def training(label: str) -> TrainingJobDetails:
    return TrainingJobDetails(
        model_label=label,
        training_mode="standard",
        training_config_version=FAST,
        evaluation_options=EvaluationDetails(
            kind="percentage", training_split_percentage=80, testing_split_percentage=20
        ),
    )


def build(
    client: ConversationAuthoringClient,
    project: ConversationAuthoringProjectClient,
    name: str,
    project_file: dict[str, Any],
    trace: Trace,
) -> dict[str, Any]:
    observed: dict[str, Any] = {}
    metadata = project_file["metadata"]
    status, created = client.create_project(
        name,
        CreateProjectOptions(
            project_kind="Conversation",
            project_name=name,
            language=metadata["language"],
            description=metadata.get("description"),
        ),
        cls=lambda response, body, _headers: (response.http_response.status_code, body),
    )
    observed["create"] = {
        "status": status,
        "projectKind": created.project_kind,
        "projectName": created.project_name,
    }

    imported = project.project.begin_import(
        ExportedProject(project_file), exported_project_format="Conversation"
    )
    observed["import"] = {"result": imported.result(), "status": imported.status()}

    train = project.project.begin_train(training("m1"))
    result = train.result()
    observed["train"] = {
        "status": train.status(),
        "type": type(result).__name__,
        "modelLabel": result.model_label,
        "trainingConfigVersion": result.training_config_version,
        "trainingMode": result.training_mode,
        "trainingStatus": result.training_status.status,
        "percentComplete": result.training_status.percent_complete,
        "evaluationStatus": result.evaluation_status.status if result.evaluation_status else None,
    }

    deploy = project.deployment.begin_deploy_project(
        DEPLOYMENT_NAME, CreateDeploymentDetails(trained_model_label="m1")
    )
    observed["deploy"] = {"result": deploy.result(), "status": deploy.status()}
    deployment = project.deployment.get_deployment(DEPLOYMENT_NAME)
    observed["deployment"] = {
        "deploymentName": deployment.deployment_name,
        "trainingConfigVersion": deployment.model_training_config_version,
    }

    export = project.project.begin_export(
        string_index_type="Utf16CodeUnit", exported_project_format="Conversation"
    )
    observed["export"] = {"result": export.result(), "status": export.status()}
    state = project.project.get_export_status(trace.last_job_id("export"))
    observed["export"]["resultUri"] = state.result_uri
    # The exported file is a route of the API: read it as the client's own pipeline would.
    response = client.send_request(HttpRequest("GET", state.result_uri))
    observed["exported"] = {"status": response.status_code, "body": response.json()}

    observed["models"] = [
        {"label": model.label, "trainingConfigVersion": model.model_training_config_version}
        for model in project.project.list_trained_models()
    ]
    return observed


def cancel(project: ConversationAuthoringProjectClient, trace: Trace) -> dict[str, Any]:
    # polling=False: nothing runs the job on this server, so a poller would wait for ever.
    project.project.begin_train(training("m2"), polling=False)
    job_id = trace.last_job_id("train")
    waiting = project.project.get_training_status(job_id)
    poller = project.project.begin_cancel_training_job(job_id)
    result = poller.result()
    after = project.project.get_training_status(job_id)
    return {
        "cancel": {
            "waitingStatus": waiting.status,
            "pollerStatus": poller.status(),
            "type": type(result).__name__,
            "modelLabel": result.model_label,
            "jobStatus": after.status,
        }
    }


def analyze(endpoint: str, credential: AzureKeyCredential, name: str, trace: Trace) -> Any:
    runtime = ConversationAnalysisClient(endpoint, credential, raw_response_hook=trace)
    with runtime:
        answer = runtime.analyze_conversation(
            ConversationLanguageUnderstandingInput(
                conversation_input=ConversationAnalysisInput(
                    conversation_item=TextConversationItem(id="1", participant_id="u", text=TEXT)
                ),
                action_content=ConversationActionContent(
                    project_name=name,
                    deployment_name=DEPLOYMENT_NAME,
                    string_index_type="UnicodeCodePoint",
                ),
            )
        )
    prediction = answer.result.prediction
    return {
        "analyze": {
            "type": type(answer).__name__,
            "predictionType": type(prediction).__name__,
            "query": answer.result.query,
            "topIntent": prediction.top_intent,
            "intents": [intent.category for intent in prediction.intents],
            "entities": [
                {
                    "category": entity.category,
                    "text": entity.text,
                    "offset": entity.offset,
                    "length": entity.length,
                    "confidence": entity.confidence,
                    "extraInformation": [
                        [type(extra).__name__, getattr(extra, "key", None)]
                        for extra in entity.extra_information or ()
                    ],
                    "resolutions": [
                        [type(item).__name__, getattr(item, "value", None)]
                        for item in entity.resolutions or ()
                    ],
                }
                for entity in prediction.entities
            ],
        }
    }


def delete(client: ConversationAuthoringClient, name: str) -> dict[str, Any]:
    poller = client.begin_delete_project(name)
    observed: dict[str, Any] = {"delete": {"result": poller.result(), "status": poller.status()}}
    try:
        client.get_project(name)
        observed["afterDelete"] = {"raised": None}
    except ResourceNotFoundError as error:
        observed["afterDelete"] = {"raised": "ResourceNotFoundError", "status": error.status_code}
    except HttpResponseError as error:
        observed["afterDelete"] = {"raised": type(error).__name__, "status": error.status_code}
    return observed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("endpoint")
    parser.add_argument("key")
    parser.add_argument("project_name")
    parser.add_argument("project_file", type=Path)
    parser.add_argument("--phase", choices=("build", "cancel", "analyze", "delete"), required=True)
    args = parser.parse_args(argv)

    trace = Trace()
    credential = AzureKeyCredential(args.key)
    options: dict[str, Any] = {"polling_interval": POLLING_INTERVAL_S, "raw_response_hook": trace}
    client = ConversationAuthoringClient(args.endpoint, credential, **options)
    # Not client.get_project_client(name): it forwards only the api-version, dropping the
    # polling interval and our hook. Built directly with the same options instead.
    project = ConversationAuthoringProjectClient(
        args.endpoint, credential, project_name=args.project_name, **options
    )
    observed: dict[str, Any] = {"phase": args.phase}
    with client, project:
        if args.phase == "build":
            project_file = json.loads(args.project_file.read_text(encoding="utf-8"))
            observed |= build(client, project, args.project_name, project_file, trace)
        elif args.phase == "cancel":
            observed |= cancel(project, trace)
        elif args.phase == "analyze":
            observed |= analyze(args.endpoint, credential, args.project_name, trace)
        else:
            observed |= delete(client, args.project_name)
    observed["http"] = trace.entries
    json.dump(observed, sys.stdout, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
