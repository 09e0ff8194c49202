"""Calling a service in-process through the Lambda event path.

The notebook's live calls, the local server and the tests use :func:`invoke`: it
builds the event API Gateway would send, hands it to the service as Lambda would,
and reads the response dict back. Nothing here takes a shortcut around the
translation a deployed service goes through.
"""

from __future__ import annotations

import dataclasses
import json as jsonlib
import typing as t
import uuid
from http import HTTPStatus
from urllib.parse import parse_qsl
from urllib.parse import unquote

from werkzeug.datastructures import Headers

from . import events

if t.TYPE_CHECKING:
    from .service import TechMicroService


@dataclasses.dataclass
class LocalContext:
    """The parts of a Lambda context object a service may read."""

    function_name: str
    aws_request_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 128

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclasses.dataclass
class Result:
    """A service's answer, read back from its Lambda response dict."""

    status: int
    headers: Headers
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> t.Any:
        """The body parsed as JSON."""
        return jsonlib.loads(self.body)

    @property
    def ok(self) -> bool:
        return self.status < 400

    def __repr__(self) -> str:
        return f"<Result {self.status} {self.headers.get('Content-Type', '')}>"

    def _repr_pretty_(self, printer: t.Any, cycle: bool) -> None:
        printer.text(self.describe())

    def describe(self) -> str:
        """The status line, then the body: indented JSON, or text."""
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = ""
        lines = [f"{self.status} {phrase}".rstrip()]
        mimetype = self.headers.get("Content-Type", "").split(";")[0].strip()
        if not self.body:
            pass
        elif mimetype == "application/json" or mimetype.endswith("+json"):
            try:
                lines.append(jsonlib.dumps(self.json(), indent=2, ensure_ascii=False))
            except (ValueError, RecursionError):
                lines.append(self.text)
        elif mimetype.startswith("text/"):
            lines.append(self.text)
        else:
            lines.append(f"<{len(self.body)} bytes of {mimetype or 'unknown type'}>")
        return "\n".join(lines)


def url_parts(
    path: str, query: t.Mapping[str, t.Any] | None = None
) -> tuple[str, list[tuple[str, str]]]:
    """A path as a client writes it in a URL, and more query values: the decoded
    path and the query's ``(key, value)`` pairs, in order.

    A ``?query`` part comes first, then ``query``, whose values are one value or a
    list of them, written as a client would (``true``, ``3``, ``2.5``, text). A
    ``#fragment`` is dropped: it stays with the client, as in HTTP.
    """
    path = path.partition("#")[0]
    raw_path, _, query_string = path.partition("?")
    pairs = parse_qsl(query_string, keep_blank_values=True)
    for key, value in (query or {}).items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            text = ("true" if item else "false") if isinstance(item, bool) else item
            pairs.append((key, str(text)))
    return unquote(raw_path), pairs


def invoke(
    service: TechMicroService,
    method: str,
    path: str,
    *,
    json: t.Any = None,
    query: t.Mapping[str, str | list[str]] | None = None,
    headers: t.Mapping[str, str] | None = None,
    body: bytes = b"",
) -> Result:
    """Call one entry of ``service`` as API Gateway and Lambda would.

    :param path: the path as a client writes it in a URL: percent-escapes are
        decoded, a ``?query`` part is read as the query string, added to
        ``query``, and a ``#fragment`` is not sent.
    :param json: a value sent as the JSON body (instead of ``body``).
    """
    decoded_path, pairs = url_parts(path, query)
    merged: dict[str, list[str]] = {}
    for key, value in pairs:
        merged.setdefault(key, []).append(value)
    all_headers = dict(headers or {})
    if json is not None:
        body = jsonlib.dumps(json).encode("utf-8")
        all_headers.setdefault("Content-Type", "application/json")
    event = events.rest_event(
        method, decoded_path, query=merged, headers=all_headers, body=body
    )
    response = service(event, LocalContext(service.name))
    return Result(*events.from_response(response))
