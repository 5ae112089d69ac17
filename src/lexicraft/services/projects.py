"""Use cases for projects: create/update, read, list, import, export, delete."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from lexicraft.domain.jobs import Job, JobKind, JobOutcome, JobStatus
from lexicraft.domain.project_files import DocumentEntry, ProjectFile
from lexicraft.domain.projects import Document, Project, ProjectAssets, ProjectKind, ProjectPatch
from lexicraft.errors import Conflict, OperationNotFound, ProjectNotFound
from lexicraft.services import conversations
from lexicraft.services.artifacts import release_artifacts
from lexicraft.services.context import ServiceContext
from lexicraft.services.job_context import JobContext
from lexicraft.services.project_files import project_file_of, resolve_documents
from lexicraft.storage.sql import models as model_store
from lexicraft.storage.sql import projects as project_store
from lexicraft.wire.project_file import parse_project_file


def upsert_project(
    context: ServiceContext, project_name: str, patch: ProjectPatch
) -> tuple[Project, bool]:
    """Apply a merge-patch to a project's metadata, creating it if needed (True: created)."""
    with context.database.session() as session:
        existing = project_store.find_project(session, project_name)
        # In the transaction that saves it: concurrent patches never lose a field.
        project = patch.apply(project_name, existing)
        if (
            existing is not None
            and existing.kind is not project.kind
            and project_store.has_documents(session, project_name)
        ):
            raise Conflict(
                f"project {project_name!r} is a {existing.kind.value} project with documents; "
                "its kind cannot change. Delete it or import a new project file instead.",
                target="projectKind",
            )
        return project_store.save_metadata(session, project)


def get_project(context: ServiceContext, project_name: str) -> Project:
    """A project's metadata."""
    with context.database.session() as session:
        return project_store.get_project(session, project_name)


def find_project(context: ServiceContext, project_name: str) -> Project | None:
    """A project's metadata, or None when there is no such project."""
    with context.database.session() as session:
        return project_store.find_project(session, project_name)


@dataclass(frozen=True, slots=True)
class ProjectData:
    """A project with its label list and documents."""

    project: Project
    labels: tuple[str, ...]
    documents: tuple[Document, ...]


def get_project_data(context: ServiceContext, project_name: str) -> ProjectData:
    """A project's metadata, labels and documents, read in one transaction."""
    with context.database.session() as session:
        return ProjectData(
            project=project_store.get_project(session, project_name),
            labels=project_store.get_labels(session, project_name),
            documents=tuple(project_store.list_documents(session, project_name)),
        )


def list_projects(
    context: ServiceContext, kinds: Collection[ProjectKind] | None = None
) -> list[Project]:
    """Every project (of ``kinds``, when given: one authoring API's), by name."""
    with context.database.session() as session:
        return project_store.list_projects(session, kinds)


def check_family(
    context: ServiceContext, project_name: str, kinds: Collection[ProjectKind], *, writes: bool
) -> None:
    """A project of another authoring API (custom text vs conversations) is not found there:
    names are unique across the resource, so a route that would create or replace it (a
    create, an import: ``writes``) is a conflict instead."""
    project = find_project(context, project_name)
    if project is None or project.kind in kinds:
        return
    if writes:
        raise Conflict(
            f"project name {project_name!r} is taken by a {project.kind.value} project; "
            "project names are unique across custom text and conversation projects",
            target="projectName",
        )
    raise ProjectNotFound(
        f"project {project_name!r} was not found (a {project.kind.value} project has that name)"
    )


def _read_assets(context: ServiceContext, project_file: ProjectFile) -> ProjectAssets:
    """Every document's text (inline or from the container) with its spans checked."""
    container = project_file.project.storage_container

    def read_text(entry: DocumentEntry) -> str:
        if entry.inline_text is not None:
            # Even inline documents must have a location that stays inside the container
            # (checked without a request: a Blob account would be asked once per document).
            context.blobs.check_location(container, entry.location)
            return entry.inline_text
        return context.blobs.read_text(container, entry.location)

    return resolve_documents(project_file, read_text)


def submit_import(context: ServiceContext, project_name: str, project_file: ProjectFile) -> Job:
    """Check a project file completely, so a bad one is a 400 now, then queue its import.

    The job checks again: files in the container may change before it runs.
    """
    _read_assets(context, project_file)
    with context.database.session() as session:
        return context.queue.add(
            session,
            JobKind.IMPORT,
            {"projectFile": project_file.to_payload()},
            ttl_s=context.settings.authoring_job_ttl_s,
            project_name=project_name,
        )


def run_import(context: ServiceContext, job: JobContext) -> JobOutcome:
    """Write inline documents into the container, then replace the project in one transaction."""
    if conversations.PAYLOAD_KEY in job.job.payload:
        return conversations.run_import(context, job)
    project_name = job.job.project
    project_file = _stored_project_file(job.job.payload["projectFile"], project_name)
    assets = _read_assets(context, project_file)
    job.check_cancelled()
    for entry in project_file.entries:
        if entry.inline_text is not None:
            context.blobs.write_text(
                project_file.project.storage_container, entry.location, entry.inline_text
            )
    written = [entry.location for entry in project_file.entries if entry.inline_text is not None]
    container = project_file.project.storage_container
    with context.database.session() as session:
        previous = project_store.find_project(session, project_name)
        project_store.save_metadata(session, project_file.project)
        project_store.replace_assets(
            session,
            project_name,
            assets,
            written,
            same_container=previous is not None and previous.storage_container == container,
        )
    return JobOutcome(JobStatus.SUCCEEDED)


def submit_export(context: ServiceContext, project_name: str) -> Job:
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
    """Take the project file of the project as it is now.

    The file is kept in the job's result, so it expires (and is purged) with the job.
    """
    project_name = job.job.project
    with context.database.session() as session:
        if project_store.get_project(session, project_name).kind.is_conversation:
            return conversations.run_export(context, job)
        project_file = project_file_of(
            project_store.get_project(session, project_name),
            project_store.get_labels(session, project_name),
            project_store.list_documents(session, project_name),
        )
    return JobOutcome(JobStatus.SUCCEEDED, result={"projectFile": project_file.to_payload()})


def read_export(context: ServiceContext, project_name: str, job_id: str) -> ProjectFile:
    """The project file an export job produced."""
    with context.database.session() as session:
        job = context.queue.get(session, job_id, [JobKind.EXPORT], project_name=project_name)
    if job.status is not JobStatus.SUCCEEDED or not job.result:
        raise OperationNotFound(f"export job {job_id!r} has no result for {project_name!r}")
    return _stored_project_file(job.result["projectFile"], project_name)


def _stored_project_file(stored: dict[str, Any], project_name: str) -> ProjectFile:
    """A project file kept in a job: the payload form, or (for a job queued or finished by a
    version before the typed wire) the Azure project file itself, parsed again."""
    if "metadata" in stored and "project" not in stored:
        return parse_project_file(stored, project_name)
    return ProjectFile.from_payload(stored)


def submit_delete(context: ServiceContext, project_name: str) -> Job:
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
    """Delete the project: its documents, labels, models (their folders) and deployments
    (idempotent).

    Document files are deleted from the storage container only where Lexicraft wrote them
    for this project (the Studio's new documents, an import's inline texts) and no other
    project's document uses them: files a user put in a container are the user's, as on
    Azure, and a container may serve several projects. They go first: a run cut short
    leaves the project (whose texts are in the database) for the next run to finish.
    """
    project_name = job.job.project
    with context.database.session() as session:
        if project_store.find_project(session, project_name) is None:
            return JobOutcome(JobStatus.SUCCEEDED)
        container, written = project_store.written_files(session, project_name)
    for location in written:
        context.blobs.delete(container, location)
    with context.database.session() as session:
        if project_store.find_project(session, project_name) is None:
            return JobOutcome(JobStatus.SUCCEEDED)
        artifact_dirs = model_store.artifact_dirs(session, project_name)
        project_store.delete_project(session, project_name)
    release_artifacts(context, artifact_dirs)
    # Its models' folders are gone; so goes theirs, unless a training still writes into it
    # (that training finds the project gone and deletes its model).
    context.models.forget_project(project_name)
    return JobOutcome(JobStatus.SUCCEEDED)
