"""``lexicraft demo``: make sure a key exists and the demo projects are deployed."""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from lexicraft.bootstrap import open_context, stop_workers, worker_pools
from lexicraft.cli.common import load_settings
from lexicraft.domain.jobs import JobKind, JobStatus
from lexicraft.domain.training import EvaluationOptions, TrainingRequest
from lexicraft.errors import LexicraftError
from lexicraft.services import authoring_jobs, deployments, keys, projects, training
from lexicraft.services.context import ServiceContext
from lexicraft.wire.project_file import parse_project_file

DEMO_PROJECTS = ("demo-ner", "demo-classify")
DEMO_MODEL = "demo-model"
DEMO_DEPLOYMENT = "production"


def ensure_key(context: ServiceContext) -> str:
    """The local operator key, created (and saved in the data dir, mode 0600) on first use."""
    path = context.settings.data_dir / "api-key"
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if keys.verify_key(context.database, key, None):
            return key
    _row, key = keys.create_key(context.database, "local")
    path.write_text(key + "\n", encoding="utf-8")
    path.chmod(0o600)
    return key


def _wait(context: ServiceContext, job_id: str, kind: JobKind) -> None:
    while True:
        job = authoring_jobs.get_job(context, job_id, [kind])
        if job.status.is_terminal:
            if job.status is not JobStatus.SUCCEEDED:
                raise RuntimeError(f"{kind.value} job {job_id} {job.status}: {job.errors}")
            return
        time.sleep(0.2)


def _is_deployed(context: ServiceContext, name: str) -> bool:
    try:
        deployments.get_deployment(context, name, DEMO_DEPLOYMENT)
    except LexicraftError:  # no such project or deployment yet
        return False
    return True


def deploy_demo_project(context: ServiceContext, name: str) -> None:
    """Import, train and deploy one demo project through the normal job path."""
    project_file: dict[str, Any] = json.loads(
        resources.files("lexicraft.demo").joinpath(f"data/{name}.json").read_text("utf-8")
    )
    job = projects.submit_import(context, name, parse_project_file(project_file, name))
    _wait(context, job.id, JobKind.IMPORT)
    request = TrainingRequest(DEMO_MODEL, "latest", EvaluationOptions.create("manual"))
    job = training.submit_training(context, name, request)
    _wait(context, job.id, JobKind.TRAIN)
    job = deployments.submit_deploy(context, name, DEMO_DEPLOYMENT, DEMO_MODEL)
    _wait(context, job.id, JobKind.DEPLOY)


def set_up_demo(
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Data folder.")] = None,
    port: Annotated[int, typer.Option(help="Port shown in the example call.")] = 5000,
) -> None:
    """Migrate, make sure a key exists, deploy the demo projects, print how to call them."""
    context = open_context(load_settings(data_dir))
    key = ensure_key(context)
    missing = [name for name in DEMO_PROJECTS if not _is_deployed(context, name)]
    if missing:
        pools = worker_pools(context)
        for pool in pools:
            pool.start()
        try:
            for name in missing:
                typer.echo(f"importing, training and deploying {name} …")
                deploy_demo_project(context, name)
        finally:
            stop_workers(context, pools)
    endpoint = f"http://127.0.0.1:{port}"
    typer.echo(f"\nendpoint: {endpoint}\nkey:      {key}\n")
    typer.echo("list the projects:")
    typer.echo(
        f'  curl -s "{endpoint}/language/authoring/analyze-text/projects?api-version=2023-04-01"'
        f' -H "Ocp-Apim-Subscription-Key: {key}"\n'
    )
