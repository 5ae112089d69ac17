"""The Prometheus endpoint of a ``lexicraft worker`` (a process without the API server).

prometheus_client's WSGI app behind the same key rule as the API's ``/metrics``: open, or,
with ``metrics_require_key``, only for a request carrying an accepted subscription key.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from lexicraft.errors import LexicraftError, ServiceUnavailable, Unauthorized
from lexicraft.services.keys import KeyVerifier

_KEY_ENVIRON = "HTTP_OCP_APIM_SUBSCRIPTION_KEY"


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    """One thread per scrape; daemon threads do not hold up the worker's exit."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """Scrapes every few seconds would flood the worker's log with access lines."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _envelope(error: LexicraftError, start_response: Any, headers: list[tuple[str, str]]) -> bytes:
    status = {401: "401 Unauthorized", 503: "503 Service Unavailable"}[error.status_code]
    start_response(status, [("Content-Type", "application/json"), *headers])
    return json.dumps({"error": error.to_error()}).encode("utf-8")


def serve_metrics(
    host: str,
    port: int,
    registry: CollectorRegistry,
    verifier: KeyVerifier | None,
    retry_after_s: int,
) -> WSGIServer:
    """Serve ``registry`` at ``http://host:port/metrics`` in a daemon thread; the server.

    ``verifier`` None serves everyone; otherwise a request needs an accepted key.
    """
    metrics_app = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if verifier is not None:
            try:
                accepted = verifier.verify(environ.get(_KEY_ENVIRON))
            except ServiceUnavailable as error:
                retry = [("Retry-After", str(retry_after_s))]
                return [_envelope(error, start_response, retry)]
            if not accepted:
                denied = Unauthorized("Access denied due to invalid subscription key.")
                return [_envelope(denied, start_response, [])]
        body: Iterable[bytes] = metrics_app(environ, start_response)
        return body

    server = make_server(host, port, app, _ThreadingServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
