"""What ``:analyze-conversations`` reads per request: small columns, then the assets on a miss.

A conversation project's intents and entity definitions (``projects.conversation``) can be
large (list components of thousands of synonyms). The runtime keeps them, built into entity
components, per model and project version (``services/conversation_runtime.py``), so each request
reads only the project's small columns and the deployment; the assets are read when the
version it has not seen yet comes. The version is the project's ``modified_at``: whatever
writes ``projects.conversation`` must move it (``projects.replace_conversation`` does, through
``replace_assets``), or a process keeps serving the components it built before.
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
