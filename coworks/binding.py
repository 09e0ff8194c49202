"""Binding a request to an entry's parameters, and an entry's result to a response.

An entry's signature is read once, when the service is built:

* a parameter without a default value whose type can be written in a URL (``str``,
  ``int``, ``float``, ``bool``, ``UUID``, none) is a *path* parameter; the last one
  may be a ``PurePosixPath``, which takes the rest of the path, slashes included;
* every other parameter is an *option*, required when it has no default:
  - text types and lists of them come from the query string (``list[T]`` from
    repeated keys), from a form field, or from a JSON body key;
  - ``FileStorage`` (or a list of them) comes from a ``multipart/form-data`` upload;
  - any other type (``dict``, lists of objects, dataclasses, pydantic models) comes
    from a JSON body key of its name;
* when the only options a JSON body can fill are a single dataclass or pydantic
  model, that model is the whole body.

A JSON body is read when its Content-Type is JSON or absent; a form when it is
``application/x-www-form-urlencoded`` or ``multipart/form-data``; other bodies are
left for the entry to read from ``flask.request``. A key the signature does not
name is refused unless the entry takes ``**kwargs``. See :mod:`coworks.convert` for
how values become the annotated types.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import typing as t
from pathlib import PurePosixPath

from flask import Response
from flask import jsonify

from .convert import BindingError as BindingError
from .convert import check_json
from .convert import convert_text
from .convert import is_file
from .convert import is_model
from .convert import is_pydantic
from .convert import is_text
from .convert import json_problem
from .convert import kind_name
from .convert import list_item_type
from .convert import type_name
from .convert import unwrap_optional
from .routing import Route
from .routing import route_for

if t.TYPE_CHECKING:
    from flask import Request
    from werkzeug.datastructures import MultiDict

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


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

    @property
    def source(self) -> str:
        """Where an option's value comes from: ``text``, ``file`` or ``json``."""
        if is_file(self.annotation):
            return "file"
        return "text" if is_text(self.annotation) else "json"


@dataclasses.dataclass(frozen=True)
class EntrySignature:
    """What an entry takes: path parameters, options, and whether it takes **kwargs."""

    route: Route
    path: tuple[Parameter, ...]
    options: tuple[Parameter, ...]
    takes_extra: bool
    #: Names a request may not set through **kwargs: the path's and ``self``.
    reserved: frozenset[str]
    #: The model option a JSON body is read into whole, if any.
    whole_body: Parameter | None = None
    #: The return annotation, if any.
    returns: t.Any = inspect.Parameter.empty

    @classmethod
    def of(
        cls, func: t.Callable[..., t.Any], name: str | None = None
    ) -> EntrySignature:
        """Read the signature of an entry method.

        :param name: the name the method has in its class, which gives the route;
            defaults to the function's own name.
        :raises EntryError: when the signature cannot be bound from a request.
        """
        name = name or func.__name__
        if inspect.iscoroutinefunction(func):
            raise EntryError(f"entry {name!r} is async; entries are plain methods")
        try:
            hints = t.get_type_hints(func)
        except Exception as error:
            raise EntryError(
                f"entry {name!r}: its annotations do not resolve ({error})"
            ) from None
        params = list(inspect.signature(func).parameters.values())
        if not params or params[0].kind not in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            raise EntryError(f"entry {name!r} must take self as its first parameter")
        first, *params = params
        path: list[Parameter] = []
        options: list[Parameter] = []
        takes_extra = False
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
            in_path = bound.required and is_text(bound.annotation, allow_list=False)
            (path if in_path else options).append(bound)
        _check_path(name, path)
        _check_options(name, options)
        tail = bool(path) and unwrap_optional(path[-1].annotation) is PurePosixPath
        route = route_for(name, [p.name for p in path], trailing_path=tail)
        reserved = frozenset({first.name, *(p.name for p in path)})
        json_options = [p for p in options if p.source == "json"]
        whole_body = None
        if len(json_options) == 1 and is_model(json_options[0].annotation):
            whole_body = json_options[0]
        return cls(
            route,
            tuple(path),
            tuple(options),
            takes_extra,
            reserved,
            whole_body,
            hints.get("return", inspect.Parameter.empty),
        )

    def bind(self, view_args: dict[str, str], request: Request) -> dict[str, t.Any]:
        """The keyword arguments for a call to the entry from this request."""
        try:
            return self._bind(view_args, request)
        except RecursionError:  # a model that holds itself, nested very deep
            raise BindingError("body", "nested too deeply") from None

    def _bind(self, view_args: dict[str, str], request: Request) -> dict[str, t.Any]:
        kwargs = {
            p.name: convert_text(view_args[p.name], p.annotation, p.name)
            for p in self.path
        }
        if request.environ.get("QUERY_STRING"):
            self._bind_text(request.args, "query string", kwargs)
        if _has_body(request.environ):
            if request.mimetype in _FORMS:
                self._bind_text(request.form, "form", kwargs)
                self._bind_files(request.files, kwargs)
            else:
                self._bind_json(request, kwargs)
        for param in self.options:
            if param.required and param.name not in kwargs:
                whole = param is self.whole_body
                raise BindingError(param.name, f"missing; {_expected(param, whole)}")
        return kwargs

    def _known(self, key: str, kwargs: dict[str, t.Any]) -> Parameter | None:
        """The option named ``key``, or None for an extra key **kwargs accepts."""
        if key in kwargs:
            raise BindingError(key, "given twice; give it once")
        for param in self.options:
            if param.name == key:
                return param
        if not self.takes_extra:
            expected = ", ".join(p.name for p in self.options) or "none"
            raise BindingError(key, f"unknown parameter (expected: {expected})")
        if key in self.reserved:
            raise BindingError(key, "is set by the path; it cannot be given again")
        return None

    def _bind_text(
        self, values: MultiDict[str, str], where: str, kwargs: dict[str, t.Any]
    ) -> None:
        for key in values:
            texts = values.getlist(key)
            if where == "form" and key.lstrip().startswith(("{", "[")):
                raise BindingError(
                    "body",
                    "JSON sent as a form (curl -d does so): send it with "
                    "Content-Type: application/json",
                )
            param = self._known(key, kwargs)
            if param is None:
                kwargs[key] = texts[0] if len(texts) == 1 else texts
            elif (
                param.source == "json"
                and where == "form"
                and param is not (self.whole_body)
            ):
                kwargs[key] = _json_field(texts[-1], param)
            elif param.source != "text" or param is self.whole_body:
                whole = param is self.whole_body
                raise BindingError(
                    key, f"cannot come from the {where}; {_expected(param, whole)}"
                )
            elif (item := list_item_type(param.annotation)) is not None:
                kwargs[key] = [convert_text(text, item, key) for text in texts]
            else:
                kwargs[key] = convert_text(texts[-1], param.annotation, key)

    def _bind_files(
        self, files: MultiDict[str, t.Any], kwargs: dict[str, t.Any]
    ) -> None:
        for key in files:
            uploads = files.getlist(key)
            param = self._known(key, kwargs)
            if param is None:
                kwargs[key] = uploads[0] if len(uploads) == 1 else uploads
            elif param.source != "file":
                raise BindingError(key, f"is a file; {_expected(param)}")
            elif list_item_type(param.annotation) is not None:
                kwargs[key] = uploads
            else:
                kwargs[key] = uploads[-1]

    def _bind_json(self, request: Request, kwargs: dict[str, t.Any]) -> None:
        data = request.get_data(cache=True)
        mimetype = request.mimetype
        if not data or (mimetype and not _is_json(mimetype)):
            return  # an empty body, or one the entry reads itself
        try:
            body = json.loads(data, parse_constant=_no_constant)
        except ValueError as error:
            too_long = "digits" in str(error)  # Python's limit on integer digits
            problem = (
                "holds a number too long to read" if too_long else "not valid JSON"
            )
            raise BindingError("body", problem) from None
        except RecursionError:
            raise BindingError("body", "JSON nested too deeply") from None
        model = self.whole_body
        if model is not None:
            self._known(model.name, kwargs)
            try:
                kwargs[model.name] = check_json(body, model.annotation, model.name)
            except BindingError as error:
                if error.parameter == f"{model.name}.{model.name}":
                    raise BindingError(  # the model wrapped in a key of its name
                        model.name,
                        f"send the {type_name(model.annotation)} itself as the "
                        f"body, not inside a {model.name!r} key",
                    ) from None
                raise
            return
        if not isinstance(body, dict):
            raise BindingError("body", f"expected a JSON object, got {kind_name(body)}")
        for key, value in body.items():
            param = self._known(key, kwargs)
            if param is None:
                kwargs[key] = value
            elif param.source == "file":
                raise BindingError(key, f"cannot come from JSON; {_expected(param)}")
            else:
                kwargs[key] = check_json(
                    value, param.annotation, key, nullable=param.default is None
                )


def _has_body(environ: t.Mapping[str, t.Any]) -> bool:
    """Whether a request may carry a body: one with a length, or chunked."""
    length = environ.get("CONTENT_LENGTH")
    if length and length != "0":
        return True
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _json_field(text: str, param: Parameter) -> t.Any:
    """A form field holding the JSON of an option a form cannot say as text, as
    a multipart upload sends the metadata of its file."""
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except ValueError:
        raise BindingError(
            param.name, f"a form field of JSON text; {_expected(param)}"
        ) from None
    return check_json(value, param.annotation, param.name, param.default is None)


def _check_path(entry: str, path: list[Parameter]) -> None:
    for param in path[:-1]:
        if unwrap_optional(param.annotation) is PurePosixPath:
            raise EntryError(
                f"entry {entry!r}: path parameter {param.name!r} takes the rest of "
                "the path, so it must be the last parameter without a default"
            )


def _check_options(entry: str, options: list[Parameter]) -> None:
    for param in options:
        if param.source != "json":
            continue
        problem = json_problem(param.annotation)
        if problem is not None:
            raise EntryError(
                f"entry {entry!r}: parameter {param.name!r} cannot be read from a "
                f"request ({problem}); use str, int, float, bool, a list, a dict, "
                "a dataclass or a pydantic model"
            )


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or mimetype.endswith("+json")


def _expected(param: Parameter, whole_body: bool = False) -> str:
    """Where and as what a request gives this option, for error messages."""
    target = unwrap_optional(param.annotation)
    if param.source == "file":
        return "expected a file uploaded as multipart/form-data"
    if param.source == "text":
        return f"expected {type_name(target)} in the query string or the body"
    if whole_body:
        return f"expected a JSON body ({type_name(target)})"
    return f"expected {type_name(target)} in the JSON body"


def _no_constant(word: str) -> t.NoReturn:
    raise ValueError(f"{word} is not JSON")


def to_response(result: t.Any) -> t.Any:
    """Turn an entry's return value into something Flask can answer with.

    A dict, list, dataclass or pydantic model is JSON; ``None`` is an empty 204; text
    is text/plain; bytes are application/octet-stream; in a Flask tuple
    ``(body, status)`` or ``(body, status, headers)`` the body follows the same
    rules; a Response passes as it is.
    """
    if isinstance(result, tuple) and result:
        return (to_response(result[0]), *result[1:])
    if result is None:
        response = Response(status=204)
        del response.headers["Content-Type"]
        return response
    if is_pydantic(type(result)):
        return jsonify(result.model_dump(mode="json"))
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return jsonify(dataclasses.asdict(result))
    if isinstance(result, (dict, list)):
        return jsonify(result)
    if isinstance(result, str):
        return Response(result, mimetype="text/plain")
    if isinstance(result, bytes):
        return Response(result, mimetype="application/octet-stream")
    return result
