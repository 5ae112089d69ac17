"""Readiness: whether this process can serve requests now (``/health/ready``), and whether
the deployed models' files are intact (``/health/models``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import PurePosixPath

from lexicraft.errors import (
    DatabaseUnavailable,
    LexicraftError,
    ModelDamaged,
    NotReady,
    StorageUnavailable,
)
from lexicraft.ml.checksums import VerdictKind
from lexicraft.services.context import ServiceContext
from lexicraft.storage.sql import models as model_store
from lexicraft.storage.sql.engine import DatabaseUnreachable, SchemaOutOfDate, check_schema

logger = logging.getLogger(__name__)


def check_ready(context: ServiceContext) -> None:
    """Raise :class:`NotReady` naming each of database, schema and storage that is not ready.

    The database answers a cheap query (its schema revision, which must be this version's);
    the blob store is reachable. The causes are logged: they hold URLs and paths that a
    caller must not see.
    """
    problems: list[LexicraftError] = []
    try:
        check_schema(context.database.engine)
    except DatabaseUnreachable as error:
        logger.info("not ready: %s", error)
        problems.append(DatabaseUnavailable("The database cannot be reached.", target="database"))
    except SchemaOutOfDate as error:
        logger.info("not ready: %s", error)
        problems.append(
            NotReady(
                "The database schema is not the one this version of Lexicraft needs; "
                "run 'lexicraft migrate'.",
                target="schema",
            )
        )
    try:
        context.blobs.check_reachable()
    except StorageUnavailable as error:
        logger.info("not ready: %s", error.message)
        problems.append(StorageUnavailable(error.message, target="storage"))
    if problems:
        names = ", ".join(str(problem.target) for problem in problems)
        raise NotReady(f"Lexicraft is not ready: {names}.", details=tuple(problems))


@dataclass(frozen=True, slots=True)
class DeploymentHealth:
    """What this host knows about the files of the model a deployment serves."""

    project_name: str
    deployment_name: str
    model_id: str
    status: VerdictKind


def check_models(context: ServiceContext) -> list[DeploymentHealth]:
    """Every deployment's model folder checked against its checksums, on this host.

    Raises :class:`NotReady` with a :class:`ModelDamaged` detail per deployment whose model
    is damaged (its jobs fail). Verdicts are remembered per folder while its files are
    unchanged, so only the first call after a change hashes them. ``absent``: this host has
    no copy (normal with Blob storage, where a host downloads a model when it first serves
    it; with the local store the folder is gone).
    """
    with context.database.session() as session:
        deployments = model_store.list_all_deployments(session)
    report = []
    damaged: list[LexicraftError] = []
    for deployment in deployments:
        artifact = deployment.model.artifact_dir
        verdict = context.model_checks.check(context.models.local_path(artifact))
        report.append(
            DeploymentHealth(
                deployment.project_name, deployment.name, deployment.model.model_id, verdict.kind
            )
        )
        if verdict.damaged:
            logger.error(
                "deployment %s/%s: %s", deployment.project_name, deployment.name, verdict.problem
            )
            damaged.append(
                ModelDamaged(
                    f"Deployment {deployment.name!r} of project {deployment.project_name!r} "
                    f"serves trained model {PurePosixPath(artifact).name!r}, whose files are "
                    "damaged: its analyze jobs fail. Deploy another model, train it again, "
                    "or restore its folder from a backup.",
                    target=f"{deployment.project_name}/{deployment.name}",
                )
            )
    if damaged:
        raise NotReady(
            f"{len(damaged)} deployment(s) serve a model whose files are damaged.",
            details=tuple(damaged),
        )
    return report
