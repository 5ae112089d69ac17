"""``lexicraft project create|list|show|delete``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from lexicraft.cli.backend import connect
from lexicraft.cli.console import (
    KIND_HELP,
    DataDir,
    Endpoint,
    Key,
    parse_kind,
    require_success,
    stdout,
)
from lexicraft.domain.projects import Project, check_name
from lexicraft.errors import Conflict, InvalidParameterValue
from lexicraft.timeutil import format_datetime

app = typer.Typer(help="Create, list, show and delete projects.", no_args_is_help=True)

ProjectName = Annotated[str, typer.Argument(help="Project name (letters, digits, _ - .).")]


@app.command("create")
def create(
    name: ProjectName,
    kind: Annotated[str, typer.Option("--kind", help=f"Project kind: {KIND_HELP}")],
    language: Annotated[str, typer.Option(help="Language code of the documents.")] = "en",
    description: Annotated[str | None, typer.Option(help="What the project is for.")] = None,
    multilingual: Annotated[
        bool, typer.Option(help="Documents may be in other languages too.")
    ] = False,
    data_dir: DataDir = None,
    endpoint: Endpoint = None,
    key: Key = None,
) -> None:
    """Create an empty project (import documents into it with 'lexicraft import')."""
    project_kind = parse_kind(kind)
    assert project_kind is not None
    check_name(name, "projectName")
    with connect(data_dir, endpoint, key) as backend:
        if backend.find_project(name) is not None:
            raise Conflict(f"project {name!r} already exists; see 'lexicraft project show {name}'")
        project = backend.create_project(
            Project(
                name=name,
                kind=project_kind,
                language=language,
                storage_container=name,
                multilingual=multilingual,
                description=description,
            )
        )
    typer.echo(f"created project {project.name} ({project.kind.value}, {project.language})")


@app.command("list")
def list_projects(data_dir: DataDir = None, endpoint: Endpoint = None, key: Key = None) -> None:
    """List projects."""
    with connect(data_dir, endpoint, key) as backend:
        found = backend.list_projects()
    table = Table("name", "kind", "language", "last trained", "last deployed")
    for project in found:
        table.add_row(
            project.name,
            project.kind.value,
            project.language,
            format_datetime(project.last_trained_at) if project.last_trained_at else "",
            format_datetime(project.last_deployed_at) if project.last_deployed_at else "",
        )
    if not found:
        typer.echo(
            "no projects yet; create one with 'lexicraft project create' or 'lexicraft import'"
        )
        return
    stdout().print(table)


@app.command("show")
def show(
    name: ProjectName, data_dir: DataDir = None, endpoint: Endpoint = None, key: Key = None
) -> None:
    """Show a project: its labels, documents, trained models and deployments."""
    with connect(data_dir, endpoint, key) as backend:
        view = backend.show_project(name)
    project = view.project
    console = stdout()
    console.print(f"project:     {project.name}")
    console.print(f"kind:        {project.kind.value}")
    console.print(
        f"language:    {project.language}{' (multilingual)' if project.multilingual else ''}"
    )
    if project.description:
        console.print(f"description: {project.description}")
    # A conversation project's documents are its utterances, its labels its entities.
    conversation = project.kind.is_conversation
    if view.document_count is not None:
        split = ", ".join(f"{count} {name}" for name, count in sorted(view.datasets.items()))
        what = "utterances: " if conversation else "documents:  "
        console.print(f"{what} {view.document_count}{f' ({split})' if split else ''}")
    if view.labels is not None:
        what = "entities:   " if conversation else "labels:     "
        console.print(f"{what} {', '.join(view.labels) or '(none)'}")
    if view.models:
        models = Table("model", "trained", "config version", "seconds", "micro F1", title="models")
        for model in view.models:
            models.add_row(
                model.label,
                model.trained,
                model.training_config_version,
                f"{model.duration_s:.1f}",
                "-" if model.micro_f1 is None else f"{model.micro_f1:.3f}",
            )
        console.print(models)
    if view.deployments:
        deployments = Table("deployment", "model", "deployed", title="deployments")
        for deployment in view.deployments:
            deployments.add_row(
                deployment.name, deployment.model_label or deployment.model_id, deployment.deployed
            )
        console.print(deployments)


@app.command("delete")
def delete(
    name: ProjectName,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    data_dir: DataDir = None,
    endpoint: Endpoint = None,
    key: Key = None,
) -> None:
    """Delete a project with its documents, models and deployments."""
    if not yes:
        if not sys.stdin.isatty():
            raise InvalidParameterValue(
                f"deleting {name!r} removes its documents, models and deployments; pass --yes "
                "to confirm"
            )
        typer.confirm(
            f"Delete project {name!r} with its documents, models and deployments?", abort=True
        )
    with connect(data_dir, endpoint, key) as backend:
        require_success(backend.delete_project(name), f"deleting project {name!r}")
    typer.echo(f"deleted project {name}")
