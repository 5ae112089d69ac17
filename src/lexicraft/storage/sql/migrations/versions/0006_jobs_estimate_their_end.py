"""jobs record when they are estimated to end

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-20 12:00:00

A training job's ``estimatedEndDateTime`` comes from the measured speed of its training steps,
which only the worker running it sees: the worker stores its estimate here with each progress
report, and the API reads it back. Rows written before this revision have none (the field is
then left out, as Azure does before it has an estimate).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("estimated_end_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("estimated_end_at")
