"""document review, per-annotator versions for agreement, and review settings

Revision ID: 0010
Revises: 0009
Create Date: 2027-02-12 12:00:00

A document goes unlabeled → labeled → reviewed: ``documents.review_state`` (NULL: not
reviewed, ``accepted`` or ``sentBack``) with who reviewed it, when and why, and
``labeled_by`` (who last changed its labels). A label change after a review clears the review.

A project may put a share of its documents (``double_annotation_fraction``) through double
annotation: each annotator's labels of such a document are a row of ``document_annotations``
(by location and annotator name, no foreign keys, as ``document_events``), compared for
inter-annotator agreement; the document's own labels stay the resolved version. With
``train_reviewed_only`` a training uses the accepted documents alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("labeled_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("review_state", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("review_comment", sa.Text(), nullable=True))
    # Not in batch mode: on SQLite a batch that recreates ``projects`` (as a boolean's server
    # default makes it) drops the old table, and its ON DELETE CASCADE empties every child
    # table (documents, models, deployments). ADD COLUMN with a constant default is enough.
    op.add_column(
        "projects",
        sa.Column("train_reviewed_only", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "projects",
        sa.Column("double_annotation_fraction", sa.Float(), nullable=False, server_default="0"),
    )
    with op.batch_alter_table("document_events") as batch:
        batch.add_column(sa.Column("comment", sa.Text(), nullable=True))
    op.create_table(
        "document_annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=1024), nullable=False),
        sa.Column("annotator", sa.String(length=100), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "location", "annotator"),
    )


def downgrade() -> None:
    op.drop_table("document_annotations")
    with op.batch_alter_table("document_events") as batch:
        batch.drop_column("comment")
    # Not in batch mode either (see upgrade): SQLite 3.35+ drops a column in place.
    op.drop_column("projects", "double_annotation_fraction")
    op.drop_column("projects", "train_reviewed_only")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("review_comment")
        batch.drop_column("reviewed_at")
        batch.drop_column("reviewed_by")
        batch.drop_column("review_state")
        batch.drop_column("labeled_by")
