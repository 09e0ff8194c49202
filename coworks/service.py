"""TechMicroService: a Flask app written as a class, and a Lambda handler too."""

from __future__ import annotations

import inspect
import json
import logging
import re
import typing as t
import uuid

from flask import Flask
from flask import jsonify
from flask import request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException

from . import events
from .binding import BindingError
from .binding import EntryError
from .binding import EntrySignature
from .binding import to_response
from .routing import Route
from .routing import RoutingError

if t.TYPE_CHECKING:
    from flask import Response

logger = logging.getLogger(__name__)

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

_ENTRY_MARK = "__cws_entry__"


def entry(func: F) -> F:
    """Mark a method of a :class:`TechMicroService` as an HTTP entry.

    The method's name gives the verb and path (see :mod:`coworks.routing`), its
    signature the parameters (see :mod:`coworks.binding`)::

        class Orders(TechMicroService):
            @entry
            def get_order(self, order_id: int):
                return {"id": order_id}
    """
    setattr(func, _ENTRY_MARK, True)
    return func


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
        self.name = _check_name(name or _class_name(type(self)))
        import_name = flask_options.pop("import_name", type(self).__module__)
        # A service answers its entries only: no static files unless asked for.
        flask_options.setdefault("static_folder", None)
        super().__init__(import_name, **flask_options)
        self.entries: dict[str, EntrySignature] = {}
        for attr, func in _entry_methods(type(self)):
            self._add_entry(attr, func)
        self.register_error_handler(HTTPException, _http_error)
        self.register_error_handler(BindingError, _binding_error)
        self.register_error_handler(Exception, _internal_error)

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
        """Answer a Lambda HTTP event; never raises.

        An event that cannot be read is answered with a 400 JSON error in the REST
        response format, and logged.
        """
        try:
            kind = events.kind_of(event)
            environ = kind.environ(event, context)
        except events.EventError as error:
            logger.error("%s: cannot read the event: %s", self.name, error)
            return _json_answer(400, error="Bad Request", message=str(error))
        except Exception:
            logger.exception("%s: cannot read the event", self.name)
            return _json_answer(400, error="Bad Request", message="malformed event")
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

    def _add_entry(self, attr: str, func: t.Callable[..., t.Any]) -> None:
        signature = EntrySignature.of(func)
        route = signature.route
        for other, known in self.entries.items():
            if (known.route.method, _shape(known.route.rule)) == (
                route.method,
                _shape(route.rule),
            ):
                raise RoutingError(
                    f"entries {other!r} and {attr!r} both serve {route.method} "
                    f"{route.rule}; rename one of them"
                )
        self.entries[attr] = signature
        bound = getattr(self, attr)

        def view(**view_args: str) -> t.Any:
            return to_response(bound(**signature.bind(view_args, request)))

        view.__name__ = attr
        view.__doc__ = func.__doc__
        self.add_url_rule(
            route.rule, endpoint=attr, view_func=view, methods=[route.method]
        )


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _shape(rule: str) -> str:
    """A rule with its parameters unnamed: /x/<a> and /x/<b> serve the same URLs."""
    return re.sub(r"<[^>]*>", "<>", rule)


def _class_name(cls: type) -> str:
    declared = getattr(cls, "name", None)  # Flask's own is a property, not a str
    return declared if isinstance(declared, str) else cls.__name__.lower()


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise RoutingError(
            f"service name {name!r} must be 1 to 64 letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return name


def _entry_methods(cls: type) -> list[tuple[str, t.Callable[..., t.Any]]]:
    """The entry methods of a class and its bases, a subclass's winning."""
    found: dict[str, t.Callable[..., t.Any]] = {}
    for klass in reversed(cls.__mro__):
        for name, member in vars(klass).items():
            if isinstance(member, (staticmethod, classmethod)):
                if getattr(member.__func__, _ENTRY_MARK, False):
                    raise EntryError(
                        f"entry {name!r} must be a plain method, not a "
                        f"{type(member).__name__}"
                    )
            elif inspect.isfunction(member) and getattr(member, _ENTRY_MARK, False):
                found[name] = member
            else:
                found.pop(name, None)  # overridden by a non-entry
    return sorted(found.items())


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
