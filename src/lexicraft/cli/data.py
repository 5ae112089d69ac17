"""``lexicraft import`` and ``lexicraft export``: labeled data in and out, in many formats.

Conversation (CLU) projects are not documents with labels but intents, entity definitions
(learned, list, regex and prebuilt components) and utterances: they come in as a CLU project
file (``azure``, told apart by its ``projectKind``) or a LUIS app export (``luis``), which
the backend hands to the conversation ``:import`` whole, and go out as a CLU project file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import typer

from lexicraft.cli.backend import Backend, JobView, connect
from lexicraft.cli.console import (
    KIND_HELP,
    DataDir,
    Endpoint,
    Key,
    parse_kind,
    read_stdin,
    require_success,
    stderr,
    write_stdout,
)
from lexicraft.domain.projects import Dataset, Project, ProjectKind, check_name
from lexicraft.errors import InvalidParameterValue, LexicraftError
from lexicraft.formats import azure
from lexicraft.formats.base import LabeledData
from lexicraft.formats.registry import FORMATS, FileFormat, detect_format, get_format

FORMAT_NAMES = ", ".join(sorted(FORMATS))
#: Not a format of labeled documents: a LUIS app export, converted into a CLU project.
LUIS = "luis"
IMPORT_FORMAT_NAMES = ", ".join(sorted([*FORMATS, LUIS]))
# How many skipped records an import lists before summing up the rest.
_LISTED_SKIPS = 20


def _read_source(file: str) -> tuple[str, Path | None]:
    """All of standard input, or the start of a file (enough to tell its format)."""
    if file == "-":
        return read_stdin(), None
    path = Path(file)
    if not path.is_file():
        raise InvalidParameterValue(f"{file!r} is not a file; give a path, or - for stdin")
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        return handle.read(65536), path


def _merge(existing: LabeledData, new: LabeledData) -> LabeledData:
    """``existing`` documents with ``new`` ones added (a new document replaces one of its id)."""
    replaced = {document.location for document in new.documents}
    documents = [d for d in existing.documents if d.location not in replaced] + list(new.documents)
    labels = dict.fromkeys([*existing.labels, *new.labels])
    return replace(new, labels=tuple(labels), documents=tuple(documents))


def _relocate(
    data: LabeledData, reader: FileFormat, path: Path | None, dataset: Dataset | None
) -> LabeledData:
    """Name numbered documents after their file, and put them in ``dataset`` if given.

    Formats without ids number their records; prefixing the file name keeps the documents of
    ``train.conll`` and ``test.conll`` apart when both go into one project (``--append``).
    """
    prefix = path.stem if path is not None and not reader.keeps_ids else None
    documents = tuple(
        replace(
            document,
            location=f"{prefix}-{number:06d}" if prefix else document.location,
            dataset=dataset or document.dataset,
        )
        for number, document in enumerate(data.documents, start=1)
    )
    return replace(data, documents=documents)


def import_file(
    file: Annotated[str, typer.Argument(help="The file to import, or - for standard input.")],
    project: Annotated[str, typer.Option("--project", "-p", help="Project to import into.")],
    file_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help=f"File format (default: from the file): {IMPORT_FORMAT_NAMES}. A CLU project "
            "file is 'azure'; 'luis' converts a LUIS app export.",
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(help=f"Project kind for a new project: {KIND_HELP} Default: from the file."),
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="Language of a new project (default: en).")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(help="Put every imported document in the Train or Test set."),
    ] = None,
    append: Annotated[
        bool,
        typer.Option(help="Add to the project's documents instead of replacing them."),
    ] = False,
    skip_invalid: Annotated[
        bool,
        typer.Option(help="Import the valid records and list the invalid ones."),
    ] = False,
    data_dir: DataDir = None,
    endpoint: Endpoint = None,
    key: Key = None,
) -> None:
    """Import labeled documents from FILE into a project (created if needed).

    The import replaces the project's documents (unless --append). A file with an invalid
    record imports nothing unless --skip-invalid. A CLU project file or a LUIS app export
    (--format luis) replaces a conversation project whole.
    """
    check_name(project, "projectName")
    requested = parse_kind(kind)
    chosen_dataset = None
    if dataset is not None:
        chosen_dataset = Dataset.parse(dataset)
    sample, path = _read_source(file)
    source: Path | str = path if path is not None else sample
    luis = file_format is not None and file_format.lower() == LUIS
    reader = None
    if file_format is not None and not luis:
        reader = get_format(file_format)
    elif file_format is None and not _looks_like_luis(sample):
        reader = detect_format(path, sample)
    if reader is None or reader.name == azure.NAME:
        body = _load_json(file, sample, path)
        conversation = _conversation_source(body, luis=luis, detected=file_format is None)
        if conversation is not None:
            _import_conversation(
                ConversationImport(file, project, body, conversation == LUIS),
                requested=requested,
                language=language,
                refused={
                    "--dataset": dataset is not None,
                    "--append": append,
                    "--skip-invalid": skip_invalid,
                },
                connection=(data_dir, endpoint, key),
            )
            return
    reader = reader or detect_format(path, sample)
    with connect(data_dir, endpoint, key) as backend:
        existing = backend.find_project(project)
        if existing is not None and requested is not None and requested is not existing.kind:
            raise InvalidParameterValue(
                f"project {project!r} is a {existing.kind.value} project; import into a new "
                "project or delete this one first",
                target="kind",
            )
        if requested is ProjectKind.CONVERSATION or (
            existing is not None and existing.kind.is_conversation
        ):
            raise InvalidParameterValue(
                "a conversation project is imported from a CLU project file (--format azure) "
                f"or a LUIS app export (--format luis), not from a {reader.name} file",
                target="format",
            )
        hint = existing.kind if existing is not None else requested
        data = reader.read(source, kind=hint, skip_invalid=skip_invalid)
        _report_skipped(data)
        if not data.documents:
            raise InvalidParameterValue(f"{file!r} holds no documents to import")
        data = _relocate(data, reader, path, chosen_dataset)
        if existing is not None:
            metadata = existing
        else:
            base = data.project
            metadata = Project(
                name=project,
                kind=data.kind,
                language=language or (base.language if base else "en"),
                storage_container=project,
                multilingual=base.multilingual if base else False,
                description=base.description if base else None,
                settings=base.settings if base else {},
            )
        data = replace(data, project=metadata)
        if append and existing is not None:
            data = _merge(backend.read_data(project), data)
        require_success(
            backend.import_project_file(project, azure.render(data)),
            f"importing into project {project!r}",
        )
    labels = ", ".join(data.labels) or "none"
    typer.echo(
        f"imported {len(data.documents)} documents into project {project} "
        f"({data.kind.value}; labels: {labels})"
    )


def _load_json(file: str, sample: str, path: Path | None) -> object:
    """The whole of a JSON file (``sample`` is all of standard input already)."""
    content = sample
    if path is not None:
        try:
            content = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InvalidParameterValue(
                f"{file!r} is not UTF-8 text (byte {error.start}: {error.reason})"
            ) from None
    try:
        return json.loads(content)
    except json.JSONDecodeError as error:
        raise InvalidParameterValue(
            f"{file!r} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None


def _looks_like_luis(sample: str) -> bool:
    """Whether the start of a file may be a LUIS app export (a JSON object naming its
    ``luis_schema_version``), which no format of labeled documents reads."""
    return sample.lstrip(" \t\r\n\ufeff").startswith("{") and '"luis_schema_version"' in sample


def _conversation_source(body: object, *, luis: bool, detected: bool) -> str | None:
    """``luis`` for a LUIS app, ``azure`` for a CLU project file, None for a custom text
    project file. A LUIS export is recognised by its ``luis_schema_version`` when no
    ``--format`` was given."""
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


@dataclass(frozen=True, slots=True)
class ConversationImport:
    """A CLU project file or LUIS app (``luis``) about to become conversation project
    ``project``; ``file`` as the command line named it."""

    file: str
    project: str
    body: object
    luis: bool


def _import_conversation(
    item: ConversationImport,
    *,
    requested: ProjectKind | None,
    language: str | None,
    refused: Mapping[str, bool],
    connection: tuple[Path | None, str | None, str | None],
) -> None:
    """Hand the file to the conversation import (which checks it whole: nothing of a bad file
    is imported) and report the project, then what a LUIS conversion kept and dropped."""
    what = "a LUIS app" if item.luis else "a CLU project file"
    for option, given in refused.items():
        if given:
            raise InvalidParameterValue(
                f"{option} does not apply to {what}: it replaces the conversation project "
                "whole, each utterance in the dataset the file gives it",
                target=option.removeprefix("--"),
            )
    if requested is not None and requested is not ProjectKind.CONVERSATION:
        raise InvalidParameterValue(
            f"{item.file!r} is {what}, which makes a Conversation project, not a "
            f"{requested.value} project",
            target="kind",
        )
    if not isinstance(item.body, dict):
        raise InvalidParameterValue(f"{item.file!r} is {what} only if it is a JSON object")
    body: dict[str, Any] = dict(item.body)
    if item.luis:
        if language is not None:
            body["culture"] = language
    else:
        # The project is the one named on the command line, as for every other import.
        metadata = body.get("metadata")
        if isinstance(metadata, dict):
            body["metadata"] = {**metadata, "projectName": item.project}
            if language is not None:
                body["metadata"]["language"] = language
    with connect(*connection) as backend:
        existing = backend.find_project(item.project)
        if existing is not None and not existing.kind.is_conversation:
            raise InvalidParameterValue(
                f"project {item.project!r} is a {existing.kind.value} project; import {what} "
                "into a new project or delete this one first",
                target="projectName",
            )
        job = _checked_import(backend, item.project, body, item.luis)
        require_success(job, f"importing into project {item.project!r}")
        project_file = backend.export_conversation(item.project)
    _report_conversation(item.project, project_file, job)


def _checked_import(backend: Backend, project: str, body: dict[str, Any], luis: bool) -> JobView:
    try:
        return backend.import_conversation(project, body, luis)
    except LexicraftError as error:
        # The one error line names the field (``assets.utterances[3].intent``), also where
        # the message itself does not.
        if error.target and error.target not in error.message:
            error.message = f"{error.target}: {error.message}"
        raise


def _report_conversation(project: str, project_file: Mapping[str, Any], job: JobView) -> None:
    assets = project_file.get("assets") or {}
    intents = [str(intent.get("category")) for intent in assets.get("intents") or []]
    entities = [str(entity.get("category")) for entity in assets.get("entities") or []]
    typer.echo(
        f"imported {len(assets.get('utterances') or [])} utterances into project {project} "
        f"(Conversation; intents: {', '.join(intents) or 'none'}; "
        f"entities: {', '.join(entities) or 'none'})"
    )
    console = stderr()
    for warning in job.warnings:
        message = str(warning.get("message", warning))
        if warning.get("code") in ("LuisConverted", "LuisDropped"):
            # What the conversion did is the result of a LUIS import: stdout, line by line.
            typer.echo(message)
        else:
            console.print(f"warning: {message}", markup=False)


def _export_format(file_format: str | None, output: Path | None) -> str:
    if file_format:
        return file_format
    by_suffix = {
        ".json": "azure",
        ".conll": "conll",
        ".bio": "conll",
        ".iob": "conll",
        ".spacy": "spacy",
    }
    if output is not None and output.suffix.lower() in by_suffix:
        return by_suffix[output.suffix.lower()]
    return "jsonl"


def export(
    project: Annotated[str, typer.Argument(help="The project to export.")],
    file_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help=f"File format: {FORMAT_NAMES}. Default: from --output's suffix, else jsonl.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: standard output)."),
    ] = None,
    data_dir: DataDir = None,
    endpoint: Endpoint = None,
    key: Key = None,
) -> None:
    """Export a project's labeled documents to a file in another tool's format.

    A conversation project is written as a CLU project file (--format azure, the default).
    """
    with connect(data_dir, endpoint, key) as backend:
        found = backend.find_project(project)
        if found is not None and found.kind.is_conversation:
            _check_conversation_format(file_format)
            project_file = backend.export_conversation(project)
            _write_conversation(project_file, output)
            return
        writer = get_format(_export_format(file_format, output))
        data = backend.read_data(project)
    _write(data, writer, output)


def _check_conversation_format(file_format: str | None) -> None:
    if file_format is not None and file_format.lower() != azure.NAME:
        raise InvalidParameterValue(
            f"a conversation project is exported as a CLU project file (--format azure), not "
            f"as {file_format}",
            target="format",
        )


def _write_conversation(project_file: Mapping[str, Any], output: Path | None) -> None:
    content = json.dumps(project_file, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        write_stdout(content)
        return
    output.write_text(content, encoding="utf-8")
    utterances = len((project_file.get("assets") or {}).get("utterances") or [])
    stderr().print(f"wrote {utterances} utterances to {output}", markup=False)


def _report_skipped(data: LabeledData) -> None:
    if not data.skipped:
        return
    console = stderr()
    console.print(f"skipped {len(data.skipped)} invalid record(s):", markup=False)
    for record in data.skipped[:_LISTED_SKIPS]:
        console.print(f"  {record.describe()}", markup=False)
    if len(data.skipped) > _LISTED_SKIPS:
        console.print(f"  … and {len(data.skipped) - _LISTED_SKIPS} more", markup=False)


def _write(data: LabeledData, writer: FileFormat, output: Path | None) -> None:
    """``data`` in ``writer``'s format, to ``output`` or standard output."""
    if not writer.holds_kind(data.kind):
        raise InvalidParameterValue(
            f"{writer.name} files cannot hold {data.kind.value} data; choose a format that "
            f"holds {'classes' if data.kind.is_classification else 'entities'}",
            target="format",
        )
    if output is None:
        if writer.dumps is None:
            raise InvalidParameterValue(
                f"{writer.name} cannot be written to standard output (it is binary or several "
                "files); pass --output",
                target="output",
            )
        write_stdout(writer.dumps(data))
        return
    written = writer.write(data, output)
    stderr().print(
        f"wrote {len(data.documents)} documents to {', '.join(str(path) for path in written)}",
        markup=False,
    )


def convert(
    file: Annotated[str, typer.Argument(help="The file to convert, or - for standard input.")],
    to: Annotated[str, typer.Option("--to", "-t", help=f"Format to write: {FORMAT_NAMES}.")],
    from_format: Annotated[
        str | None,
        typer.Option("--from", help="Format of FILE (default: from the file)."),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(help=f"What the file holds, when it cannot tell: {KIND_HELP}"),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: standard output)."),
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option(help="Convert the valid records and list the invalid ones.")
    ] = False,
) -> None:
    """Convert labeled data between formats, without a project or server."""
    sample, path = _read_source(file)
    reader = get_format(from_format) if from_format else detect_format(path, sample)
    writer = get_format(to)
    data = reader.read(
        path if path is not None else sample, kind=parse_kind(kind), skip_invalid=skip_invalid
    )
    _report_skipped(data)
    _write(data, writer, output)
