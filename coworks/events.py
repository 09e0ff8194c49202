"""Translation between AWS Lambda HTTP events and WSGI, pure: dicts in, dicts out.

Every request a service answers passes here, whether it comes from Lambda, from the
notebook's live call or from the local server of ``cws run``: each builds or receives a
Lambda event, :func:`to_environ` turns it into a WSGI environ, and
:func:`to_response` turns the app's answer into the response dict of the event's kind.

Each kind of event is one :class:`EventKind`. Only the API Gateway REST (v1) proxy
kind is read today; an event of another kind is refused with :class:`EventError`,
which the service answers with a well-formed 400 rather than an exception.
"""

from __future__ import annotations

import base64
import binascii
import io
import sys
import typing as t
from urllib.parse import quote
from urllib.parse import unquote_to_bytes
from urllib.parse import urlencode

from werkzeug.datastructures import Headers

#: Content types whose body travels as text; any other body is base64-encoded.
_TEXT_TYPES = (
    "application/json",
    "application/javascript",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/yaml",
)


#: Headers about the client's connection, not the request. The body of an event is
#: whole, so a Transfer-Encoding must not make the app read it as chunks.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


class EventError(ValueError):
    """An event this module cannot read; the message says what is wrong with it."""


class EventKind(t.Protocol):
    """One kind of Lambda HTTP event: how to recognise it, read it and answer it."""

    name: str

    def matches(self, event: t.Mapping[str, t.Any]) -> bool: ...

    def environ(
        self, event: t.Mapping[str, t.Any], context: t.Any
    ) -> dict[str, t.Any]: ...

    def response(
        self, status: int, headers: Headers, body: bytes
    ) -> dict[str, t.Any]: ...


class RestEvent:
    """API Gateway REST API (payload version 1.0) proxy integration.

    The path arrives percent-encoded and without the stage; the query string and the
    headers arrive decoded, in single-value and multi-value forms.
    """

    name = "rest"

    def matches(self, event: t.Mapping[str, t.Any]) -> bool:
        # An ALB event has httpMethod too, and its own response rules.
        context = event.get("requestContext")
        from_alb = isinstance(context, dict) and "elb" in context
        return (
            "httpMethod" in event
            and event.get("version", "1.0") == "1.0"
            and not from_alb
        )

    def environ(self, event: t.Mapping[str, t.Any], context: t.Any) -> dict[str, t.Any]:
        request_context = _mapping(event, "requestContext")
        identity = _mapping(request_context, "identity", "requestContext.identity")
        source_ip = identity.get("sourceIp")
        return _wsgi_environ(
            method=_required(event, "httpMethod"),
            path=_required(event, "path"),
            query=_query(event),
            headers=_multi_headers(
                _mapping(event, "multiValueHeaders"), _mapping(event, "headers")
            ),
            body=_body(event),
            remote_addr=source_ip if isinstance(source_ip, str) else "127.0.0.1",
            extra={"coworks.event": event, "coworks.context": context},
        )

    def response(self, status: int, headers: Headers, body: bytes) -> dict[str, t.Any]:
        multi: dict[str, list[str]] = {}
        for key, value in headers.items():
            multi.setdefault(key, []).append(value)
        text, encoded = _encode_body(headers.get("Content-Type", ""), body)
        return {
            "statusCode": status,
            # API Gateway merges both maps; a value present in both appears once.
            "headers": {key: values[-1] for key, values in multi.items()},
            "multiValueHeaders": multi,
            "body": text,
            "isBase64Encoded": encoded,
        }


#: The kinds tried in order by :func:`kind_of`.
KINDS: tuple[EventKind, ...] = (RestEvent(),)


def kind_of(event: t.Any) -> EventKind:
    """The kind of this event.

    :raises EventError: when the event is not a dict of a known kind.
    """
    if not isinstance(event, dict):
        raise EventError(
            f"a Lambda HTTP event is a JSON object, not {type(event).__name__}"
        )
    for kind in KINDS:
        if kind.matches(event):
            return kind
    keys = ", ".join(sorted(str(key) for key in event)[:8]) or "none"
    raise EventError(
        "unsupported event: only API Gateway REST (v1) proxy events are handled; "
        f"this one has the keys: {keys}"
    )


def to_environ(event: t.Mapping[str, t.Any], context: t.Any = None) -> dict[str, t.Any]:
    """The WSGI environ for a Lambda HTTP event."""
    return kind_of(event).environ(event, context)


def to_response(
    event: t.Mapping[str, t.Any], status: int, headers: Headers, body: bytes
) -> dict[str, t.Any]:
    """The response dict answering ``event``, in that event's kind."""
    return kind_of(event).response(status, headers, body)


def rest_event(
    method: str,
    path: str,
    *,
    query: t.Mapping[str, str | list[str]] | None = None,
    headers: t.Mapping[str, str] | t.Iterable[tuple[str, str]] | None = None,
    body: bytes = b"",
    stage: str = "local",
    source_ip: str = "127.0.0.1",
) -> dict[str, t.Any]:
    """Build the REST (v1) proxy event that API Gateway would send for a request.

    :param path: the decoded path, without the stage, as the client meant it.
    """
    multi_query = {
        key: list(value) if isinstance(value, (list, tuple)) else [value]
        for key, value in (query or {}).items()
        if value != []  # a key with no value is no key in a query string
    }
    all_headers = Headers(headers or {})
    if body and "Content-Length" not in all_headers:
        all_headers["Content-Length"] = str(len(body))
    multi_headers: dict[str, list[str]] = {}
    for key, value in all_headers.items():
        multi_headers.setdefault(key, []).append(value)
    encoded_path = quote(path, safe="/:@!$&'()*+,;=~")
    text_body, encoded = _request_body(body)
    return {
        "resource": "/{proxy+}",
        "path": encoded_path,
        "httpMethod": method.upper(),
        "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": encoded_path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method.upper(),
            "path": f"/{stage}{encoded_path}",
            "stage": stage,
            "identity": {"sourceIp": source_ip},
        },
        "body": text_body,
        "isBase64Encoded": encoded,
    }


def _request_body(body: bytes) -> tuple[str | None, bool]:
    """A request body as API Gateway passes it: text when it is UTF-8, else base64."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def _required(event: t.Mapping[str, t.Any], key: str) -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value:
        raise EventError(f"the event's {key!r} must be a non-empty string")
    return _text(value, key)


def _text(value: t.Any, where: str) -> str:
    """A string that can be encoded as UTF-8, as everything in an HTTP request can."""
    if not isinstance(value, str):
        raise EventError(f"the event's {where} must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise EventError(f"the event's {where} is not valid Unicode") from None
    return value


def _mapping(
    container: t.Mapping[str, t.Any], key: str, where: str | None = None
) -> dict[str, t.Any]:
    value = container.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise EventError(f"the event's {where or key!r} must be an object or null")
    return value


def _values(value: t.Any, where: str) -> list[str]:
    """One value or a list of values of a multi-value map, as strings."""
    values = value if isinstance(value, list) else [value]
    return [_text(item, where) for item in values]


def _query(event: t.Mapping[str, t.Any]) -> str:
    """The query string, from the multi-value map when the event has one."""
    multi = _mapping(event, "multiValueQueryStringParameters")
    query = multi or _mapping(event, "queryStringParameters")
    pairs = [
        (_text(key, "query key"), value)
        for key, values in query.items()
        for value in _values(values, f"query value of {key!r}")
    ]
    return urlencode(pairs)


def _multi_headers(multi: t.Any, single: t.Any) -> Headers:
    """Both header maps merged as API Gateway merges them.

    Every value of the multi-value map is kept; the single-value map adds only the
    headers the other one lacks.
    """
    headers = Headers()
    for key, values in multi.items():
        for value in _values(values, f"header {key!r}"):
            headers.add(str(key), _header_value(value, key))
    for key, value in single.items():
        if str(key) not in headers:
            headers.add(str(key), _header_value(_text(value, f"header {key!r}"), key))
    return headers


def _header_value(value: str, key: t.Any) -> str:
    if "\n" in value or "\r" in value:
        raise EventError(f"the event's header {key!r} holds a line break")
    return value


def _body(event: t.Mapping[str, t.Any]) -> bytes:
    body = event.get("body") or ""
    encoded = event.get("isBase64Encoded")
    if encoded not in (None, True, False):
        raise EventError("the event's 'isBase64Encoded' must be true, false or null")
    if not isinstance(body, str):
        raise EventError("the event's 'body' must be a string")
    try:
        data = body.encode("utf-8")  # once: a body may be large
    except UnicodeEncodeError:
        raise EventError("the event's 'body' is not valid Unicode") from None
    if encoded:
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error:
            raise EventError("the event's body is marked base64 but is not") from None
    return data


def _wsgi_environ(
    *,
    method: str,
    path: str,
    query: str,
    headers: Headers,
    body: bytes,
    remote_addr: str,
    extra: dict[str, t.Any],
) -> dict[str, t.Any]:
    host = headers.get("Host", "localhost")
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": method.upper(),
        "SCRIPT_NAME": "",
        # WSGI carries the decoded path as latin-1 text of its UTF-8 bytes.
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": host.split(":")[0],
        "SERVER_PORT": headers.get("X-Forwarded-Port", "443"),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": remote_addr,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": headers.get("X-Forwarded-Proto", "https"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        **extra,
    }
    grouped: dict[str, list[str]] = {}
    for key, value in headers.items():
        # In WSGI, X_User and X-User are one name: a header spelt with "_" is dropped
        # so that a client cannot shadow one set by a proxy.
        if "_" not in key and key.lower() not in _HOP_BY_HOP:
            grouped.setdefault(key.lower(), []).append(value)
    for key, values in grouped.items():
        name = key.upper().replace("-", "_")
        value = ("; " if key == "cookie" else ", ").join(values)
        if name == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif name != "CONTENT_LENGTH":
            environ[f"HTTP_{name}"] = value
    return environ


def _encode_body(content_type: str, body: bytes) -> tuple[str, bool]:
    """The body as the response's text, and whether that text is base64."""
    mimetype = content_type.split(";")[0].strip().lower()
    textual = (
        mimetype.startswith("text/")
        or mimetype in _TEXT_TYPES
        or mimetype.endswith(("+json", "+xml"))
    )
    if textual or not body:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def from_response(response: t.Mapping[str, t.Any]) -> tuple[int, Headers, bytes]:
    """Read back a response dict of any kind: status, headers and body bytes.

    What a client of API Gateway would see: multi-value headers win over single
    ones, and a base64 body is decoded.
    """
    headers = _multi_headers(
        _mapping(response, "multiValueHeaders"), _mapping(response, "headers")
    )
    for cookie in response.get("cookies") or []:
        headers.add("Set-Cookie", cookie)
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        data = base64.b64decode(body)
    else:
        data = body.encode("utf-8")
    return int(response.get("statusCode", 200)), headers, data
