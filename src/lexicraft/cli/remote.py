"""The remote backend: the Azure AI Language authoring and runtime API over HTTP (httpx).

Works against a Lexicraft server; document texts of an export are fetched through Lexicraft's
storage routes, since Azure keeps them in a Blob container instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from lexicraft.cli.backend import (
    DeploymentView,
    Evaluation,
    JobView,
    ModelView,
    ProjectView,
)
from lexicraft.domain.projects import Project, ProjectKind
from lexicraft.errors import InvalidParameterValue, RemoteCallFailed
from lexicraft.formats import azure
from lexicraft.formats.base import LabeledData
from lexicraft.ml.base import ClassScore, PredictedSpan
from lexicraft.services.predictions import Prediction
from lexicraft.wire.project_file import render_metadata

API_VERSION = "2023-04-01"
AUTHORING = "/language/authoring/analyze-text/projects"
ANALYZE = "/language/analyze-text/jobs"
STORAGE = "/language/lexicraft/storage"
#: Documents per analyze request (spec §4).
MAX_DOCUMENTS_PER_REQUEST = 25
_POLL_INTERVAL_S = 0.2
_TIMEOUT_S = 3600.0
#: Pre-GA servers spelled the NER summary's key after the old project kind name.
_EVALUATION_KEYS = (
    *(kind.evaluation_key for kind in ProjectKind),
    "customNamedEntityRecognitionEvaluation",
)


def _datetime(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def project_from_wire(body: dict[str, Any]) -> Project:
    """Project metadata as the authoring API renders it."""
    return Project(
        name=body["projectName"],
        kind=ProjectKind.parse(body["projectKind"]),
        language=body.get("language", ""),
        storage_container=body.get("storageInputContainerName", body["projectName"]),
        multilingual=bool(body.get("multilingual", False)),
        description=body.get("description") or None,
        settings=body.get("settings") or {},
        created_at=_datetime(body.get("createdDateTime")),
        modified_at=_datetime(body.get("lastModifiedDateTime")),
        last_trained_at=_datetime(body.get("lastTrainedDateTime")),
        last_deployed_at=_datetime(body.get("lastDeployedDateTime")),
    )


def _training_percent(body: dict[str, Any]) -> float:
    if body.get("status") == "succeeded":
        return 100.0
    result = body.get("result") or {}
    training = (result.get("trainingStatus") or {}).get("percentComplete") or 0
    evaluation = (result.get("evaluationStatus") or {}).get("percentComplete") or 0
    # The server spends about nine tenths of a job training and the rest evaluating.
    return float(training) * 0.9 + float(evaluation) * 0.1


def job_from_wire(
    body: dict[str, Any], kind: str, project_name: str | None, target: str | None = None
) -> JobView:
    """An authoring job state (spec §5.2) as the CLI shows it."""
    status = str(body.get("status", ""))
    percent = (
        _training_percent(body) if kind == "train" else (100.0 if status == "succeeded" else 0.0)
    )
    return JobView(
        job_id=str(body.get("jobId", "")),
        kind=kind,
        status=status,
        percent_complete=percent,
        project_name=project_name,
        target=target,
        created=body.get("createdDateTime"),
        updated=body.get("lastUpdatedDateTime"),
        errors=tuple(body.get("errors") or ()),
        result=body.get("result"),
    )


class RemoteBackend:
    """Speaks the Azure API to ``endpoint`` with subscription key ``key``."""

    def __init__(self, endpoint: str, key: str | None, *, timeout_s: float = 60.0) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise InvalidParameterValue(
                f"endpoint {endpoint!r} must start with http:// or https://", target="endpoint"
            )
        if not key:
            raise InvalidParameterValue(
                "a remote endpoint needs a subscription key: pass --key or set LEXICRAFT_KEY",
                target="key",
            )
        self.endpoint = endpoint.rstrip("/")
        self.where = self.endpoint
        self.client = httpx.Client(
            base_url=self.endpoint,
            headers={"Ocp-Apim-Subscription-Key": key},
            timeout=timeout_s,
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    # -- HTTP -------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        url: str,
        *,
        body: object = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        accept: tuple[int, ...] = (200, 201, 202, 204),
    ) -> httpx.Response:
        # URLs the server handed out (Operation-Location, nextLink, resultUrl) carry their own
        # query, api-version included; httpx would replace it with any params given.
        query = None if "?" in url else {"api-version": API_VERSION, **(params or {})}
        try:
            response = self.client.request(method, url, json=body, params=query, headers=headers)
        except httpx.HTTPError as error:
            raise RemoteCallFailed(
                f"cannot reach {self.endpoint} ({error}); check --endpoint and that the server runs"
            ) from error
        if response.status_code not in accept:
            raise RemoteCallFailed(self._describe_failure(response))
        return response

    def _describe_failure(self, response: httpx.Response) -> str:
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        message = error.get("message") if isinstance(error, dict) else None
        inner = error.get("innererror", {}) if isinstance(error, dict) else {}
        code = (inner or {}).get("code") or (error.get("code") if isinstance(error, dict) else None)
        text = message or response.text.strip()[:200] or response.reason_phrase
        if response.status_code == 401:
            return f"the server refused the key ({text}); check --key or LEXICRAFT_KEY"
        return f"{text} (HTTP {response.status_code}{f' {code}' if code else ''})"

    def _get(self, url: str, **params: str) -> dict[str, Any]:
        body: dict[str, Any] = self._call("GET", url, params=params).json()
        return body

    def _pages(self, url: str) -> Iterator[dict[str, Any]]:
        page = self._get(url)
        while True:
            yield from page.get("value", [])
            next_link = page.get("nextLink")
            if not next_link:
                return
            page = self._call("GET", next_link).json()

    def _wait(
        self, location: str, kind: str, project_name: str | None, target: str | None = None
    ) -> JobView:
        deadline = time.monotonic() + _TIMEOUT_S
        while True:
            body = self._call("GET", location).json()
            job = job_from_wire(body, kind, project_name, target)
            if job.is_terminal or time.monotonic() > deadline:
                return job
            time.sleep(_POLL_INTERVAL_S)

    def _started(self, response: httpx.Response) -> str:
        location = response.headers.get("Operation-Location")
        if not isinstance(location, str) or not location:
            raise RemoteCallFailed("the server accepted the request but sent no Operation-Location")
        return location

    # -- projects ---------------------------------------------------------------------------

    def find_project(self, name: str) -> Project | None:
        """The project called ``name``, or None."""
        response = self._call("GET", f"{AUTHORING}/{quote(name)}", accept=(200, 404))
        return None if response.status_code == 404 else project_from_wire(response.json())

    def create_project(self, project: Project) -> Project:
        """PATCH the project's metadata (creating it)."""
        response = self._call(
            "PATCH",
            f"{AUTHORING}/{quote(project.name)}",
            body=render_metadata(project),
            headers={"Content-Type": "application/merge-patch+json"},
        )
        return project_from_wire(response.json())

    def list_projects(self) -> list[Project]:
        """Every project (all pages)."""
        return [project_from_wire(item) for item in self._pages(AUTHORING)]

    def show_project(self, name: str) -> ProjectView:
        """A project with its models and deployments (document counts are not on the wire)."""
        project = project_from_wire(self._get(f"{AUTHORING}/{quote(name)}"))
        models = tuple(
            ModelView(
                label=item["label"],
                model_id=item.get("modelId", ""),
                trained=item.get("lastTrainedDateTime", ""),
                training_config_version=item.get("modelTrainingConfigVersion", ""),
                duration_s=float(item.get("lastTrainingDurationInSeconds") or 0),
            )
            for item in self._pages(f"{AUTHORING}/{quote(name)}/models")
        )
        by_id = {model.model_id: model.label for model in models}
        deployments = tuple(
            DeploymentView(
                name=item["deploymentName"],
                model_id=item.get("modelId", ""),
                deployed=item.get("lastDeployedDateTime", ""),
                model_label=by_id.get(item.get("modelId", "")),
            )
            for item in self._pages(f"{AUTHORING}/{quote(name)}/deployments")
        )
        return ProjectView(project=project, models=models, deployments=deployments)

    def delete_project(self, name: str) -> JobView:
        """DELETE the project and wait for the deletion job."""
        response = self._call("DELETE", f"{AUTHORING}/{quote(name)}")
        return self._wait(self._started(response), "delete-project", name)

    # -- data -------------------------------------------------------------------------------

    def read_data(self, name: str) -> LabeledData:
        """Export the project and fetch each document's text from the server's storage."""
        response = self._call(
            "POST",
            f"{AUTHORING}/{quote(name)}/:export",
            params={"stringIndexType": "Utf16CodeUnit"},
        )
        job = self._wait(self._started(response), "export", name)
        if job.status != "succeeded":
            raise RemoteCallFailed(
                f"exporting project {name!r} {job.status}: {job.error_message()}"
            )
        status = self._call("GET", self._started(response)).json()
        project_file: dict[str, Any] = self._call("GET", status["resultUrl"]).json()
        container = project_file["metadata"]["storageInputContainerName"]
        for document in (project_file.get("assets") or {}).get("documents") or []:
            if "text" not in document:
                url = f"{STORAGE}/{quote(container)}/{quote(document['location'])}"
                document["text"] = self._call("GET", url).text
        return azure.read(json.dumps(project_file, ensure_ascii=False))

    def import_project_file(self, name: str, project_file: dict[str, Any]) -> JobView:
        """POST ``:import`` and wait for the job."""
        response = self._call("POST", f"{AUTHORING}/{quote(name)}/:import", body=project_file)
        return self._wait(self._started(response), "import", name)

    # -- training, models, deployments ------------------------------------------------------

    def start_training(self, name: str, body: dict[str, Any]) -> JobView:
        """POST ``:train``; returns the job's first state."""
        response = self._call("POST", f"{AUTHORING}/{quote(name)}/:train", body=body)
        location = self._started(response)
        return job_from_wire(
            self._call("GET", location).json(), "train", name, body.get("modelLabel")
        )

    def _require_project(self, project_name: str | None) -> str:
        if project_name is None:
            raise InvalidParameterValue(
                "with --endpoint, jobs are found under their project: pass --project",
                target="project",
            )
        return project_name

    def job(self, job_id: str, project_name: str | None) -> JobView:
        """A training job's state (the Azure API lists training jobs per project)."""
        name = self._require_project(project_name)
        body = self._get(f"{AUTHORING}/{quote(name)}/train/jobs/{quote(job_id)}")
        return job_from_wire(body, "train", name)

    def list_jobs(self, project_name: str | None, unfinished_only: bool) -> list[JobView]:
        """A project's training jobs."""
        name = self._require_project(project_name)
        jobs = [
            job_from_wire(item, "train", name)
            for item in self._pages(f"{AUTHORING}/{quote(name)}/train/jobs")
        ]
        return [job for job in jobs if not (unfinished_only and job.is_terminal)]

    def cancel_job(self, job_id: str, project_name: str | None) -> JobView:
        """Cancel a training job."""
        name = self._require_project(project_name)
        self._call("POST", f"{AUTHORING}/{quote(name)}/train/jobs/{quote(job_id)}/:cancel")
        return self.job(job_id, name)

    def evaluation(self, name: str, model_label: str) -> Evaluation:
        """GET the model's evaluation summary."""
        body = self._get(
            f"{AUTHORING}/{quote(name)}/models/{quote(model_label)}/evaluation/summary-result"
        )
        key = next((k for k in _EVALUATION_KEYS if k in body), None)
        return Evaluation(
            project_kind=ProjectKind.parse(body.get("projectKind")).value,
            options=body.get("evaluationOptions") or {},
            summary=body.get(key, {}) if key else {},
        )

    def deploy(self, name: str, model_label: str, deployment_name: str) -> JobView:
        """PUT the deployment and wait for the job."""
        response = self._call(
            "PUT",
            f"{AUTHORING}/{quote(name)}/deployments/{quote(deployment_name)}",
            body={"trainedModelLabel": model_label},
        )
        return self._wait(self._started(response), "deploy", name, deployment_name)

    def predict(self, name: str, deployment_name: str, texts: Sequence[str]) -> list[Prediction]:
        """Analyze ``texts`` with the deployment through ``/language/analyze-text/jobs``."""
        project = project_from_wire(self._get(f"{AUTHORING}/{quote(name)}"))
        predictions: list[Prediction] = []
        for start in range(0, len(texts), MAX_DOCUMENTS_PER_REQUEST):
            batch = texts[start : start + MAX_DOCUMENTS_PER_REQUEST]
            predictions.extend(self._analyze(project, deployment_name, batch))
        return predictions

    def _analyze(
        self, project: Project, deployment_name: str, texts: Sequence[str]
    ) -> list[Prediction]:
        parameters: dict[str, Any] = {
            "projectName": project.name,
            "deploymentName": deployment_name,
        }
        if project.kind is ProjectKind.ENTITY_RECOGNITION:
            parameters["stringIndexType"] = "UnicodeCodePoint"
        body = {
            "displayName": "lexicraft predict",
            "analysisInput": {
                "documents": [
                    {"id": str(index), "text": text, "language": project.language}
                    for index, text in enumerate(texts)
                ]
            },
            "tasks": [
                {"kind": project.kind.value, "taskName": "predict", "parameters": parameters}
            ],
        }
        location = self._started(self._call("POST", ANALYZE, body=body))
        deadline = time.monotonic() + _TIMEOUT_S
        while True:
            state = self._call("GET", location).json()
            if state.get("status") in ("succeeded", "partiallyCompleted", "failed", "cancelled"):
                break
            if time.monotonic() > deadline:
                raise RemoteCallFailed("the analyze job did not finish in time")
            time.sleep(_POLL_INTERVAL_S)
        items = (state.get("tasks") or {}).get("items") or []
        if state.get("status") != "succeeded" or not items or "results" not in items[0]:
            messages = "; ".join(str(e.get("message")) for e in state.get("errors") or [])
            raise RemoteCallFailed(
                f"the analyze job {state.get('status')}: {messages or 'no results'}"
            )
        results = items[0]["results"]
        errors = {
            e["id"]: e.get("error", {}).get("message", "") for e in results.get("errors") or []
        }
        if errors:
            first = next(iter(errors.items()))
            raise RemoteCallFailed(
                f"the server could not analyze text {int(first[0]) + 1}: {first[1]}"
            )
        by_id = {document["id"]: document for document in results.get("documents") or []}
        predictions = []
        for index in range(len(texts)):
            document = by_id.get(str(index), {})
            predictions.append(
                Prediction(
                    entities=tuple(
                        PredictedSpan(
                            e["offset"],
                            e["offset"] + e["length"],
                            e["category"],
                            e["confidenceScore"],
                        )
                        for e in document.get("entities") or []
                    ),
                    classes=tuple(
                        ClassScore(c["category"], c["confidenceScore"])
                        for c in document.get("class") or []
                    ),
                )
            )
        return predictions

    def export_model(self, name: str, model_label: str, output: Path, export_format: str) -> Path:
        """Not available remotely: the Azure API does not hand out model files."""
        raise InvalidParameterValue(
            "export-model reads the model files, which the API does not serve; run it on the "
            "server's machine without --endpoint (with --data-dir pointing at its data dir)",
            target="endpoint",
        )
