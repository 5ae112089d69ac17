"""What CLI commands ask of Lexicraft, answered locally (data dir) or remotely (Azure API).

Commands talk to a :class:`Backend`; :func:`connect` picks the local one (services, jobs run
in this process) or the remote one (HTTP to ``--endpoint`` with ``--key``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lexicraft.domain.projects import Project
from lexicraft.formats.base import LabeledData
from lexicraft.services.predictions import Prediction

if TYPE_CHECKING:
    from lexicraft.services.conversation_runtime import ConversationPrediction

TERMINAL_STATUSES = frozenset({"succeeded", "partiallyCompleted", "failed", "cancelled"})


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as the CLI shows it."""

    job_id: str
    kind: str
    status: str
    percent_complete: float
    project_name: str | None = None
    target: str | None = None
    created: str | None = None
    updated: str | None = None
    errors: tuple[dict[str, Any], ...] = ()
    result: dict[str, Any] | None = None
    warnings: tuple[dict[str, Any], ...] = ()

    @property
    def is_terminal(self) -> bool:
        """Whether the job will not change any more."""
        return self.status in TERMINAL_STATUSES

    def error_message(self) -> str:
        """The job's errors in one line."""
        messages = [str(error.get("message", error)) for error in self.errors]
        return "; ".join(messages) or f"the job {self.status}"


@dataclass(frozen=True, slots=True)
class ModelView:
    """A trained model."""

    label: str
    model_id: str
    trained: str
    training_config_version: str
    duration_s: float
    micro_f1: float | None = None


@dataclass(frozen=True, slots=True)
class DeploymentView:
    """A deployment and what it serves."""

    name: str
    model_id: str
    deployed: str
    model_label: str | None = None


@dataclass(frozen=True, slots=True)
class ProjectView:
    """A project with what is known about its documents, models and deployments."""

    project: Project
    labels: tuple[str, ...] | None = None
    document_count: int | None = None
    datasets: dict[str, int] = field(default_factory=dict)
    models: tuple[ModelView, ...] = ()
    deployments: tuple[DeploymentView, ...] = ()


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A model's stored evaluation (Azure summary shape)."""

    project_kind: str
    options: dict[str, Any]
    summary: dict[str, Any]


def micro_f1(summary: dict[str, Any]) -> float | None:
    """A model's micro F1: its labels', or a conversation model's intents' (spec CLU §2.7)."""
    value = summary.get("microF1")
    if value is None:
        value = (summary.get("intentsEvaluation") or {}).get("microF1")
    return float(value) if isinstance(value, int | float) else None


class Backend(Protocol):
    """The operations behind the CLI commands. Waiting methods return finished jobs."""

    where: str

    def find_project(self, name: str) -> Project | None:
        """The project called ``name``, or None."""
        ...

    def create_project(self, project: Project) -> Project:
        """Create (or update the metadata of) a project."""
        ...

    def list_projects(self) -> list[Project]:
        """Every project."""
        ...

    def show_project(self, name: str) -> ProjectView:
        """A project with its models and deployments."""
        ...

    def delete_project(self, name: str) -> JobView:
        """Delete a project and wait for it."""
        ...

    def read_data(self, name: str) -> LabeledData:
        """A project's metadata, labels and documents."""
        ...

    def import_project_file(self, name: str, project_file: dict[str, Any]) -> JobView:
        """Import (replace) a project from an Azure project file with inline texts; wait."""
        ...

    def import_conversation(self, name: str, body: dict[str, Any], luis: bool) -> JobView:
        """Import (replace) a conversation project from a CLU project file, or from a LUIS
        app export converted by the server (``luis``); wait. A file that breaks a rule is
        refused whole, its error naming the field's path."""
        ...

    def export_conversation(self, name: str) -> dict[str, Any]:
        """A conversation project's CLU project file (intents, entities and their
        components, utterances with UTF-16 offsets)."""
        ...

    def start_training(self, name: str, body: dict[str, Any]) -> JobView:
        """Queue training (Azure ``:train`` body); returns the waiting job."""
        ...

    def job(self, job_id: str, project_name: str | None) -> JobView:
        """A job's current state."""
        ...

    def list_jobs(self, project_name: str | None, unfinished_only: bool) -> list[JobView]:
        """Jobs, newest first."""
        ...

    def cancel_job(self, job_id: str, project_name: str | None) -> JobView:
        """Ask a job to stop."""
        ...

    def evaluation(self, name: str, model_label: str) -> Evaluation:
        """A trained model's evaluation summary."""
        ...

    def deploy(self, name: str, model_label: str, deployment_name: str) -> JobView:
        """Deploy a trained model under a name and wait for it."""
        ...

    def predict(self, name: str, deployment_name: str, texts: Sequence[str]) -> list[Prediction]:
        """What the deployed model finds in each text (code-point offsets)."""
        ...

    def analyze_conversation(
        self, name: str, deployment_name: str, texts: Sequence[str]
    ) -> list[ConversationPrediction]:
        """What a conversation deployment answers for each utterance (intents, entities with
        code-point offsets)."""
        ...

    def export_model(self, name: str, model_label: str, output: Path, export_format: str) -> Path:
        """Write a trained model as a self-contained folder."""
        ...

    def close(self) -> None:
        """Release connections and stop workers."""
        ...


@contextmanager
def connect(data_dir: Path | None, endpoint: str | None, key: str | None) -> Iterator[Backend]:
    """The remote backend when ``endpoint`` is given, else the local one over ``data_dir``."""
    backend: Backend
    if endpoint:
        from lexicraft.cli.remote import RemoteBackend

        backend = RemoteBackend(endpoint, key)
    else:
        from lexicraft.cli.common import load_settings
        from lexicraft.cli.local import LocalBackend

        backend = LocalBackend(load_settings(data_dir))
    try:
        yield backend
    finally:
        backend.close()
