"""Trained models and the deployments that pin them, in SQL; functions return domain types."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lexicraft.domain.models import Deployment, ModelEvaluation, TrainedModel
from lexicraft.domain.projects import ProjectKind
from lexicraft.errors import DeploymentNotFound, ModelNotFound
from lexicraft.storage.sql.projects import get_row
from lexicraft.storage.sql.tables import DeploymentRow, ProjectRow, TrainedModelRow
from lexicraft.timeutil import as_utc

# -- trained models ----------------------------------------------------------------------------


def _to_model(row: TrainedModelRow, project_name: str) -> TrainedModel:
    return TrainedModel(
        project_name=project_name,
        label=row.label,
        model_id=row.model_id,
        training_config_version=row.training_config_version,
        artifact_dir=row.artifact_dir,
        trained_at=as_utc(row.trained_at),
        training_duration_s=row.training_duration_s,
        expiration_date=row.expiration_date,
        backend=row.backend,
        evaluation_options=dict(row.evaluation_options or {}),
        has_snapshot=bool(row.has_snapshot),
    )


def _find_model_row(session: Session, project: ProjectRow, label: str) -> TrainedModelRow | None:
    return session.scalar(
        select(TrainedModelRow).where(
            TrainedModelRow.project_id == project.id, TrainedModelRow.label == label
        )
    )


def _get_model_row(session: Session, project: ProjectRow, label: str) -> TrainedModelRow:
    row = _find_model_row(session, project, label)
    if row is None:
        raise ModelNotFound(f"trained model {label!r} was not found in project {project.name!r}")
    return row


def find_model(session: Session, project_name: str, label: str) -> TrainedModel | None:
    """The model ``label`` of the project, if any."""
    row = _find_model_row(session, get_row(session, project_name), label)
    return None if row is None else _to_model(row, project_name)


def get_model(session: Session, project_name: str, label: str) -> TrainedModel:
    """The model ``label`` of the project, else ModelNotFound."""
    return _to_model(_get_model_row(session, get_row(session, project_name), label), project_name)


def find_model_by_id(session: Session, model_id: str) -> tuple[TrainedModel, ProjectKind] | None:
    """The model with ``model_id`` (of any project) and its project's kind, if any."""
    found = session.execute(
        select(TrainedModelRow, ProjectRow.name, ProjectRow.kind)
        .join(ProjectRow, ProjectRow.id == TrainedModelRow.project_id)
        .where(TrainedModelRow.model_id == model_id)
    ).first()
    if found is None:
        return None
    row, project_name, kind = found
    return _to_model(row, project_name), ProjectKind(kind)


def list_models(session: Session, project_name: str) -> list[TrainedModel]:
    """All models of the project by label."""
    project = get_row(session, project_name)
    rows = session.scalars(
        select(TrainedModelRow)
        .where(TrainedModelRow.project_id == project.id)
        .order_by(TrainedModelRow.label)
    )
    return [_to_model(row, project_name) for row in rows]


def get_evaluation(session: Session, project_name: str, label: str) -> ModelEvaluation:
    """The stored evaluation of model ``label``, else ModelNotFound."""
    row = _get_model_row(session, get_row(session, project_name), label)
    return ModelEvaluation(
        options=dict(row.evaluation_options or {}),
        summary=dict(row.evaluation_summary or {}),
        documents=tuple(row.evaluation_documents or ()),
    )


def save_model(
    session: Session,
    model: TrainedModel,
    evaluation: ModelEvaluation,
    snapshot: dict[str, Any] | None = None,
) -> str | None:
    """Store ``model`` under its label, replacing a model of that label (with the project
    file it was trained on, ``snapshot``, if any).

    Returns the artifact folder of the model it replaced (None for a new label); deployments
    that pinned the replaced model keep it. Two trainings of one label that finish together
    save one after the other: the second replaces the first's model, as a retrain does.
    """
    # The project's row is written first (a no-op UPDATE) so that savers of one project queue
    # up on its lock until the transaction ends: a row lock on PostgreSQL, the write lock on
    # SQLite (where SELECT ... FOR UPDATE locks nothing). The look-up below then sees the model
    # a concurrent saver committed, instead of both inserting the label and the second failing
    # on the unique key.
    session.execute(
        update(ProjectRow)
        .where(ProjectRow.name == model.project_name)
        .values(name=ProjectRow.name)
        .execution_options(synchronize_session=False)
    )
    project = get_row(session, model.project_name)
    row = _find_model_row(session, project, model.label)
    replaced = None if row is None else row.artifact_dir
    if row is None:
        row = TrainedModelRow(project_id=project.id, label=model.label)
        session.add(row)
    row.model_id = model.model_id
    row.training_config_version = model.training_config_version
    row.backend = model.backend
    row.artifact_dir = model.artifact_dir
    row.trained_at = model.trained_at
    row.training_duration_s = model.training_duration_s
    row.expiration_date = model.expiration_date
    row.evaluation_options = dict(evaluation.options)
    row.evaluation_summary = dict(evaluation.summary)
    row.evaluation_documents = list(evaluation.documents)
    row.snapshot = snapshot
    row.has_snapshot = snapshot is not None
    session.flush()
    return replaced


def get_snapshot(session: Session, project_name: str, label: str) -> dict[str, Any] | None:
    """The project file model ``label`` was trained on (None: none kept), else ModelNotFound."""
    row = _get_model_row(session, get_row(session, project_name), label)
    return None if row.snapshot is None else dict(row.snapshot)


def delete_model(session: Session, project_name: str, label: str) -> TrainedModel:
    """Delete model ``label`` (else ModelNotFound); returns what was deleted."""
    row = _get_model_row(session, get_row(session, project_name), label)
    model = _to_model(row, project_name)
    session.delete(row)
    session.flush()
    return model


def artifact_dirs(session: Session, project_name: str) -> set[str]:
    """Every model folder the project's models and deployments use."""
    project = get_row(session, project_name)
    models = session.scalars(
        select(TrainedModelRow.artifact_dir).where(TrainedModelRow.project_id == project.id)
    )
    pinned = session.scalars(
        select(DeploymentRow.model_artifact_dir).where(DeploymentRow.project_id == project.id)
    )
    return set(models) | set(pinned)


def unused_artifact_dirs(session: Session, candidates: Collection[str]) -> set[str]:
    """Those of ``candidates`` that no model and no deployment uses any more."""
    wanted = set(candidates)
    if not wanted:
        return set()
    used = set(
        session.scalars(
            select(TrainedModelRow.artifact_dir).where(TrainedModelRow.artifact_dir.in_(wanted))
        )
    ) | set(
        session.scalars(
            select(DeploymentRow.model_artifact_dir).where(
                DeploymentRow.model_artifact_dir.in_(wanted)
            )
        )
    )
    return wanted - used


# -- deployments -------------------------------------------------------------------------------


def _to_deployment(row: DeploymentRow, project_name: str) -> Deployment:
    return Deployment(
        project_name=project_name,
        name=row.name,
        deployed_at=as_utc(row.deployed_at),
        model=TrainedModel(
            project_name=project_name,
            label=row.model_label,
            model_id=row.model_id,
            training_config_version=row.model_training_config_version,
            artifact_dir=row.model_artifact_dir,
            trained_at=as_utc(row.model_trained_at),
            training_duration_s=row.model_training_duration_s,
            expiration_date=row.model_expiration_date,
        ),
    )


def _find_deployment_row(session: Session, project: ProjectRow, name: str) -> DeploymentRow | None:
    return session.scalar(
        select(DeploymentRow).where(
            DeploymentRow.project_id == project.id, DeploymentRow.name == name
        )
    )


def _get_deployment_row(session: Session, project: ProjectRow, name: str) -> DeploymentRow:
    row = _find_deployment_row(session, project, name)
    if row is None:
        raise DeploymentNotFound(f"deployment {name!r} was not found in project {project.name!r}")
    return row


def find_deployment(session: Session, project_name: str, name: str) -> Deployment | None:
    """The deployment ``name`` of the project, if any."""
    row = _find_deployment_row(session, get_row(session, project_name), name)
    return None if row is None else _to_deployment(row, project_name)


def get_deployment(session: Session, project_name: str, name: str) -> Deployment:
    """The deployment ``name`` of the project, else DeploymentNotFound."""
    row = _get_deployment_row(session, get_row(session, project_name), name)
    return _to_deployment(row, project_name)


def list_deployments(session: Session, project_name: str) -> list[Deployment]:
    """All deployments of the project by name."""
    project = get_row(session, project_name)
    rows = session.scalars(
        select(DeploymentRow)
        .where(DeploymentRow.project_id == project.id)
        .order_by(DeploymentRow.name)
    )
    return [_to_deployment(row, project_name) for row in rows]


def list_all_deployments(session: Session) -> list[Deployment]:
    """Every deployment of every project, by project and name."""
    rows = session.execute(
        select(DeploymentRow, ProjectRow.name)
        .join(ProjectRow, ProjectRow.id == DeploymentRow.project_id)
        .order_by(ProjectRow.name, DeploymentRow.name)
    )
    return [_to_deployment(row, project_name) for row, project_name in rows]


def all_artifact_dirs(session: Session) -> set[str]:
    """Every model folder that a trained model or a deployment of any project uses."""
    models = session.scalars(select(TrainedModelRow.artifact_dir))
    pinned = session.scalars(select(DeploymentRow.model_artifact_dir))
    return set(models) | set(pinned)


def served_model(
    session: Session, project_name: str, deployment_name: str
) -> tuple[str, ProjectKind] | None:
    """The artifact folder a deployment pins and its project's kind, in one narrow query.

    Only two columns are read: every analyze job asks this, and a model row also holds its
    evaluation, a large JSON document that it would otherwise decode.
    """
    found = session.execute(
        select(DeploymentRow.model_artifact_dir, ProjectRow.kind)
        .join(ProjectRow, ProjectRow.id == DeploymentRow.project_id)
        .where(ProjectRow.name == project_name, DeploymentRow.name == deployment_name)
    ).first()
    return None if found is None else (found[0], ProjectKind(found[1]))


def pin_deployment(
    session: Session, name: str, model: TrainedModel, when: datetime
) -> tuple[Deployment, str | None]:
    """Point deployment ``name`` of the model's project at ``model`` (creating it if needed).

    Returns the deployment and the artifact folder it pinned before (None if it is new).
    """
    project = get_row(session, model.project_name)
    # Read before a new row is added: the query would flush it half-filled.
    snapshot = _served_snapshot(session, project, model)
    row = _find_deployment_row(session, project, name)
    previous = None if row is None else row.model_artifact_dir
    if row is None:
        row = DeploymentRow(project_id=project.id, name=name)
        session.add(row)
    _pin(row, model, snapshot)
    row.deployed_at = when
    session.flush()
    return _to_deployment(row, model.project_name), previous


def _served_snapshot(
    session: Session, project: ProjectRow, model: TrainedModel
) -> dict[str, Any] | None:
    """What a deployment of ``model`` keeps of the project file it was trained on: all but
    the utterances (the runtime needs the metadata, intents and entities only)."""
    row = _find_model_row(session, project, model.label)
    if row is None or row.artifact_dir != model.artifact_dir or row.snapshot is None:
        return None
    snapshot = dict(row.snapshot)
    assets = snapshot.get("assets")
    if isinstance(assets, dict):
        snapshot["assets"] = {key: value for key, value in assets.items() if key != "utterances"}
    return snapshot


def served_snapshot(
    session: Session, project_name: str, artifact_dir: str
) -> tuple[bool, dict[str, Any] | None]:
    """Whether a deployment of the project pins the run ``artifact_dir``, and the project file
    (without utterances) it answers with: the same for every deployment of that run (None
    for custom text, or a pin written before deployments kept snapshots).

    Looked up by the run rather than by a deployment's name, so a deploy or a swap between
    reading a pin and this can never pair a run with another run's project file.
    """
    row = session.scalars(
        select(DeploymentRow)
        .join(ProjectRow, ProjectRow.id == DeploymentRow.project_id)
        .where(ProjectRow.name == project_name, DeploymentRow.model_artifact_dir == artifact_dir)
        .limit(1)
    ).first()
    if row is None:
        return False, None
    return True, None if row.model_snapshot is None else dict(row.model_snapshot)


def _pin(row: DeploymentRow, model: TrainedModel, snapshot: dict[str, Any] | None) -> None:
    row.model_label = model.label
    row.model_id = model.model_id
    row.model_artifact_dir = model.artifact_dir
    row.model_training_config_version = model.training_config_version
    row.model_trained_at = model.trained_at
    row.model_training_duration_s = model.training_duration_s
    row.model_expiration_date = model.expiration_date
    row.model_snapshot = snapshot


def swap_deployments(
    session: Session, project_name: str, first: str, second: str, when: datetime
) -> None:
    """Exchange the pinned models of two deployments (DeploymentNotFound if one is missing)."""
    project = get_row(session, project_name)
    first_row = _get_deployment_row(session, project, first)
    second_row = _get_deployment_row(session, project, second)
    first_model, first_snapshot = (
        _to_deployment(first_row, project_name).model,
        first_row.model_snapshot,
    )
    _pin(first_row, _to_deployment(second_row, project_name).model, second_row.model_snapshot)
    _pin(second_row, first_model, first_snapshot)
    first_row.deployed_at = second_row.deployed_at = when
    session.flush()


def delete_deployment(session: Session, project_name: str, name: str) -> Deployment | None:
    """Delete deployment ``name`` if it exists; returns what was deleted."""
    project = get_row(session, project_name)
    row = _find_deployment_row(session, project, name)
    if row is None:
        return None
    deployment = _to_deployment(row, project_name)
    session.delete(row)
    session.flush()
    return deployment
