"""Reading the fields of a Lambda event, and building the WSGI environ from them.

Events come from outside: every field is checked as it is read, and a field that
cannot be read raises :class:`EventError` with what is wrong, never another
exception. Pure: dicts in, dicts out.
"""

from __future__ import annotations

import base64
import binascii
import io
import sys
import typing as t

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
    """An event that cannot be read; the message says what is wrong with it."""


def required(event: t.Mapping[str, t.Any], key: str, where: str | None = None) -> str:
    """A field that must be a non-empty string."""
    value = event.get(key)
    if not isinstance(value, str) or not value:
        raise EventError(f"the event's {where or key!r} must be a non-empty string")
    return text(value, where or key)


def text(value: t.Any, where: str) -> str:
    """A string that can be encoded as UTF-8, as everything in an HTTP request can."""
    if not isinstance(value, str):
        raise EventError(f"the event's {where} must be a string")
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise EventError(f"the event's {where} is not valid Unicode") from None
    return value


def optional_text(event: t.Mapping[str, t.Any], key: str, where: str) -> str:
    """A field that is a string, or absent (read as empty)."""
    value = event.get(key)
    return "" if value is None else text(value, where)


def mapping(
    container: t.Mapping[str, t.Any], key: str, where: str | None = None
) -> dict[str, t.Any]:
    """A field that is an object, or null (read as empty)."""
    value = container.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise EventError(f"the event's {where or key!r} must be an object or null")
    return value


def values(value: t.Any, where: str) -> list[str]:
    """One value or a list of values of a multi-value map, as strings."""
    found = value if isinstance(value, list) else [value]
    return [text(item, where) for item in found]


def header_value(value: str, key: t.Any) -> str:
    if "\n" in value or "\r" in value or "\x00" in value:
        raise EventError(f"the event's header {key!r} holds a line break")
    return value


class HeaderList(list[tuple[str, str]]):
    """Request headers as ``(name, value)`` pairs, names as sent, looked up without
    regard to case. Lighter than Werkzeug's Headers, which checks every value again
    as it is added: these were checked as they were read."""

    def get(self, name: str, default: str | None = None) -> str | None:
        wanted = name.lower()
        for key, value in self:
            if key.lower() == wanted:
                return value
        return default

    def getlist(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self if key.lower() == wanted]

    def add(self, name: str, value: str) -> None:
        self.append((name, value))


def merged_headers(
    multi: t.Mapping[str, t.Any], single: t.Mapping[str, t.Any]
) -> HeaderList:
    """Both header maps merged as API Gateway merges them.

    Every value of the multi-value map is kept; the single-value map adds only the
    headers the other one lacks.
    """
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()  # lower-case names: one pass, not a scan a header
    for key, found in multi.items():
        name = str(key)
        seen.add(name.lower())
        for value in found if isinstance(found, list) else [found]:
            pairs.append((name, header_value(text(value, "header value"), key)))
    for key, value in single.items():
        name = str(key)
        if name.lower() not in seen:
            pairs.append((name, header_value(text(value, "header value"), key)))
    return HeaderList(pairs)


def body(event: t.Mapping[str, t.Any]) -> bytes:
    """The request body, decoded from base64 only when the event says it is."""
    found = event.get("body") or ""
    encoded = event.get("isBase64Encoded")
    if not (encoded is None or encoded is True or encoded is False):
        raise EventError("the event's 'isBase64Encoded' must be true, false or null")
    if not isinstance(found, str):
        raise EventError("the event's 'body' must be a string")
    try:
        data = found.encode("utf-8")  # once: a body may be large
    except UnicodeEncodeError:
        raise EventError("the event's 'body' is not valid Unicode") from None
    if encoded:
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error:
            raise EventError("the event's body is marked base64 but is not") from None
    return data


def environ(
    *,
    method: str,
    path: bytes,
    query: str,
    headers: HeaderList,
    body: bytes,
    remote_addr: str,
    script_name: str = "",
    host: str = "",
    extra: dict[str, t.Any],
) -> dict[str, t.Any]:
    """The WSGI environ of a request.

    :param path: the path as the client meant it, in bytes (decoded from any
        percent-escapes); WSGI carries it as the Latin-1 text of those bytes.
    :param script_name: the part of the URL before the app (an API Gateway
        stage), which URLs the app builds start with.
    :param host: the host to use when the request has no Host header.
    """
    grouped: dict[str, list[str]] = {}
    for key, value in headers:
        # In WSGI, X_User and X-User are one name: a header spelt with "_" is dropped
        # so that a client cannot shadow one set by a proxy.
        if "_" not in key:
            grouped.setdefault(key.lower(), []).append(value)
    host = (grouped.get("host") or [host or "localhost"])[0]
    found: dict[str, t.Any] = {
        "REQUEST_METHOD": method.upper(),
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path.decode("latin-1"),
        # Like the path, the query is Latin-1 text of its bytes: a raw query string
        # may hold characters a client did not %-encode.
        "QUERY_STRING": query.encode("utf-8").decode("latin-1"),
        "SERVER_NAME": host.split(":")[0],
        "SERVER_PORT": (grouped.get("x-forwarded-port") or ["443"])[0],
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": remote_addr,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": host,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": (grouped.get("x-forwarded-proto") or ["https"])[0],
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        **extra,
    }
    for key, found_values in grouped.items():
        if key in _HOP_BY_HOP:
            continue
        name = key.upper().replace("-", "_")
        value = ("; " if key == "cookie" else ", ").join(found_values)
        if name == "CONTENT_TYPE":
            found["CONTENT_TYPE"] = value
        elif name != "CONTENT_LENGTH":
            found[f"HTTP_{name}"] = value
    return found


def encode_body(content_type: str, data: bytes) -> tuple[str, bool]:
    """A response body as the event's text, and whether that text is base64: it
    is exactly when the content type is not a textual one."""
    mimetype = content_type.split(";")[0].strip().lower()
    textual = (
        mimetype.startswith("text/")
        or mimetype in _TEXT_TYPES
        or mimetype.endswith(("+json", "+xml"))
    )
    if textual or not data:
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(data).decode("ascii"), True


def multi_map(headers: Headers) -> dict[str, list[str]]:
    """Response headers as a multi-value map, names as the app wrote them."""
    found: dict[str, list[str]] = {}
    for key, value in headers.items():
        found.setdefault(key, []).append(value)
    return found
