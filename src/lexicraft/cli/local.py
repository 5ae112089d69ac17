"""The local backend: services over the data dir, with authoring jobs run in this process."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lexicraft.api.authoring.schemas import ConversationTrainingBody, TrainingBody
from lexicraft.bootstrap import open_context, stop_workers
from lexicraft.cli.backend import (
    DeploymentView,
    Evaluation,
    JobView,
    ModelView,
    ProjectView,
    micro_f1,
)
from lexicraft.domain.jobs import Job
from lexicraft.domain.projects import CONVERSATION_KINDS, Project, ProjectPatch
from lexicraft.domain.text import StringIndexType
from lexicraft.errors import InvalidParameterValue, LexicraftError
from lexicraft.formats.base import LabeledData
from lexicraft.jobs.worker import WorkerPool
from lexicraft.services import authoring_jobs, conversations, projects
from lexicraft.services.predictions import Prediction
from lexicraft.settings import Settings
from lexicraft.timeutil import format_datetime
from lexicraft.wire.base import parse
from lexicraft.wire.project_file import parse_project_file

if TYPE_CHECKING:
    from lexicraft.services.conversation_runtime import ConversationPrediction


def job_view(job: Job) -> JobView:
    """A job as the CLI shows it."""
    return JobView(
        job_id=job.id,
        kind=job.kind.value,
        status=job.status.value,
        percent_complete=job.percent_complete,
        project_name=job.project_name,
        target=job.target,
        created=format_datetime(job.created_at),
        updated=format_datetime(job.updated_at),
        errors=job.errors,
        result=job.result,
        warnings=job.warnings,
    )


class LocalBackend:
    """Calls the services on ``settings.data_dir``; jobs run in worker threads of this process.

    Only the authoring pool runs here: analyze jobs belong to a server, and this process
    exits as soon as its command is done.
    """

    def __init__(self, settings: Settings) -> None:
        self.context = open_context(settings)
        self.where = f"data dir {settings.data_dir}"
        self._pools: list[WorkerPool] = []

    def close(self) -> None:
        """Stop the worker threads (after their current job) and the database engine."""
        stop_workers(self.context, self._pools)
        self._pools = []
        self.context.database.engine.dispose()

    def _run_workers(self) -> None:
        if self._pools:
            return
        # Imported here: the job handlers pull in every ML backend, which commands that only
        # read (list, show, export) do not need.
        from lexicraft.bootstrap import worker_pools

        self._pools = worker_pools(self.context, names=["authoring"])
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
        return projects.find_project(self.context, name)

    def create_project(self, project: Project) -> Project:
        """Create (or update the metadata of) a project."""
        created, _new = projects.upsert_project(
            self.context, project.name, ProjectPatch.of(project)
        )
        return created

    def list_projects(self) -> list[Project]:
        """Every project."""
        return projects.list_projects(self.context)

    def show_project(self, name: str) -> ProjectView:
        """A project with its labels, document counts, models and deployments."""
        from lexicraft.services import deployments, training

        data = projects.get_project_data(self.context, name)
        models = tuple(
            ModelView(
                label=model.label,
                model_id=model.model_id,
                trained=format_datetime(model.trained_at),
                training_config_version=model.training_config_version,
                duration_s=model.training_duration_s,
                micro_f1=micro_f1(
                    training.get_evaluation(self.context, name, model.label)[1].summary
                ),
            )
            for model in training.list_models(self.context, name)
        )
        deployed = tuple(
            DeploymentView(
                name=deployment.name,
                model_id=deployment.model.model_id,
                deployed=format_datetime(deployment.deployed_at),
                model_label=deployment.model.label,
            )
            for deployment in deployments.list_deployments(self.context, name)
        )
        datasets = Counter(
            document.dataset.value if document.dataset else "unassigned"
            for document in data.documents
        )
        return ProjectView(
            project=data.project,
            labels=data.labels,
            document_count=len(data.documents),
            datasets=dict(datasets),
            models=models,
            deployments=deployed,
        )

    def delete_project(self, name: str) -> JobView:
        """Delete a project and wait for it."""
        job = projects.submit_delete(self.context, name)
        self._run_workers()
        return self._wait(job.id)

    # -- data -------------------------------------------------------------------------------

    def read_data(self, name: str) -> LabeledData:
        """A project's metadata, labels and documents."""
        data = projects.get_project_data(self.context, name)
        return LabeledData(
            kind=data.project.kind,
            labels=data.labels,
            documents=data.documents,
            project=data.project,
        )

    def import_project_file(self, name: str, project_file: dict[str, Any]) -> JobView:
        """Import (replace) a project from a project file with inline texts; wait for it."""
        parsed = parse_project_file(project_file, name)
        job = projects.submit_import(self.context, name, parsed)
        self._run_workers()
        return self._wait(job.id)

    def import_conversation(self, name: str, body: dict[str, Any], luis: bool) -> JobView:
        """Check the CLU file (or convert the LUIS app, then check it) as ``:import`` does,
        then import it; a custom text project of that name is not replaced."""
        projects.check_family(self.context, name, CONVERSATION_KINDS, writes=True)
        file_format = (
            conversations.ImportFormat.LUIS if luis else conversations.ImportFormat.CONVERSATION
        )
        job = conversations.submit_import(self.context, name, body, file_format)
        self._run_workers()
        return self._wait(job.id)

    def export_conversation(self, name: str) -> dict[str, Any]:
        """Run an export job, as the API's ``:export`` does, and read its project file."""
        projects.check_family(self.context, name, CONVERSATION_KINDS, writes=False)
        job = projects.submit_export(self.context, name)
        self._run_workers()
        finished = self._wait(job.id)
        if finished.status != "succeeded":
            raise LexicraftError(
                f"exporting project {name!r} {finished.status}: {finished.error_message()}"
            )
        return conversations.read_export(self.context, name, job.id)

    # -- training, models, deployments ------------------------------------------------------

    def start_training(self, name: str, body: dict[str, Any]) -> JobView:
        """Queue training and start the workers; returns the waiting job."""
        from lexicraft.services import training

        # A conversation project's :train body has its own rules (trainingMode required).
        kind = projects.get_project(self.context, name).kind
        schema = ConversationTrainingBody if kind.is_conversation else TrainingBody
        job = training.submit_training(self.context, name, parse(schema, body).to_request())
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
            projects.get_project(self.context, project_name)
        jobs = authoring_jobs.list_jobs(self.context, project_name, unfinished_only=unfinished_only)
        return [job_view(job) for job in jobs]

    def cancel_job(self, job_id: str, project_name: str | None) -> JobView:
        """Cancel a waiting job, or ask a running one to stop."""
        self.job(job_id, project_name)
        return job_view(authoring_jobs.cancel_job(self.context, job_id))

    def evaluation(self, name: str, model_label: str) -> Evaluation:
        """A trained model's evaluation summary."""
        from lexicraft.services import training

        kind, evaluation = training.get_evaluation(self.context, name, model_label)
        return Evaluation(
            project_kind=kind.value,
            options=dict(evaluation.options),
            summary=dict(evaluation.summary),
        )

    def deploy(self, name: str, model_label: str, deployment_name: str) -> JobView:
        """Deploy a trained model and wait for it."""
        from lexicraft.services import deployments

        job = deployments.submit_deploy(self.context, name, deployment_name, model_label)
        self._run_workers()
        return self._wait(job.id)

    def predict(self, name: str, deployment_name: str, texts: Sequence[str]) -> list[Prediction]:
        """Predict in this process with the deployed model."""
        from lexicraft.services import predictions

        return predictions.predict(self.context, name, deployment_name, texts)

    def analyze_conversation(
        self, name: str, deployment_name: str, texts: Sequence[str]
    ) -> list[ConversationPrediction]:
        """Each utterance through the service behind ``:analyze-conversations``, in this
        process (offsets in code points, as every CLI output counts them)."""
        from lexicraft.services import conversation_runtime

        return [
            conversation_runtime.analyze_conversation(
                self.context,
                conversation_runtime.ConversationQuery(
                    project_name=name,
                    deployment_name=deployment_name,
                    text=text,
                    string_index_type=StringIndexType.CODE_POINT,
                ),
            )
            for text in texts
        ]

    def export_model(self, name: str, model_label: str, output: Path, export_format: str) -> Path:
        """Write the trained model, its label map and evaluation as a self-contained folder."""
        from lexicraft.ml import export
        from lexicraft.services import training

        data = projects.get_project_data(self.context, name)
        if data.project.kind.is_conversation:
            # The model folder answers half of a conversation prediction: the list, regex and
            # prebuilt components live in the project, not in the model.
            raise InvalidParameterValue(
                f"export-model is for custom text models; {name!r} is a conversation project: "
                "deploy its model ('lexicraft deploy') and predict with the deployment, or "
                "take the project out with 'lexicraft export'",
                target="projectName",
            )
        model = training.get_model(self.context, name, model_label)
        evaluation = training.get_evaluation(self.context, name, model_label)[1]
        card = export.ModelCard(
            project_name=name,
            project_kind=data.project.kind.value,
            language=data.project.language,
            model_label=model.label,
            model_id=model.model_id,
            training_config_version=model.training_config_version,
            backend=model.backend,
            trained_at=format_datetime(model.trained_at),
            labels=data.labels,
            evaluation_options=dict(evaluation.options),
            evaluation_summary=dict(evaluation.summary),
        )
        model_dir = self.context.models.local_dir(model.artifact_dir)
        return export.export_model(model_dir, output, card, export_format)
