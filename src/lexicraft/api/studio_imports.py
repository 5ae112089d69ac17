"""``POST /language/lexicraft/projects/{p}/:import-file`` (a Lexicraft extension): import a
labeled-data file in any format the CLI reads (CoNLL, JSON Lines, Label Studio, doccano, CSV,
Comprehend CSV, an Azure or CLU project file, a LUIS app export).

The file's text travels in a JSON body with what the user chose; the conversion is
:mod:`lexicraft.services.file_imports`, the same code as ``lexicraft import``. A file with
invalid records is a 400 listing each with its line and field, and nothing is written; a good
one is queued as the Azure ``:import`` of its kind queues it: the answer is a 202 whose
``Operation-Location`` is that import job, with a summary of what the file held.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field, StrictBool, StrictStr

from lexicraft.api.authoring.shared import CONVERSATIONS, TEXT
from lexicraft.api.dependencies import Context
from lexicraft.api.errors import ERRORS
from lexicraft.api.jobs import wake_workers
from lexicraft.api.permissions import needs
from lexicraft.api.requests import WireModel, absolute_url
from lexicraft.api.studio_api import PREFIX, DatasetName, ResponseShape
from lexicraft.domain.jobs import JobKind
from lexicraft.domain.projects import ProjectKind
from lexicraft.domain.users import Permission
from lexicraft.services import file_imports
from lexicraft.services.file_imports import UPLOAD_FORMATS, ImportOptions

#: The route's path under the Studio prefix (the body limits name it: api/limits.py).
IMPORT_FILE_PATH = "/{project_name}/:import-file"
API_VERSION = "2023-04-01"

router = APIRouter(prefix=PREFIX, tags=["studio"], responses=ERRORS)


class FileImportInput(WireModel):
    """``POST …/:import-file``: a file's text and how to read it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "content": "Anna\tB-Person\nflew\tO\nto\tO\nParis\tB-City\n",
                    "fileName": "train.conll",
                    "format": "conll",
                    "language": "en",
                    "dataset": "Train",
                }
            ]
        }
    )

    content: StrictStr = Field(description="The file's text (UTF-8 on the wire, as all JSON).")
    file_name: StrictStr | None = Field(
        default=None,
        description="The file's name: its extension tells the format when none is given, and "
        "formats without document ids name the documents after it.",
    )
    format: StrictStr | None = Field(
        default=None,
        description=f"One of {list(UPLOAD_FORMATS)}; default: from the name and the content.",
    )
    project_kind: StrictStr | None = Field(
        default=None,
        description="The kind of a new project when the file cannot tell (CoNLL always holds "
        "entities; a JSON Lines file without labels does not say).",
    )
    language: StrictStr | None = Field(default=None, description="Language of a new project.")
    dataset: DatasetName = None
    append: StrictBool = Field(
        default=False, description="Add to the project's documents instead of replacing them."
    )
    skip_invalid: StrictBool = Field(
        default=False, description="Import the valid records; the invalid ones are listed."
    )

    def to_options(self) -> ImportOptions:
        """The service's options."""
        return ImportOptions(
            format_name=self.format,
            kind=None if self.project_kind is None else ProjectKind.parse(self.project_kind),
            language=self.language,
            dataset=self.dataset,
            append=self.append,
            skip_invalid=self.skip_invalid,
        )


class InvalidRecordRead(ResponseShape):
    """A record left out by ``skipInvalid``."""

    line: int | None
    field: str | None
    message: str


class FileImportRead(ResponseShape):
    """What the file held; the import itself is the job at ``Operation-Location``."""

    project_name: str
    project_kind: ProjectKind
    format: str
    document_count: int
    labels: list[str]
    skipped: list[InvalidRecordRead]
    replaced: bool = Field(description="Whether a project of that name existed.")


_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {
        "model": FileImportRead,
        "description": "Accepted: the import job is at Operation-Location.",
        "headers": {
            "Operation-Location": {
                "description": "The import job's status URL.",
                "schema": {"type": "string"},
            }
        },
    }
}


@router.post(
    IMPORT_FILE_PATH,
    status_code=202,
    # Replacing a project's documents is the Azure :import's right, not a labeler's.
    dependencies=[needs(Permission.AUTHOR)],
    responses=_ACCEPTED,
)
def import_file(
    project_name: str, body: FileImportInput, request: Request, context: Context
) -> JSONResponse:
    queued = file_imports.submit_file_import(
        context, project_name, body.content, body.file_name, body.to_options()
    )
    family = CONVERSATIONS if queued.kind is ProjectKind.CONVERSATION else TEXT
    wake_workers(request, JobKind.IMPORT)
    location = absolute_url(
        request,
        f"{family.prefix}/{project_name}/import/jobs/{queued.job.id}",
        f"api-version={API_VERSION}",
    )
    summary: dict[str, Any] = {
        "projectName": queued.project_name,
        "projectKind": queued.kind.value,
        "format": queued.format_name,
        "documentCount": queued.document_count,
        "labels": list(queued.labels),
        "skipped": [
            {"line": record.line, "field": record.field, "message": record.describe()}
            for record in queued.skipped
        ],
        "replaced": queued.replaced,
    }
    return JSONResponse(summary, status_code=202, headers={"Operation-Location": location})
