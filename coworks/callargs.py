"""How ``cws call`` reads a request from its command line: method, headers, query
and a JSON body, each checked so that what cannot be sent is a usage error."""

from __future__ import annotations

import json
import re
import typing as t

import click

#: The verbs ``cws call`` sends.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

# A header name, as HTTP defines a token.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def json_argument(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> bytes | None:
    """The JSON argument checked, as the body bytes to send."""
    if value is None:
        return None
    try:
        json.loads(value, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not valid JSON ({error})") from None
    except ValueError as error:  # NaN, or a number Python will not read
        raise click.BadParameter(f"not valid JSON ({error})") from None
    except RecursionError:
        raise click.BadParameter("nested too deeply") from None
    return value.encode("utf-8", "surrogatepass")


def _no_constant(word: str) -> t.NoReturn:
    raise ValueError(f"{word} is not JSON")


def clean(text: str, what: str) -> str:
    """Text that goes into a header: no line break or NUL, which would end it."""
    if any(c in text for c in "\r\n\x00"):
        raise click.BadParameter(f"{what} holds a line break or a NUL character")
    return text


def method(ctx: click.Context, param: click.Parameter, value: str) -> str:
    # Not a click.Choice, which would show the verbs in lower case.
    if value.upper() not in METHODS:
        raise click.BadParameter(f"{value!r} is not one of {', '.join(METHODS)}")
    return value.upper()


class Line(click.ParamType):
    """Text whose repeated values an environment variable gives one a line, since
    they hold spaces (``CWS_CALL_HEADER='Authorization: Bearer …'``)."""

    name = "text"
    envvar_list_splitter = "\n"

    def convert(self, value: t.Any, param: t.Any, ctx: t.Any) -> str:
        return str(value)


def headers(
    ctx: click.Context, param: click.Parameter, values: t.Sequence[str]
) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, colon, text = value.partition(":")
        if not colon or not _HEADER_NAME.fullmatch(name.strip()):
            raise click.BadParameter(f"{value!r} is not 'Name: value'")
        headers[name.strip()] = clean(text.strip(), f"header {name.strip()!r}")
    return headers


def queries(
    ctx: click.Context, param: click.Parameter, values: t.Sequence[str]
) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for value in values:
        key, equals, text = value.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"{value!r} is not 'key=value'")
        query.setdefault(key, []).append(text)
    return query
