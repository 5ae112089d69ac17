"""The one map from errors to HTTP status and the Azure error envelope (spec §0.1)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lexicraft.errors import LexicraftError

logger = logging.getLogger(__name__)


def error_response(error: LexicraftError, headers: dict[str, str] | None = None) -> JSONResponse:
    """The response for ``error``; 401 uses the gateway's flattened envelope."""
    body: dict[str, Any]
    if error.status_code == 401:
        body = {"error": {"code": "401", "message": error.message}}
    else:
        body = {"error": error.to_error()}
    return JSONResponse(body, status_code=error.status_code, headers=headers)


def _envelope(status: int, code: str, message: str, inner: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner, "message": message}
    return JSONResponse({"error": error}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Make every failure an Azure envelope, never a bare 500 page."""

    @app.exception_handler(LexicraftError)
    async def _lexicraft(_request: Request, error: LexicraftError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid value')}" if where else "Invalid request."
        return _envelope(400, "InvalidRequest", message, "InvalidParameterValue")

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
        return _envelope(500, "InternalServerError", "An internal error occurred.")
