"""The Lambda events the AWS fronts send, built for tests: :func:`make_event`.

Pure: dicts out, no network. Each kind of front rewrites a request in its own way
before Lambda sees it, and the event keeps those rewrites, so that a test sees
what a deployed service would see:

============  ==============================================================
``rest``      API Gateway REST API, proxy integration (the format CoWorks reads)
``http``      API Gateway HTTP API, payload format 2.0
``alb``       Application Load Balancer, multi-value headers off
``alb-multi`` Application Load Balancer, multi-value headers on
``url``       Lambda function URL (payload format 2.0, no stage)
============  ==============================================================
"""

from __future__ import annotations

import base64 as b64
import json as jsonlib
import time
import typing as t
import uuid
from urllib.parse import quote

from werkzeug.datastructures import Headers

from .. import events
from ..invoke import url_parts

__all__ = ["KINDS", "make_event"]

#: The kinds of event :func:`make_event` builds.
KINDS = ("rest", "http", "alb", "alb-multi", "url")

QueryValue = str | list[str]
HeaderInput = t.Mapping[str, str | list[str]] | t.Iterable[tuple[str, str]]

# The made-up deployment every event comes from. The values have the shapes AWS
# gives them: a 10-character API id, a 32-character function URL id.
_REGION = "us-east-1"
_ACCOUNT = "123456789012"
_API_ID = "a1b2c3d4e5"
_URL_ID = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6"
_RESOURCE_ID = "q7r8s9"
_ALB_HOST = f"cws-alb-1234567890.{_REGION}.elb.amazonaws.com"
_TARGET_GROUP = (
    f"arn:aws:elasticloadbalancing:{_REGION}:{_ACCOUNT}:"
    "targetgroup/cws-lambda/0123456789abcdef"
)
_CLIENT_IP = "127.0.0.1"
_USER_AGENT = "coworks-testing"

#: Characters a client leaves as they are in a path: the others are %-escaped.
_PATH_SAFE = "/:@!$&'()*+,;=~"

#: The identity of a caller API Gateway knows nothing about: no IAM, no Cognito.
_ANONYMOUS = dict.fromkeys(
    (
        "accessKey",
        "accountId",
        "caller",
        "cognitoAuthenticationProvider",
        "cognitoAuthenticationType",
        "cognitoIdentityId",
        "cognitoIdentityPoolId",
        "principalOrgId",
        "user",
        "userArn",
    )
)

#: English month names, whatever the locale: the common log format's own.
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


class _Request(t.NamedTuple):
    """One request, read once from :func:`make_event`'s arguments."""

    method: str
    path: str  # decoded, as the client meant it
    query: list[tuple[str, str]]  # decoded, in order
    headers: Headers
    cookies: list[str]  # name=value
    body: str | None  # as the event carries it: text, base64 or nothing
    encoded: bool
    request_id: str
    epoch_ms: int

    @property
    def encoded_path(self) -> str:
        return quote(self.path, safe=_PATH_SAFE)

    @property
    def grouped_query(self) -> dict[str, list[str]]:
        return _grouped(self.query)

    @property
    def client_time(self) -> str:
        """The request time in the common log format AWS uses."""
        tm = time.gmtime(self.epoch_ms // 1000)
        day = f"{tm.tm_mday:02d}/{_MONTHS[tm.tm_mon - 1]}/{tm.tm_year}"
        return f"{day}:{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} +0000"


def make_event(
    kind: str,
    method: str = "GET",
    path: str = "/",
    *,
    query: t.Mapping[str, QueryValue] | None = None,
    headers: HeaderInput | None = None,
    body: bytes | str = b"",
    json: t.Any = None,
    cookies: t.Mapping[str, str] | None = None,
    stage: str | None = None,
    base64: bool | None = None,
) -> dict[str, t.Any]:
    """The Lambda event AWS sends for one request, in the format of ``kind``.

    What each front does to a request is kept: API Gateway REST keeps the path
    %-escaped and gives headers and query in single- and multi-value maps;
    the HTTP API gives the path decoded (after ``/<stage>`` for a named stage),
    header names in lower case with repeated headers joined by commas, and the
    cookies apart; an ALB passes query keys and values still %-escaped, and, with
    multi-value headers off, only the last value of a repeated header or query
    key; a function URL is like the HTTP API with its path %-escaped and no stage.

    ::

        event = make_event("http", "POST", "/orders", json={"item": "pen"})
        response = service(event, None)

    :param kind: one of :data:`KINDS`.
    :param path: the path as written in a URL: %-escapes are decoded (so an
        escaped ``/`` is not told apart from a plain one), and a ``?query`` part
        joins ``query``.
    :param query: values by key; a list of values repeats the key.
    :param headers: a mapping (a list value repeats the header) or pairs. The
        ``Host``, ``User-Agent`` and ``X-Forwarded-*`` headers of the front are
        added unless given.
    :param body: text stays text; bytes that are not UTF-8 are base64-encoded,
        with ``isBase64Encoded`` true.
    :param json: a value sent as the JSON body, with its Content-Type.
    :param cookies: cookie values by name, sent as the client's Cookie header.
    :param stage: the API Gateway stage: named ``local`` by default for REST,
        ``$default`` for the HTTP API. An ALB and a function URL have none.
    :param base64: force the body to travel base64-encoded (True) or as text
        (False); by default only a body that is not UTF-8 is encoded.
    :raises ValueError: for an unknown kind, a path not starting with ``/``, a
        stage the kind has not, both ``body`` and ``json``, or a body that
        cannot travel as text when ``base64=False``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}; kinds: {', '.join(KINDS)}")
    if stage is not None and kind in ("alb", "alb-multi", "url"):
        raise ValueError(f"an event of kind {kind!r} has no stage")
    request = _request(method, path, query, headers, body, json, cookies, base64)
    _add_front_headers(request.headers, kind)
    if kind == "rest":
        return _rest_event(request, stage)
    if kind == "http":
        return _v2_event(request, stage or "$default", function_url=False)
    if kind == "url":
        return _v2_event(request, "$default", function_url=True)
    return _alb_event(request, multi=kind == "alb-multi")


def _request(
    method: str,
    path: str,
    query: t.Mapping[str, QueryValue] | None,
    headers: HeaderInput | None,
    body: bytes | str,
    json: t.Any,
    cookies: t.Mapping[str, str] | None,
    base64: bool | None,
) -> _Request:
    if not path.startswith("/"):
        raise ValueError(f"a request path starts with '/', not {path!r}")
    decoded_path, pairs = url_parts(path, query)
    all_headers = Headers(headers or ())
    if json is not None:
        if body:
            raise ValueError("give a request either a body or json, not both")
        body = jsonlib.dumps(json)
        all_headers.setdefault("Content-Type", "application/json")
    data = body.encode("utf-8") if isinstance(body, str) else body
    if data and "Content-Length" not in all_headers:
        all_headers["Content-Length"] = str(len(data))
    cookie_list = [f"{name}={value}" for name, value in (cookies or {}).items()]
    text, encoded = _event_body(data, base64)
    now = time.time()
    return _Request(
        method=method.upper(),
        path=decoded_path,
        query=pairs,
        headers=all_headers,
        cookies=cookie_list,
        body=text,
        encoded=encoded,
        request_id=str(uuid.uuid4()),
        epoch_ms=int(now * 1000),
    )


def _event_body(data: bytes, base64: bool | None) -> tuple[str | None, bool]:
    """The body as an event carries it, and whether that text is base64."""
    if not data:
        return None, False
    if base64:
        return b64.b64encode(data).decode("ascii"), True
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        if base64 is False:
            raise ValueError(
                "a body that is not UTF-8 travels base64-encoded"
            ) from None
        return b64.b64encode(data).decode("ascii"), True


def _add_front_headers(headers: Headers, kind: str) -> None:
    """The headers every request carries once it has passed the AWS front."""
    host = {
        "rest": f"{_API_ID}.execute-api.{_REGION}.amazonaws.com",
        "http": f"{_API_ID}.execute-api.{_REGION}.amazonaws.com",
        "url": f"{_URL_ID}.lambda-url.{_REGION}.on.aws",
    }.get(kind, _ALB_HOST)
    headers.setdefault("Host", host)
    headers.setdefault("User-Agent", _USER_AGENT)
    headers.setdefault("X-Forwarded-For", _CLIENT_IP)
    headers.setdefault("X-Forwarded-Port", "443")
    headers.setdefault("X-Forwarded-Proto", "https")


def _rest_event(request: _Request, stage: str | None) -> dict[str, t.Any]:
    """The REST event of :func:`coworks.events.rest_event`, the request the
    runtime reads, with the context API Gateway adds around it."""
    headers = Headers(request.headers)
    if request.cookies:
        headers.add("Cookie", "; ".join(request.cookies))
    event = events.rest_event(
        request.method,
        request.path,
        query=request.grouped_query,
        headers=list(headers.items()),
        source_ip=_CLIENT_IP,
        **({} if stage is None else {"stage": stage}),
    )
    event["body"], event["isBase64Encoded"] = request.body, request.encoded
    context = event["requestContext"]
    context.update(
        accountId=_ACCOUNT,
        apiId=_API_ID,
        domainName=headers["Host"],
        domainPrefix=headers["Host"].split(".")[0],
        extendedRequestId=request.request_id[:16],
        protocol="HTTP/1.1",
        requestId=request.request_id,
        requestTime=request.client_time,
        requestTimeEpoch=request.epoch_ms,
        resourceId=_RESOURCE_ID,
    )
    context["identity"] = {
        **_ANONYMOUS,
        **context["identity"],
        "userAgent": headers["User-Agent"],
    }
    return event


def _v2_event(request: _Request, stage: str, function_url: bool) -> dict[str, t.Any]:
    """The payload format 2.0 of the HTTP API, which function URLs share."""
    cookies = list(request.cookies)
    headers: dict[str, list[str]] = {}
    for key, value in request.headers.items():
        if key.lower() == "cookie":  # 2.0 moves cookies to their own list
            cookies += [part.strip() for part in value.split(";") if part.strip()]
        else:
            headers.setdefault(key.lower(), []).append(value)
    # The HTTP API decodes the path and puts a named stage in front of it; a
    # function URL, which has no stage, passes the path as the client sent it.
    if function_url:
        path = request.encoded_path
    else:
        path = request.path if stage == "$default" else f"/{stage}{request.path}"
    event: dict[str, t.Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": _escaped_query(request.query),
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = {key: ",".join(values) for key, values in headers.items()}
    if request.query:
        event["queryStringParameters"] = {
            key: ",".join(values) for key, values in request.grouped_query.items()
        }
    host = event["headers"]["host"]
    event["requestContext"] = {
        # The caller's account: none for a function URL without IAM auth.
        "accountId": "anonymous" if function_url else _ACCOUNT,
        "apiId": _URL_ID if function_url else _API_ID,
        "domainName": host,
        "domainPrefix": host.split(".")[0],
        "http": {
            "method": request.method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": _CLIENT_IP,
            "userAgent": event["headers"]["user-agent"],
        },
        "requestId": request.request_id,
        "routeKey": "$default",
        "stage": stage,
        "time": request.client_time,
        "timeEpoch": request.epoch_ms,
    }
    if request.body is not None:
        event["body"] = request.body
    event["isBase64Encoded"] = request.encoded
    return event


def _alb_event(request: _Request, multi: bool) -> dict[str, t.Any]:
    """An ALB event; ``multi`` when the target group has multi-value headers on."""
    headers = Headers(request.headers)
    if request.cookies:
        headers.add("Cookie", "; ".join(request.cookies))
    header_lists = _grouped((key.lower(), value) for key, value in headers.items())
    query_lists = _grouped(
        (quote(key, safe=""), quote(value, safe="")) for key, value in request.query
    )
    event: dict[str, t.Any] = {
        "requestContext": {"elb": {"targetGroupArn": _TARGET_GROUP}},
        "httpMethod": request.method,
        "path": request.encoded_path,
    }
    if multi:
        event["multiValueQueryStringParameters"] = query_lists
        event["multiValueHeaders"] = header_lists
    else:  # the last value the client sent wins
        event["queryStringParameters"] = {k: v[-1] for k, v in query_lists.items()}
        event["headers"] = {k: v[-1] for k, v in header_lists.items()}
    event["body"] = request.body or ""
    event["isBase64Encoded"] = request.encoded
    return event


def _grouped(pairs: t.Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _escaped_query(pairs: list[tuple[str, str]]) -> str:
    """A query string as a client writes it, every reserved character escaped."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
