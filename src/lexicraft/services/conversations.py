"""Use cases of conversation (CLU) projects that differ from custom text: import and export.

Everything else (metadata, deletion, training, models, deployments, jobs) goes through the
same use cases as custom text; a conversation project is a project whose documents are
utterances (``classes=(intent,)``) and whose label list is its entity categories, with its
intents and entity definitions beside them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from lexicraft.domain.jobs import Job, JobKind, JobOutcome, JobStatus
from lexicraft.errors import InvalidParameterValue, OperationNotFound
from lexicraft.ml.components import prebuilt_catalog
from lexicraft.services.context import ServiceContext
from lexicraft.services.conversation_files import (
    ConversationContent,
    convert_luis,
    read_conversation_file,
    utterance_entries,
)
from lexicraft.services.job_context import JobContext
from lexicraft.storage.sql import models as model_store
from lexicraft.storage.sql import projects as project_store
from lexicraft.wire.conversation_file import parse_conversation_file, render_conversation_file

#: The key of a conversation import's input in its job's payload (custom text imports use
#: ``projectFile``): ``projects.run_import`` dispatches on it.
PAYLOAD_KEY = "conversationFile"


class ImportFormat(StrEnum):
    """``:import?format=``: a CLU project file, or a LUIS app to convert."""

    CONVERSATION = "Conversation"
    LUIS = "Luis"

    @classmethod
    def parse(cls, value: str | None) -> ImportFormat:
        """The format named by ``value`` (any letter case; absent: ``Conversation``)."""
        if value is None:
            return cls.CONVERSATION
        for member in cls:
            if member.value.lower() == value.lower():
                return member
        raise InvalidParameterValue(
            f"format {value!r} is not valid; use 'Conversation' or 'Luis'", target="format"
        )


def _read(context: ServiceContext, body: object, project_name: str) -> ConversationContent:
    return read_conversation_file(context.settings, parse_conversation_file(body, project_name))


def submit_import(
    context: ServiceContext, project_name: str, body: object, file_format: ImportFormat
) -> Job:
    """Check a project file (or a LUIS app, converted first) completely, so a bad one is a
    400 now naming the field, then queue its import."""
    warnings: tuple[dict[str, str], ...] = ()
    if file_format is ImportFormat.LUIS:
        converted = convert_luis(body, project_name)
        body, warnings = converted.project_file, converted.warnings
    content = _read(context, body, project_name)
    with context.database.session() as session:
        return context.queue.add(
            session,
            JobKind.IMPORT,
            {PAYLOAD_KEY: body, "warnings": [*warnings, *content.warnings]},
            ttl_s=context.settings.authoring_job_ttl_s,
            project_name=project_name,
        )


def run_import(context: ServiceContext, job: JobContext) -> JobOutcome:
    """Replace the project (metadata, intents, entities, utterances) in one transaction."""
    payload = job.job.payload
    project_name = job.job.project
    content = _read(context, payload[PAYLOAD_KEY], project_name)
    job.check_cancelled()
    with context.database.session() as session:
        project_store.save_metadata(session, content.project)
        project_store.replace_conversation(
            session, project_name, content.assets, content.utterances
        )
    return JobOutcome(JobStatus.SUCCEEDED, warnings=tuple(payload.get("warnings", ())))


def run_export(context: ServiceContext, job: JobContext) -> JobOutcome:
    """Take the project file of the project as it is now (kept in the job's result, so it
    expires with the job)."""
    with context.database.session() as session:
        project_file = current_project_file(session, job.job.project)
    return JobOutcome(JobStatus.SUCCEEDED, result={PAYLOAD_KEY: project_file})


def current_project_file(session: Session, project_name: str) -> dict[str, Any]:
    """The CLU project file of the project as ``session`` sees it (an export, or the snapshot
    a training keeps with its model)."""
    project = project_store.get_project(session, project_name)
    assets = project_store.get_conversation_assets(session, project_name)
    documents = project_store.list_documents(session, project_name)
    return render_conversation_file(project, assets, utterance_entries(documents))


def submit_load_snapshot(context: ServiceContext, project_name: str, label: str) -> Job:
    """Queue the import of the project file model ``label`` was trained on (spec CLU §2.6):
    the project's assets become what they were when it trained."""
    with context.database.session() as session:
        snapshot = model_store.get_snapshot(session, project_name, label)
        if snapshot is None:
            raise InvalidParameterValue(
                f"trained model {label!r} has no snapshot of its training data (only "
                "conversation models trained by this version keep one)",
                target="trainedModelLabel",
            )
        return context.queue.add(
            session,
            JobKind.IMPORT,
            {PAYLOAD_KEY: snapshot, "warnings": []},
            ttl_s=context.settings.authoring_job_ttl_s,
            project_name=project_name,
            target=label,
        )


def read_export(context: ServiceContext, project_name: str, job_id: str) -> dict[str, Any]:
    """The CLU project file an export job produced (already in its wire form)."""
    with context.database.session() as session:
        job = context.queue.get(session, job_id, [JobKind.EXPORT], project_name=project_name)
    if job.status is not JobStatus.SUCCEEDED or not job.result or PAYLOAD_KEY not in job.result:
        raise OperationNotFound(f"export job {job_id!r} has no result for {project_name!r}")
    project_file: dict[str, Any] = job.result[PAYLOAD_KEY]
    return project_file


def list_prebuilt_entities(language: str | None) -> list[dict[str, str]]:
    """The prebuilt entities Lexicraft recognises in ``language`` (None: every language), as
    ``global/prebuilt-entities`` lists them."""
    return [
        {"category": item.category, "description": item.description, "examples": item.examples}
        for item in prebuilt_catalog(language)
    ]
