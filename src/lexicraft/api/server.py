"""The HTTP server's configuration: uvicorn, with timeouts for slow and idle clients.

uvicorn closes a kept-alive connection that stays idle (``timeout_keep_alive``), but it
sets no timer on a connection until a first request is complete: a client that connects
and sends nothing, or sends its headers a byte at a time, holds the connection for ever.
:class:`HeaderTimeout` adds that timer to uvicorn's HTTP protocol (httptools, which uvicorn's
"auto" picks when installed). Slow bodies are the ASGI middleware's business
(:class:`lexicraft.api.limits.BodyRate`), which can answer them with an Azure envelope.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from lexicraft.settings import Settings


class HeaderTimeout:
    """Closes a connection whose request line and headers are not all in within
    ``header_timeout_s`` seconds: counted from the connection's opening for its first request,
    and from the first byte of each later one (uvicorn's keep-alive timer covers the wait
    between requests).

    A mixin over uvicorn's httptools protocol, which names the request being answered
    ``cycle`` and makes a new one when a request's headers are complete (as its h11 one does).
    """

    header_timeout_s: float
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any
    _header_timer: asyncio.TimerHandle | None = None
    _cycle_awaited_after: Any = None  # the cycle that was current when the timer started

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._start_header_timer()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._start_header_timer()  # the first bytes of the next request
        super().data_received(data)  # type: ignore[misc]
        if self._header_timer is not None and self.cycle is not self._cycle_awaited_after:
            self._stop_header_timer()  # its headers are complete: a new cycle runs

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def _start_header_timer(self) -> None:
        self._cycle_awaited_after = self.cycle
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def http_protocol(settings: Settings) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (httptools, a dependency) with the header timeout of
    ``settings``: a class per setting, so two servers in one process may differ."""

    class LexicraftHttpProtocol(HeaderTimeout, HttpToolsProtocol):
        header_timeout_s = settings.request_header_timeout_s

    return LexicraftHttpProtocol


def server_config(app: Any, settings: Settings, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration that serves ``app`` with the timeouts of ``settings``;
    ``options`` (host, port, log settings) go to :class:`uvicorn.Config` as they are."""
    return uvicorn.Config(
        app,
        http=http_protocol(settings),
        # The API has no WebSocket route: an Upgrade header is served as plain HTTP.
        ws="none",
        # uvicorn declares an int but only hands it to loop.call_later.
        timeout_keep_alive=settings.keep_alive_timeout_s,  # type: ignore[arg-type]
        **options,
    )
