"""Serving services on 127.0.0.1 the way API Gateway fronts them on AWS.

One local port serves every service of a notebook, each under its name:
``http://127.0.0.1:8000/countries/country/FRA`` reaches the ``countries`` service
at ``/country/FRA``. Each request becomes the REST proxy event API Gateway would
send, and the service answers it as its Lambda handler, so the local server runs
the same translation as production.
"""

from __future__ import annotations

import errno
import json
import socket
import threading
import typing as t

from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from . import events
from .invoke import LocalContext

if t.TYPE_CHECKING:
    from .service import TechMicroService


#: The only address local servers listen on.
HOST = "127.0.0.1"


class LocalGateway:
    """A WSGI app standing where API Gateway stands, one path prefix a service."""

    def __init__(self, services: t.Mapping[str, TechMicroService]) -> None:
        self.services = dict(services)

    def __call__(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        request = Request(environ)
        name, _, rest = request.path.lstrip("/").partition("/")
        service = self.services.get(name)
        if service is None:
            known = ", ".join(f"/{known}" for known in sorted(self.services))
            message = (
                f"no service {name!r} here; services: {known}"
                if name
                else f"each service is served under its own path: {known}"
            )
            return _json_error(404, "Not Found", message)(environ, start_response)
        try:
            body = request.get_data()
        except HTTPException as error:  # a body shorter than its Content-Length
            return _json_error(error.code or 400, error.name, error.description)(
                environ, start_response
            )
        # What API Gateway adds: the client's scheme and port, as seen here.
        headers = Headers(request.headers)
        headers["X-Forwarded-Proto"] = request.scheme
        headers["X-Forwarded-Port"] = str(request.environ.get("SERVER_PORT", ""))
        event = events.rest_event(
            request.method,
            "/" + rest,
            query=request.args.to_dict(flat=False),
            headers=[(key, _utf8(value)) for key, value in headers.items()],
            body=body,
            source_ip=request.remote_addr or HOST,
        )
        status, headers, data = events.from_response(
            service(event, LocalContext(service.name))
        )
        typed = "Content-Type" in headers
        response = Response(data, status, headers)
        if not typed:
            del response.headers["Content-Type"]  # Werkzeug's default, not the app's
        return response(environ, start_response)


def _utf8(value: str) -> str:
    """A header as API Gateway hands it on: WSGI gives the bytes as Latin-1 text,
    the gateway reads them as UTF-8 (bytes that are not UTF-8 stay as they were)."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _json_error(status: int, error: str, message: str) -> Response:
    body = json.dumps({"error": error, "message": message})
    return Response(body, status, mimetype="application/json")


def make(
    services: t.Mapping[str, TechMicroService], port: int = 8000
) -> BaseWSGIServer:
    """A threaded server for the services, bound to 127.0.0.1 and not yet serving.

    :param port: the port; 0 picks a free one (see ``server.port``).
    :raises OSError: when the port cannot be bound.
    """
    if not 0 <= port <= 65535:
        raise OSError(errno.EINVAL, f"port {port} is not between 0 and 65535")
    # Werkzeug prints and exits on a port it cannot bind; a library must not, so
    # the port is tried first.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((HOST, port))
    try:
        return make_server(HOST, port, LocalGateway(services), threaded=True)
    except SystemExit:
        raise OSError(errno.EADDRINUSE, f"cannot bind {HOST}:{port}") from None


def start(
    services: t.Mapping[str, TechMicroService], port: int = 8000
) -> BaseWSGIServer:
    """Start serving in a background thread; ``server.shutdown()`` stops it."""
    server = make(services, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve(server: BaseWSGIServer, seconds: float | None = None) -> None:
    """Serve until interrupted, or for ``seconds`` when given; then close."""
    timer = None
    if seconds is not None:
        timer = threading.Timer(seconds, server.shutdown)
        timer.start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if timer is not None:
            timer.cancel()
        server.server_close()
