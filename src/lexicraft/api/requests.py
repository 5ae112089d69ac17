"""Request helpers shared by every route: api-version, JSON bodies, paging, absolute URLs."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request

from lexicraft.errors import InvalidDocumentBatch, InvalidParameterValue, InvalidRequestBody

_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")


def api_version(request: Request) -> str:
    """The ``api-version`` query parameter; any dated version is accepted (spec §1.1)."""
    version = request.query_params.get("api-version")
    if version is None:
        raise InvalidParameterValue(
            "the api-version query parameter is required, e.g. api-version=2023-04-01",
            target="api-version",
        )
    if not _API_VERSION.fullmatch(version):
        raise InvalidParameterValue(
            f"api-version {version!r} is not supported; use a dated version such as "
            "2022-05-01, 2023-04-01 or 2024-11-15-preview",
            target="api-version",
        )
    return version


async def json_object(request: Request, max_bytes: int | None = None) -> dict[str, Any]:
    """The request body as a JSON object, or an Azure 400."""
    body = await request.body()
    if max_bytes is not None and len(body) > max_bytes:
        raise InvalidDocumentBatch(
            f"request body is {len(body)} bytes; the limit is {max_bytes} bytes"
        )
    if not body:
        raise InvalidRequestBody("the request body is empty; send a JSON object")
    try:
        parsed = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidRequestBody(f"the request body is not valid JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise InvalidRequestBody("the request body must be a JSON object")
    return parsed


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
