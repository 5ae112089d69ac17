"""The remote backend: the Azure AI Language authoring and runtime API over HTTP (httpx).

Works against a Lexicraft server; document texts of an export are fetched through Lexicraft's
storage routes, since Azure keeps them in a Blob container instead. Custom text projects live
under ``/language/authoring/analyze-text``, conversation (CLU) projects under
``/language/authoring/analyze-conversations``: each family's routes answer 404 for a project
of the other, so the backend finds out once per project which family holds it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
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
from lexicraft.wire.conversation_file import render_conversation_metadata
from lexicraft.wire.project_file import render_metadata

if TYPE_CHECKING:
    from lexicraft.services.conversation_runtime import ConversationPrediction

API_VERSION = "2023-04-01"
AUTHORING = "/language/authoring/analyze-text/projects"
CONVERSATION_AUTHORING = "/language/authoring/analyze-conversations/projects"
ANALYZE_CONVERSATIONS = "/language/:analyze-conversations"
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
        warnings=tuple(body.get("warnings") or ()),
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
        #: The authoring route prefix of each project met (custom text or conversations).
        self._families: dict[str, str] = {}
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
        target = error.get("target") if isinstance(error, dict) else None
        if isinstance(target, str) and target and target not in text:
            # The field's path in what was sent (a project file's utterance, a LUIS label).
            text = f"{target}: {text}"
        if response.status_code == 401:
            return f"the server refused the key ({text}); check --key or LEXICRAFT_KEY"
        return f"{text} (HTTP {response.status_code}{f' {code}' if code else ''})"

    def _get(self, url: str, **params: str) -> dict[str, Any]:
        body: dict[str, Any] = self._call("GET", url, params=params).json()
        return body

    def _pages(self, url: str, first: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        page = first if first is not None else self._get(url)
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
        """The project called ``name`` (a custom text or a conversation project), or None."""
        for prefix in (AUTHORING, CONVERSATION_AUTHORING):
            response = self._call("GET", f"{prefix}/{quote(name)}", accept=(200, 404))
            if response.status_code == 200:
                self._families[name] = prefix
                return project_from_wire(response.json())
        return None

    def _project_url(self, name: str) -> str:
        """The authoring URL of project ``name``, under its family's routes.

        A project found nowhere gets the custom text URL, whose 404 then says it is missing.
        """
        if name not in self._families:
            self.find_project(name)
        return f"{self._families.get(name, AUTHORING)}/{quote(name)}"

    def create_project(self, project: Project) -> Project:
        """PATCH the project's metadata (creating it) under its kind's routes."""
        if project.kind.is_conversation:
            prefix, metadata = CONVERSATION_AUTHORING, render_conversation_metadata(project)
        else:
            prefix, metadata = AUTHORING, render_metadata(project)
        response = self._call(
            "PATCH",
            f"{prefix}/{quote(project.name)}",
            body=metadata,
            headers={"Content-Type": "application/merge-patch+json"},
        )
        self._families[project.name] = prefix
        return project_from_wire(response.json())

    def list_projects(self) -> list[Project]:
        """Every project of both families (all pages), by name."""
        found = [project_from_wire(item) for item in self._pages(AUTHORING)]
        # A server without conversation projects (an older Lexicraft) answers 404 there.
        first = self._call("GET", CONVERSATION_AUTHORING, accept=(200, 404))
        if first.status_code == 200:
            pages = self._pages(CONVERSATION_AUTHORING, first.json())
            found += [project_from_wire(item) for item in pages]
        return sorted(found, key=lambda project: project.name)

    def show_project(self, name: str) -> ProjectView:
        """A project with its models and deployments (document counts are not on the wire)."""
        url = self._project_url(name)
        project = project_from_wire(self._get(url))
        models = tuple(
            ModelView(
                label=item["label"],
                model_id=item.get("modelId", ""),
                trained=item.get("lastTrainedDateTime", ""),
                training_config_version=item.get("modelTrainingConfigVersion", ""),
                duration_s=float(item.get("lastTrainingDurationInSeconds") or 0),
            )
            for item in self._pages(f"{url}/models")
        )
        by_id = {model.model_id: model.label for model in models}
        deployments = tuple(
            DeploymentView(
                name=item["deploymentName"],
                model_id=item.get("modelId", ""),
                deployed=item.get("lastDeployedDateTime", ""),
                model_label=by_id.get(item.get("modelId", "")),
            )
            for item in self._pages(f"{url}/deployments")
        )
        return ProjectView(project=project, models=models, deployments=deployments)

    def delete_project(self, name: str) -> JobView:
        """DELETE the project and wait for the deletion job."""
        response = self._call("DELETE", self._project_url(name))
        self._families.pop(name, None)
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
        self._families[name] = AUTHORING
        return self._wait(self._started(response), "import", name)

    def import_conversation(self, name: str, body: dict[str, Any], luis: bool) -> JobView:
        """POST the CLU file (or the LUIS app) to the conversation ``:import`` and wait; the
        server checks it whole before it answers 202."""
        response = self._call(
            "POST",
            f"{CONVERSATION_AUTHORING}/{quote(name)}/:import",
            body=body,
            params={"format": "Luis" if luis else "Conversation"},
        )
        self._families[name] = CONVERSATION_AUTHORING
        return self._wait(self._started(response), "import", name)

    def export_conversation(self, name: str) -> dict[str, Any]:
        """POST ``:export``, wait, and GET the project file at the job's ``resultUrl``."""
        response = self._call(
            "POST",
            f"{CONVERSATION_AUTHORING}/{quote(name)}/:export",
            params={"stringIndexType": "Utf16CodeUnit"},
        )
        location = self._started(response)
        job = self._wait(location, "export", name)
        if job.status != "succeeded":
            raise RemoteCallFailed(
                f"exporting project {name!r} {job.status}: {job.error_message()}"
            )
        status = self._call("GET", location).json()
        project_file: dict[str, Any] = self._call("GET", status["resultUrl"]).json()
        return project_file

    # -- training, models, deployments ------------------------------------------------------

    def start_training(self, name: str, body: dict[str, Any]) -> JobView:
        """POST ``:train``; returns the job's first state."""
        response = self._call("POST", f"{self._project_url(name)}/:train", body=body)
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
        body = self._get(f"{self._project_url(name)}/train/jobs/{quote(job_id)}")
        return job_from_wire(body, "train", name)

    def list_jobs(self, project_name: str | None, unfinished_only: bool) -> list[JobView]:
        """A project's training jobs."""
        name = self._require_project(project_name)
        jobs = [
            job_from_wire(item, "train", name)
            for item in self._pages(f"{self._project_url(name)}/train/jobs")
        ]
        return [job for job in jobs if not (unfinished_only and job.is_terminal)]

    def cancel_job(self, job_id: str, project_name: str | None) -> JobView:
        """Cancel a training job."""
        name = self._require_project(project_name)
        self._call("POST", f"{self._project_url(name)}/train/jobs/{quote(job_id)}/:cancel")
        return self.job(job_id, name)

    def evaluation(self, name: str, model_label: str) -> Evaluation:
        """GET the model's evaluation summary."""
        body = self._get(
            f"{self._project_url(name)}/models/{quote(model_label)}/evaluation/summary-result"
        )
        if "intentsEvaluation" in body:
            # A conversation model's summary: intents and entities, without a kind wrapper.
            return Evaluation(
                project_kind=ProjectKind.CONVERSATION.value,
                options=body.get("evaluationOptions") or {},
                summary={
                    "intentsEvaluation": body["intentsEvaluation"],
                    "entitiesEvaluation": body.get("entitiesEvaluation") or {},
                },
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
            f"{self._project_url(name)}/deployments/{quote(deployment_name)}",
            body={"trainedModelLabel": model_label},
        )
        return self._wait(self._started(response), "deploy", name, deployment_name)

    def predict(self, name: str, deployment_name: str, texts: Sequence[str]) -> list[Prediction]:
        """Analyze ``texts`` with the deployment through ``/language/analyze-text/jobs``."""
        project = project_from_wire(self._get(self._project_url(name)))
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

    def analyze_conversation(
        self, name: str, deployment_name: str, texts: Sequence[str]
    ) -> list[ConversationPrediction]:
        """``POST /language/:analyze-conversations`` once per utterance (the route takes one),
        offsets counted in code points."""
        return [self._analyze_conversation(name, deployment_name, text) for text in texts]

    def _analyze_conversation(
        self, name: str, deployment_name: str, text: str
    ) -> ConversationPrediction:
        from lexicraft.services.conversation_runtime import ConversationPrediction, FoundEntity

        body = {
            "kind": "Conversation",
            "analysisInput": {
                "conversationItem": {"id": "1", "participantId": "user", "text": text}
            },
            "parameters": {
                "projectName": name,
                "deploymentName": deployment_name,
                "stringIndexType": "UnicodeCodePoint",
            },
        }
        answer = self._call("POST", ANALYZE_CONVERSATIONS, body=body, accept=(200,)).json()
        prediction = answer["result"]["prediction"]
        return ConversationPrediction(
            query=answer["result"].get("query", text),
            top_intent=prediction["topIntent"],
            intents=tuple(
                ClassScore(item["category"], item["confidenceScore"])
                for item in prediction.get("intents") or []
            ),
            entities=tuple(
                FoundEntity(
                    category=item["category"],
                    text=item.get("text", text[item["offset"] : item["offset"] + item["length"]]),
                    offset=item["offset"],
                    length=item["length"],
                    confidence=item["confidenceScore"],
                    resolutions=tuple(item.get("resolutions") or ()),
                    extra_information=tuple(item.get("extraInformation") or ()),
                )
                for item in prediction.get("entities") or []
            ),
        )

    def export_model(self, name: str, model_label: str, output: Path, export_format: str) -> Path:
        """Not available remotely: the Azure API does not hand out model files."""
        raise InvalidParameterValue(
            "export-model reads the model files, which the API does not serve; run it on the "
            "server's machine without --endpoint (with --data-dir pointing at its data dir)",
            target="endpoint",
        )
