"""multi-label MiniLM models trained with the softmax head are textcat.minilm-multi.v2

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 20:40:00

``textcat.minilm-multi.v1`` changed from a sigmoid to a softmax head under the same name on
2026-11-23 (commit 24dc3b6); the name now means the sigmoid head again and the softmax head is
``textcat.minilm-multi.v2``. Nothing inside a folder tells the two apart, but the training
date does: a v1 model trained after the change has the softmax head, so its row and its
folder's ``config.json`` are renamed to v2. This one-off edit of a model folder's config is
the only one outside ``ml/artifacts.py``: a migration must not depend on code that changes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OLD, _NEW = "textcat.minilm-multi.v1", "textcat.minilm-multi.v2"
#: When the softmax head replaced the sigmoid head under the v1 name.
_SOFTMAX_SINCE = datetime(2026, 11, 23, 14, 31, 18, tzinfo=UTC)


def _trained_with_softmax(value: object) -> bool:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return False
    when = value if value.tzinfo else value.replace(tzinfo=UTC)
    return when >= _SOFTMAX_SINCE


def _set_backend(artifact_dir: str, old: str, new: str) -> None:
    """Rename the backend in a folder's ``config.json`` from ``old`` to ``new``, atomically."""
    config_path = Path(artifact_dir) / "config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # a missing folder stays missing; loading it reports that
    if isinstance(config, dict) and config.get("backend") == old:
        config["backend"] = new
        temporary = config_path.with_name("config.json.partial")
        temporary.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        temporary.replace(config_path)


def _rename(rows: list[tuple[int, str]], old: str, new: str) -> None:
    connection = op.get_bind()
    for row_id, artifact_dir in rows:
        _set_backend(artifact_dir, old, new)
        connection.execute(
            sa.text("UPDATE trained_models SET backend = :new WHERE id = :id"),
            {"new": new, "id": row_id},
        )


def upgrade() -> None:
    rows = op.get_bind().execute(
        sa.text("SELECT id, artifact_dir, trained_at FROM trained_models WHERE backend = :old"),
        {"old": _OLD},
    )
    _rename(
        [
            (row_id, folder)
            for row_id, folder, trained_at in rows
            if _trained_with_softmax(trained_at)
        ],
        _OLD,
        _NEW,
    )


def downgrade() -> None:
    # Older code knows no v2; it read every v1 folder with the softmax head.
    rows = op.get_bind().execute(
        sa.text("SELECT id, artifact_dir FROM trained_models WHERE backend = :new"), {"new": _NEW}
    )
    _rename([(row_id, folder) for row_id, folder in rows], _NEW, _OLD)
