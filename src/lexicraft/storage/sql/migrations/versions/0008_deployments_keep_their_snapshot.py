"""deployments keep the conversation project file their model was trained on

Revision ID: 0008
Revises: 0007
Create Date: 2027-02-02 12:00:00

A conversation deployment answers with the intents, entity components, language and
``confidenceThreshold`` its model was trained with, as Azure's do (a changed list component
takes effect once the model is trained and deployed again). The model row keeps that project
file (``trained_models.snapshot``), but retraining the label replaces it while a deployment
still pins the earlier run; so a deploy or a swap copies it, utterances left out, beside the
other ``model_*`` columns of the pin. Custom text deployments, and rows written before this
revision, have none (NULL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("model_snapshot", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("model_snapshot")
