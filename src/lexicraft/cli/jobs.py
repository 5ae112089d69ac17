"""``lexicraft jobs list|show|cancel``: authoring jobs (import, train, deploy, …)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from lexicraft.cli.backend import connect
from lexicraft.cli.console import DataDir, Endpoint, Key, job_table, stdout, write_stdout

app = typer.Typer(
    help="List, show and cancel authoring jobs (import, export, train, deploy, delete).",
    no_args_is_help=True,
)

JobId = Annotated[str, typer.Argument(help="The job id shown by 'lexicraft jobs list'.")]
ProjectOption = Annotated[
    str | None,
    typer.Option("--project", "-p", help="Only this project's jobs (required with --endpoint)."),
]


@app.command("list")
def list_jobs(
    project: ProjectOption = None,
    running: Annotated[bool, typer.Option(help="Only jobs that have not finished.")] = False,
    data_dir: DataDir = None,
    endpoint: Endpoint = None,
    key: Key = None,
) -> None:
    """List jobs, newest first (remotely: a project's training jobs)."""
    with connect(data_dir, endpoint, key) as backend:
        jobs = backend.list_jobs(project, running)
    if not jobs:
        typer.echo("no jobs")
        return
    stdout().print(job_table(jobs))


@app.command("show")
def show(
    job_id: JobId,
    project: ProjectOption = None,
    data_dir: DataDir = None,
    endpoint: Endpoint = None,
    key: Key = None,
) -> None:
    """Show one job as JSON: status, progress, errors and result."""
    with connect(data_dir, endpoint, key) as backend:
        job = backend.job(job_id, project)
    body = {
        "jobId": job.job_id,
        "kind": job.kind,
        "projectName": job.project_name,
        "target": job.target,
        "status": job.status,
        "percentComplete": job.percent_complete,
        "createdDateTime": job.created,
        "lastUpdatedDateTime": job.updated,
        "errors": list(job.errors),
        "result": job.result,
    }
    write_stdout(json.dumps(body, ensure_ascii=False, indent=2) + "\n")


@app.command("cancel")
def cancel(
    job_id: JobId,
    project: ProjectOption = None,
    data_dir: DataDir = None,
    endpoint: Endpoint = None,
    key: Key = None,
) -> None:
    """Cancel a waiting job, or ask a running one to stop."""
    with connect(data_dir, endpoint, key) as backend:
        job = backend.cancel_job(job_id, project)
    typer.echo(f"job {job.job_id} is {job.status}")
