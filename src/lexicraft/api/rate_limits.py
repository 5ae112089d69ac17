"""Rate limits per subscription key: a budget for the runtime routes and one for the rest.

Counted with the `limits` library over a sliding window (two fixed windows weighted: O(1)
memory per key, no double budget at a window's edge), in this process's memory or in a Redis
that every API process shares (``rate_limit_storage_url``). A key over its budget gets a 429
``TooManyRequests`` envelope with ``Retry-After``, as Azure answers, before its body is read.

A plain ASGI middleware behind the key check (an unknown key is a 401 and counts nowhere);
the health, metrics and documentation endpoints are never limited. Counters are named by a
hash of the key, never the key itself: whoever can read Redis learns no key.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from starlette.types import ASGIApp, Receive, Scope, Send

from lexicraft.api.auth import PROTECTED_PREFIXES, subscription_key_id
from lexicraft.api.errors import error_response
from lexicraft.api.limits import RUNTIME_PREFIXES
from lexicraft.errors import RateLimitStorageUnavailable, TooManyRequests
from lexicraft.settings import Settings

logger = logging.getLogger(__name__)

#: Seconds a request waits for Redis to connect or answer before it is refused with a 503.
_REDIS_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class Budget:
    """One family of routes' rate limits (all must hold), and the setting that says so."""

    name: str  # part of the counters' names
    items: tuple[RateLimitItem, ...]
    setting: str
    what: str  # the route family, for the error message

    def error(self, item: RateLimitItem, retry_after_s: int) -> TooManyRequests:
        return TooManyRequests(
            f"This subscription key has sent more than {item.amount} {self.what} per "
            f"{_period(item)}, the rate limit (setting LEXICRAFT_{self.setting.upper()}); "
            f"retry after {retry_after_s} seconds."
        )


def _period(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return unit if item.multiples == 1 else f"{item.multiples} {unit}s"


def _budget(name: str, value: str, setting: str, what: str) -> Budget:
    items = tuple(parse_many(value)) if value else ()
    return Budget(name, items, setting, what)


def budgets(settings: Settings) -> tuple[Budget, Budget]:
    """The runtime budget and the authoring budget of ``settings``."""
    return (
        _budget("runtime", settings.rate_limit_runtime, "rate_limit_runtime", "runtime requests"),
        _budget(
            "authoring", settings.rate_limit_authoring, "rate_limit_authoring", "authoring requests"
        ),
    )


def budget_for(path: str, runtime: Budget, authoring: Budget) -> Budget | None:
    """The budget a request to ``path`` counts against: the one rule that maps routes to
    budgets. None for every route that needs no key (health, metrics, docs, the Studio's page)."""
    if path.startswith(RUNTIME_PREFIXES):
        return runtime
    if path.startswith(PROTECTED_PREFIXES):
        return authoring
    return None


def storage_from_url(url: str) -> Storage:
    """The counters' storage for ``rate_limit_storage_url`` (validated by Settings)."""
    if url.startswith("memory://"):
        return MemoryStorage()
    # redis-py's asyncio client (the `redis` package) rather than the library's default,
    # coredis; errors arrive as StorageError, so the middleware answers them with a 503.
    return RedisStorage(
        "async+" + url,
        implementation="redispy",
        wrap_exceptions=True,
        socket_connect_timeout=_REDIS_TIMEOUT_S,
        socket_timeout=_REDIS_TIMEOUT_S,
    )


class RateLimitMiddleware:
    """Answers 429 (with ``Retry-After``) to a key over the budget of the route it calls."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.runtime, self.authoring = budgets(settings)
        self.limiter = SlidingWindowCounterRateLimiter(
            storage_from_url(settings.rate_limit_storage_url)
        )
        self.retry_after_s = settings.unavailable_retry_after_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            budget = budget_for(scope["path"], self.runtime, self.authoring)
            if budget is not None and budget.items:
                refusal = await self._refusal(budget, subscription_key_id(scope))
                if refusal is not None:
                    await refusal(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _refusal(self, budget: Budget, key_id: str) -> ASGIApp | None:
        """The response refusing this request, or None when the budget has room (the
        request is counted then)."""
        identifiers = ("lexicraft", budget.name, key_id)
        try:
            for item in budget.items:
                if not await self.limiter.hit(item, *identifiers):
                    stats = await self.limiter.get_window_stats(item, *identifiers)
                    retry_after_s = max(1, math.ceil(stats.reset_time - time.time()))
                    return error_response(
                        budget.error(item, retry_after_s),
                        {"Retry-After": str(retry_after_s)},
                    )
        except StorageError as error:
            # The cause goes to the log only; the client learns which setting is involved.
            logger.warning("rate limit storage unreachable: %s", type(error.storage_error))
            unavailable = RateLimitStorageUnavailable(
                "The rate limit counters cannot be reached now (setting "
                "LEXICRAFT_RATE_LIMIT_STORAGE_URL); retry later."
            )
            return error_response(unavailable, retry_after_s=self.retry_after_s)
        return None
