"""TechMicroService: a Flask app written as a class, and a Lambda handler too."""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import typing as t
import uuid

import flask
from flask import Flask
from flask import jsonify
from flask import request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException

from . import authorizer
from . import events
from .binding import BindingError
from .entries import Entry
from .entries import class_name
from .entries import entry as entry
from .entries import register_entries
from .entries import shape as _shape
from .routing import Route
from .routing import RoutingError

if t.TYPE_CHECKING:
    from flask import Response

logger = logging.getLogger(__name__)

#: The environment variable holding the token the default authorizer expects.
TOKEN_VARIABLE = "TOKEN"

#: The environment variable that opens a service without token to everyone, on
#: Lambda too: the explicit request for a public API.
PUBLIC_VARIABLE = "CWS_PUBLIC"

#: The key of an invocation payload asking for an asynchronous answer; see
#: :mod:`coworks.asynchronous`, which checks it matches its own.
_ASYNC_MARKER = "coworks"

#: Set by Lambda in every function's environment.
_LAMBDA_VARIABLE = "AWS_LAMBDA_FUNCTION_NAME"


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing NaN and infinities, which JSON has no words for."""

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        kwargs.setdefault("allow_nan", False)
        return super().dumps(obj, **kwargs)


class TechMicroService(Flask):
    """A microservice whose ``@entry`` methods are its HTTP entries.

    An instance is a Flask app (``svc.test_client()``, ``svc.run()``, any WSGI server)
    and a Lambda handler: ``svc(event, context)`` answers a Lambda HTTP event with the
    response dict of that event's kind.

    :param name: the service's name; defaults to the class attribute ``name`` if
        the class sets one, else to the class name in lower case. It names the
        Lambda function, the export folder and the Airflow connection, so it is
        made of letters, digits, ``-`` and ``_``.
    """

    json_provider_class = StrictJSONProvider

    def __init__(self, name: str | None = None, **flask_options: t.Any) -> None:
        # Set before Flask reads it: the name is the logger's and the CLI's too.
        self.name = _check_name(name or class_name(type(self)))
        import_name = flask_options.pop("import_name", type(self).__module__)
        # A service answers its entries only: no static files unless asked for.
        flask_options.setdefault("static_folder", None)
        super().__init__(import_name, **flask_options)
        # An API answers the URL it is sent: no redirect to add or merge slashes,
        # which would lose the stage or prefix a gateway put in front.
        self.url_map.strict_slashes = False
        self.url_map.merge_slashes = False
        register_entries(self, TechMicroService)
        if self._without_token() and not self.open_access:  # on Lambda, not public
            logger.error(
                "%s: no TOKEN is set, so every request is refused; set TOKEN, "
                "or CWS_PUBLIC=true for a public API",
                self.name,
            )
        self.before_request(self._check_token)
        self.register_error_handler(HTTPException, _http_error)
        self.register_error_handler(BindingError, _binding_error)
        self.register_error_handler(Exception, _internal_error)

    @property
    def entries(self) -> dict[str, Entry]:
        """The entries served, blueprints' included, by endpoint."""
        return {
            endpoint: view.cws_entry
            for endpoint, view in self.view_functions.items()
            if hasattr(view, "cws_entry")
        }

    def register_blueprint(self, blueprint: flask.Blueprint, **options: t.Any) -> None:
        """Mount a blueprint, as in Flask; refuse one that serves a route of the
        service or of another blueprint again.

        :raises RoutingError: when two endpoints serve the same verb and path.
        """
        # Mounted first on a scratch app, so that a clash leaves the service as
        # it was: Flask has no way to take a blueprint back.
        scratch = Flask(self.import_name, static_folder=None)
        scratch.url_map.strict_slashes = False
        scratch.register_blueprint(blueprint, **options)
        seen = {(r.method, _shape(r.rule)): r.endpoint for r in self.routes}
        for rule in scratch.url_map.iter_rules():
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                other = seen.get((method, _shape(rule.rule)))
                if other is not None:
                    raise RoutingError(
                        f"{other!r} and {rule.endpoint!r} both serve {method} "
                        f"{rule.rule}; change a name or the url_prefix"
                    )
        super().register_blueprint(blueprint, **options)

    def token_authorizer(self, token: str) -> bool:
        """Whether ``token``, the bearer token of a request, lets it in.

        By default, the token must equal the ``TOKEN`` environment variable
        (compared in constant time); with no ``TOKEN`` set, no token is accepted.
        Override this method to check tokens another way: return True to let the
        request in, anything else refuses it. It answers API Gateway authorizer
        events too (see :mod:`coworks.authorizer`).
        """
        expected = os.environ.get(TOKEN_VARIABLE, "")
        return bool(expected) and hmac.compare_digest(
            token.encode("utf-8", "surrogatepass"),
            expected.encode("utf-8", "surrogatepass"),
        )

    @property
    def open_access(self) -> bool:
        """Whether the service lets every request in: no ``TOKEN`` is set, the
        class keeps the default :meth:`token_authorizer`, and it runs locally.

        On Lambda, such a service refuses every request unless ``CWS_PUBLIC`` is
        ``true``: a public API is asked for, never fallen into.
        """
        if not self._without_token():
            return False
        if os.environ.get(PUBLIC_VARIABLE, "").lower() in ("1", "true", "yes"):
            return True
        return _LAMBDA_VARIABLE not in os.environ

    def _without_token(self) -> bool:
        """Whether the default authorizer has no ``TOKEN`` to compare with."""
        return not self.own_authorizer and not os.environ.get(TOKEN_VARIABLE)

    @property
    def own_authorizer(self) -> bool:
        """Whether the class checks tokens with a ``token_authorizer`` of its own,
        rather than against ``TOKEN``."""
        return type(self).token_authorizer is not TechMicroService.token_authorizer

    def openapi(self) -> dict[str, t.Any]:
        """The OpenAPI 3.1 document of the service's entries."""
        from .openapi import document

        return document(self)

    def _check_token(self) -> Response | None:
        """Before each request: a 401 without a token, a 403 with a wrong one."""
        current = request._get_current_object()  # once: each proxy access costs
        if current.method == "OPTIONS" or current.routing_exception is not None:
            return None  # CORS preflights, and requests routing answers itself
        view = self.view_functions.get(current.endpoint or "")
        found = getattr(view, "cws_entry", None)
        if (found is not None and found.options.no_auth) or self.open_access:
            return None
        token = authorizer.bearer_token(current.headers.get("Authorization"))
        if token is None:
            response = jsonify(
                error="Unauthorized", message="send a token: Authorization: Bearer …"
            )
            response.status_code = 401
            response.headers["WWW-Authenticate"] = f'Bearer realm="{self.name}"'
            return response
        if self.token_authorizer(token) is not True:
            message = (
                "no TOKEN is set for this service, so every token is refused"
                if self._without_token()
                else "this token is refused"
            )
            response = jsonify(error="Forbidden", message=message)
            response.status_code = 403
            return response
        return None

    def _answer_authorizer(self, event: dict[str, t.Any]) -> dict[str, t.Any]:
        token = authorizer.token_of(event)
        try:
            allowed = token is not None and self.token_authorizer(token) is True
        except BaseException:  # a Lambda handler answers, always
            logger.exception("%s: token_authorizer failed; access denied", self.name)
            allowed = False
        return authorizer.answer(event, allowed)

    def log_exception(self, exc_info: t.Any) -> None:
        """Leave the logging of failures to the 500 handler, which adds the
        request id; Flask would log the same failure once more without it."""

    @property
    def routes(self) -> list[Route]:
        """Every route served, entries and Flask-style ones, by path then verb."""
        found = {
            Route(method, rule.rule, rule.endpoint)
            for rule in self.url_map.iter_rules()
            for method in rule.methods or ()
            if method not in ("HEAD", "OPTIONS")
        }
        return sorted(found, key=lambda route: (route.rule, route.method))

    def __call__(self, event: t.Any, context: t.Any = None) -> t.Any:
        """Answer a Lambda event, or a WSGI call when given an environ."""
        if isinstance(event, dict) and "wsgi.version" in event and callable(context):
            return self.wsgi_app(event, context)
        return self.handle_event(event, context)

    def handle_event(self, event: t.Any, context: t.Any = None) -> dict[str, t.Any]:
        """Answer a Lambda HTTP event, or an API Gateway authorizer event; never
        raises.

        An event that cannot be read is answered with a 400 JSON error in the REST
        response format, and logged. An invocation carrying the asynchronous marker
        is answered by :func:`coworks.asynchronous.answer`.
        """
        if isinstance(event, dict) and _ASYNC_MARKER in event:
            # Imported on this path only: a cold start of the others skips it.
            from . import asynchronous

            return asynchronous.answer(self, event, context)
        if authorizer.is_authorizer_event(event):
            return self._answer_authorizer(event)
        kind = None
        try:
            kind = events.kind_of(event)
            environ = kind.environ(event, context)
        except events.EventError as error:
            logger.error("%s: cannot read the event: %s", self.name, error)
            return _json_answer(400, kind, error="Bad Request", message=str(error))
        except Exception:
            logger.exception("%s: cannot read the event", self.name)
            return _json_answer(
                400, kind, error="Bad Request", message="malformed event"
            )
        try:
            status, headers, body = _run_wsgi(self.wsgi_app, environ)
        except BaseException:  # a Lambda handler answers, always
            # Flask answers the entries' own errors; this is a failure around them
            # (a middleware, a streamed body, an exit, a cancellation).
            request_id = _lambda_request_id(context)
            logger.exception("%s: request %s failed", self.name, request_id)
            return _json_answer(
                500, kind, error="Internal Server Error", request_id=request_id
            )
        logger.debug(
            "%s %s %s -> %s",
            self.name,
            environ["REQUEST_METHOD"],
            environ["PATH_INFO"],
            status,
        )
        return kind.response(status, headers, body)


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise RoutingError(
            f"service name {name!r} must be 1 to 64 letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return name


def _run_wsgi(
    app: t.Callable[..., t.Any], environ: dict[str, t.Any]
) -> tuple[int, Headers, bytes]:
    """Call a WSGI app and collect its status, headers and whole body."""
    started: list[t.Any] = []
    chunks: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> t.Callable[[bytes], None]:
        started[:] = [status, headers]
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    status, headers = started
    return int(status.split(" ", 1)[0]), Headers(headers), b"".join(chunks)


def _json_answer(
    status: int, kind: events.EventKind | None = None, **body: str
) -> dict[str, t.Any]:
    """A JSON error the app did not produce, in the event's response format (REST
    when the event's kind is unknown)."""
    headers = Headers({"Content-Type": "application/json"})
    data = json.dumps(body).encode("utf-8")
    return (kind or events.RestEvent()).response(status, headers, data)


def _http_error(error: HTTPException) -> Response:
    if error.code == 500:
        return _internal_error(getattr(error, "original_exception", None) or error)
    response = jsonify(error=error.name, message=error.description)
    response.status_code = error.code or 500
    for key, value in error.get_headers():
        if key.lower() != "content-type":
            response.headers[key] = value
    return response


def _binding_error(error: BindingError) -> Response:
    response = jsonify(
        error="Unprocessable Entity", parameter=error.parameter, message=error.message
    )
    response.status_code = 422
    return response


def _internal_error(error: Exception) -> Response:
    request_id = _request_id()
    logger.error("request %s failed", request_id, exc_info=error)
    response = jsonify(error="Internal Server Error", request_id=request_id)
    response.status_code = 500
    return response


def _request_id() -> str:
    """The Lambda request id when there is one, else a new one."""
    return _lambda_request_id(request.environ.get("coworks.context"))


def _lambda_request_id(context: t.Any) -> str:
    request_id = getattr(context, "aws_request_id", None)
    return request_id if isinstance(request_id, str) else str(uuid.uuid4())
