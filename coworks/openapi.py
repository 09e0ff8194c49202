"""The OpenAPI 3.1 document of a service, generated from its entries.

Each entry gives an operation: its path parameters and query parameters with their
JSON Schema, its request body (JSON, or a form when it takes files), the bearer token
it asks for (none for ``no_auth`` entries), what it returns when its return
annotation says so, and the JSON errors every entry may answer with. Dataclasses,
pydantic models and TypedDicts become schemas under ``components``.

Pure: it reads the service's routes and signatures, nothing else.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import types
import typing as t
import uuid
from pathlib import PurePosixPath

from werkzeug.datastructures import FileStorage

from .convert import is_model
from .convert import is_pydantic
from .convert import list_item_type
from .convert import unwrap_optional

if t.TYPE_CHECKING:
    from .binding import EntrySignature
    from .binding import Parameter
    from .entries import Entry
    from .service import TechMicroService

VERSION = "3.1.0"

_ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "parameter": {"type": "string"},
        "request_id": {"type": "string"},
    },
    "required": ["error"],
}

_ERRORS = {
    "401": "No token was sent",
    "403": "The token is refused",
    "422": "A parameter is missing, unknown or does not convert to its type",
    "500": "The entry failed; the body carries the request id to look for in logs",
}

_BODY_VERBS = ("POST", "PUT", "PATCH")


def document(service: TechMicroService) -> dict[str, t.Any]:
    """The OpenAPI 3.1 document of ``service``, as a JSON-ready dict."""
    schemas = Schemas()
    paths: dict[str, dict[str, t.Any]] = {}
    entries = service.entries
    for route in service.routes:
        found = entries.get(route.endpoint)
        operation = (
            _operation(found, route.method, schemas)
            if found is not None
            else {"responses": _errors(True)}
        )
        operation = {"operationId": route.endpoint, **operation}
        _add_path_parameters(operation, _path(route.rule))
        paths.setdefault(_path(route.rule), {})[route.method.lower()] = operation
    info: dict[str, t.Any] = {"title": service.name, "version": _version(service)}
    doc = inspect.getdoc(type(service))
    if doc and type(service).__doc__ is not None:
        info["description"] = doc
    return {
        "openapi": VERSION,
        "info": info,
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.known.items())),
            "responses": _error_responses(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    }


def _add_path_parameters(operation: dict[str, t.Any], path: str) -> None:
    """Name the path parameters no entry signature describes: those of a
    blueprint's url_prefix, or of a route added the Flask way, as text."""
    parameters = operation.setdefault("parameters", [])
    described = {p["name"] for p in parameters if p["in"] == "path"}
    for name in re.findall(r"{([^}]*)}", path):
        if name not in described:
            parameters.append(
                {"name": name, "in": "path", "required": True, "schema": {}}
            )
    if not parameters:
        del operation["parameters"]


def _version(service: TechMicroService) -> str:
    declared = getattr(type(service), "version", None)
    return declared if isinstance(declared, str) else "0.0.0"


def _path(rule: str) -> str:
    """A Werkzeug rule as an OpenAPI path: /order/<int:id> → /order/{id}."""
    return re.sub(r"<(?:[^:>]*:)?([^>]*)>", r"{\1}", rule)


def _operation(found: Entry, method: str, schemas: Schemas) -> dict[str, t.Any]:
    signature = found.signature
    operation: dict[str, t.Any] = {}
    if found.doc:
        summary, _, rest = found.doc.partition("\n")
        operation["summary"] = summary.strip()
        if rest.strip():
            operation["description"] = rest.strip()
    in_body = _body_options(signature, method)
    parameters = [
        _parameter(param, "path", schemas, tail=param is signature.path[-1])
        for param in signature.path
    ]
    parameters += [
        _parameter(param, "query", schemas)
        for param in signature.options
        if param.source == "text" and param not in in_body
    ]
    if parameters:
        operation["parameters"] = parameters
    body = _request_body(signature, in_body, method, schemas)
    if body:
        operation["requestBody"] = body
    responses = _success(found, schemas)
    responses.update(_errors(not found.options.no_auth, True))
    operation["responses"] = responses
    if found.options.no_auth:
        operation["security"] = []
    return operation


def _body_options(signature: EntrySignature, method: str) -> list[Parameter]:
    """The options a request body carries in the document: text options go to the
    query string for GET and DELETE, and when a model takes the whole body."""
    text_in_body = method in _BODY_VERBS and signature.whole_body is None
    return [
        param for param in signature.options if param.source != "text" or text_in_body
    ]


def _parameter(
    param: Parameter, where: str, schemas: Schemas, tail: bool = False
) -> dict[str, t.Any]:
    annotation = param.annotation
    schema = schemas.of(unwrap_optional(annotation) if where == "path" else annotation)
    _add_default(schema, param)
    described: dict[str, t.Any] = {
        "name": param.name,
        "in": where,
        "required": where == "path" or param.required,
        "schema": schema,
    }
    if list_item_type(param.annotation) is not None:
        described.update(style="form", explode=True)  # ?tag=a&tag=b
    if tail and unwrap_optional(param.annotation) is PurePosixPath:
        described["description"] = "The rest of the path, slashes included."
    return described


def _request_body(
    signature: EntrySignature, options: list[Parameter], method: str, schemas: Schemas
) -> dict[str, t.Any] | None:
    model = signature.whole_body
    if model is not None:
        return {
            "required": model.required,
            "content": {"application/json": {"schema": schemas.of(model.annotation)}},
        }
    if not options and not (signature.takes_extra and method in _BODY_VERBS):
        return None
    properties = {}
    for param in options:
        properties[param.name] = schemas.of(param.annotation)
        _add_default(properties[param.name], param)
    schema: dict[str, t.Any] = {"type": "object", "properties": properties}
    required = [param.name for param in options if param.required]
    if required:
        schema["required"] = required
    if not signature.takes_extra:
        schema["additionalProperties"] = False
    content = {"application/json": {"schema": schema}}
    if any(param.source == "file" for param in options):
        content = {"multipart/form-data": {"schema": schema}}
    elif all(param.source == "text" for param in options):
        content["application/x-www-form-urlencoded"] = {"schema": schema}
    return {"required": bool(required), "content": content}


def _add_default(schema: dict[str, t.Any], param: Parameter) -> None:
    if not param.required:
        _add_json_default(schema, param.default)


def _add_json_default(schema: dict[str, t.Any], default: t.Any) -> None:
    if default is dataclasses.MISSING:
        return
    try:
        json.dumps(default, allow_nan=False)
    except (TypeError, ValueError):
        return  # a default JSON cannot say is left out
    schema["default"] = default


def _success(found: Entry, schemas: Schemas) -> dict[str, t.Any]:
    """The success response, as far as the return annotation tells."""
    returned = found.signature.returns
    if returned is type(None):
        return {"204": {"description": "Done, nothing to return"}}
    ok: dict[str, t.Any] = {"description": "OK"}
    if returned is str:
        ok["content"] = {"text/plain": {"schema": {"type": "string"}}}
    elif returned is bytes:
        ok["content"] = {"application/octet-stream": {}}
    elif returned is not inspect.Parameter.empty and _is_json_result(returned):
        ok["content"] = {"application/json": {"schema": schemas.of(returned)}}
    return {"200": ok}


def _is_json_result(returned: t.Any) -> bool:
    origin = t.get_origin(returned) or returned
    return origin in (dict, list) or is_model(returned) or t.is_typeddict(returned)


def _errors(auth: bool, binds: bool = False) -> dict[str, t.Any]:
    codes = [code for code in _ERRORS if (code != "422" or binds)]
    codes = [code for code in codes if auth or code not in ("401", "403")]
    return {code: {"$ref": f"#/components/responses/{code}"} for code in codes}


def _error_responses() -> dict[str, t.Any]:
    ref = {"$ref": "#/components/schemas/Error"}
    return {
        code: {
            "description": description,
            "content": {"application/json": {"schema": ref}},
        }
        for code, description in _ERRORS.items()
    }


class Schemas:
    """JSON Schemas of Python types; named ones are kept for ``components``."""

    def __init__(self) -> None:
        self.known: dict[str, t.Any] = {"Error": _ERROR}
        self._names: dict[t.Any, str] = {}

    def name_of(self, cls: t.Any) -> str:
        """The component name of a class: its own name made valid, numbered when
        another class took it first."""
        if cls not in self._names:
            base = re.sub(r"[^A-Za-z0-9._-]", "_", cls.__name__)
            name, number = base, 1
            while name in self.known or name in self._names.values():
                number += 1
                name = f"{base}{number}"
            self._names[cls] = name
        return self._names[cls]

    def of(self, annotation: t.Any) -> dict[str, t.Any]:
        """The JSON Schema of ``annotation``."""
        simple = _SIMPLE.get(annotation)
        if simple is not None:
            return dict(simple)
        origin = t.get_origin(annotation)
        args = t.get_args(annotation)
        if origin in (t.Union, types.UnionType):
            return {"anyOf": [self.of(arg) for arg in args]}
        if origin is t.Literal:
            return {"enum": list(args)}
        if origin is list or annotation is list:
            return {"type": "array", "items": self.of(args[0] if args else t.Any)}
        if origin is dict or annotation is dict:
            values = self.of(args[1]) if len(args) == 2 else {}
            return {"type": "object", "additionalProperties": values}
        if is_pydantic(annotation):
            return self._pydantic(annotation)
        if isinstance(annotation, type) and (
            dataclasses.is_dataclass(annotation) or t.is_typeddict(annotation)
        ):
            return self._named(annotation)
        return {}

    def _named(self, cls: type) -> dict[str, t.Any]:
        known = cls in self._names
        name = self.name_of(cls)
        if not known:
            self.known[name] = {}  # a model that refers to itself stops here
            hints = t.get_type_hints(cls)
            if t.is_typeddict(cls):
                names = list(hints)
                required = sorted(cls.__required_keys__)  # type: ignore[attr-defined]
            else:
                fields = [f for f in dataclasses.fields(cls) if f.init]
                names = [f.name for f in fields]
                required = [
                    f.name
                    for f in fields
                    if f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING
                ]
            properties = {key: self.of(hints.get(key, t.Any)) for key in names}
            if not t.is_typeddict(cls):
                for field in dataclasses.fields(cls):
                    if field.name in properties:
                        _add_json_default(properties[field.name], field.default)
            schema: dict[str, t.Any] = {
                "type": "object",
                "properties": properties,
                "additionalProperties": False,
            }
            if required:
                schema["required"] = required
            self.known[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}

    def _pydantic(self, model: t.Any) -> dict[str, t.Any]:
        if model in self._names:
            return {"$ref": f"#/components/schemas/{self._names[model]}"}
        # Pydantic names the models it defines; those names are kept, so that
        # its own references between them hold.
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        definitions = schema.pop("$defs", {})
        self.known.update(definitions)
        top = schema.get("$ref", "").rpartition("/")[2]
        if top in definitions:  # a model that refers to itself is among them
            self._names[model] = top
            return {"$ref": schema["$ref"]}
        name = self.name_of(model)
        self.known[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}


_SIMPLE: dict[t.Any, dict[str, t.Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    uuid.UUID: {"type": "string", "format": "uuid"},
    PurePosixPath: {"type": "string"},
    FileStorage: {"type": "string", "format": "binary"},
    t.Any: {},
    inspect.Parameter.empty: {},
}
