"""jobs record the subscription key that submitted them

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 10:00:00

Workers claim the oldest waiting job of the key with the fewest running jobs, so one key's
requests cannot keep every other key's jobs waiting. Jobs queued before this revision name no
key (NULL), as do jobs of the configured key and of the CLI: they count as one client.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.add_column(sa.Column("api_key_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_column("api_key_id")
