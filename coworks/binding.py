"""Binding a request to an entry's parameters, and an entry's result to a response.

An entry's signature is read once, when the service is built. Parameters without a
default value are path segments; the others come from the query string (GET, DELETE)
or from the JSON body (POST, PUT, PATCH). Each value is converted to the parameter's
annotation; a value that does not convert is a :class:`BindingError`, which the
service answers with a 422 JSON error naming the parameter.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import re
import types
import typing as t

from flask import Response
from flask import jsonify

from .routing import QUERY_VERBS
from .routing import Route
from .routing import route_for

if t.TYPE_CHECKING:
    from flask import Request

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class BindingError(ValueError):
    """A request value that does not fit the entry's signature (answered with 422)."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


class EntryError(TypeError):
    """An entry whose signature cannot be bound from a request."""


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One parameter of an entry, with the type its value is converted to."""

    name: str
    annotation: t.Any
    default: t.Any = inspect.Parameter.empty

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty


@dataclasses.dataclass(frozen=True)
class EntrySignature:
    """What an entry takes: path parameters, options, and whether it takes **kwargs."""

    route: Route
    path: tuple[Parameter, ...]
    options: tuple[Parameter, ...]
    takes_extra: bool
    #: Names a request may not set through **kwargs: the path's and ``self``.
    reserved: frozenset[str]

    @classmethod
    def of(cls, func: t.Callable[..., t.Any]) -> EntrySignature:
        """Read the signature of an entry method.

        :raises EntryError: when the signature cannot be bound from a request.
        """
        name = func.__name__
        if inspect.iscoroutinefunction(func):
            raise EntryError(f"entry {name!r} is async; entries are plain methods")
        try:
            hints = t.get_type_hints(func)
        except Exception as error:
            raise EntryError(
                f"entry {name!r}: its annotations do not resolve ({error})"
            ) from None
        path: list[Parameter] = []
        options: list[Parameter] = []
        takes_extra = False
        params = list(inspect.signature(func).parameters.values())
        if not params or params[0].kind not in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            raise EntryError(f"entry {name!r} must take self as its first parameter")
        first, *params = params
        for param in params:
            if param.kind is param.VAR_KEYWORD:
                takes_extra = True
                continue
            if param.kind in (param.VAR_POSITIONAL, param.POSITIONAL_ONLY):
                raise EntryError(
                    f"entry {name!r}: parameter {param.name!r} must be passable by "
                    "keyword (no *args, no positional-only parameters)"
                )
            bound = Parameter(param.name, hints.get(param.name, t.Any), param.default)
            (path if bound.required else options).append(bound)
        route = route_for(name, [p.name for p in path])
        query = route.method in QUERY_VERBS
        for param in path + (options if query else []):
            _check_text_annotation(name, param, allow_list=param in options)
        reserved = frozenset({first.name, *(p.name for p in path)})
        return cls(route, tuple(path), tuple(options), takes_extra, reserved)

    def bind(self, view_args: dict[str, str], request: Request) -> dict[str, t.Any]:
        """The keyword arguments for a call to the entry from this request."""
        kwargs = {
            p.name: convert_text(view_args[p.name], p.annotation, p.name)
            for p in self.path
        }
        if self.route.method in QUERY_VERBS:
            kwargs.update(self._bind_query(request))
        else:
            kwargs.update(self._bind_body(request))
        return kwargs

    def _bind_query(self, request: Request) -> dict[str, t.Any]:
        known = {p.name: p for p in self.options}
        kwargs: dict[str, t.Any] = {}
        for key in request.args:
            values = request.args.getlist(key)
            param = known.get(key)
            if param is None:
                self._check_extra(key)
                kwargs[key] = values[0] if len(values) == 1 else values
            elif _list_item_type(param.annotation) is not None:
                item = _list_item_type(param.annotation)
                kwargs[key] = [convert_text(v, item, key) for v in values]
            else:
                kwargs[key] = convert_text(values[-1], param.annotation, key)
        return kwargs

    def _bind_body(self, request: Request) -> dict[str, t.Any]:
        data = request.get_data(cache=True)
        if not data:
            return {}
        try:
            body = json.loads(data, parse_constant=_no_constant)
        except ValueError:
            raise BindingError("body", "not valid JSON") from None
        except RecursionError:
            raise BindingError("body", "JSON nested too deeply") from None
        if not isinstance(body, dict):
            raise BindingError("body", f"expected a JSON object, got {_kind(body)}")
        known = {p.name: p for p in self.options}
        kwargs: dict[str, t.Any] = {}
        for key, value in body.items():
            param = known.get(key)
            if param is None:
                self._check_extra(key)
                kwargs[key] = value
            else:
                kwargs[key] = check_json(
                    value, param.annotation, key, nullable=param.default is None
                )
        return kwargs

    def _check_extra(self, key: str) -> None:
        if not self.takes_extra:
            expected = ", ".join(p.name for p in self.options) or "none"
            raise BindingError(key, f"unknown parameter (expected: {expected})")
        if key in self.reserved:
            raise BindingError(key, "is set by the path; it cannot be given again")


#: Types a path segment or a query value converts to.
_SCALAR_TYPES = (str, int, float, bool, t.Any, inspect.Parameter.empty)

#: Python refuses to read longer integers from text (sys.get_int_max_str_digits).
_MAX_DIGITS = 4300
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _check_text_annotation(entry: str, param: Parameter, allow_list: bool) -> None:
    target = _unwrap_optional(param.annotation)
    item = _list_item_type(target) if allow_list else None
    if target in _SCALAR_TYPES or item in _SCALAR_TYPES:
        return
    where = "a query string" if allow_list else "a path segment"
    raise EntryError(
        f"entry {entry!r}: parameter {param.name!r} of type {target!r} cannot come "
        f"from {where}; use str, int, float, bool"
        + (" or a list of them" if allow_list else "")
        + ", or take it from the JSON body of a POST"
    )


def _unwrap_optional(annotation: t.Any) -> t.Any:
    """``Optional[X]`` and ``X | None`` convert as ``X``."""
    args = [a for a in t.get_args(annotation) if a is not type(None)]
    if t.get_origin(annotation) in (t.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def _list_item_type(annotation: t.Any) -> t.Any:
    annotation = _unwrap_optional(annotation)
    if t.get_origin(annotation) is list:
        (item,) = t.get_args(annotation) or (t.Any,)
        return item
    if annotation is list:
        return t.Any
    return None


def convert_text(text: str, annotation: t.Any, name: str) -> t.Any:
    """Convert a path segment or a query value to ``annotation``."""
    target = _unwrap_optional(annotation)
    if target is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise BindingError(name, f"expected a boolean (true or false), got {text!r}")
    if target is int and _INTEGER.fullmatch(text) and len(text) <= _MAX_DIGITS:
        return int(text)
    if target is float and _NUMBER.fullmatch(text) and math.isfinite(float(text)):
        return float(text)
    if target in (int, float):
        raise BindingError(name, f"expected {_type_name(target)}, got {text!r}")
    return text


def check_json(
    value: t.Any, annotation: t.Any, name: str, nullable: bool = False
) -> t.Any:
    """Check a JSON body value against ``annotation``; a list's items too.

    :param nullable: whether null is accepted whatever the annotation (the
        parameter's default is None).
    """
    target = _unwrap_optional(annotation)
    if value is None and (nullable or target is not annotation):
        return None
    if t.get_origin(target) in (t.Union, types.UnionType):
        for member in t.get_args(target):
            try:
                return check_json(value, member, name)
            except BindingError:
                continue
        expected = " or ".join(_type_name(m) for m in t.get_args(target))
        raise BindingError(name, f"expected {expected}, got {_kind(value)}")
    item = _list_item_type(target)
    if item is not None:
        if not isinstance(value, list):
            raise BindingError(name, f"expected a list, got {_kind(value)}")
        return [check_json(v, item, f"{name}[{i}]") for i, v in enumerate(value)]
    origin = t.get_origin(target) or target
    if t.is_typeddict(origin):
        origin = dict  # its keys are the entry's to read
    if origin in (t.Any, inspect.Parameter.empty) or not isinstance(origin, type):
        return value
    if (
        origin is float
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        if not math.isfinite(value if isinstance(value, float) else 0.0):
            raise BindingError(name, "expected a finite number")
        try:
            return float(value)
        except OverflowError:
            raise BindingError(name, "expected a number a float can hold") from None
    if isinstance(value, origin) and not (origin is int and isinstance(value, bool)):
        return value
    raise BindingError(name, f"expected {_type_name(origin)}, got {_kind(value)}")


def _no_constant(word: str) -> t.NoReturn:
    raise ValueError(f"{word} is not JSON")


def _type_name(kind: t.Any) -> str:
    return {
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        str: "a string",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }.get(kind, getattr(kind, "__name__", str(kind)))


def _kind(value: t.Any) -> str:
    """How a JSON value is called in an error message."""
    return "null" if value is None else _type_name(type(value))


def to_response(result: t.Any) -> t.Any:
    """Turn an entry's return value into something Flask can answer with.

    A dict, list or dataclass is JSON; ``None`` is an empty 204; text is text/plain;
    bytes are application/octet-stream; tuples and responses pass as Flask reads them.
    """
    if result is None:
        response = Response(status=204)
        del response.headers["Content-Type"]
        return response
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return jsonify(dataclasses.asdict(result))
    if isinstance(result, (dict, list)):
        return jsonify(result)
    if isinstance(result, str):
        return Response(result, mimetype="text/plain")
    if isinstance(result, bytes):
        return Response(result, mimetype="application/octet-stream")
    return result
