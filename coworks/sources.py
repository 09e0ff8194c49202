"""Reading a notebook file into the sources of its services and flows.

A notebook holds two kinds of cells that leave it:

* a *service cell* starts with ``%%techservice``; its body is a module that defines
  one :class:`~coworks.TechMicroService` subclass;
* a *flow cell* is a code cell that defines one or more functions decorated with
  ``@biz``.

Every other cell (exploration, live calls, magics) stays in the notebook. This
module reads the ``.ipynb`` file itself, with no kernel; :func:`load_service` runs a
service cell's code to find its class.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
import types
import typing as t
from pathlib import Path

import nbformat

from .service import TechMicroService

#: The first line of a service cell.
SERVICE_MAGIC = "%%techservice"


class SourceError(ValueError):
    """A notebook, or one of its cells, that cannot be read; says which and why."""


@dataclasses.dataclass(frozen=True)
class ServiceCell:
    """The body of a ``%%techservice`` cell and where it stands in the notebook."""

    index: int
    source: str


@dataclasses.dataclass(frozen=True)
class Flow:
    """One ``@biz`` function of a flow cell."""

    dag_id: str
    function: str
    cell: int
    source: str


@dataclasses.dataclass(frozen=True)
class NotebookSources:
    """What a notebook defines that export and ``cws run`` use."""

    path: Path
    services: tuple[ServiceCell, ...]
    flows: tuple[Flow, ...]


def read_notebook(path: str | Path) -> NotebookSources:
    """Read the service cells and flows of a notebook file.

    :raises SourceError: when the file is not a notebook, a service or flow cell
        is not valid Python, or two flows share a DAG id.
    """
    path = Path(path)
    try:
        notebook = nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise SourceError(f"{path}: no such notebook") from None
    except Exception as error:  # nbformat raises several kinds for a bad file
        raise SourceError(f"{path}: not a readable notebook ({error})") from None
    services: list[ServiceCell] = []
    flows: list[Flow] = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        body = service_body(cell.source)
        if body is not None:
            _parse(body, path, index, first_line=2)
            services.append(ServiceCell(index, body))
        elif "biz" in cell.source:
            flows.extend(_flows_of(cell.source, path, index))
    _check_unique_dag_ids(flows, path)
    return NotebookSources(path, tuple(services), tuple(flows))


def service_body(source: str) -> str | None:
    """The code of a service cell without its magic line, or None for another cell."""
    first, _, body = source.lstrip().partition("\n")
    if first.split(maxsplit=1)[:1] != [SERVICE_MAGIC]:
        return None
    return body


def class_names(source: str) -> list[str]:
    """Names of the classes a cell defines at its top level."""
    return [
        node.name for node in ast.parse(source).body if isinstance(node, ast.ClassDef)
    ]


def service_class(namespace: t.Mapping[str, t.Any], names: t.Iterable[str]) -> type:
    """The one TechMicroService subclass among ``names`` in ``namespace``.

    :raises SourceError: when there is none, or more than one.
    """
    found = [
        namespace[name]
        for name in names
        if isinstance(namespace.get(name), type)
        and issubclass(namespace[name], TechMicroService)
    ]
    if not found:
        raise SourceError(
            "a %%techservice cell must define a subclass of TechMicroService; "
            "this one defines none"
        )
    if len(found) > 1:
        listed = ", ".join(cls.__name__ for cls in found)
        raise SourceError(
            f"a %%techservice cell defines one service; this one defines {listed}: "
            "put each in its own cell"
        )
    return found[0]


def load_service(cell: ServiceCell, path: Path) -> TechMicroService:
    """Run a service cell's code as a fresh module and build its service.

    The module lives in ``sys.modules`` only while it runs, so that dataclasses and
    type hints defined in the cell resolve.
    """
    name = f"_cws_cell_{cell.index}"
    module = types.ModuleType(name)
    module.__file__ = f"{path}#cell{cell.index}"
    code = compile(_pad(cell.source), module.__file__, "exec")
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
        cls = service_class(module.__dict__, class_names(cell.source))
        return cls()
    except SourceError as error:
        raise SourceError(f"{path}, cell {cell.index}: {error}") from None
    finally:
        sys.modules.pop(name, None)


def load_services(path: str | Path) -> dict[str, TechMicroService]:
    """Build every service a notebook file defines, by name."""
    sources = read_notebook(path)
    built: dict[str, TechMicroService] = {}
    for cell in sources.services:
        service = load_service(cell, sources.path)
        if service.name in built:
            raise SourceError(f"{path}: two cells define the service {service.name!r}")
        built[service.name] = service
    return built


def _pad(body: str) -> str:
    # One blank line stands for the magic line, so line numbers match the cell.
    return "\n" + body


def _parse(source: str, path: Path, index: int, first_line: int = 1) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as error:
        line = (error.lineno or 1) + first_line - 1
        raise SourceError(
            f"{path}, cell {index}, line {line}: {error.msg}; "
            "service and flow cells must be plain Python"
        ) from None


def _flows_of(source: str, path: Path, index: int) -> list[Flow]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        if "@biz" in source:
            _parse(source, path, index)  # raises, naming the cell and line
        return []  # a cell with IPython syntax and no flow stays in the notebook
    return [
        Flow(_dag_id(node), node.name, index, source)
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and _biz_decorator(node) is not None
    ]


def is_biz_decorator(decorator: ast.expr) -> bool:
    """Whether a decorator is ``@biz``, ``@biz(...)`` or ``@coworks.biz(...)``."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Attribute):
        return target.attr == "biz"
    return isinstance(target, ast.Name) and target.id == "biz"


def _biz_decorator(node: ast.FunctionDef) -> ast.expr | None:
    return next((d for d in node.decorator_list if is_biz_decorator(d)), None)


def _dag_id(node: ast.FunctionDef) -> str:
    decorator = _biz_decorator(node)
    for keyword in getattr(decorator, "keywords", []):
        if keyword.arg == "dag_id" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    return node.name


def _check_unique_dag_ids(flows: list[Flow], path: Path) -> None:
    seen: dict[str, Flow] = {}
    for flow in flows:
        if flow.dag_id in seen:
            raise SourceError(
                f"{path}: cells {seen[flow.dag_id].cell} and {flow.cell} both define "
                f"the flow {flow.dag_id!r}; give one of them another dag_id"
            )
        seen[flow.dag_id] = flow
