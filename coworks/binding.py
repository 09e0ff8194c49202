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

    @classmethod
    def of(cls, func: t.Callable[..., t.Any]) -> EntrySignature:
        """Read the signature of an entry method (``self`` excluded)."""
        hints = t.get_type_hints(func)
        path: list[Parameter] = []
        options: list[Parameter] = []
        takes_extra = False
        params = list(inspect.signature(func).parameters.values())[1:]
        for param in params:
            if param.kind is param.VAR_KEYWORD:
                takes_extra = True
                continue
            if param.kind is param.VAR_POSITIONAL:
                raise TypeError(f"entry {func.__name__!r} cannot take *{param.name}")
            bound = Parameter(param.name, hints.get(param.name, t.Any), param.default)
            (path if bound.required else options).append(bound)
        route = route_for(func.__name__, [p.name for p in path])
        return cls(route, tuple(path), tuple(options), takes_extra)

    def bind(self, view_args: dict[str, str], request: Request) -> dict[str, t.Any]:
        """The keyword arguments for a call to the entry from this request."""
        kwargs = {p.name: convert_text(view_args[p.name], p) for p in self.path}
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
                kwargs[key] = [convert_text(v, param, item=True) for v in values]
            else:
                kwargs[key] = convert_text(values[-1], param)
        return kwargs

    def _bind_body(self, request: Request) -> dict[str, t.Any]:
        if not request.get_data(cache=True):
            return {}
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            raise BindingError("body", "expected a JSON object")
        known = {p.name: p for p in self.options}
        kwargs: dict[str, t.Any] = {}
        for key, value in body.items():
            param = known.get(key)
            if param is None:
                self._check_extra(key)
                kwargs[key] = value
            else:
                kwargs[key] = check_json(value, param)
        return kwargs

    def _check_extra(self, key: str) -> None:
        if not self.takes_extra:
            expected = ", ".join(p.name for p in self.options) or "none"
            raise BindingError(key, f"unknown parameter (expected: {expected})")


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


def convert_text(text: str, param: Parameter, item: bool = False) -> t.Any:
    """Convert a path or query string to the parameter's annotation."""
    target = _unwrap_optional(param.annotation)
    if item:
        target = _list_item_type(target)
    if target in (t.Any, str, inspect.Parameter.empty):
        return text
    if target is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise BindingError(
            param.name, f"expected a boolean (true or false), got {text!r}"
        )
    if target in (int, float):
        try:
            return target(text)
        except ValueError:
            raise BindingError(
                param.name, f"expected {_type_name(target)}, got {text!r}"
            ) from None
    if _list_item_type(target) is not None:
        return [convert_text(text, param, item=True)]
    return text


def check_json(value: t.Any, param: Parameter) -> t.Any:
    """Check a JSON body value against the parameter's annotation."""
    target = _unwrap_optional(param.annotation)
    if value is None and target is not param.annotation:
        return None
    origin = t.get_origin(target) or target
    if origin in (t.Any, inspect.Parameter.empty) or not isinstance(origin, type):
        return value
    if origin is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, origin) and not (origin is int and isinstance(value, bool)):
        return value
    raise BindingError(
        param.name, f"expected {_type_name(origin)}, got {type(value).__name__}"
    )


def _type_name(kind: type) -> str:
    return {
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "an object",
    }.get(kind, kind.__name__)


def to_response(result: t.Any) -> t.Any:
    """Turn an entry's return value into something Flask can answer with.

    A dict, list or dataclass is JSON; ``None`` is an empty 204; text is text/plain;
    bytes are application/octet-stream; tuples and responses pass as Flask reads them.
    """
    if result is None:
        return Response(status=204)
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return jsonify(dataclasses.asdict(result))
    if isinstance(result, (dict, list)):
        return jsonify(result)
    if isinstance(result, str):
        return Response(result, mimetype="text/plain")
    if isinstance(result, bytes):
        return Response(result, mimetype="application/octet-stream")
    return result
