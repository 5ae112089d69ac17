"""Model folders in the model store: deleted once no trained model and no deployment uses
them, and what killed processes left in the data dir, swept at start."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Collection

from lexicraft.domain.jobs import JobKind
from lexicraft.services.context import ServiceContext
from lexicraft.storage.artifacts.base import Leftover, LeftoverKind
from lexicraft.storage.sql import models as model_store
from lexicraft.storage.sql import projects as project_store

logger = logging.getLogger(__name__)


def attempt_tag(job_id: str) -> str:
    """The tag of the staging folder that training job ``job_id`` trains into: a re-run of
    the job (its worker died) finds what the dead attempt left by it."""
    return hashlib.sha256(job_id.encode("utf-8")).hexdigest()[:12]


def release_artifacts(context: ServiceContext, candidates: Collection[str]) -> None:
    """Delete those of ``candidates`` that nothing uses any more (call after committing).

    A deployment pins the folder it was deployed with, so a retrained or deleted model's
    folder stays while a deployment still serves it.
    """
    with context.database.session() as session:
        unused = model_store.unused_artifact_dirs(session, candidates)
    for folder in unused:
        context.compute.forget(folder)
        context.models.delete(folder)


#: How long the sweep's reads wait for a lock (PostgreSQL) before the sweep gives up.
SWEEP_LOCK_TIMEOUT_S = 5.0


def sweep_leftovers(context: ServiceContext) -> list[str]:
    """Delete what killed processes left in the stores; what was deleted (for the log).

    Several servers and workers may share the data dir (and one may start while another
    trains), so nothing is deleted that a live process may still write or be about to use:

    - a training's staging folder goes when its job is not waiting or running (a re-run of
      the job would delete it anyway);
    - a published model folder goes when no model or deployment row names it and no
      training of that project and label is waiting or running (a training publishes its
      folder before its evaluation, and writes the row after it);
    - a project's empty folder goes when the project is gone and none of its trainings runs;
    - temporary files (an interrupted ONNX export, checksum write, document write, Blob
      download) go once older than ``leftover_grace_s``: nothing names their writer.

    The folders are listed before the database is read: a folder made after the listing is
    never considered, and one listed belongs to a job that was already claimed, so the job
    table read afterwards shows it running, or finished with its row written.
    """
    candidates = context.models.leftovers()
    cutoff = time.time() - context.settings.leftover_grace_s
    # Unfinished jobs first, rows second: a training that finished in between wrote its row
    # before it finished, so the second read sees it.
    trainings = context.queue.list_jobs([JobKind.TRAIN], unfinished_only=True)
    # Housekeeping gives up (logged; the next start tries again) rather than hold up a
    # process's start behind a table another session has locked.
    with context.database.session(lock_timeout_s=SWEEP_LOCK_TIMEOUT_S) as session:
        in_use = model_store.all_artifact_dirs(session)
        projects = {project.name for project in project_store.list_projects(session)}
    live_attempts = {attempt_tag(job.id) for job in trainings}
    live_labels = {(job.project_name, job.target) for job in trainings}
    live_projects = {job.project_name for job in trainings}
    used = {context.models.local_path(artifact) for artifact in in_use}

    def goes(leftover: Leftover) -> bool:
        if leftover.kind is LeftoverKind.STAGING:
            return leftover.attempt not in live_attempts
        if leftover.kind is LeftoverKind.TEMPORARY:
            return leftover.modified < cutoff
        if leftover.kind is LeftoverKind.EMPTY_FOLDER:
            return leftover.key not in projects and leftover.key not in live_projects
        project, name = leftover.key.split("/", 1)
        label = name.rsplit("-", 1)[0]
        return leftover.path not in used and (project, label) not in live_labels

    removed = []
    emptied = set()
    for leftover in candidates:
        if not goes(leftover):
            continue
        if leftover.kind is LeftoverKind.MODEL:
            context.compute.forget(leftover.key)
        if leftover.kind in (LeftoverKind.MODEL, LeftoverKind.STAGING):
            emptied.add(leftover.path.parent.name)
        context.models.discard(leftover)
        removed.append(f"{leftover.kind.value} {leftover.path.name}")
    # A deleted project's folder that this sweep emptied (its orphaned model) goes too.
    for project in emptied - projects - live_projects:
        context.models.forget_project(project)
    removed += [f"temporary {name}" for name in context.blobs.sweep_temporaries(cutoff)]
    if removed:
        logger.info("removed what stopped processes left: %s", ", ".join(removed))
    return removed
