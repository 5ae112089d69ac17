"""Request body limits, per route family, enforced before any route reads a body.

A plain ASGI middleware rather than a check in the routes: FastAPI reads and decodes a typed
body before the route (or any dependency) runs, and Starlette's ``request.body()`` gathers
all of it, so a check there comes after the memory is spent. Here a body whose
``Content-Length`` is over the limit is refused before a byte of it is read, and a streamed
(chunked) body is counted as it arrives and refused as soon as it grows past the limit; a body
within the limit is handed to the route unchanged.

While it reads, the body must keep coming at a minimum rate (a 408 otherwise, and the
connection is closed); once read, a JSON body that a route will parse must stay within the
nesting and integer limits (:mod:`lexicraft.wire.json_limits`), so no parser fails on it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lexicraft.api.authoring.shared import CONVERSATIONS, TEXT
from lexicraft.api.authoring.storage import router as storage_router
from lexicraft.api.errors import error_response
from lexicraft.api.runtime.analyze_text import JOBS, SYNC
from lexicraft.api.runtime.conversations import SYNC as CONVERSATIONS_SYNC
from lexicraft.api.runtime.legacy import PREFIX as LEGACY_PREFIX
from lexicraft.api.studio_api import PREFIX as STUDIO_PREFIX
from lexicraft.errors import LexicraftError, RequestTimeout, RequestTooLarge
from lexicraft.settings import Settings
from lexicraft.wire.json_limits import JsonLimits, json_limit_error

_IMPORT = re.compile(
    "(?:"
    + "|".join(re.escape(family.prefix) for family in (TEXT, CONVERSATIONS))
    + r")/[^/]+/:import"
    # The Studio's import of a file in another format: a project's worth of data too.
    + "|"
    + re.escape(STUDIO_PREFIX)
    + r"/[^/]+/:import-file"
)
_UPLOAD_PREFIX = storage_router.prefix + "/"
#: The runtime routes (analyze requests and their jobs, both API families, and the
#: synchronous conversation analysis).
RUNTIME_PREFIXES = (JOBS, SYNC, CONVERSATIONS_SYNC, LEGACY_PREFIX + "/")
#: Bodies of this many bytes or more are checked in a worker thread, off the event loop.
_THREAD_CHECK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """The most bytes a request's body may have, and the setting that says so."""

    max_bytes: int
    setting: str  # the Settings field, named in the error as its environment variable
    what: str  # the route family, for the error message
    # Whether the route parses the body as JSON (when it is sent as JSON); an uploaded
    # document is stored as it is, whatever it contains.
    parsed: bool = True

    def error(self) -> RequestTooLarge:
        return RequestTooLarge(
            f"The request body is larger than {self.max_bytes} bytes, the limit for {self.what} "
            f"(setting LEXICRAFT_{self.setting.upper()})."
        )


def body_limit(settings: Settings, method: str, path: str) -> BodyLimit:
    """The limit of a request's body: the one rule that maps routes to their limits."""
    if path.startswith(RUNTIME_PREFIXES):
        return BodyLimit(settings.max_request_bytes, "max_request_bytes", "analyze requests")
    if method == "POST" and _IMPORT.fullmatch(path):
        return BodyLimit(settings.max_import_bytes, "max_import_bytes", "project imports")
    if method == "PUT" and path.startswith(_UPLOAD_PREFIX):
        return BodyLimit(
            settings.max_upload_bytes, "max_upload_bytes", "document uploads", parsed=False
        )
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


def _sent_as_json(scope: Scope) -> bool:
    """Whether FastAPI parses the body as JSON: ``application/json`` or ``application/*+json``
    (without a Content-Type it does not: strict content types)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            media_type: bytes = value.split(b";", 1)[0].strip().lower()
            kind, _, subtype = media_type.partition(b"/")
            return kind == b"application" and (subtype == b"json" or subtype.endswith(b"+json"))
    return False


@dataclass(frozen=True, slots=True)
class BodyRate:
    """The least a body must arrive at: ``min_bytes_s`` on average once ``grace_s`` seconds
    have passed since the first read (Kestrel's MinRequestBodyDataRate)."""

    min_bytes_s: float
    grace_s: float

    def deadline(self, started: float, received: int) -> float:
        """When a body that began at ``started`` and has ``received`` bytes is too slow, if
        no more arrives: each byte buys ``1 / min_bytes_s`` seconds past the grace period."""
        if self.min_bytes_s <= 0:
            return math.inf
        return started + self.grace_s + received / self.min_bytes_s

    def error(self) -> RequestTimeout:
        return RequestTimeout(
            f"The request body arrived slower than {self.min_bytes_s:g} bytes per second after "
            f"{self.grace_s:g} seconds (settings LEXICRAFT_MIN_REQUEST_BODY_RATE_BYTES_S and "
            "LEXICRAFT_REQUEST_BODY_GRACE_S)."
        )


class BodyLimitMiddleware:
    """Answers 413 (an Azure envelope naming the limit and its setting) to a body over its
    route family's limit (:func:`body_limit`), 408 to a body that arrives too slowly
    (:class:`BodyRate`), and 400 to a JSON body over the JSON limits, before the route runs."""

    def __init__(
        self, app: ASGIApp, settings: Settings, clock: Callable[[], float] = anyio.current_time
    ) -> None:
        self.app = app
        self.settings = settings
        self.rate = BodyRate(settings.min_request_body_rate_bytes_s, settings.request_body_grace_s)
        self.json_limits = JsonLimits(settings.max_json_depth, settings.max_json_integer_digits)
        self.clock = clock  # the event loop's clock; tests pass their own

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        limit = body_limit(self.settings, scope["method"], scope["path"])
        declared = _declared_length(scope)
        try:
            if declared is not None and declared > limit.max_bytes:
                # Refused unread: the server discards the rest of the body as it arrives.
                raise limit.error()
            messages = await self._read(receive, limit)
            if limit.parsed and _sent_as_json(scope):
                await self._check_json(messages)
        except LexicraftError as error:
            # A client too slow to send its body gets no chance to keep the connection.
            closing = {"Connection": "close"} if isinstance(error, RequestTimeout) else None
            await error_response(error, closing)(scope, receive, send)
            return
        pending = iter(messages)

        async def replay() -> Message:
            message = next(pending, None)
            return message if message is not None else await receive()

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive, limit: BodyLimit) -> list[Message]:
        """The body's messages, read here, counting them, so that a route never sees more
        than the limit; the route then reads the same messages (its own copy is bounded by the
        limit too). A complete body comes back as one message."""
        messages: list[Message] = []
        size = 0
        started = self.clock()
        while True:
            wait_s = self.rate.deadline(started, size) - self.clock()
            if wait_s <= 0:
                raise self.rate.error()
            try:
                with anyio.fail_after(wait_s):
                    message = await receive()
            except TimeoutError:
                raise self.rate.error() from None
            messages.append(message)
            if message["type"] != "http.request":  # the client went away: the route sees it
                return messages
            size += len(message.get("body", b""))
            if size > limit.max_bytes:
                raise limit.error()
            if not message.get("more_body", False):
                break
        if len(messages) == 1:
            return messages
        body = b"".join(message.get("body", b"") for message in messages)
        return [{"type": "http.request", "body": body, "more_body": False}]

    async def _check_json(self, messages: list[Message]) -> None:
        """Raise the 400 for a JSON body over a JSON limit (a large body is checked in a
        thread: the check takes about 7 ms a megabyte)."""
        if len(messages) != 1 or messages[0]["type"] != "http.request":
            return  # the client went away before the end of its body
        body: bytes = messages[0].get("body", b"")
        if len(body) >= _THREAD_CHECK_BYTES:
            excess = await run_in_threadpool(self.json_limits.excess, body)
        else:
            excess = self.json_limits.excess(body)
        if excess is not None:
            raise json_limit_error(excess, self.json_limits)
