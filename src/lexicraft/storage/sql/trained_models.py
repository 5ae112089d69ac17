"""Trained models and deployments in SQL."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lexicraft.errors import DeploymentNotFound, ModelNotFound
from lexicraft.storage.sql.tables import DeploymentRow, ProjectRow, TrainedModelRow


def find_model(session: Session, project: ProjectRow, label: str) -> TrainedModelRow | None:
    """The model ``label`` of ``project``, if any."""
    return session.scalar(
        select(TrainedModelRow).where(
            TrainedModelRow.project_id == project.id, TrainedModelRow.label == label
        )
    )


def get_model(session: Session, project: ProjectRow, label: str) -> TrainedModelRow:
    """The model ``label`` of ``project``, else ModelNotFound."""
    row = find_model(session, project, label)
    if row is None:
        raise ModelNotFound(f"trained model {label!r} was not found in project {project.name!r}")
    return row


def list_models(session: Session, project: ProjectRow) -> list[TrainedModelRow]:
    """All models of ``project`` by label."""
    return list(
        session.scalars(
            select(TrainedModelRow)
            .where(TrainedModelRow.project_id == project.id)
            .order_by(TrainedModelRow.label)
        )
    )


def find_deployment(session: Session, project: ProjectRow, name: str) -> DeploymentRow | None:
    """The deployment ``name`` of ``project``, if any."""
    return session.scalar(
        select(DeploymentRow).where(
            DeploymentRow.project_id == project.id, DeploymentRow.name == name
        )
    )


def get_deployment(session: Session, project: ProjectRow, name: str) -> DeploymentRow:
    """The deployment ``name`` of ``project``, else DeploymentNotFound."""
    row = find_deployment(session, project, name)
    if row is None:
        raise DeploymentNotFound(f"deployment {name!r} was not found in project {project.name!r}")
    return row


def list_deployments(session: Session, project: ProjectRow) -> list[DeploymentRow]:
    """All deployments of ``project`` by name."""
    return list(
        session.scalars(
            select(DeploymentRow)
            .where(DeploymentRow.project_id == project.id)
            .order_by(DeploymentRow.name)
        )
    )
