"""What ``:analyze-conversations`` reads of a project per request: its metadata only.

A conversation project's intents and entity definitions (``projects.conversation``) can be
large (list components of thousands of synonyms), and the runtime answers with those its
deployed model was trained on anyway (``deployments.model_snapshot``), so a request reads
the project's small columns to check its kind and leaves the assets column unread.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from lexicraft.domain.projects import Project
from lexicraft.errors import ProjectNotFound
from lexicraft.storage.sql.projects import to_project
from lexicraft.storage.sql.tables import ProjectRow


def get_project_metadata(session: Session, name: str) -> Project:
    """Project ``name``'s metadata, without reading its conversation assets."""
    row = session.scalar(
        select(ProjectRow).options(defer(ProjectRow.conversation)).where(ProjectRow.name == name)
    )
    if row is None:
        raise ProjectNotFound(f"project {name!r} was not found")
    return to_project(row)
