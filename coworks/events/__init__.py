"""Translation between AWS Lambda HTTP events and WSGI, pure: dicts in, dicts out.

Every request a service answers passes here, whether it comes from Lambda, from the
notebook's live call or from the local server of ``cws run``: each builds or receives a
Lambda event, :func:`to_environ` turns it into a WSGI environ, and
:func:`to_response` turns the app's answer into the response dict of the event's kind.

Each kind of event (:mod:`coworks.events.kinds`) is recognised by its own fields:
API Gateway REST (v1) and HTTP API (v2), Lambda function URLs, and ALB targets in
single- and multi-value header mode. An event of no known kind, or one that cannot
be read, raises :class:`EventError`, which the service answers with a well-formed 400
rather than an exception.
"""

from __future__ import annotations

import base64
import typing as t
from urllib.parse import quote

from werkzeug.datastructures import Headers

from . import read
from .kinds import KINDS as KINDS
from .kinds import AlbEvent as AlbEvent
from .kinds import HttpEvent as HttpEvent
from .kinds import RestEvent as RestEvent
from .read import EventError as EventError


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
        "unsupported event: not an API Gateway (REST or HTTP API), function URL or "
        f"ALB request; this one has the keys: {keys}"
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


def from_response(response: t.Mapping[str, t.Any]) -> tuple[int, Headers, bytes]:
    """Read back a response dict of any kind: status, headers and body bytes.

    What a client of API Gateway would see: multi-value headers win over single
    ones, and a base64 body is decoded.
    """
    multi = read.mapping(response, "multiValueHeaders")
    single = read.mapping(response, "headers")
    headers = Headers(read.merged_headers(multi, single))
    if not multi:  # an ALB's single values may spell one name several ways
        headers = Headers([(str(k), read.text(v, "header")) for k, v in single.items()])
    for cookie in response.get("cookies") or []:
        headers.add("Set-Cookie", cookie)
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        data = base64.b64decode(body)
    else:
        data = body.encode("utf-8")
    return int(response.get("statusCode", 200)), headers, data
