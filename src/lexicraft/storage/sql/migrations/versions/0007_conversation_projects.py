"""conversation projects keep their intents and entity definitions

Revision ID: 0007
Revises: 0006
Create Date: 2027-02-01 12:00:00

A conversation (CLU) project has intents and entities with components (lists, regular
expressions, prebuilt entities) beside its utterances, which are document rows (text in the
row, intent and code-point spans in ``annotations``). The definitions are one JSON document
per project (``projects.conversation``), read and written whole by an import or an export.
Custom text projects, and rows written before this revision, have none (NULL).

A conversation model keeps a snapshot of the project file it was trained on
(``trained_models.snapshot``, read only by ``:load-snapshot``; ``has_snapshot`` says whether
there is one without reading it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("conversation", sa.JSON(), nullable=True))
    with op.batch_alter_table("trained_models") as batch:
        batch.add_column(sa.Column("snapshot", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("has_snapshot", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("trained_models") as batch:
        batch.drop_column("has_snapshot")
        batch.drop_column("snapshot")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("conversation")
