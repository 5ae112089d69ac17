"""Shared pieces of the CLI: connection options, the error map to exit codes, tables, progress.

Exit codes: 0 done, 1 the request could not be done (the one-line message says why and what
to do), 2 the command line itself is wrong (click's usage errors), 130 interrupted.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group, RenderableType
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from lexicraft.bootstrap import DatabaseNotReady
from lexicraft.cli.backend import Backend, Evaluation, JobView
from lexicraft.domain.projects import ProjectKind
from lexicraft.errors import (
    DeploymentNotFound,
    InvalidParameterValue,
    LexicraftError,
    ModelNotFound,
    OperationNotFound,
    ProjectNotFound,
)

EXIT_FAILED = 1
_PIPED_WIDTH = 200
EXIT_INTERRUPTED = 130

CONNECTION = "Connection"

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="LEXICRAFT_DATA_DIR",
        help="Local data folder (default: ./.lexicraft).",
        show_default=False,
        rich_help_panel=CONNECTION,
    ),
]
Endpoint = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        envvar="LEXICRAFT_ENDPOINT",
        help="URL of a Lexicraft (or Azure Language) server; without it the local data dir "
        "is used.",
        show_default=False,
        rich_help_panel=CONNECTION,
    ),
]
Key = Annotated[
    str | None,
    typer.Option(
        "--key",
        envvar="LEXICRAFT_KEY",
        help="Subscription key for --endpoint (see 'lexicraft keys create').",
        show_default=False,
        rich_help_panel=CONNECTION,
    ),
]

_KIND_NAMES = {
    "ner": ProjectKind.ENTITY_RECOGNITION,
    "entities": ProjectKind.ENTITY_RECOGNITION,
    "single": ProjectKind.SINGLE_LABEL_CLASSIFICATION,
    "single-label": ProjectKind.SINGLE_LABEL_CLASSIFICATION,
    "multi": ProjectKind.MULTI_LABEL_CLASSIFICATION,
    "multi-label": ProjectKind.MULTI_LABEL_CLASSIFICATION,
    "clu": ProjectKind.CONVERSATION,
    "conversation": ProjectKind.CONVERSATION,
}
KIND_HELP = (
    "ner, single (single-label classification), multi (multi-label classification) or clu "
    "(conversation: intents and entities)."
)


def parse_kind(value: str | None) -> ProjectKind | None:
    """A project kind from ``--kind`` (short names or Azure's), else a usage error."""
    if value is None:
        return None
    kind = _KIND_NAMES.get(value.lower())
    if kind is not None:
        return kind
    try:
        return ProjectKind.parse(value)
    except LexicraftError:
        raise typer.BadParameter(f"{value!r} is not a project kind; use {KIND_HELP}") from None


def stdout() -> Console:
    """Where results go; piped output gets wide tables so that ids are never cut."""
    width = None if sys.stdout.isatty() else _PIPED_WIDTH
    return Console(highlight=False, width=width)


def stderr() -> Console:
    """Where progress and notes go (so stdout stays clean for pipes)."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def read_stdin() -> str:
    """Standard input as UTF-8 text, exactly (no newline translation; a BOM is dropped)."""
    try:
        return sys.stdin.buffer.read().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidParameterValue(
            f"standard input is not UTF-8 text (byte {error.start}: {error.reason})"
        ) from None


def write_stdout(text: str) -> None:
    """Write ``text`` to standard output as UTF-8, whatever the locale says."""
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


def _one_line(message: str) -> str:
    return " ".join(message.split())


# What to do next, for errors whose message cannot know the command line.
_HINTS: tuple[tuple[type[LexicraftError], str], ...] = (
    (ProjectNotFound, "; see 'lexicraft project list'"),
    (ModelNotFound, "; see the models in 'lexicraft project show PROJECT'"),
    (DeploymentNotFound, "; see the deployments in 'lexicraft project show PROJECT'"),
    (OperationNotFound, "; see 'lexicraft jobs list'"),
)


class LexicraftGroup(TyperGroup):
    """The root command group: maps errors to one line on stderr and an exit code."""

    # ``ctx`` is click's Context, which typer vendors in some versions and not in others.
    def invoke(self, ctx: Any) -> Any:
        """Run the command; Lexicraft, database and file errors become ``error: …`` and exit 1."""
        try:
            return super().invoke(ctx)
        except LexicraftError as error:
            hint = next((h for kind, h in _HINTS if isinstance(error, kind)), "")
            typer.echo(f"error: {_one_line(error.message)}{hint}", err=True)
            raise typer.Exit(EXIT_FAILED) from None
        except DatabaseNotReady as error:
            # Unreachable, or a schema 'lexicraft migrate' must bring up: the message says so.
            typer.echo(f"error: {_one_line(str(error))}", err=True)
            raise typer.Exit(EXIT_FAILED) from None
        except BrokenPipeError:
            # Whoever read our output stopped (``| head``): end quietly, and keep Python from
            # complaining when it flushes stdout on exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(EXIT_FAILED) from None
        except OSError as error:
            where = f": {error.filename}" if error.filename else ""
            typer.echo(f"error: {error.strerror or error}{where}", err=True)
            raise typer.Exit(EXIT_FAILED) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None


def require_success(job: JobView, what: str) -> JobView:
    """``job`` if it succeeded, else a LexicraftError with its errors."""
    if job.status != "succeeded":
        raise LexicraftError(f"{what} {job.status}: {job.error_message()}")
    return job


def follow_job(backend: Backend, job: JobView, description: str) -> JobView:
    """Poll ``job`` with a live progress bar (on stderr) until it ends; Ctrl-C cancels it."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=stderr(),
    ) as progress:
        task = progress.add_task(description, total=100)
        try:
            while not job.is_terminal:
                phase = "evaluating" if job.percent_complete >= 90 else description
                progress.update(task, completed=job.percent_complete, description=phase)
                time.sleep(0.2)
                job = backend.job(job.job_id, job.project_name)
        except KeyboardInterrupt:
            backend.cancel_job(job.job_id, job.project_name)
            progress.update(task, description="cancelling")
            raise
        done = "done" if job.status == "succeeded" else job.status
        progress.update(task, completed=job.percent_complete, description=done)
    return job


def _metric(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"


def evaluation_table(evaluation: Evaluation, title: str) -> RenderableType:
    """Per-label precision, recall, F1 and counts, then micro and macro averages; for a
    conversation model, a table of its intents and one of its entities."""
    summary = evaluation.summary
    if "intentsEvaluation" in summary:
        intents = summary["intentsEvaluation"]
        entities = summary.get("entitiesEvaluation") or {}
        return Group(
            _metrics_table(intents, intents.get("intents", {}), f"{title}: intents", "intent"),
            _metrics_table(entities, entities.get("entities", {}), f"{title}: entities", "entity"),
        )
    per_label: Mapping[str, Mapping[str, Any]] = summary.get("entities") or summary.get(
        "classes", {}
    )
    return _metrics_table(summary, per_label, title, "label")


def _metrics_table(
    summary: Mapping[str, Any],
    per_label: Mapping[str, Mapping[str, Any]],
    title: str,
    header: str,
) -> Table:
    table = Table(header, "precision", "recall", "F1", "TP", "FP", "FN", title=title)
    for label, metrics in per_label.items():
        table.add_row(
            label,
            _metric(metrics.get("precision")),
            _metric(metrics.get("recall")),
            _metric(metrics.get("f1")),
            str(metrics.get("truePositiveCount", "-")),
            str(metrics.get("falsePositiveCount", "-")),
            str(metrics.get("falseNegativeCount", "-")),
        )
    table.add_section()
    for average in ("micro", "macro"):
        table.add_row(
            average,
            _metric(summary.get(f"{average}Precision")),
            _metric(summary.get(f"{average}Recall")),
            _metric(summary.get(f"{average}F1")),
            "",
            "",
            "",
        )
    return table


def job_table(jobs: list[JobView]) -> Table:
    """Jobs, one per row."""
    table = Table("job id", "kind", "project", "target", "status", "%", "created")
    for job in jobs:
        table.add_row(
            job.job_id,
            job.kind,
            job.project_name or "",
            job.target or "",
            job.status,
            f"{job.percent_complete:.0f}",
            job.created or "",
        )
    return table
