"""Use cases for projects: create/update, read, list, import, export, delete."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lexicraft.domain.jobs import JobKind, JobStatus
from lexicraft.domain.projects import Project, ProjectAssets
from lexicraft.errors import Conflict, OperationNotFound
from lexicraft.jobs.queue import JobOutcome
from lexicraft.jobs.worker import JobContext
from lexicraft.services.context import ServiceContext
from lexicraft.services.project_files import (
    DocumentEntry,
    ProjectFile,
    parse_project_file,
    parse_project_metadata,
    render_metadata,
    render_project_file,
    resolve_documents,
)
from lexicraft.storage.sql import projects as project_store
from lexicraft.storage.sql.tables import JobRow, TrainedModelRow

# Fields of CreateProjectOptions a merge-patch may remove (set to null).
_OPTIONAL_FIELDS = frozenset({"description", "multilingual", "settings"})


def upsert_project(
    context: ServiceContext, project_name: str, patch: dict[str, Any]
) -> tuple[Project, bool]:
    """Apply a JSON merge-patch to a project's metadata, creating it if needed."""
    with context.database.session() as session:
        row = project_store.find_project(session, project_name)
        merged: dict[str, Any] = (
            {} if row is None else render_metadata(project_store.to_project(row))
        )
        for key, value in patch.items():
            if value is None and key in _OPTIONAL_FIELDS:
                merged.pop(key, None)
            else:
                merged[key] = value
        project = parse_project_metadata(merged, project_name, where="$")
        if row is not None and row.kind != project.kind.value and row.documents:
            raise Conflict(
                f"project {project_name!r} is a {row.kind} project with documents; its kind "
                "cannot change. Delete it or import a new project file instead.",
                target="projectKind",
            )
        saved, created = project_store.save_metadata(session, project)
        return project_store.to_project(saved), created


def get_project(context: ServiceContext, project_name: str) -> Project:
    """A project's metadata."""
    with context.database.session() as session:
        return project_store.to_project(project_store.get_project(session, project_name))


def list_projects(context: ServiceContext) -> list[Project]:
    """Every project, by name."""
    with context.database.session() as session:
        return [project_store.to_project(row) for row in project_store.list_projects(session)]


def _read_assets(context: ServiceContext, project_file: ProjectFile) -> ProjectAssets:
    """Every document's text (inline or from the container) with its spans checked."""
    container = project_file.project.storage_container

    def read_text(entry: DocumentEntry) -> str:
        if entry.inline_text is not None:
            # Even inline documents must have a location that stays inside the container.
            context.blobs.exists(container, entry.location)
            return entry.inline_text
        return context.blobs.read_text(container, entry.location)

    return resolve_documents(project_file, read_text)


def submit_import(context: ServiceContext, project_name: str, body: dict[str, Any]) -> JobRow:
    """Check a project file completely, so a bad one is a 400 now, then queue its import.

    The job checks again: files in the container may change before it runs.
    """
    _read_assets(context, parse_project_file(body, project_name))
    with context.database.session() as session:
        return context.queue.add(
            session,
            JobKind.IMPORT,
            {"projectFile": body},
            ttl_s=context.settings.authoring_job_ttl_s,
            project_name=project_name,
        )


def run_import(context: ServiceContext, job: JobContext) -> JobOutcome:
    """Write inline documents into the container, then replace the project in one transaction."""
    project_name = job.job.project_name
    assert project_name is not None
    project_file = parse_project_file(job.job.payload["projectFile"], project_name)
    assets = _read_assets(context, project_file)
    job.check_cancelled()
    for entry in project_file.entries:
        if entry.inline_text is not None:
            context.blobs.write_text(
                project_file.project.storage_container, entry.location, entry.inline_text
            )
    with context.database.session() as session:
        row, _created = project_store.save_metadata(session, project_file.project)
        project_store.replace_assets(session, row, assets)
    return JobOutcome(JobStatus.SUCCEEDED)


def submit_export(context: ServiceContext, project_name: str) -> JobRow:
    """Queue an export of the project file."""
    with context.database.session() as session:
        project_store.get_project(session, project_name)
        return context.queue.add(
            session,
            JobKind.EXPORT,
            {},
            ttl_s=context.settings.authoring_job_ttl_s,
            project_name=project_name,
        )


def run_export(context: ServiceContext, job: JobContext) -> JobOutcome:
    """Render the project file of the project as it is now.

    The file is kept in the job's result, so it expires (and is purged) with the job.
    """
    assert job.job.project_name is not None
    with context.database.session() as session:
        row = project_store.get_project(session, job.job.project_name)
        document = render_project_file(
            project_store.to_project(row), row.labels, project_store.project_documents(row)
        )
    return JobOutcome(JobStatus.SUCCEEDED, result={"projectFile": document})


def read_export(context: ServiceContext, project_name: str, job_id: str) -> dict[str, Any]:
    """The project file an export job produced."""
    with context.database.session() as session:
        row = context.queue.get(session, job_id, [JobKind.EXPORT], project_name=project_name)
        if row.status != JobStatus.SUCCEEDED.value or not row.result:
            raise OperationNotFound(f"export job {job_id!r} has no result for {project_name!r}")
        project_file: dict[str, Any] = row.result["projectFile"]
        return project_file


def submit_delete(context: ServiceContext, project_name: str) -> JobRow:
    """Queue the deletion of a project."""
    with context.database.session() as session:
        project_store.get_project(session, project_name)
        return context.queue.add(
            session,
            JobKind.DELETE_PROJECT,
            {},
            ttl_s=context.settings.authoring_job_ttl_s,
            project_name=project_name,
        )


def run_delete(context: ServiceContext, job: JobContext) -> JobOutcome:
    """Delete the project, its documents, models and deployments (idempotent)."""
    assert job.job.project_name is not None
    with context.database.session() as session:
        row = project_store.find_project(session, job.job.project_name)
        if row is None:
            return JobOutcome(JobStatus.SUCCEEDED)
        artifact_dirs = [
            Path(path)
            for path in session.scalars(
                select(TrainedModelRow.artifact_dir).where(TrainedModelRow.project_id == row.id)
            )
        ]
        session.delete(row)
    for path in artifact_dirs:
        context.predictors.discard(path)
        shutil.rmtree(path, ignore_errors=True)
    return JobOutcome(JobStatus.SUCCEEDED)
