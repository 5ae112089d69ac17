"""deployments pin the training run they were given

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_PINNED = (
    ("model_id", sa.String(length=200), "model_id"),
    ("model_artifact_dir", sa.String(length=1024), "artifact_dir"),
    ("model_training_config_version", sa.String(length=64), "training_config_version"),
    ("model_trained_at", sa.DateTime(timezone=True), "trained_at"),
    ("model_training_duration_s", sa.Float(), "training_duration_s"),
    ("model_expiration_date", sa.String(length=10), "expiration_date"),
)


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch_op:
        for column, type_, _source in _PINNED:
            batch_op.add_column(sa.Column(column, type_, nullable=True))
    # Existing deployments pin the model their label names today.
    for column, _type, source in _PINNED:
        op.execute(
            f"UPDATE deployments SET {column} = (SELECT trained_models.{source} "  # noqa: S608
            "FROM trained_models WHERE trained_models.project_id = deployments.project_id "
            "AND trained_models.label = deployments.model_label)"
        )
    # A deployment whose model is gone served nothing; it cannot pin anything.
    op.execute("DELETE FROM deployments WHERE model_id IS NULL")
    with op.batch_alter_table("deployments") as batch_op:
        for column, type_, _source in _PINNED:
            batch_op.alter_column(column, existing_type=type_, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch_op:
        for column, _type, _source in _PINNED:
            batch_op.drop_column(column)
