"""``lexicraft train``, ``evaluate``, ``deploy`` and ``export-model``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from lexicraft.cli.backend import connect
from lexicraft.cli.console import (
    DataDir,
    Endpoint,
    Key,
    evaluation_table,
    follow_job,
    require_success,
    stderr,
    stdout,
    write_stdout,
)
from lexicraft.domain.projects import check_name
from lexicraft.errors import InvalidParameterValue, ProjectNotFound

ProjectName = Annotated[str, typer.Argument(help="The project.")]
ModelLabel = Annotated[str, typer.Argument(help="The trained model's label.")]


def train(
    project: ProjectName,
    model_label: Annotated[
        str,
        typer.Option(
            "--model-label", "-m", help="Label of the model to train (replaced if it exists)."
        ),
    ],
    config_version: Annotated[
        str,
        typer.Option("--config-version", help="Training config version ('latest' or a date)."),
    ] = "latest",
    split: Annotated[
        int,
        typer.Option(min=1, max=99, help="Percent of documents to train on; the rest test it."),
    ] = 80,
    manual: Annotated[
        bool,
        typer.Option(help="Split by each document's Train/Test dataset instead of --split."),
    ] = False,
    training_mode: Annotated[
        str | None,
        typer.Option(
            "--training-mode",
            help="Conversation projects only: standard (the default) or advanced; both train "
            "Lexicraft's one model.",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDir = None,
    endpoint: Endpoint = None,
    key: Key = None,
) -> None:
    """Train a model with a live progress bar, then show its evaluation (a conversation
    model's: intents and entities)."""
    check_name(model_label, "modelLabel")
    options: dict[str, Any] = (
        {"kind": "manual"}
        if manual
        else {
            "kind": "percentage",
            "trainingSplitPercentage": split,
            "testingSplitPercentage": 100 - split,
        }
    )
    body = {
        "modelLabel": model_label,
        "trainingConfigVersion": config_version,
        "evaluationOptions": options,
    }
    with connect(data_dir, endpoint, key) as backend:
        found = backend.find_project(project)
        if found is None:
            raise ProjectNotFound(f"project {project!r} was not found")
        if found.kind.is_conversation:
            # The conversation :train body requires it (spec CLU §2.5).
            body["trainingMode"] = training_mode or "standard"
        elif training_mode is not None:
            raise InvalidParameterValue(
                f"--training-mode applies to conversation projects; {project!r} is a "
                f"{found.kind.value} project",
                target="trainingMode",
            )
        job = backend.start_training(project, body)
        job = follow_job(backend, job, f"training {model_label}")
        require_success(job, f"training {model_label!r}")
        evaluation = backend.evaluation(project, model_label)
    stdout().print(evaluation_table(evaluation, f"{project} / {model_label}: evaluation"))
    stderr().print(
        f"trained model {model_label}; deploy it with "
        f"'lexicraft deploy {project} {model_label} --name production'",
        markup=False,
    )


def evaluate(
    project: ProjectName,
    model_label: ModelLabel,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the full summary as JSON.")
    ] = False,
    data_dir: DataDir = None,
    endpoint: Endpoint = None,
    key: Key = None,
) -> None:
    """Show a trained model's evaluation: per-label precision, recall, F1 and counts."""
    with connect(data_dir, endpoint, key) as backend:
        evaluation = backend.evaluation(project, model_label)
    if as_json:
        write_stdout(
            json.dumps(
                {
                    "projectKind": evaluation.project_kind,
                    "evaluationOptions": evaluation.options,
                    "summary": evaluation.summary,
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )
        return
    split = evaluation.options
    stdout().print(evaluation_table(evaluation, f"{project} / {model_label}: evaluation"))
    stderr().print(f"evaluation split: {json.dumps(split)}", markup=False)


def deploy(
    project: ProjectName,
    model_label: ModelLabel,
    name: Annotated[
        str, typer.Option("--name", "-n", help="Deployment name (created or replaced).")
    ],
    data_dir: DataDir = None,
    endpoint: Endpoint = None,
    key: Key = None,
) -> None:
    """Deploy a trained model under a name (replacing what that name served)."""
    check_name(name, "deploymentName")
    with connect(data_dir, endpoint, key) as backend:
        require_success(backend.deploy(project, model_label, name), f"deploying {model_label!r}")
    typer.echo(f"deployed model {model_label} of project {project} as {name}")


def export_model(
    project: ProjectName,
    model_label: ModelLabel,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Folder to create (default: ./<project>-<model>)."),
    ] = None,
    export_format: Annotated[
        str, typer.Option("--format", "-f", help="dir (a folder Lexicraft can load) or onnx.")
    ] = "dir",
    data_dir: DataDir = None,
    endpoint: Endpoint = None,
    key: Key = None,
) -> None:
    """Export a trained model as a self-contained folder with its evaluation and a README.

    Run it without a server: 'lexicraft predict --model FOLDER'.
    """
    destination = output or Path(f"{project}-{model_label}")
    with connect(data_dir, endpoint, key) as backend:
        written = backend.export_model(project, model_label, destination, export_format)
    typer.echo(f"exported model {model_label} of project {project} to {written}")
