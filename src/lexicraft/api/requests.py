"""Request helpers shared by every route: api-version, paging, absolute URLs."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Query, Request

from lexicraft.errors import InvalidParameterValue
from lexicraft.wire.base import WireModel

# The typed bodies' base lives in the wire layer (file formats and the CLI parse with it too).
__all__ = ["WireModel"]

API_VERSION_PATTERN = r"^\d{4}-\d{2}-\d{2}(-preview)?$"
_API_VERSION = re.compile(API_VERSION_PATTERN)
#: The answer to a request without ``api-version`` (the API's error map words it so).
API_VERSION_REQUIRED = "the api-version query parameter is required, e.g. api-version=2023-04-01"


async def api_version(
    # Declared, so /openapi.json documents it (clients and the schema fuzzer send it); the
    # pattern is documented but checked below, where the error can say what is allowed.
    version: Annotated[
        str,
        Query(
            alias="api-version",
            description="A dated API version; any is accepted (spec §1.1).",
            examples=["2023-04-01"],
            json_schema_extra={"pattern": API_VERSION_PATTERN},
        ),
    ],
) -> str:
    """The ``api-version`` query parameter; any dated version is accepted (spec §1.1)."""
    if not _API_VERSION.fullmatch(version):
        raise InvalidParameterValue(
            f"api-version {version!r} is not supported; use a dated version such as "
            "2022-05-01, 2023-04-01 or 2024-11-15-preview",
            target="api-version",
        )
    return version


def int_query(request: Request, *names: str, default: int | None = None) -> int | None:
    """The first of ``names`` present in the query, as a non-negative int."""
    for name in names:
        raw = request.query_params.get(name)
        if raw is None:
            continue
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if value < 0:
            raise InvalidParameterValue(
                f"{name} must be a non-negative integer, not {raw!r}", target=name
            )
        return value
    return default


def bool_query(request: Request, name: str) -> bool:
    """A boolean query flag (``true``/``True``/``1``)."""
    return request.query_params.get(name, "").lower() in ("true", "1")


def absolute_url(request: Request, path: str, query: str = "") -> str:
    """``path`` (starting with ``/``) on the origin the client used, plus ``?query``."""
    base = str(request.base_url).rstrip("/")
    return f"{base}{path}" + (f"?{query}" if query else "")
