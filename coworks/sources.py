"""Reading a notebook file into the sources of its services and flows.

A notebook holds two kinds of cells that leave it:

* a *service cell* starts with ``%%techservice``; its body is a module that defines
  one :class:`~coworks.TechMicroService` subclass, and it must stand alone: its code
  becomes the Lambda function's ``service.py``, with nothing from other cells;
* a *flow cell* is a code cell that defines one or more functions decorated with
  ``@biz``.

Every other cell (exploration, live calls, magics) stays in the notebook. This
module reads the ``.ipynb`` file itself, with no kernel; :func:`load_service` runs a
service cell's code to find its class. Cells are numbered from 1 in messages, as a
reader counts them.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import re
import symtable
import sys
import types
import typing as t
from pathlib import Path

import nbformat

from .service import TechMicroService

#: The first line of a service cell.
SERVICE_MAGIC = "%%techservice"

#: What Airflow accepts as a DAG id, which also makes a safe file name.
DAG_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,249}")

# A line that decorates with biz, so a cell that does not parse is not a flow cell
# just because it mentions the word.
_BIZ_LINE = re.compile(r"^\s*@\s*(\w+\s*\.\s*)*biz\b", re.MULTILINE)


class SourceError(ValueError):
    """A notebook, or one of its cells, that cannot be used; says where and why."""


@dataclasses.dataclass(frozen=True)
class ServiceCell:
    """The body of a ``%%techservice`` cell and where it stands in the notebook."""

    index: int
    source: str

    @property
    def number(self) -> int:
        """The cell's number as a reader counts, from 1."""
        return self.index + 1


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
        is not valid Python, or a flow's DAG id is unusable or taken twice.
    """
    path = Path(path)
    try:
        notebook = nbformat.read(path, as_version=4)
        _check_cells(notebook)
    except FileNotFoundError:
        raise SourceError(f"{path}: no such notebook") from None
    except Exception as error:  # nbformat raises several kinds for a bad file
        reason = str(error).splitlines()[0]
        raise SourceError(f"{path}: not a readable notebook ({reason})") from None
    services: list[ServiceCell] = []
    flows: list[Flow] = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        magic = split_service_cell(cell.source)
        if magic is not None:
            arguments, body = magic
            if arguments:
                raise SourceError(f"{where(path, index)}: {NO_ARGUMENTS}")
            _parse(body, path, index, first_line=2)
            services.append(ServiceCell(index, body))
        elif "biz" in cell.source:
            flows.extend(_flows_of(cell.source, path, index))
    _check_unique_dag_ids(flows, path)
    return NotebookSources(path, tuple(services), tuple(flows))


def _check_cells(notebook: t.Any) -> None:
    """What this module reads of each cell is there: a type and a text source.

    The full schema is not enforced, since Jupyter itself accepts notebooks that
    stray from it (cell ids in an older minor version, for one).
    """
    for number, cell in enumerate(notebook.cells, start=1):
        if not isinstance(cell.get("cell_type"), str):
            raise ValueError(f"cell {number} has no cell_type")
        if not isinstance(cell.get("source"), str):
            raise ValueError(f"cell {number} has no source text")


NO_ARGUMENTS = (
    "%%techservice takes no arguments; name a service with a class attribute, "
    'as in name = "shop"'
)


def where(path: Path, index: int) -> str:
    """A cell's place, as messages give it."""
    return f"{path}, cell {index + 1}"


def split_service_cell(source: str) -> tuple[str, str] | None:
    """The magic's arguments and the code of a service cell; None for another cell."""
    first, _, body = source.lstrip().partition("\n")
    magic, _, arguments = first.strip().partition(" ")
    if magic != SERVICE_MAGIC:
        return None
    return arguments.strip(), body


def class_names(source: str) -> list[str]:
    """Names of the classes a cell defines at its top level."""
    names = [
        node.name for node in ast.parse(source).body if isinstance(node, ast.ClassDef)
    ]
    return list(dict.fromkeys(names))  # a class defined twice is the last one


def service_class(namespace: t.Mapping[str, t.Any], names: t.Iterable[str]) -> type:
    """The one TechMicroService subclass among ``names`` in ``namespace``.

    A class that another of them derives from is a base, not the service.

    :raises SourceError: when there is none, or more than one.
    """
    found = [
        namespace[name]
        for name in names
        if isinstance(namespace.get(name), type)
        and issubclass(namespace[name], TechMicroService)
    ]
    leaves = [
        cls
        for cls in found
        if not any(o is not cls and issubclass(o, cls) for o in found)
    ]
    if not leaves:
        raise SourceError(
            "a %%techservice cell must define a subclass of TechMicroService; "
            "this one defines none"
        )
    if len(leaves) > 1:
        listed = ", ".join(cls.__name__ for cls in leaves)
        raise SourceError(
            f"a %%techservice cell defines one service; this one defines {listed}: "
            "put each in its own cell"
        )
    return leaves[0]


def load_service(cell: ServiceCell, path: Path, keep: bool = False) -> TechMicroService:
    """Run a service cell's code as a fresh module and build its service.

    The module is in ``sys.modules`` while it runs, so that dataclasses and type
    hints defined in the cell resolve, and stays there when ``keep`` is true, for a
    service that will serve requests (pickling and late type hints need it).

    :raises SourceError: when the cell fails to run or to build its service.
    """
    missing = sorted(undefined_names(cell.source))
    if missing:
        raise SourceError(
            f"{where(path, cell.index)}: the service uses {', '.join(missing)}, which "
            "its cell neither defines nor imports; a %%techservice cell must stand "
            "alone, as it becomes the Lambda's service.py"
        )
    name = f"_cws_cell_{cell.index}"
    module = types.ModuleType(name)
    module.__file__ = f"{path}#cell{cell.number}"
    try:
        code = compile(_pad(cell.source), module.__file__, "exec", dont_inherit=True)
    except SyntaxError as error:
        raise SourceError(
            f"{where(path, cell.index)}, line {error.lineno}: {error.msg}"
        ) from None
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
        cls = service_class(module.__dict__, class_names(cell.source))
        return cls()
    except SourceError as error:
        raise SourceError(f"{where(path, cell.index)}: {error}") from None
    except NameError as error:
        raise SourceError(
            f"{where(path, cell.index)}: {error}; a %%techservice cell must stand "
            "alone (it becomes the Lambda's service.py), so define or import the "
            "name in the cell itself"
        ) from error
    except SystemExit as error:
        raise SourceError(
            f"{where(path, cell.index)}: the cell called exit({error.code!r})"
        ) from None
    except Exception as error:
        raise SourceError(
            f"{where(path, cell.index)}: {type(error).__name__}: {error}"
        ) from error
    finally:
        if not keep:
            sys.modules.pop(name, None)


#: Names every module has without defining them: Python's builtins (not those a
#: shell such as IPython adds, which Lambda will not have) and a module's own.
_MODULE_NAMES = {
    name
    for name, value in vars(builtins).items()
    if getattr(value, "__module__", "builtins") in ("builtins", "_sitebuiltins")
} | {"__file__", "__cached__", "__builtins__", "__annotations__", "__name__"}


def undefined_names(source: str) -> set[str]:
    """Global names the code uses but neither defines nor imports, builtins aside.

    A name a function declares ``global`` and assigns counts as defined. Nothing
    is reported for code with a ``from ... import *``, whose names are unknowable
    without running it.
    """
    top = symtable.symtable(source, "cell", "exec")
    if any(s.get_name() == "*" for s in top.get_symbols()):
        return set()
    used, defined = _globals(top)
    return used - defined - _MODULE_NAMES


def _globals(table: symtable.SymbolTable) -> tuple[set[str], set[str]]:
    """The global names a scope and those inside it use, and those they bind."""
    module = table.get_type() == "module"
    used: set[str] = set()
    defined: set[str] = set()
    for symbol in table.get_symbols():
        name = symbol.get_name()
        if symbol.is_referenced() and (module or symbol.is_global()):
            used.add(name)
        if (symbol.is_assigned() or symbol.is_imported()) and (
            module or symbol.is_declared_global()
        ):
            defined.add(name)
    for child in table.get_children():
        child_used, child_defined = _globals(child)
        used |= child_used
        defined |= child_defined
    return used, defined


def load_services(path: str | Path) -> dict[str, TechMicroService]:
    """Build every service a notebook file defines, by name.

    :raises SourceError: when a cell cannot be read or built, or two cells define
        services of the same name.
    """
    sources = read_notebook(path)
    built: dict[str, TechMicroService] = {}
    for cell in sources.services:
        service = load_service(cell, sources.path, keep=True)
        if service.name in built:
            raise SourceError(
                f"{where(sources.path, cell.index)}: another cell already defines "
                f"the service {service.name!r}"
            )
        built[service.name] = service
    return built


def _pad(body: str) -> str:
    # One blank line stands for the magic line, so line numbers match the cell.
    return "\n" + body


def _parse(source: str, path: Path, index: int, first_line: int = 1) -> ast.Module:
    try:
        return ast.parse(source)
    except UnicodeEncodeError:
        raise SourceError(
            f"{where(path, index)}: the cell is not valid Unicode"
        ) from None
    except SyntaxError as error:
        line = (error.lineno or 1) + first_line - 1
        raise SourceError(
            f"{where(path, index)}, line {line}: {error.msg}; "
            "service and flow cells must be plain Python"
        ) from None


def is_biz_decorator(decorator: ast.expr) -> bool:
    """Whether a decorator is ``@biz``, ``@biz(...)`` or ``@coworks.biz(...)``."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Attribute):
        return target.attr == "biz"
    return isinstance(target, ast.Name) and target.id == "biz"


def _flows_of(source: str, path: Path, index: int) -> list[Flow]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, UnicodeEncodeError):
        if _BIZ_LINE.search(source):
            _parse(source, path, index)  # raises, naming the cell and line
        return []  # a cell with IPython syntax and no flow stays in the notebook
    flows = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(is_biz_decorator(d) for d in node.decorator_list)
    ]
    for node in flows:
        for name, kind, has_default in _parameters(node.args):
            problem = flow_parameter_problem(name, kind, has_default)
            if problem:
                raise SourceError(
                    f"{where(path, index)}: flow {node.name!r}: {problem}"
                )
    return [
        Flow(_dag_id(node, path, index), node.name, index, source) for node in flows
    ]


def flow_parameter_problem(name: str, kind: str, has_default: bool) -> str | None:
    """What is wrong with a flow's parameter, if anything: each is a DAG param, so
    it is named and has a default. ``kind`` is an inspect.Parameter kind's name."""
    if kind in ("VAR_POSITIONAL", "VAR_KEYWORD", "POSITIONAL_ONLY"):
        return f"parameter {name!r} must be a plain named one (it becomes a DAG param)"
    if not has_default:
        return (
            f"parameter {name!r} needs a default value; it becomes a DAG param that a "
            "run may override"
        )
    return None


def _parameters(args: ast.arguments) -> t.Iterator[tuple[str, str, bool]]:
    """Name, kind and whether it has a default, for each parameter of a def."""
    plain = args.posonlyargs + args.args
    first_default = len(plain) - len(args.defaults)
    for position, arg in enumerate(plain):
        kind = "POSITIONAL_ONLY" if arg in args.posonlyargs else "POSITIONAL_OR_KEYWORD"
        yield arg.arg, kind, position >= first_default
    if args.vararg:
        yield args.vararg.arg, "VAR_POSITIONAL", False
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        yield arg.arg, "KEYWORD_ONLY", default is not None
    if args.kwarg:
        yield args.kwarg.arg, "VAR_KEYWORD", False


def _dag_id(node: ast.FunctionDef, path: Path, index: int) -> str:
    """The DAG id a flow gets: its ``dag_id=`` string, else the function's name."""
    decorator = next(d for d in node.decorator_list if is_biz_decorator(d))
    dag_id = node.name
    for keyword in getattr(decorator, "keywords", []):
        if keyword.arg != "dag_id":
            continue
        value = keyword.value
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            raise SourceError(
                f"{where(path, index)}: the dag_id of flow {node.name!r} must be a "
                "string written in the decorator, so that export can name its file"
            )
        dag_id = value.value
    if not DAG_ID.fullmatch(dag_id):
        raise SourceError(
            f"{where(path, index)}: dag_id {dag_id!r} must be letters, digits, '_', "
            "'-' or '.', not starting with '-' or '.'"
        )
    return dag_id


def _check_unique_dag_ids(flows: list[Flow], path: Path) -> None:
    seen: dict[str, Flow] = {}
    for flow in flows:
        if flow.dag_id in seen:
            first = seen[flow.dag_id].cell
            cells = (
                f"cell {first + 1} defines"
                if first == flow.cell
                else f"cells {first + 1} and {flow.cell + 1} both define"
            )
            raise SourceError(
                f"{path}: {cells} the flow {flow.dag_id!r}"
                + (" twice" if first == flow.cell else "")
                + "; give one of them another dag_id"
            )
        seen[flow.dag_id] = flow
