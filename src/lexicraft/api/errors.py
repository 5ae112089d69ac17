"""The one map from errors to HTTP status and the Azure error envelope (spec §0.1)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from lexicraft.api.headers import SECURITY_HEADERS
from lexicraft.api.requests import API_VERSION_REQUIRED
from lexicraft.errors import (
    InvalidParameterValue,
    InvalidRequestBody,
    LexicraftError,
)
from lexicraft.wire.base import (
    EMPTY_BODY_MESSAGE,
    INVALID_JSON_MESSAGE,
    NOT_AN_OBJECT_MESSAGE,
    WireModel,
    field_error,
    field_message,
)

logger = logging.getLogger(__name__)


class InnerError(WireModel):
    """The more specific cause of an error."""

    model_config = ConfigDict(extra="forbid")

    code: str
    message: str


class Error(WireModel):
    """Azure's error object (spec §0.1), as :meth:`LexicraftError.to_error` builds it."""

    model_config = ConfigDict(extra="forbid")

    code: str
    message: str
    target: str | None = None
    details: list[Error] | None = None
    innererror: InnerError | None = None


class ErrorResponse(WireModel):
    """Every 4xx/5xx body (401 has no ``innererror``: the gateway's flattened envelope)."""

    error: Error


#: ``responses=`` for a route's failures, for ``/openapi.json``. Naming "default" also keeps
#: FastAPI's 422 shape out of the docs: no route answers with it.
ERRORS: dict[int | str, dict[str, Any]] = {
    "default": {"model": ErrorResponse, "description": "An Azure error envelope."}
}


def error_response(
    error: LexicraftError,
    headers: dict[str, str] | None = None,
    *,
    retry_after_s: int | None = None,
) -> JSONResponse:
    """The response for ``error``; 401 uses the gateway's flattened envelope.

    Every 503 (database or storage out of reach, not ready, storage credentials refused)
    says when to retry with ``Retry-After: retry_after_s``.
    """
    if error.status_code == 503 and retry_after_s is not None:
        headers = {**(headers or {}), "Retry-After": str(retry_after_s)}
    body: dict[str, Any]
    if error.status_code == 401:
        body = {"error": {"code": "401", "message": error.message}}
    else:
        body = {"error": error.to_error()}
    return JSONResponse(body, status_code=error.status_code, headers=headers)


def validation_error(errors: Sequence[Mapping[str, Any]]) -> LexicraftError:
    """The Azure error for FastAPI's validation errors: the first one, as a wire path.

    A body that is no JSON object, or a body field of the wrong type or shape, is
    ``InvalidRequestBodyFormat`` (as the hand-written parsers answered); a bad query or path
    parameter is ``InvalidParameterValue``. Never FastAPI's 422 shape.
    """
    first = errors[0] if errors else {}
    loc = tuple(first.get("loc", ()))
    kind = str(first.get("type", ""))
    if not loc or loc[0] != "body":
        name = str(loc[-1]) if loc else None
        if name == "api-version" and kind == "missing":
            return InvalidParameterValue(API_VERSION_REQUIRED, target=name)
        return InvalidParameterValue(field_message(name, kind, first), target=name)
    if kind == "json_invalid":  # its location is the character where decoding failed
        detail = first.get("ctx", {}).get("error", "decode error")
        return InvalidRequestBody(f"{INVALID_JSON_MESSAGE}: {detail} (char {loc[-1]})")
    error = field_error(loc[1:], first)
    if error.target is None:
        return InvalidRequestBody(_body_message(kind, first.get("input")))
    return error


def _body_message(kind: str, given: object) -> str:
    """The body itself failed: absent, not JSON-typed, or JSON that is no object."""
    if kind == "missing":
        return EMPTY_BODY_MESSAGE
    if isinstance(given, bytes):
        # FastAPI decodes only a body labeled as JSON (a guard against cross-site forms).
        return f"{NOT_AN_OBJECT_MESSAGE} sent with Content-Type: application/json"
    return NOT_AN_OBJECT_MESSAGE


def _envelope(status: int, code: str, message: str, inner: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner, "message": message}
    return JSONResponse({"error": error}, status_code=status)


def install_error_handlers(app: FastAPI, *, retry_after_s: int) -> None:
    """Make every failure an Azure envelope, never a bare 500 page.

    ``retry_after_s`` goes into the ``Retry-After`` header of every 503: a request whose
    database call failed because the database cannot be reached ends as a
    :class:`~lexicraft.errors.DatabaseUnavailable` (the storage adapter translates it).
    """

    @app.exception_handler(LexicraftError)
    async def _lexicraft(_request: Request, error: LexicraftError) -> JSONResponse:
        return error_response(error, retry_after_s=retry_after_s)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(validation_error(error.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 404:
            return _envelope(404, "NotFound", "Resource not found.")
        if error.status_code == 405:
            return _envelope(405, "InvalidRequest", "Method not allowed on this resource.")
        return _envelope(error.status_code, "InvalidRequest", str(error.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=error)
        response = _envelope(500, "InternalServerError", "An internal error occurred.")
        # Starlette answers this one outside every middleware, so the headers go on here.
        response.headers.update({name.decode(): value.decode() for name, value in SECURITY_HEADERS})
        return response
