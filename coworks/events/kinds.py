"""The kinds of Lambda HTTP events, each read and answered by its own rules.

What each front door sends differs, and each difference is handled here:

=============  ===========  ================  ===============  ====================
kind           path         query             cookies in       cookies out
=============  ===========  ================  ===============  ====================
REST (v1)      %-encoded,   decoded maps      Cookie header    multiValueHeaders
               no stage
HTTP API (v2)  decoded,     raw string        ``cookies``      ``cookies``
               may start
               with stage
Function URL   %-encoded    raw string        ``cookies`` and  ``cookies``
                                              Cookie header
ALB            %-encoded    still %-encoded   Cookie header    one header a name
                            maps                               (single-value), or
                                                               multiValueHeaders
=============  ===========  ================  ===============  ====================

URLs the app builds (``url_for``, ``request.url``) start with the stage on the
default ``execute-api`` host, where clients must write it, and not on a custom
domain, whose mapping adds it.
"""

from __future__ import annotations

import itertools
import re
import typing as t
from http import HTTPStatus
from urllib.parse import unquote_to_bytes
from urllib.parse import urlencode

from werkzeug.datastructures import Headers

from . import read
from .read import EventError


class RestEvent:
    """API Gateway REST API proxy integration (payload version 1.0)."""

    name = "rest"

    def matches(self, event: t.Mapping[str, t.Any]) -> bool:
        return (
            "httpMethod" in event
            and event.get("version", "1.0") == "1.0"
            and not _from_alb(event)
        )

    def environ(self, event: t.Mapping[str, t.Any], context: t.Any) -> dict[str, t.Any]:
        request_context = read.mapping(event, "requestContext")
        identity = read.mapping(request_context, "identity", "requestContext.identity")
        headers = read.merged_headers(
            read.mapping(event, "multiValueHeaders"), read.mapping(event, "headers")
        )
        domain = _domain(request_context)
        host = headers.get("Host") or domain
        path = _unquoted(read.required(event, "path"))
        base = _base_path(event, request_context, path)
        return read.environ(
            method=read.required(event, "httpMethod"),
            path=path[len(base) :] or b"/",
            query=_decoded_query(event),
            headers=headers,
            body=read.body(event),
            remote_addr=_ip(identity.get("sourceIp")),
            script_name=_script_name(host, request_context.get("stage"))
            or base.decode("latin-1"),
            host=domain,
            extra={"coworks.event": event, "coworks.context": context},
        )

    def response(self, status: int, headers: Headers, body: bytes) -> dict[str, t.Any]:
        multi = read.multi_map(headers)
        text, encoded = read.encode_body(headers.get("Content-Type", ""), body)
        return {
            "statusCode": status,
            # API Gateway merges both maps; a value present in both appears once.
            "headers": {key: found[-1] for key, found in multi.items()},
            "multiValueHeaders": multi,
            "body": text,
            "isBase64Encoded": encoded,
        }


class HttpEvent:
    """API Gateway HTTP API (payload version 2.0), and Lambda function URLs, which
    send the same payload with the path still %-encoded."""

    def __init__(self, name: str, encoded_path: bool) -> None:
        self.name = name
        self.encoded_path = encoded_path

    def matches(self, event: t.Mapping[str, t.Any]) -> bool:
        context = event.get("requestContext")
        if event.get("version") != "2.0" or not isinstance(context, dict):
            return False
        if "http" not in context:
            return False
        domain = context.get("domainName")
        on_url = isinstance(domain, str) and ".lambda-url." in domain
        return on_url == self.encoded_path

    def environ(self, event: t.Mapping[str, t.Any], context: t.Any) -> dict[str, t.Any]:
        request_context = read.mapping(event, "requestContext")
        http = read.mapping(request_context, "http", "requestContext.http")
        raw_path = read.required(event, "rawPath")
        stage = request_context.get("stage")
        path = _unquoted(raw_path) if self.encoded_path else raw_path.encode()
        headers = read.HeaderList()
        for key, value in read.mapping(event, "headers").items():
            found = read.header_value(read.text(value, f"header {key!r}"), key)
            if str(key).lower() != "cookie" or "cookies" not in event:
                headers.add(str(key), found)  # else the cookies list says it all
        cookies = event.get("cookies")
        if cookies is not None:
            if not isinstance(cookies, list):
                raise EventError("the event's 'cookies' must be a list")
            jar = read.values(cookies, "cookie")
            if jar:
                headers.add("Cookie", read.header_value("; ".join(jar), "cookies"))
        domain = _domain(request_context)
        script_name = _script_name(headers.get("Host") or domain, stage)
        if script_name:  # only the execute-api host puts the stage in rawPath
            path = _without_stage(path, stage)
        return read.environ(
            method=read.required(http, "method", "requestContext.http.method"),
            path=path,
            query=read.optional_text(event, "rawQueryString", "rawQueryString"),
            headers=headers,
            body=read.body(event),
            remote_addr=_ip(http.get("sourceIp")),
            script_name=script_name,
            host=domain,
            extra={"coworks.event": event, "coworks.context": context},
        )

    def response(self, status: int, headers: Headers, body: bytes) -> dict[str, t.Any]:
        cookies = headers.getlist("Set-Cookie")
        joined: dict[str, list[str]] = {}
        for key, value in headers.items():
            if key.lower() != "set-cookie":
                joined.setdefault(key, []).append(value)
        text, encoded = read.encode_body(headers.get("Content-Type", ""), body)
        answer: dict[str, t.Any] = {
            "statusCode": status,
            "headers": {key: ", ".join(found) for key, found in joined.items()},
            "body": text,
            "isBase64Encoded": encoded,
        }
        if cookies:
            answer["cookies"] = cookies
        return answer


class AlbEvent:
    """An Application Load Balancer target: headers in one value a name, or in
    multi-value maps when the target group turns them on; either way the query
    arrives still %-encoded, and the answer must use the same form."""

    def __init__(self, name: str, multi: bool) -> None:
        self.name = name
        self.multi = multi

    def matches(self, event: t.Mapping[str, t.Any]) -> bool:
        return _from_alb(event) and ("multiValueHeaders" in event) == self.multi

    def environ(self, event: t.Mapping[str, t.Any], context: t.Any) -> dict[str, t.Any]:
        if self.multi:
            headers = read.merged_headers(read.mapping(event, "multiValueHeaders"), {})
            pairs = read.mapping(event, "multiValueQueryStringParameters")
        else:
            headers = read.merged_headers({}, read.mapping(event, "headers"))
            pairs = read.mapping(event, "queryStringParameters")
        query = "&".join(
            f"{read.text(key, 'query key')}={value}"
            for key, found in pairs.items()
            for value in read.values(found, f"query value of {key!r}")
        )
        # The load balancer appends the client it saw last, whatever a client sent.
        forwarded = ",".join(headers.getlist("X-Forwarded-For")).split(",")
        return read.environ(
            method=read.required(event, "httpMethod"),
            path=_unquoted(read.required(event, "path")),
            query=query,
            headers=headers,
            body=read.body(event),
            remote_addr=_ip(forwarded[-1].strip()),
            extra={"coworks.event": event, "coworks.context": context},
        )

    def response(self, status: int, headers: Headers, body: bytes) -> dict[str, t.Any]:
        text, encoded = read.encode_body(headers.get("Content-Type", ""), body)
        try:
            description = f"{status} {HTTPStatus(status).phrase}"
        except ValueError:
            description = str(status)
        answer: dict[str, t.Any] = {
            "statusCode": status,
            "statusDescription": description,
            "body": text,
            "isBase64Encoded": encoded,
        }
        multi = read.multi_map(headers)
        if self.multi:
            answer["multiValueHeaders"] = multi
        else:
            answer["headers"] = _single_values(multi)
        return answer


def _single_values(multi: dict[str, list[str]]) -> dict[str, str]:
    """One value a header name: repeated headers are joined with commas, but for
    Set-Cookie, whose values hold commas; each cookie gets its own spelling of the
    name (``Set-Cookie``, ``set-Cookie``…), which HTTP reads as the same header."""
    single: dict[str, str] = {}
    for key, found in multi.items():
        if key.lower() == "set-cookie":
            for spelling, value in zip(_spellings(key), found, strict=False):
                single[spelling] = value
        else:
            single[key] = ", ".join(found)
    return single


def _spellings(name: str) -> t.Iterator[str]:
    """Every spelling of ``name`` in upper and lower case letters, ``name`` first."""
    options = [(c, c.swapcase()) if c.isalpha() else (c,) for c in name]
    return ("".join(chars) for chars in itertools.product(*options))


def _from_alb(event: t.Mapping[str, t.Any]) -> bool:
    context = event.get("requestContext")
    return isinstance(context, dict) and "elb" in context


def _unquoted(path: str) -> bytes:
    return unquote_to_bytes(path)


def _without_stage(path: bytes, stage: t.Any) -> bytes:
    """The path without a first segment equal to the stage name: an HTTP API with
    a named stage may send ``/prod/orders``; ``/products`` keeps its letters."""
    if not isinstance(stage, str) or not stage or stage == "$default":
        return path
    prefix = b"/" + stage.encode()
    if path == prefix or path.startswith(prefix + b"/"):
        return path[len(prefix) :] or b"/"
    return path


def _script_name(host: t.Any, stage: t.Any) -> str:
    """The stage as the start of every URL the app builds, on the default
    execute-api host only: a custom domain maps a base path to the stage itself."""
    if not isinstance(stage, str) or not stage or stage == "$default":
        return ""
    name = str(host or "").split(":")[0].lower()
    if ".execute-api." in name and name.endswith(
        (".amazonaws.com", ".amazonaws.com.cn")
    ):
        return f"/{stage}"
    return ""


def _base_path(
    event: t.Mapping[str, t.Any], request_context: t.Mapping[str, t.Any], path: bytes
) -> bytes:
    """The base path of a custom domain's mapping, which a REST event's path starts
    with: what precedes the resource the API matched, its parameters filled in."""
    resource = request_context.get("resourcePath", event.get("resource"))
    params = event.get("pathParameters") or {}
    if not isinstance(resource, str) or not isinstance(params, dict):
        return b""

    def value(match: re.Match[str]) -> str:
        found = params.get(match[1])
        return found if isinstance(found, str) else match[0]

    matched = _RESOURCE_PARAMETER.sub(value, resource).encode("utf-8", "replace")
    if matched == b"/":
        return path.rstrip(b"/")
    if path.endswith(matched) and len(path) > len(matched):
        base = path[: -len(matched)]
        return base if base.startswith(b"/") and not base.endswith(b"/") else b""
    return b""


_RESOURCE_PARAMETER = re.compile(r"\{([^}+]+)\+?\}")


def _domain(request_context: t.Mapping[str, t.Any]) -> str:
    domain = request_context.get("domainName")
    return domain if isinstance(domain, str) else ""


def _ip(value: t.Any) -> str:
    return value if isinstance(value, str) and value else "127.0.0.1"


def _decoded_query(event: t.Mapping[str, t.Any]) -> str:
    """The query string of decoded maps, from the multi-value one when there is one."""
    multi = read.mapping(event, "multiValueQueryStringParameters")
    query = multi or read.mapping(event, "queryStringParameters")
    pairs = [
        (read.text(key, "query key"), value)
        for key, found in query.items()
        for value in read.values(found, f"query value of {key!r}")
    ]
    return urlencode(pairs)


#: The kinds tried in order by :func:`coworks.events.kind_of`.
KINDS: tuple[t.Any, ...] = (
    RestEvent(),
    HttpEvent("http", encoded_path=False),
    HttpEvent("url", encoded_path=True),
    AlbEvent("alb", multi=False),
    AlbEvent("alb-multi", multi=True),
)
