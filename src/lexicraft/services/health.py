"""Readiness: whether this process can serve requests now (``/health/ready``)."""

from __future__ import annotations

import logging

from lexicraft.errors import (
    DatabaseUnavailable,
    LexicraftError,
    NotReady,
    StorageUnavailable,
)
from lexicraft.services.context import ServiceContext
from lexicraft.storage.sql.engine import DatabaseUnreachable, SchemaOutOfDate, check_schema

logger = logging.getLogger(__name__)


def check_ready(context: ServiceContext) -> None:
    """Raise :class:`NotReady` naming each of database, schema and storage that is not ready.

    The database answers a cheap query (its schema revision, which must be this version's);
    the blob store is reachable. The causes are logged: they hold URLs and paths that a
    caller must not see.
    """
    problems: list[LexicraftError] = []
    try:
        check_schema(context.database.engine)
    except DatabaseUnreachable as error:
        logger.info("not ready: %s", error)
        problems.append(DatabaseUnavailable("The database cannot be reached.", target="database"))
    except SchemaOutOfDate as error:
        logger.info("not ready: %s", error)
        problems.append(
            NotReady(
                "The database schema is not the one this version of Lexicraft needs; "
                "run 'lexicraft migrate'.",
                target="schema",
            )
        )
    try:
        context.blobs.check_reachable()
    except StorageUnavailable as error:
        logger.info("not ready: %s", error.message)
        problems.append(StorageUnavailable(error.message, target="storage"))
    if problems:
        names = ", ".join(str(problem.target) for problem in problems)
        raise NotReady(f"Lexicraft is not ready: {names}.", details=tuple(problems))
