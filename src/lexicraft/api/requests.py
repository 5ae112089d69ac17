"""Request helpers shared by every route: api-version, JSON bodies, paging, absolute URLs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from lexicraft.errors import InvalidDocumentBatch, InvalidParameterValue, InvalidRequestBody

_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")


class WireModel(BaseModel):
    """Base of the typed request bodies: camelCase on the wire, unknown fields ignored.

    Azure ignores fields it does not know (newer clients send newer fields to older
    versions), so the models do too. Instances only come from validation (never built in
    Python), which is why the snake_case names are not accepted on the wire.
    """

    model_config = ConfigDict(alias_generator=to_camel, extra="ignore", frozen=True)


class LimitedBodyRoute(APIRoute):
    """A route that refuses a body over ``settings.max_request_bytes`` before it is parsed.

    FastAPI decodes a typed body before any dependency runs, and the limit is a runtime
    setting, so the check sits in the route itself, ahead of FastAPI's JSON decoding.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            max_bytes: int = request.app.state.context.settings.max_request_bytes
            size = len(await request.body())  # cached: FastAPI reads the same bytes next
            if size > max_bytes:
                raise InvalidDocumentBatch(
                    f"request body is {size} bytes; the limit is {max_bytes} bytes"
                )
            return await handler(request)

        return limited


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


# The body-level messages, shared by json_object and the typed bodies' error map.
EMPTY_BODY_MESSAGE = "the request body is empty; send a JSON object"
INVALID_JSON_MESSAGE = "the request body is not valid JSON"
NOT_AN_OBJECT_MESSAGE = "the request body must be a JSON object"


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or an Azure 400 (for routes without a typed body)."""
    body = await request.body()
    if not body:
        raise InvalidRequestBody(EMPTY_BODY_MESSAGE)
    try:
        parsed = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidRequestBody(f"{INVALID_JSON_MESSAGE}: {error}") from error
    if not isinstance(parsed, dict):
        raise InvalidRequestBody(NOT_AN_OBJECT_MESSAGE)
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
