"""Request body limits, per route family, enforced before any route reads a body.

A plain ASGI middleware rather than a check in the routes: FastAPI reads and decodes a typed
body before the route (or any dependency) runs, and Starlette's ``request.body()`` gathers
all of it, so a check there comes after the memory is spent. Here a body whose
``Content-Length`` is over the limit is refused before a byte of it is read, and a streamed
(chunked) body is counted as it arrives and refused as soon as it grows past the limit; a body
within the limit is handed to the route unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lexicraft.api.authoring.routes import PREFIX as AUTHORING_PREFIX
from lexicraft.api.authoring.storage import router as storage_router
from lexicraft.api.errors import error_response
from lexicraft.api.runtime.analyze_text import JOBS, SYNC
from lexicraft.api.runtime.legacy import PREFIX as LEGACY_PREFIX
from lexicraft.errors import RequestTooLarge
from lexicraft.settings import Settings

_IMPORT = re.compile(re.escape(AUTHORING_PREFIX) + r"/[^/]+/:import")
_UPLOAD_PREFIX = storage_router.prefix + "/"


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """The most bytes a request's body may have, and the setting that says so."""

    max_bytes: int
    setting: str  # the Settings field, named in the error as its environment variable
    what: str  # the route family, for the error message

    def error(self) -> RequestTooLarge:
        return RequestTooLarge(
            f"The request body is larger than {self.max_bytes} bytes, the limit for {self.what} "
            f"(setting LEXICRAFT_{self.setting.upper()})."
        )


def body_limit(settings: Settings, method: str, path: str) -> BodyLimit:
    """The limit of a request's body: the one rule that maps routes to their limits."""
    if path.startswith((JOBS, SYNC, LEGACY_PREFIX + "/")):
        return BodyLimit(settings.max_request_bytes, "max_request_bytes", "analyze requests")
    if method == "POST" and _IMPORT.fullmatch(path):
        return BodyLimit(settings.max_import_bytes, "max_import_bytes", "project imports")
    if method == "PUT" and path.startswith(_UPLOAD_PREFIX):
        return BodyLimit(settings.max_upload_bytes, "max_upload_bytes", "document uploads")
    return BodyLimit(
        settings.max_authoring_request_bytes, "max_authoring_request_bytes", "this request"
    )


def _declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` header's value; None when absent (or unreadable: then the
    body is counted as it arrives instead)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _has_body(scope: Scope) -> bool:
    return any(
        (name == b"content-length" and value.strip() not in (b"", b"0"))
        or name == b"transfer-encoding"
        for name, value in scope["headers"]
    )


class BodyLimitMiddleware:
    """Answers 413 (an Azure envelope naming the limit and its setting) to a body over its
    route family's limit (:func:`body_limit`), before the route runs."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        limit = body_limit(self.settings, scope["method"], scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit.max_bytes:
            # Refused unread: the server discards the rest of the body as it arrives.
            await error_response(limit.error())(scope, receive, send)
            return
        # Read the body here, counting it, so that a route never sees more than the limit;
        # the route then reads the same messages (its own copy is bounded by the limit too).
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":  # the client went away: the route sees it
                break
            size += len(message.get("body", b""))
            if size > limit.max_bytes:
                await error_response(limit.error())(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        pending = iter(messages)

        async def replay() -> Message:
            message = next(pending, None)
            return message if message is not None else await receive()

        await self.app(scope, replay, send)
