"""``lexicraft import`` and ``lexicraft export``: labeled data in and out, in many formats."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from lexicraft.cli.backend import connect
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
from lexicraft.domain.projects import Dataset, Project, check_name
from lexicraft.errors import InvalidParameterValue
from lexicraft.formats import azure
from lexicraft.formats.base import LabeledData
from lexicraft.formats.registry import FORMATS, FileFormat, detect_format, get_format

FORMAT_NAMES = ", ".join(sorted(FORMATS))
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
            "--format", "-f", help=f"File format (default: from the file): {FORMAT_NAMES}."
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
    record imports nothing unless --skip-invalid.
    """
    check_name(project, "projectName")
    requested = parse_kind(kind)
    chosen_dataset = None
    if dataset is not None:
        chosen_dataset = Dataset.parse(dataset)
    sample, path = _read_source(file)
    source: Path | str = path if path is not None else sample
    reader = get_format(file_format) if file_format else detect_format(path, sample)
    with connect(data_dir, endpoint, key) as backend:
        existing = backend.find_project(project)
        if existing is not None and requested is not None and requested is not existing.kind:
            raise InvalidParameterValue(
                f"project {project!r} is a {existing.kind.value} project; import into a new "
                "project or delete this one first",
                target="kind",
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
    """Export a project's labeled documents to a file in another tool's format."""
    writer = get_format(_export_format(file_format, output))
    with connect(data_dir, endpoint, key) as backend:
        data = backend.read_data(project)
    _write(data, writer, output)


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
