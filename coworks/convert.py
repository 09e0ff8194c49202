"""Converting request values to the types an entry's signature names.

Two kinds of values reach an entry. Text (a path segment, a query value, a form
field) is *converted*: ``"3"`` becomes ``3`` for an ``int``. JSON values are
*checked*: they must already have the annotated type (``"3"`` is not an ``int``),
except that objects become the dataclass or pydantic model a parameter names. A value
that does not fit is a :class:`BindingError`, which the service answers with a 422.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
import sys
import types
import typing as t
import uuid
from pathlib import PurePosixPath

from werkzeug.datastructures import FileStorage

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

#: Python refuses to read longer integers from text (sys.get_int_max_str_digits).
_MAX_DIGITS = 4300
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")

#: Types a piece of text converts to; the empty annotation and Any keep it as text.
TEXT_TYPES = (
    str,
    int,
    float,
    bool,
    uuid.UUID,
    PurePosixPath,
    t.Any,
    inspect.Parameter.empty,
)


class BindingError(ValueError):
    """A request value that does not fit the entry's signature (answered with 422)."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


def unwrap_optional(annotation: t.Any) -> t.Any:
    """``Optional[X]`` and ``X | None`` convert as ``X``."""
    args = [a for a in t.get_args(annotation) if a is not type(None)]
    if t.get_origin(annotation) in (t.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def list_item_type(annotation: t.Any) -> t.Any:
    """The item type of ``list[X]`` (``Any`` for a bare ``list``), else None."""
    annotation = unwrap_optional(annotation)
    if t.get_origin(annotation) is list:
        (item,) = t.get_args(annotation) or (t.Any,)
        return item
    if annotation is list:
        return t.Any
    return None


def is_text(annotation: t.Any, allow_list: bool = True) -> bool:
    """Whether a value of this type can be written as text (or repeated text)."""
    target = unwrap_optional(annotation)
    item = list_item_type(target) if allow_list else None
    return any(
        kind in TEXT_TYPES or _is_literal(kind) for kind in (target, item) if kind
    )


def _is_literal(kind: t.Any) -> bool:
    """A ``Literal`` of strings, integers or booleans, all of which text can say."""
    return t.get_origin(kind) is t.Literal and all(
        isinstance(value, (str, int)) for value in t.get_args(kind)
    )


def json_problem(annotation: t.Any, seen: frozenset[t.Any] = frozenset()) -> str | None:
    """Why a JSON value can never have this type, or None when one can; the fields
    of dataclasses and the keys of TypedDicts are looked into."""
    target = unwrap_optional(annotation)
    origin = t.get_origin(target)
    if target in seen or target in _JSON_SCALARS or is_pydantic(target):
        return None  # pydantic says itself what it can build
    if origin in (t.Union, types.UnionType, list, dict) or target in (list, dict):
        args = t.get_args(target)[1:] if origin is dict else t.get_args(target)
        return _first_problem(args, seen)
    if origin is t.Literal:
        if all(v is None or isinstance(v, (str, int)) for v in t.get_args(target)):
            return None
        return "a Literal of values JSON has no words for"
    if t.is_typeddict(target) or (
        isinstance(target, type) and dataclasses.is_dataclass(target)
    ):
        return _model_problem(target, seen | {target})
    return f"JSON has no value of type {getattr(target, '__name__', target)!s}"


_JSON_SCALARS = (str, int, float, bool, type(None), uuid.UUID, t.Any)


def _first_problem(kinds: t.Iterable[t.Any], seen: frozenset[t.Any]) -> str | None:
    for kind in kinds:
        if (problem := json_problem(kind, seen)) is not None:
            return problem
    return None


def _model_problem(model: type, seen: frozenset[t.Any]) -> str | None:
    try:
        hints = t.get_type_hints(model)
    except Exception as error:
        return f"the annotations of {model.__name__} do not resolve ({error})"
    if dataclasses.is_dataclass(model):
        for key, hint in hints.items():
            if isinstance(hint, dataclasses.InitVar):
                return f"{model.__name__}.{key} is an InitVar, which JSON cannot fill"
        names = [f.name for f in dataclasses.fields(model) if f.init]
        hints = {key: hints.get(key, t.Any) for key in names}
    problem = _first_problem(hints.values(), seen)
    return f"in {model.__name__}: {problem}" if problem else None


def is_file(annotation: t.Any) -> bool:
    """Whether this parameter takes an uploaded file, or a list of them."""
    target = unwrap_optional(annotation)
    return target is FileStorage or list_item_type(target) is FileStorage


def is_pydantic(kind: t.Any) -> bool:
    """Whether ``kind`` is a pydantic model class; pydantic is never imported here:
    a model class exists only once its user has imported pydantic."""
    pydantic = sys.modules.get("pydantic")
    base = getattr(pydantic, "BaseModel", None)
    return isinstance(kind, type) and base is not None and issubclass(kind, base)


def is_model(annotation: t.Any) -> bool:
    """Whether a JSON object is built into this type: a dataclass or pydantic model."""
    target = unwrap_optional(annotation)
    return (
        isinstance(target, type) and dataclasses.is_dataclass(target)
    ) or is_pydantic(target)


def convert_text(text: str, annotation: t.Any, name: str) -> t.Any:
    """Convert a path segment, a query value or a form field to ``annotation``."""
    target = unwrap_optional(annotation)
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
        raise BindingError(name, f"expected {type_name(target)}, got {text!r}")
    if target is uuid.UUID:
        return _uuid(text, name)
    if _is_literal(target):
        for value in t.get_args(target):
            if text == _text(value):
                return value
        raise BindingError(name, f"expected {_one_of(target)}, got {text!r}")
    if target is PurePosixPath:
        path = PurePosixPath(text)
        if path.is_absolute() or ".." in path.parts:
            raise BindingError(
                name, f"expected a relative path without '..', got {text!r}"
            )
        return path
    return text


def check_json(
    value: t.Any, annotation: t.Any, name: str, nullable: bool = False
) -> t.Any:
    """Check a JSON value against ``annotation``, building the models it names.

    :param nullable: whether null is accepted whatever the annotation (the
        parameter's default is None).
    """
    target = unwrap_optional(annotation)
    if value is None and (nullable or target is not annotation):
        return None
    if t.get_origin(target) in (t.Union, types.UnionType):
        return _check_union(value, target, name)
    item = list_item_type(target)
    if item is not None:
        if not isinstance(value, list):
            raise BindingError(name, f"expected a list, got {kind_name(value)}")
        return [check_json(v, item, f"{name}[{i}]") for i, v in enumerate(value)]
    if t.get_origin(target) is t.Literal:
        for allowed in t.get_args(target):
            if value == allowed and type(value) is type(allowed):
                return value
        raise BindingError(name, f"expected {_one_of(target)}, got {value!r}")
    if is_pydantic(target):
        return _build_pydantic(value, target, name)
    if isinstance(target, type) and dataclasses.is_dataclass(target):
        return _build_dataclass(value, target, name)
    if target is uuid.UUID and isinstance(value, str):
        return _uuid(value, name)
    if t.is_typeddict(target):
        return _check_typeddict(value, target, name)
    origin = t.get_origin(target) or target
    if origin is dict and isinstance(value, dict) and len(t.get_args(target)) == 2:
        of = t.get_args(target)[1]
        return {k: check_json(v, of, f"{name}.{k}") for k, v in value.items()}
    if origin in (t.Any, inspect.Parameter.empty) or not isinstance(origin, type):
        return value
    if origin is float and isinstance(value, (int, float)):
        return _float(value, name)
    if origin is str and isinstance(value, str):
        return _unicode(value, name)
    if isinstance(value, origin) and not (origin is int and isinstance(value, bool)):
        return value
    raise BindingError(name, f"expected {type_name(origin)}, got {kind_name(value)}")


def _check_union(value: t.Any, union: t.Any, name: str) -> t.Any:
    for member in t.get_args(union):
        try:
            return check_json(value, member, name)
        except BindingError:
            continue
    expected = " or ".join(type_name(m) for m in t.get_args(union))
    raise BindingError(name, f"expected {expected}, got {kind_name(value)}")


def _text(value: t.Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _one_of(literal: t.Any) -> str:
    return "one of " + ", ".join(_text(value) for value in t.get_args(literal))


def _float(value: int | float, name: str) -> float:
    if isinstance(value, bool):
        raise BindingError(name, "expected a number, got a boolean")
    if not math.isfinite(value if isinstance(value, float) else 0.0):
        raise BindingError(name, "expected a finite number")
    try:
        return float(value)
    except OverflowError:
        raise BindingError(name, "expected a number a float can hold") from None


def _uuid(text: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise BindingError(name, f"expected a UUID, got {text!r}") from None


def _unicode(text: str, name: str) -> str:
    """JSON may escape lone surrogates, which no UTF-8 text can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BindingError(name, "expected text, got invalid Unicode") from None
    return text


def _check_typeddict(value: t.Any, kind: t.Any, name: str) -> dict[str, t.Any]:
    """A JSON object with the keys of a TypedDict, each value checked."""
    if not isinstance(value, dict):
        raise BindingError(name, f"expected an object, got {kind_name(value)}")
    hints = t.get_type_hints(kind)
    for key in value:
        if key not in hints:
            expected = ", ".join(hints) or "none"
            raise BindingError(f"{name}.{key}", f"unknown key (expected: {expected})")
    for key in kind.__required_keys__:
        if key not in value:
            raise BindingError(f"{name}.{key}", "missing required key")
    return {k: check_json(v, hints[k], f"{name}.{k}") for k, v in value.items()}


def _build_dataclass(value: t.Any, cls: type, name: str) -> t.Any:
    """A dataclass instance from a JSON object: every field checked by its type."""
    if not isinstance(value, dict):
        raise BindingError(name, f"expected an object, got {kind_name(value)}")
    hints = t.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in value:
        if key not in fields:
            expected = ", ".join(fields) or "none"
            raise BindingError(f"{name}.{key}", f"unknown field (expected: {expected})")
    kwargs: dict[str, t.Any] = {}
    for field in fields.values():
        where = f"{name}.{field.name}"
        if field.name in value:
            kwargs[field.name] = check_json(
                value[field.name],
                hints.get(field.name, t.Any),
                where,
                nullable=field.default is None,
            )
        elif (
            field.default is dataclasses.MISSING
            and field.default_factory is dataclasses.MISSING
        ):
            raise BindingError(where, "missing required field")
    try:
        return cls(**kwargs)
    except ValueError as error:  # its __post_init__ refusing the values
        raise BindingError(name, str(error)) from None


def _build_pydantic(value: t.Any, model: t.Any, name: str) -> t.Any:
    """A pydantic model from a JSON value, validated by pydantic's own rules."""
    pydantic = sys.modules["pydantic"]
    try:
        return model.model_validate(value)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        raise BindingError(f"{name}.{where}" if where else name, first["msg"]) from None


def type_name(kind: t.Any) -> str:
    """How a type is called in an error message."""
    return {
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        str: "a string",
        list: "a list",
        dict: "an object",
        uuid.UUID: "a UUID",
        FileStorage: "a file",
        type(None): "null",
    }.get(kind, getattr(kind, "__name__", str(kind)))


def kind_name(value: t.Any) -> str:
    """How a request value is called in an error message."""
    return "null" if value is None else type_name(type(value))
