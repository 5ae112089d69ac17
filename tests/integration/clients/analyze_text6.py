"""Drive the runtime API with the official ``azure-ai-textanalytics`` 6.0.0b3 client.

Run with the client venv's python (``.venv-clients/textanalytics6/bin/python``), never ours: this
script must not import lexicraft. Usage::

    analyze_text6.py ENDPOINT KEY REQUEST.json

``REQUEST.json`` holds ``{"texts": [...], "ner": [project, deployment], "single": [...],
"multi": [...]}``. The script submits one job with the client's default api-version and four
actions (custom NER with the default and with UTF-16 offsets, single- and multi-label
classification), reads the job again with ``get_job_status(show_stats=True)``, and prints ONE
JSON object on stdout: what the client deserialized, plus the HTTP trace of every response.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from azure.ai.textanalytics import TextAnalysisClient
from azure.ai.textanalytics.models import (
    AnalyzeTextOperationState,
    CustomEntitiesActionContent,
    CustomEntitiesLROTask,
    CustomMultiLabelClassificationActionContent,
    CustomMultiLabelClassificationOperationAction,
    CustomSingleLabelClassificationActionContent,
    CustomSingleLabelClassificationOperationAction,
    MultiLanguageInput,
    MultiLanguageTextInput,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.pipeline import PipelineResponse

POLLING_INTERVAL_S = 0.1


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
                "query": parse_qs(url.query),
                "status": response.status_code,
                "operationLocation": response.headers.get("Operation-Location"),
                "retryAfter": response.headers.get("Retry-After"),
            }
        )


def describe(state: AnalyzeTextOperationState) -> dict[str, Any]:
    """The deserialized job state as plain JSON (what a user of the client can read)."""
    items = []
    for item in state.actions.items_property or []:
        documents = []
        for document in item.results.documents:
            entry: dict[str, Any] = {"id": document.id, "warnings": list(document.warnings)}
            if item.kind == "CustomEntityRecognitionLROResults":
                entry["entities"] = [
                    {
                        "text": entity.text,
                        "category": entity.category,
                        "offset": entity.offset,
                        "length": entity.length,
                        "confidenceScore": entity.confidence_score,
                    }
                    for entity in document.entities
                ]
            else:
                entry["classes"] = [
                    {"category": chosen.category, "confidenceScore": chosen.confidence_score}
                    for chosen in document.class_property
                ]
            if document.statistics is not None:
                entry["charactersCount"] = document.statistics.characters_count
            documents.append(entry)
        items.append(
            {
                "type": type(item).__name__,
                "kind": item.kind,
                "taskName": item.task_name,
                "status": item.status,
                "lastUpdateDateTime": item.last_update_date_time.isoformat(),
                "projectName": item.results.project_name,
                "deploymentName": item.results.deployment_name,
                "documents": documents,
                "errors": [
                    {"id": error.id, "code": error.error.code, "message": error.error.message}
                    for error in item.results.errors
                ],
            }
        )
    statistics = state.statistics
    return {
        "jobId": state.job_id,
        "status": state.status,
        "createdAt": state.created_at.isoformat(),
        "lastUpdatedAt": state.last_updated_at.isoformat(),
        "expiresOn": state.expires_on.isoformat() if state.expires_on else None,
        "counts": [
            state.actions.completed,
            state.actions.failed,
            state.actions.in_progress,
            state.actions.total,
        ],
        "transactionsCount": statistics.transactions_count if statistics else None,
        "items": items,
    }


def main() -> None:
    endpoint, key, request_file = sys.argv[1:4]
    request = json.loads(Path(request_file).read_text(encoding="utf-8"))
    trace = Trace()
    client = TextAnalysisClient(endpoint, AzureKeyCredential(key), raw_response_hook=trace)
    ner_project, ner_deployment = request["ner"]
    single_project, single_deployment = request["single"]
    multi_project, multi_deployment = request["multi"]
    poller = client.begin_analyze_text_job(
        text_input=MultiLanguageTextInput(
            multi_language_inputs=[
                MultiLanguageInput(id=str(index), text=text, language="en")
                for index, text in enumerate(request["texts"])
            ]
        ),
        actions=[
            CustomEntitiesLROTask(
                name="ner-default",
                parameters=CustomEntitiesActionContent(
                    project_name=ner_project, deployment_name=ner_deployment
                ),
            ),
            CustomEntitiesLROTask(
                name="ner-utf16",
                parameters=CustomEntitiesActionContent(
                    project_name=ner_project,
                    deployment_name=ner_deployment,
                    string_index_type="Utf16CodeUnit",
                ),
            ),
            CustomSingleLabelClassificationOperationAction(
                name="single",
                action_content=CustomSingleLabelClassificationActionContent(
                    project_name=single_project, deployment_name=single_deployment
                ),
            ),
            CustomMultiLabelClassificationOperationAction(
                name="multi",
                action_content=CustomMultiLabelClassificationActionContent(
                    project_name=multi_project, deployment_name=multi_deployment
                ),
            ),
        ],
        display_name="sdk 6",
        polling_interval=POLLING_INTERVAL_S,
    )
    result = poller.result()
    again = client.get_job_status(result.job_id, show_stats=True)
    print(
        json.dumps(
            {
                "apiVersion": client._config.api_version,
                "result": describe(result),
                "withStatistics": describe(again),
                "http": trace.entries,
            }
        )
    )


if __name__ == "__main__":
    main()
