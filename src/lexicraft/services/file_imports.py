"""A labeled-data file in any format → the project import it becomes: one implementation for
``lexicraft import`` and the Studio's ``…/:import-file`` route.

The readers in :mod:`lexicraft.formats` turn a file into checked documents; this module picks
the reader (the format named, else the file's extension and first bytes), tells a CLU project
file or a LUIS app export apart (they replace a conversation project whole, through the
conversation import), names the documents of formats without ids after their file, gives a new
project its metadata, and merges an ``append``. Nothing is stored here: the result is an Azure
project file (or a CLU body) for the same import use cases the Azure ``:import`` routes call
(:func:`submit_file_import` for the HTTP edge; the CLI hands it to its backend).

A record that breaks a rule is reported with its line and field. Every bad record of a file is
collected (:func:`invalid_records`), so a person fixing a file sees all of them at once; a file
with one imports nothing unless the caller asked to skip them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lexicraft.domain.jobs import Job
from lexicraft.domain.projects import (
    CONVERSATION_KINDS,
    Dataset,
    Project,
    ProjectKind,
    check_name,
    location_problem,
)
from lexicraft.errors import (
    InvalidFileRecord,
    InvalidImportFile,
    InvalidParameterValue,
)
from lexicraft.formats import azure, doccano, jsonl, label_studio
from lexicraft.formats.base import LabeledData, SkippedRecord
from lexicraft.formats.registry import FORMATS, FileFormat, detect_format, get_format
from lexicraft.services import conversations, projects
from lexicraft.services.context import ServiceContext
from lexicraft.wire.json_limits import JsonLimits, json_limit_error
from lexicraft.wire.project_file import parse_project_file

#: Not a format of labeled documents: a LUIS app export, converted into a CLU project.
LUIS = "luis"
#: Every format an import reads, by name.
IMPORT_FORMATS: tuple[str, ...] = tuple(sorted([*FORMATS, LUIS]))
#: The formats a file sent over HTTP may have: those held in one text file (a DocBin is binary;
#: a Comprehend annotations CSV names document files beside it, which a server must not read).
UPLOAD_FORMATS: tuple[str, ...] = tuple(
    sorted([*(f.name for f in FORMATS.values() if f.dumps is not None), LUIS])
)
#: Formats read as JSON (their content is checked against the JSON limits first).
_JSON_FORMATS = frozenset({azure.NAME, jsonl.NAME, label_studio.NAME, doccano.NAME, LUIS})


@dataclass(frozen=True, slots=True)
class FileSource:
    """A file to import: its name as the user gave it (None for standard input), its text (for
    a file on disk only the start, enough to tell its format) and, on disk, its path, which
    readers use to find what the file names beside it."""

    name: str | None
    sample: str
    path: Path | None = None

    @property
    def source(self) -> Path | str:
        """What a reader reads: the path of a file on disk, else the text."""
        return self.path if self.path is not None else self.sample

    @property
    def display(self) -> str:
        """The file as the user named it, for messages."""
        return repr(self.name) if self.name else "the file"

    def named_path(self) -> Path | None:
        """The file's path (or just its name), for guessing the format from its extension."""
        if self.path is not None:
            return self.path
        return Path(self.name) if self.name else None

    def whole_text(self) -> str:
        """All of the file's text (the sample is all of it unless the file is on disk)."""
        if self.path is None:
            return self.sample
        try:
            return self.path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InvalidParameterValue(
                f"{self.display} is not UTF-8 text (byte {error.start}: {error.reason})"
            ) from None


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """What the user chose besides the file: all optional."""

    format_name: str | None = None
    kind: ProjectKind | None = None
    language: str | None = None
    dataset: Dataset | None = None
    append: bool = False
    skip_invalid: bool = False


@dataclass(frozen=True, slots=True)
class ConversationImport:
    """A CLU project file or a LUIS app (``luis``), to replace conversation project ``project``
    whole through the conversation import."""

    project: str
    body: dict[str, Any]
    luis: bool

    @property
    def utterance_count(self) -> int:
        """How many utterances the file holds (as far as its shape tells)."""
        utterances: object = (
            self.body.get("utterances")
            if self.luis
            else (self.body.get("assets") or {}).get("utterances")
        )
        return len(utterances) if isinstance(utterances, list) else 0


# -- choosing the reader ----------------------------------------------------------------------


def check_format_name(format_name: str | None, allowed: Sequence[str] = IMPORT_FORMATS) -> None:
    """A format name the import reads (any letter case), else a 400 listing them."""
    if format_name is not None and format_name.lower() not in allowed:
        raise InvalidParameterValue(
            f"format {format_name!r} is not supported; use one of {list(allowed)}",
            target="format",
        )


def looks_like_luis(sample: str) -> bool:
    """Whether the start of a file may be a LUIS app export (a JSON object naming its
    ``luis_schema_version``), which no format of labeled documents reads."""
    return sample.lstrip(" \t\r\n\ufeff").startswith("{") and '"luis_schema_version"' in sample


def _conversation_source(body: object, *, luis: bool, detected: bool) -> str | None:
    """``luis`` for a LUIS app, ``azure`` for a CLU project file, None for a custom text
    project file. A LUIS export is recognised by its ``luis_schema_version`` when no format
    was named."""
    if luis:
        return LUIS
    if not isinstance(body, Mapping):
        return None
    if detected and "luis_schema_version" in body:
        return LUIS
    metadata = body.get("metadata")
    kind = metadata.get("projectKind") if isinstance(metadata, Mapping) else None
    if isinstance(kind, str) and kind.lower() == ProjectKind.CONVERSATION.value.lower():
        return azure.NAME
    return None


def _load_json(file: FileSource) -> object:
    try:
        return json.loads(file.whole_text())
    except json.JSONDecodeError as error:
        raise InvalidFileRecord(
            f"{file.display} is not valid JSON: {error.msg} at column {error.colno}",
            line=error.lineno,
        ) from None


@dataclass(frozen=True, slots=True)
class Plan:
    """What a file is: labeled documents for ``reader``, or a conversation import."""

    reader: FileFormat | None
    conversation: str | None  # "luis" or "azure" (a CLU file); None: labeled documents
    body: object = None  # the parsed JSON of a conversation file


def plan(file: FileSource, format_name: str | None) -> Plan:
    """Pick the reader of ``file``: the format named, else one guessed from the file."""
    check_format_name(format_name)
    luis = format_name is not None and format_name.lower() == LUIS
    reader = None
    if format_name is not None and not luis:
        reader = get_format(format_name)
    elif format_name is None and not looks_like_luis(file.sample):
        reader = detect_format(file.named_path(), file.sample)
    if reader is None or reader.name == azure.NAME:
        body = _load_json(file)
        conversation = _conversation_source(body, luis=luis, detected=format_name is None)
        if conversation is not None:
            return Plan(None, conversation, body)
    return Plan(reader or detect_format(file.named_path(), file.sample), None)


# -- labeled documents ------------------------------------------------------------------------


def _merge(existing: LabeledData, new: LabeledData) -> LabeledData:
    """``existing`` documents with ``new`` ones added (a new document replaces one of its id)."""
    replaced = {document.location for document in new.documents}
    documents = [d for d in existing.documents if d.location not in replaced] + list(new.documents)
    labels = dict.fromkeys([*existing.labels, *new.labels])
    return replace(new, labels=tuple(labels), documents=tuple(documents))


def _relocate(
    data: LabeledData, reader: FileFormat, file: FileSource, dataset: Dataset | None
) -> LabeledData:
    """Name numbered documents after their file, and put them in ``dataset`` if given.

    Formats without ids number their records; prefixing the file name keeps the documents of
    ``train.conll`` and ``test.conll`` apart when both go into one project (``append``).
    """
    named = file.named_path()
    prefix = named.stem if named is not None and not reader.keeps_ids else None
    if prefix is not None and location_problem(prefix) is not None:
        prefix = None  # a name that cannot start a location: the records keep their numbers
    documents = tuple(
        replace(
            document,
            location=f"{prefix}-{number:06d}" if prefix else document.location,
            dataset=dataset or document.dataset,
        )
        for number, document in enumerate(data.documents, start=1)
    )
    return replace(data, documents=documents)


def invalid_records(data: LabeledData, listed: int) -> InvalidImportFile:
    """The error for a file with invalid records: each (up to ``listed``) with its line."""
    return InvalidImportFile.of(
        [InvalidFileRecord(r.problem, line=r.line, field=r.field) for r in data.skipped],
        listed=listed,
    )


def read_documents(
    project_name: str,
    reader: FileFormat,
    file: FileSource,
    options: ImportOptions,
    existing: Project | None,
    existing_data: Callable[[], LabeledData],
) -> LabeledData:
    """The file's documents as project ``project_name`` will hold them, with its metadata.

    Every record is read; the invalid ones are in ``skipped`` (the caller refuses the file or,
    with ``skip_invalid``, reports them). ``existing_data`` is called for an ``append`` only.
    """
    requested = options.kind
    if existing is not None and requested is not None and requested is not existing.kind:
        raise InvalidParameterValue(
            f"project {project_name!r} is a {existing.kind.value} project; import into a new "
            "project or delete this one first",
            target="kind",
        )
    if requested is ProjectKind.CONVERSATION or (
        existing is not None and existing.kind.is_conversation
    ):
        raise InvalidParameterValue(
            "a conversation project is imported from a CLU project file (format azure) "
            f"or a LUIS app export (format luis), not from a {reader.name} file",
            target="format",
        )
    hint = existing.kind if existing is not None else requested
    data = reader.read(file.source, kind=hint, skip_invalid=True)
    if data.skipped and not options.skip_invalid:
        return data  # the caller refuses it, listing every bad record
    if not data.documents:
        raise InvalidParameterValue(f"{file.display} holds no documents to import")
    data = _relocate(data, reader, file, options.dataset)
    if existing is not None:
        metadata = existing
    else:
        base = data.project
        metadata = Project(
            name=project_name,
            kind=data.kind,
            language=options.language or (base.language if base else "en"),
            storage_container=project_name,
            multilingual=base.multilingual if base else False,
            description=base.description if base else None,
            settings=base.settings if base else {},
        )
    data = replace(data, project=metadata)
    if options.append and existing is not None:
        data = _merge(existing_data(), data)
    return data


# -- conversation files -----------------------------------------------------------------------


def conversation_import(
    project_name: str,
    found: Plan,
    file: FileSource,
    options: ImportOptions,
    existing: Project | None,
    option_names: Mapping[str, str],
) -> ConversationImport:
    """The body the conversation import takes for a CLU file or LUIS app.

    Options that only apply to documents are refused (``option_names`` spells them as the edge
    does, e.g. ``--dataset``); the project is the one named, not the file's.
    """
    luis = found.conversation == LUIS
    what = "a LUIS app" if luis else "a CLU project file"
    refused = {
        "dataset": options.dataset is not None,
        "append": options.append,
        "skip_invalid": options.skip_invalid,
    }
    for option, given in refused.items():
        if given:
            name = option_names.get(option, option)
            raise InvalidParameterValue(
                f"{name} does not apply to {what}: it replaces the conversation project "
                "whole, each utterance in the dataset the file gives it",
                target=name.removeprefix("--"),
            )
    if options.kind is not None and options.kind is not ProjectKind.CONVERSATION:
        raise InvalidParameterValue(
            f"{file.display} is {what}, which makes a Conversation project, not a "
            f"{options.kind.value} project",
            target="kind",
        )
    if not isinstance(found.body, dict):
        raise InvalidParameterValue(f"{file.display} is {what} only if it is a JSON object")
    if existing is not None and not existing.kind.is_conversation:
        raise InvalidParameterValue(
            f"project {project_name!r} is a {existing.kind.value} project; import {what} "
            "into a new project or delete this one first",
            target="projectName",
        )
    body: dict[str, Any] = dict(found.body)
    if luis:
        if options.language is not None:
            body["culture"] = options.language
    else:
        # The project is the one named, as for every other import.
        metadata = body.get("metadata")
        if isinstance(metadata, dict):
            body["metadata"] = {**metadata, "projectName": project_name}
            if options.language is not None:
                body["metadata"]["language"] = options.language
    return ConversationImport(project_name, body, luis)


# -- the HTTP edge's use case -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileImport:
    """A queued import of a file: its job, and what the file held."""

    job: Job
    project_name: str
    kind: ProjectKind
    format_name: str
    document_count: int
    labels: tuple[str, ...]
    skipped: tuple[SkippedRecord, ...]
    #: Whether a project of that name existed (and is now replaced, or appended to).
    replaced: bool


def submit_file_import(
    context: ServiceContext,
    project_name: str,
    content: str,
    file_name: str | None,
    options: ImportOptions,
) -> FileImport:
    """Read a file sent whole, refuse it with every bad record listed (nothing is written), or
    queue its import through the use case of the Azure ``:import`` of its kind."""
    try:
        return _submit(context, project_name, content, file_name, options)
    except InvalidFileRecord as error:
        # A file-wide problem (not JSON, not CSV) has a line too: one report for every case.
        raise InvalidImportFile.of([error], listed=1) from None


def _submit(
    context: ServiceContext,
    project_name: str,
    content: str,
    file_name: str | None,
    options: ImportOptions,
) -> FileImport:
    check_name(project_name, "projectName")
    check_format_name(options.format_name, UPLOAD_FORMATS)
    file = FileSource(name=file_name, sample=content)
    found = plan(file, options.format_name)
    reader_name = found.reader.name if found.reader is not None else (found.conversation or "")
    if reader_name in _JSON_FORMATS:
        _check_json_limits(context, content)
    if found.reader is not None and found.reader.name not in UPLOAD_FORMATS:
        raise InvalidParameterValue(
            f"{found.reader.name} files cannot be imported from one uploaded file; use one of "
            f"{list(UPLOAD_FORMATS)}",
            target="format",
        )
    existing = projects.find_project(context, project_name)
    if found.reader is None:
        item = conversation_import(
            project_name, found, file, options, existing, {"skip_invalid": "skipInvalid"}
        )
        projects.check_family(context, project_name, CONVERSATION_KINDS, writes=True)
        file_format = (
            conversations.ImportFormat.LUIS
            if item.luis
            else conversations.ImportFormat.CONVERSATION
        )
        job = conversations.submit_import(context, project_name, item.body, file_format)
        return FileImport(
            job,
            project_name,
            ProjectKind.CONVERSATION,
            found.conversation or "",
            item.utterance_count,
            (),
            (),
            replaced=existing is not None,
        )

    def existing_data() -> LabeledData:
        data = projects.get_project_data(context, project_name)
        return LabeledData(data.project.kind, data.labels, data.documents, project=data.project)

    data = read_documents(project_name, found.reader, file, options, existing, existing_data)
    if data.skipped and not options.skip_invalid:
        raise invalid_records(data, context.settings.import_errors_listed)
    project_file = parse_project_file(azure.render(data), project_name)
    job = projects.submit_import(context, project_name, project_file)
    return FileImport(
        job,
        project_name,
        data.kind,
        found.reader.name,
        len(data.documents),
        data.labels,
        data.skipped,
        replaced=existing is not None,
    )


def _check_json_limits(context: ServiceContext, content: str) -> None:
    """A JSON file must be within the JSON limits every JSON body is held to (the parser
    recurses once per nesting level)."""
    settings = context.settings
    limits = JsonLimits(settings.max_json_depth, settings.max_json_integer_digits)
    excess = limits.excess(content.encode("utf-8", "surrogatepass"))
    if excess is not None:
        raise json_limit_error(excess, limits, "The file")
