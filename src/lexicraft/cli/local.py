"""The local backend: services over the data dir, with authoring jobs run in this process."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lexicraft.cli.backend import (
    DeploymentView,
    Evaluation,
    JobView,
    ModelView,
    ProjectView,
)
from lexicraft.domain.jobs import JobKind
from lexicraft.domain.projects import Project, ProjectKind
from lexicraft.errors import InvalidParameterValue
from lexicraft.formats.base import LabeledData
from lexicraft.jobs.worker import WorkerPool
from lexicraft.services import authoring_jobs, projects
from lexicraft.services.context import ServiceContext
from lexicraft.services.predictions import Prediction
from lexicraft.services.project_files import render_metadata
from lexicraft.settings import Settings
from lexicraft.storage.sql import projects as project_store
from lexicraft.storage.sql import trained_models as model_store
from lexicraft.storage.sql.tables import JobRow
from lexicraft.timeutil import format_datetime

_EVALUATION_KEYS = {
    ProjectKind.ENTITY_RECOGNITION: "customEntityRecognitionEvaluation",
    ProjectKind.SINGLE_LABEL_CLASSIFICATION: "customSingleLabelClassificationEvaluation",
    ProjectKind.MULTI_LABEL_CLASSIFICATION: "customMultiLabelClassificationEvaluation",
}


def job_view(row: JobRow) -> JobView:
    """A job row as the CLI shows it."""
    return JobView(
        job_id=row.id,
        kind=row.kind,
        status=row.status,
        percent_complete=row.percent_complete,
        project_name=row.project_name,
        target=row.target,
        created=format_datetime(row.created_at),
        updated=format_datetime(row.updated_at),
        errors=tuple(row.errors or ()),
        result=row.result,
    )


class LocalBackend:
    """Calls the services on ``settings.data_dir``; jobs run in worker threads of this process.

    Only the authoring pool runs here: analyze jobs belong to a server, and this process
    exits as soon as its command is done.
    """

    def __init__(self, settings: Settings) -> None:
        self.context = ServiceContext.open(settings)
        self.where = f"data dir {settings.data_dir}"
        self._pools: list[WorkerPool] = []

    def close(self) -> None:
        """Stop the worker threads (after their current job) and the database engine."""
        for pool in self._pools:
            pool.stop()
        self._pools = []
        self.context.database.engine.dispose()

    def _run_workers(self) -> None:
        if self._pools:
            return
        # Imported here: the handlers pull in every ML backend, which commands that only read
        # (list, show, export) do not need.
        from lexicraft.jobs.handlers import worker_pools

        self._pools = [
            pool for pool in worker_pools(self.context) if JobKind.ANALYZE not in pool.kinds
        ]
        for pool in self._pools:
            pool.start()

    def _wait(self, job_id: str) -> JobView:
        while True:
            job = self.job(job_id, None)
            if job.is_terminal:
                return job
            time.sleep(0.1)

    # -- projects ---------------------------------------------------------------------------

    def find_project(self, name: str) -> Project | None:
        """The project called ``name``, or None."""
        with self.context.database.session() as session:
            row = project_store.find_project(session, name)
            return None if row is None else project_store.to_project(row)

    def create_project(self, project: Project) -> Project:
        """Create (or update the metadata of) a project."""
        created, _new = projects.upsert_project(
            self.context, project.name, render_metadata(project)
        )
        return created

    def list_projects(self) -> list[Project]:
        """Every project."""
        return projects.list_projects(self.context)

    def show_project(self, name: str) -> ProjectView:
        """A project with its labels, document counts, models and deployments."""
        with self.context.database.session() as session:
            row = project_store.get_project(session, name)
            documents = project_store.project_documents(row)
            models = tuple(
                ModelView(
                    label=model.label,
                    model_id=model.model_id,
                    trained=format_datetime(model.trained_at),
                    training_config_version=model.training_config_version,
                    duration_s=model.training_duration_s,
                    micro_f1=(model.evaluation_summary or {}).get("microF1"),
                )
                for model in model_store.list_models(session, row)
            )
            by_label = {model.label: model.model_id for model in models}
            deployments = tuple(
                DeploymentView(
                    name=deployment.name,
                    model_id=by_label.get(deployment.model_label, ""),
                    deployed=format_datetime(deployment.deployed_at),
                    model_label=deployment.model_label,
                )
                for deployment in model_store.list_deployments(session, row)
            )
            datasets = Counter(
                document.dataset.value if document.dataset else "unassigned"
                for document in documents
            )
            return ProjectView(
                project=project_store.to_project(row),
                labels=tuple(row.labels),
                document_count=len(documents),
                datasets=dict(datasets),
                models=models,
                deployments=deployments,
            )

    def delete_project(self, name: str) -> JobView:
        """Delete a project and wait for it."""
        job = projects.submit_delete(self.context, name)
        self._run_workers()
        return self._wait(job.id)

    # -- data -------------------------------------------------------------------------------

    def read_data(self, name: str) -> LabeledData:
        """A project's metadata, labels and documents."""
        with self.context.database.session() as session:
            row = project_store.get_project(session, name)
            project = project_store.to_project(row)
            return LabeledData(
                kind=project.kind,
                labels=tuple(row.labels),
                documents=tuple(project_store.project_documents(row)),
                project=project,
            )

    def import_project_file(self, name: str, project_file: dict[str, Any]) -> JobView:
        """Import (replace) a project from a project file with inline texts; wait for it."""
        job = projects.submit_import(self.context, name, project_file)
        self._run_workers()
        return self._wait(job.id)

    # -- training, models, deployments ------------------------------------------------------

    def start_training(self, name: str, body: dict[str, Any]) -> JobView:
        """Queue training and start the workers; returns the waiting job."""
        from lexicraft.services import training

        job = training.submit_training(self.context, name, body)
        self._run_workers()
        return job_view(job)

    def job(self, job_id: str, project_name: str | None) -> JobView:
        """A job's current state."""
        view = job_view(authoring_jobs.get_job(self.context, job_id))
        if project_name is not None and view.project_name != project_name:
            raise InvalidParameterValue(
                f"job {job_id!r} belongs to project {view.project_name!r}, not {project_name!r}"
            )
        return view

    def list_jobs(self, project_name: str | None, unfinished_only: bool) -> list[JobView]:
        """Authoring jobs, newest first."""
        if project_name is not None:
            with self.context.database.session() as session:
                project_store.get_project(session, project_name)
        rows = authoring_jobs.list_jobs(self.context, project_name, unfinished_only=unfinished_only)
        return [job_view(row) for row in rows]

    def cancel_job(self, job_id: str, project_name: str | None) -> JobView:
        """Cancel a waiting job, or ask a running one to stop."""
        self.job(job_id, project_name)
        return job_view(authoring_jobs.cancel_job(self.context, job_id))

    def evaluation(self, name: str, model_label: str) -> Evaluation:
        """A trained model's evaluation summary."""
        with self.context.database.session() as session:
            project = project_store.get_project(session, name)
            model = model_store.get_model(session, project, model_label)
            return Evaluation(
                project_kind=project.kind,
                options=dict(model.evaluation_options),
                summary=dict(model.evaluation_summary),
            )

    def deploy(self, name: str, model_label: str, deployment_name: str) -> JobView:
        """Deploy a trained model and wait for it."""
        from lexicraft.services import deployments

        job = deployments.submit_deploy(
            self.context, name, deployment_name, {"trainedModelLabel": model_label}
        )
        self._run_workers()
        return self._wait(job.id)

    def predict(self, name: str, deployment_name: str, texts: Sequence[str]) -> list[Prediction]:
        """Predict in this process with the deployed model."""
        from lexicraft.services import predictions

        return predictions.predict(self.context, name, deployment_name, texts)

    def export_model(self, name: str, model_label: str, output: Path, export_format: str) -> Path:
        """Write the trained model, its label map and evaluation as a self-contained folder."""
        from lexicraft.ml import export

        with self.context.database.session() as session:
            project_row = project_store.get_project(session, name)
            model = model_store.get_model(session, project_row, model_label)
            card = export.ModelCard(
                project_name=name,
                project_kind=project_row.kind,
                language=project_row.language,
                model_label=model.label,
                model_id=model.model_id,
                training_config_version=model.training_config_version,
                backend=model.backend,
                trained_at=format_datetime(model.trained_at),
                labels=tuple(project_row.labels),
                evaluation_options=dict(model.evaluation_options),
                evaluation_summary=dict(model.evaluation_summary),
            )
            artifact_dir = Path(model.artifact_dir)
        return export.export_model(artifact_dir, output, card, export_format)


def evaluation_key(kind: ProjectKind) -> str:
    """The key of the evaluation summary object for a ``kind`` project (spec §5.7)."""
    return _EVALUATION_KEYS[kind]
