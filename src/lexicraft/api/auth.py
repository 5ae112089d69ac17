"""Subscription-key authentication for every ``/language/…`` and ``/text/…`` route."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from lexicraft.api.errors import error_response
from lexicraft.errors import ServiceUnavailable, Unauthorized
from lexicraft.services.keys import KeyVerifier

KEY_HEADER = b"ocp-apim-subscription-key"
#: Every route under these needs a key.
PROTECTED_PREFIXES = ("/language/", "/text/")
#: The request state entry naming the stored key that sent the request (None: the configured
#: key); see :func:`lexicraft.api.dependencies.caller_key_id`.
API_KEY_ID = "api_key_id"
#: The request state entry holding who sent the request (:class:`lexicraft.domain.users.Actor`):
#: the key's user, role and scope. Routes check it through :mod:`lexicraft.api.permissions`.
ACTOR = "actor"
#: The name of the key's security scheme in ``/openapi.json``.
SECURITY_SCHEME = "subscriptionKey"

_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
    "a valid key for an active subscription and use a correct regional API endpoint for your "
    "resource."
)


def _key(scope: Scope) -> str | None:
    return next(
        (value.decode("latin-1") for name, value in scope["headers"] if name == KEY_HEADER),
        None,
    )


def subscription_key_id(scope: Scope) -> str:
    """Who sent the request, for per-key counters: the SHA-256 of its key (never the key
    itself, which must not reach a log or a shared store); "" for a request without one."""
    key = _key(scope)
    return hashlib.sha256(key.encode("utf-8")).hexdigest() if key else ""


class SubscriptionKeyMiddleware:
    """Answers 401 (Azure gateway shape) unless the request carries an accepted key.

    A plain ASGI middleware: it runs before routing and body parsing, so an unauthenticated
    caller learns nothing about the request it sent.
    """

    def __init__(
        self,
        app: ASGIApp,
        verifier: KeyVerifier,
        *,
        retry_after_s: int,
        protected_paths: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.retry_after_s = retry_after_s
        #: Exact paths that need a key besides the API's prefixes (``/metrics``, when set).
        self.protected_paths = protected_paths

    def _protects(self, path: str) -> bool:
        return protects(path, self.protected_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._protects(scope["path"]):
            key = _key(scope)
            checked = self.verifier.cached_check(key)
            if checked is None:
                try:
                    # A database query: never on the event loop.
                    checked = await run_in_threadpool(self.verifier.check, key)
                except ServiceUnavailable as error:
                    # Before routing, so the app's error handlers do not see it.
                    unavailable = error_response(error, retry_after_s=self.retry_after_s)
                    await unavailable(scope, receive, send)
                    return
            if not checked.accepted:
                response = error_response(Unauthorized(_DENIED))
                await response(scope, receive, send)
                return
            # Which key sent the request (request.state.api_key_id): jobs record it; and who
            # it speaks for (request.state.actor): routes check its permissions.
            state = scope.setdefault("state", {})
            state[API_KEY_ID] = checked.key_id
            state[ACTOR] = checked.actor
        await self.app(scope, receive, send)


def protects(path: str, protected_paths: tuple[str, ...]) -> bool:
    """Whether a request for ``path`` needs a key (the API's prefixes, or one of
    ``protected_paths``)."""
    return path.startswith(PROTECTED_PREFIXES) or path in protected_paths


def document_key(openapi: dict[str, Any], protected_paths: tuple[str, ...]) -> None:
    """Say in the ``openapi`` document (in place) which operations need the key, and how it is
    sent: by the middleware's own rule, so the document cannot promise less than it enforces.

    A 401 is the ``default`` error envelope every operation documents.
    """
    components = openapi.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
        "type": "apiKey",
        "in": "header",
        "name": "Ocp-Apim-Subscription-Key",
        "description": (
            "A key made with `lexicraft keys create` or `lexicraft users create` (or "
            "LEXICRAFT_API_KEY). A valid key whose user's role or scope lacks the permission "
            "an operation needs is answered 403."
        ),
    }
    for path, operations in openapi.get("paths", {}).items():
        if protects(path, protected_paths):
            for operation in operations.values():
                operation["security"] = [{SECURITY_SCHEME: []}]
