"""Drive the authoring API with the official ``azure-ai-textanalytics-authoring`` 1.0.0b1 client.

Run with the client venv's python (``.venv-clients/textanalytics6/bin/python``), never ours: this
script must not import lexicraft. Usage::

    authoring_flow.py ENDPOINT KEY PROJECT_NAME PROJECT_FILE.json [--phase all|build|teardown]

``build`` creates the project, imports the file, lists the training config versions, trains
model ``m1`` (manual split), reads the model and its evaluation summary, deploys it as ``prod``
and reads the deployment back. ``teardown`` deletes the deployment, then the project. ``all``
(the default) does both. The script prints ONE JSON object on stdout: what the client observed,
plus the HTTP trace of every response it received (method, path, status, Operation-Location).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from azure.ai.textanalytics.authoring import TextAuthoringClient, TextAuthoringProjectClient
from azure.ai.textanalytics.authoring.models import (
    CreateDeploymentDetails,
    CreateProjectOptions,
    CustomEntityRecognitionEvalSummary,
    EvaluationDetails,
    ExportedProject,
    TrainingJobDetails,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.pipeline import PipelineResponse

# The client's default. Not 2023-04-01: 1.0.0b1's begin_import always forwards ``format=None`` to
# a helper whose api-version check then rejects any version older than 2024-11-15-preview.
API_VERSION = "2025-05-15-preview"
POLLING_INTERVAL_S = 0.2
MODEL_LABEL = "m1"
DEPLOYMENT_NAME = "prod"
TRAINING_CONFIG_VERSION = "2022-05-01-fast"


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


def iso(value: Any) -> str | None:
    """A date/datetime the SDK deserialized, as ISO text (``None`` stays ``None``)."""
    return None if value is None else str(value.isoformat())


def not_found(call: Any) -> dict[str, Any]:
    """Run ``call`` expecting the SDK to raise ResourceNotFoundError; describe what happened."""
    try:
        call()
    except ResourceNotFoundError as error:
        code = error.error.code if error.error is not None else None
        return {"raised": "ResourceNotFoundError", "status": error.status_code, "code": code}
    except HttpResponseError as error:
        return {"raised": type(error).__name__, "status": error.status_code}
    return {"raised": None}


def build(
    client: TextAuthoringClient,
    project_client: TextAuthoringProjectClient,
    name: str,
    project_file: dict[str, Any],
) -> dict[str, Any]:
    """Create → import → train → read model and evaluation → deploy → read deployment."""
    observed: dict[str, Any] = {}
    exported = ExportedProject(project_file)
    metadata = project_file["metadata"]

    # PATCH /projects/{p}: the SDK accepts 200 or 201; `cls` lets us see which one it got.
    status, created = client.create_project(
        name,
        CreateProjectOptions(
            project_kind=metadata["projectKind"],
            storage_input_container_name=metadata["storageInputContainerName"],
            project_name=name,
            language=metadata["language"],
            multilingual=metadata.get("multilingual"),
            description=metadata.get("description"),
        ),
        cls=lambda response, deserialized, _headers: (
            response.http_response.status_code,
            deserialized,
        ),
    )
    observed["create"] = {
        "status": status,
        "projectName": created.project_name,
        "projectKind": created.project_kind,
        "createdOn": iso(created.created_on),
    }

    poller = project_client.project.begin_import(exported, polling_interval=POLLING_INTERVAL_S)
    observed["import"] = {"result": poller.result(), "status": poller.status()}

    project = project_client.project.get_project()
    observed["project"] = {
        "projectName": project.project_name,
        "projectKind": project.project_kind,
        "language": project.language,
        "lastModifiedOn": iso(project.last_modified_on),
    }

    versions = client.list_training_config_versions(project_kind=metadata["projectKind"])
    observed["trainingConfigVersions"] = [v.training_config_version for v in versions]

    train = project_client.project.begin_train(
        TrainingJobDetails(
            model_label=MODEL_LABEL,
            training_config_version=TRAINING_CONFIG_VERSION,
            evaluation_options=EvaluationDetails(kind="manual"),
        ),
        polling_interval=POLLING_INTERVAL_S,
    )
    result = train.result()
    evaluation_status = result.evaluation_status
    observed["train"] = {
        "status": train.status(),
        "modelLabel": result.model_label,
        "trainingConfigVersion": result.training_config_version,
        "trainingStatus": result.training_status.status,
        "trainingPercentComplete": result.training_status.percent_complete,
        "evaluationStatus": evaluation_status.status if evaluation_status else None,
    }
    observed["trainingJobs"] = [
        {"status": job.status, "modelLabel": job.result.model_label}
        for job in project_client.project.list_training_jobs()
    ]

    model = project_client.trained_model.get_trained_model(MODEL_LABEL)
    observed["model"] = {
        "label": model.label,
        "modelId": model.model_id,
        "lastTrainedOn": iso(model.last_trained_on),
        "modelExpiredOn": iso(model.model_expired_on),
        "trainingConfigVersion": model.model_training_config_version,
        "lastTrainingDurationInSeconds": model.last_training_duration_in_seconds,
    }
    observed["models"] = [m.label for m in project_client.project.list_trained_models()]

    summary = project_client.trained_model.get_model_evaluation_summary(MODEL_LABEL)
    evaluation: dict[str, Any] = {
        "type": type(summary).__name__,
        "projectKind": summary.project_kind,
        "evaluationKind": summary.evaluation_options.kind,
    }
    if isinstance(summary, CustomEntityRecognitionEvalSummary):
        figures = summary.custom_entity_recognition_evaluation
        evaluation |= {
            "microF1": figures.micro_f1,
            "microPrecision": figures.micro_precision,
            "microRecall": figures.micro_recall,
            "macroF1": figures.macro_f1,
            "entities": sorted(figures.entities),
        }
    observed["evaluation"] = evaluation

    deploy = project_client.deployment.begin_deploy_project(
        DEPLOYMENT_NAME,
        CreateDeploymentDetails(trained_model_label=MODEL_LABEL),
        polling_interval=POLLING_INTERVAL_S,
    )
    observed["deploy"] = {"result": deploy.result(), "status": deploy.status()}

    deployment = project_client.deployment.get_deployment(DEPLOYMENT_NAME)
    observed["deployment"] = {
        "deploymentName": deployment.deployment_name,
        "modelId": deployment.model_id,
        "lastDeployedOn": iso(deployment.last_deployed_on),
        "deploymentExpiredOn": iso(deployment.deployment_expired_on),
        "trainingConfigVersion": deployment.model_training_config_version,
    }
    observed["deployments"] = [d.deployment_name for d in project_client.project.list_deployments()]
    return observed


def teardown(
    client: TextAuthoringClient, project_client: TextAuthoringProjectClient, name: str
) -> dict[str, Any]:
    """Delete the deployment, then the project; both through the SDK's pollers."""
    observed: dict[str, Any] = {}
    delete_deployment = project_client.deployment.begin_delete_deployment(
        DEPLOYMENT_NAME, polling_interval=POLLING_INTERVAL_S
    )
    observed["deleteDeployment"] = {
        "result": delete_deployment.result(),
        "status": delete_deployment.status(),
    }
    observed["deploymentsAfterDelete"] = [
        d.deployment_name for d in project_client.project.list_deployments()
    ]
    observed["deploymentAfterDelete"] = not_found(
        lambda: project_client.deployment.get_deployment(DEPLOYMENT_NAME)
    )

    delete_project = client.begin_delete_project(name, polling_interval=POLLING_INTERVAL_S)
    observed["deleteProject"] = {
        "result": delete_project.result(),
        "status": delete_project.status(),
    }
    observed["projectAfterDelete"] = not_found(lambda: client.get_project(name))
    observed["projectListedAfterDelete"] = name in {p.project_name for p in client.list_projects()}
    return observed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("endpoint")
    parser.add_argument("key")
    parser.add_argument("project_name")
    parser.add_argument("project_file", type=Path)
    parser.add_argument("--phase", choices=("all", "build", "teardown"), default="all")
    args = parser.parse_args(argv)

    trace = Trace()
    credential = AzureKeyCredential(args.key)
    options: dict[str, Any] = {
        "api_version": API_VERSION,
        "polling_interval": POLLING_INTERVAL_S,
        "raw_response_hook": trace,
    }
    client = TextAuthoringClient(args.endpoint, credential, **options)
    # Not client.get_project_client(name): in 1.0.0b1 it forwards only endpoint and credential,
    # dropping api_version, polling_interval and our hook. Build the project client directly.
    project_client = TextAuthoringProjectClient(
        args.endpoint, credential, project_name=args.project_name, **options
    )
    observed: dict[str, Any] = {"apiVersion": API_VERSION, "phase": args.phase}
    with client, project_client:
        if args.phase in ("all", "build"):
            project_file = json.loads(args.project_file.read_text(encoding="utf-8"))
            observed |= build(client, project_client, args.project_name, project_file)
        if args.phase in ("all", "teardown"):
            observed |= teardown(client, project_client, args.project_name)
    observed["http"] = trace.entries
    json.dump(observed, sys.stdout, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
