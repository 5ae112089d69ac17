"""documents remember whether Lexicraft wrote their file

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-10 12:00:00

A document's file in its storage container was either put there by the user (an upload, a
Blob the import reads) or written by Lexicraft for the project (the Studio's new document, an
import's inline text). Deleting a project deletes the second kind, unless another project's
document uses the same file, and never the first. Rows written before this revision say
``false``: their files were not known to be Lexicraft's, so they stay.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(
            sa.Column("file_written", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("file_written")
