"""users with roles, key scopes, and each document's history

Revision ID: 0009
Revises: 0008
Create Date: 2027-02-10 12:00:00

A team labels a project together: ``users`` are named people with a role (admin, annotator,
reviewer) who may be disabled; a subscription key may belong to a user (``api_keys.user_id``)
and has a ``scope`` (full, authoring, runtime) that bounds what it may do. Keys made before
this revision belong to no one and have the ``full`` scope: machine keys with every right, so
nothing that used them breaks.

``document_events`` is a document's history: who (the user's or the key's name), when, and
what (the action and the labels before and after) for every change the labeling routes make,
written in the change's own transaction. The rows name the document by location and the
actor by name (no foreign key to either): history outlives a deleted document or user, and
goes with its project.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("scope", sa.String(length=16), nullable=False, server_default="full")
        )
        batch.create_foreign_key("fk_api_keys_user_id", "users", ["user_id"], ["id"])
        batch.create_index("ix_api_keys_user_id", ["user_id"])
    op.create_table(
        "document_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=1024), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_document_events_document", "document_events", ["project_id", "location", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_document_events_document", table_name="document_events")
    op.drop_table("document_events")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index("ix_api_keys_user_id")
        batch.drop_constraint("fk_api_keys_user_id", type_="foreignkey")
        batch.drop_column("scope")
        batch.drop_column("user_id")
    op.drop_table("users")
