"""``lexicraft import`` and ``lexicraft export``: labeled data in and out, in many formats.

Conversation (CLU) projects are not documents with labels but intents, entity definitions
(learned, list, regex and prebuilt components) and utterances: they come in as a CLU project
file (``azure``, told apart by its ``projectKind``) or a LUIS app export (``luis``), which
the backend hands to the conversation ``:import`` whole, and go out as a CLU project file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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
from lexicraft.domain.projects import Dataset, check_name
from lexicraft.errors import InvalidFileRecord, InvalidParameterValue, LexicraftError
from lexicraft.formats import azure
from lexicraft.formats.base import LabeledData
from lexicraft.formats.registry import FORMATS, FileFormat, detect_format, get_format
from lexicraft.services import file_imports
from lexicraft.services.file_imports import ConversationImport, FileSource, ImportOptions

FORMAT_NAMES = ", ".join(sorted(FORMATS))
IMPORT_FORMAT_NAMES = ", ".join(file_imports.IMPORT_FORMATS)
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
    options = ImportOptions(
        format_name=file_format,
        kind=parse_kind(kind),
        language=language,
        dataset=None if dataset is None else Dataset.parse(dataset),
        append=append,
        skip_invalid=skip_invalid,
    )
    sample, path = _read_source(file)
    source = FileSource(name=None if path is None else file, sample=sample, path=path)
    found = file_imports.plan(source, file_format)
    with connect(data_dir, endpoint, key) as backend:
        existing = backend.find_project(project)
        if found.reader is None:
            item = file_imports.conversation_import(
                project, found, source, options, existing, _OPTION_NAMES
            )
            job = _checked_import(backend, item)
            require_success(job, f"importing into project {project!r}")
            project_file = backend.export_conversation(project)
            _report_conversation(project, project_file, job)
            return
        data = file_imports.read_documents(
            project, found.reader, source, options, existing, lambda: backend.read_data(project)
        )
        if data.skipped and not skip_invalid:
            first = data.skipped[0]
            raise InvalidFileRecord(first.problem, line=first.line, field=first.field)
        _report_skipped(data)
        require_success(
            backend.import_project_file(project, azure.render(data)),
            f"importing into project {project!r}",
        )
    labels = ", ".join(data.labels) or "none"
    typer.echo(
        f"imported {len(data.documents)} documents into project {project} "
        f"({data.kind.value}; labels: {labels})"
    )


#: The command line's spelling of the options a conversation import refuses.
_OPTION_NAMES = {"dataset": "--dataset", "append": "--append", "skip_invalid": "--skip-invalid"}


def _checked_import(backend: Backend, item: ConversationImport) -> JobView:
    try:
        return backend.import_conversation(item.project, item.body, item.luis)
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
