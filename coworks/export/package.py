"""The Lambda zip of one service: its code, the CoWorks runtime and what they import.

A zip is self-contained: besides the service cell (``service.py``) and the handler
module (``lambda_function.py``), it holds the runtime part of CoWorks and every
installed distribution the service needs, copied from the environment that exports
it. The zip is built byte for byte the same from the same inputs, so its sha256
changes only when its content does.

Distributions are copied as installed here, compiled extensions included: build the
zip with the Python version and platform of the Lambda runtime it targets.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import importlib.util
import io
import json
import marshal
import sys
import typing as t
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import coworks

#: The CoWorks modules a service needs at run time, relative to the package.
RUNTIME_FILES = (
    "__init__.py",
    "asynchronous.py",
    "authorizer.py",
    "binding.py",
    "blueprint.py",
    "convert.py",
    "entries.py",
    "events/__init__.py",
    "events/kinds.py",
    "events/read.py",
    "openapi.py",
    "routing.py",
    "service.py",
)

#: The distribution every service needs.
BASE_REQUIREMENTS = ("flask",)

#: Distributions a Lambda function must not carry: notebook and Airflow code has no
#: place there, and the Lambda Python runtime provides boto3 itself.
NOT_PACKAGED = {
    "apache-airflow": "Airflow runs flows, not services",
    "apache-airflow-core": "Airflow runs flows, not services",
    "apache-airflow-task-sdk": "Airflow runs flows, not services",
    "ipython": "IPython belongs to the notebook",
    "ipykernel": "Jupyter belongs to the notebook",
    "jupyterlab": "Jupyter belongs to the notebook",
    "notebook": "Jupyter belongs to the notebook",
    "ipywidgets": "widgets belong to the notebook",
}
PROVIDED_BY_LAMBDA = {"boto3", "botocore", "s3transfer", "jmespath"}

#: Every zip entry gets this date, so that equal content gives an equal zip.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

#: The handler Lambda is configured with, in ``module.function`` form.
HANDLER = "lambda_function.lambda_handler"


class PackageError(ValueError):
    """A service that cannot be packaged; the message says what to change."""


def handler_module(service_name: str, class_name: str) -> str:
    """The source of ``lambda_function.py``, which builds the service once."""
    return (
        f'"""Lambda handler of the {service_name!r} service, from cws export."""\n'
        "\n"
        f"from service import {class_name}\n"
        "\n"
        f"lambda_handler = {class_name}()\n"
    )


def imported_modules(source: str) -> tuple[set[str], set[str]]:
    """Top-level names of a cell's absolute imports: required, then optional.

    An import inside ``try`` whose ``except`` catches ImportError (or a parent of
    it) is optional: the cell runs without it.
    """
    tree = ast.parse(source)
    optional_nodes = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.Try) and any(map(_catches_import_error, node.handlers))
        for statement in node.body
        for inner in ast.walk(statement)
    }
    required: set[str] = set()
    optional: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module.split(".")[0]]
        (optional if id(node) in optional_nodes else required).update(names)
    return required, optional - required


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return caught is None or any(
        isinstance(name, ast.Name)
        and name.id in ("ImportError", "ModuleNotFoundError", "Exception")
        for name in names
    )


def distributions_for(
    source: str, notebook_dir: Path | None = None
) -> list[metadata.Distribution]:
    """The installed distributions a service cell needs, dependencies included.

    :param notebook_dir: where the notebook is, to tell a module beside it (which
        a zip cannot carry) from one that is not installed.
    :raises PackageError: when an import is neither installed nor optional, or is
        something a Lambda function must not carry.
    """
    owners = metadata.packages_distributions()
    wanted: list[str] = list(BASE_REQUIREMENTS)
    _check_coworks_imports(source)
    required, optional = imported_modules(source)
    for module in sorted(required | optional):
        if module in sys.stdlib_module_names or module == "coworks":
            continue
        if module in owners:
            if module in required or not _excluded(owners[module]):
                wanted.extend(owners[module])
        elif module in required:
            raise PackageError(_missing(module, notebook_dir))
    return _closure(wanted)


def _excluded(names: t.Iterable[str]) -> bool:
    """Whether a distribution stays out of every zip."""
    return any(
        canonicalize_name(name) in NOT_PACKAGED
        or canonicalize_name(name) in PROVIDED_BY_LAMBDA
        for name in names
    )


def is_installed(module: str) -> bool:
    """Whether a top-level module comes with Python or an installed distribution."""
    return (
        module in sys.stdlib_module_names
        or module == "coworks"
        or module in metadata.packages_distributions()
    )


def beside(module: str, notebook_dir: Path | None) -> bool:
    """Whether ``module`` is a file or folder next to the notebook."""
    return notebook_dir is not None and (
        (notebook_dir / f"{module}.py").exists() or (notebook_dir / module).is_dir()
    )


def _missing(module: str, notebook_dir: Path | None) -> str:
    if beside(module, notebook_dir):
        return (
            f"the service imports {module!r}, a module beside the notebook; export "
            "packages installed distributions only: put that code in the cell, or "
            "make it an installable package"
        )
    return (
        f"the service imports {module!r}, which is not installed here; install it "
        "so that export can package it"
    )


def _module_name(path: str) -> str:
    """``events/read.py`` → ``coworks.events.read``; a package by its own name."""
    dotted = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    return f"coworks.{dotted}"


#: What ``from coworks import …`` gives a service without leaving the runtime.
_RUNTIME_NAMES = set(coworks.__all__) - set(coworks._FLOW_NAMES)


def _check_coworks_imports(source: str) -> None:
    """Refuse a service cell that imports the parts of CoWorks Lambda does not get."""
    runtime = {"coworks", *(_module_name(name) for name in RUNTIME_FILES)}
    for node in ast.walk(ast.parse(source)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            if node.module == "coworks":
                modules += [f"coworks.{alias.name}" for alias in node.names]
        for module in modules:
            if module.startswith("coworks.") and module not in runtime:
                if module.removeprefix("coworks.") in _RUNTIME_NAMES:
                    continue
                raise PackageError(
                    f"the service imports {module}, which is not part of the service "
                    "runtime (flows and notebook tools stay out of Lambda); move that "
                    "code out of the %%techservice cell"
                )


def _closure(names: t.Iterable[str]) -> list[metadata.Distribution]:
    """The distributions named and all they require, extras followed."""
    found: dict[str, metadata.Distribution] = {}
    extras_done: dict[str, set[str]] = {}
    pending = [Requirement(name) for name in names]
    while pending:
        requirement = pending.pop()
        key = canonicalize_name(requirement.name)
        # CoWorks' runtime is copied from its own modules; Lambda has boto3.
        if key == "coworks" or key in PROVIDED_BY_LAMBDA:
            continue
        if key in NOT_PACKAGED:
            raise PackageError(
                f"the service needs {requirement.name}, which cannot go into a Lambda "
                f"zip ({NOT_PACKAGED[key]}); move that import out of the "
                "%%techservice cell"
            )
        extras = {""} | set(requirement.extras)
        if key in found and extras <= extras_done[key]:
            continue
        if key not in found:
            try:
                found[key] = metadata.distribution(requirement.name)
            except metadata.PackageNotFoundError:
                raise PackageError(
                    f"{requirement.name} is required but not installed; install it"
                ) from None
            extras_done[key] = set()
        new = extras - extras_done[key]
        extras_done[key] |= new
        for text in found[key].requires or []:
            dependency = Requirement(text)
            marker = dependency.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in new):
                pending.append(dependency)
    return [found[key] for key in sorted(found)]


def distribution_files(dist: metadata.Distribution) -> dict[str, Path]:
    """Archive name → installed file, for one distribution (no bytecode, no scripts)."""
    if dist.files is None:
        raise PackageError(
            f"{dist.metadata['Name']} lists no files (installed without a RECORD); "
            "reinstall it with pip"
        )
    if _editable(dist):
        raise PackageError(
            f"{dist.metadata['Name']} is installed in editable mode, so its code is "
            "not among the installed files; install it normally (pip install PATH) "
            "before exporting"
        )
    files: dict[str, Path] = {}
    for entry in dist.files:
        name = entry.as_posix()
        if name.startswith("..") or "__pycache__" in name or name.endswith(".pyc"):
            continue
        path = Path(str(dist.locate_file(entry)))
        if not path.is_file():
            raise PackageError(
                f"{dist.metadata['Name']} lists {name}, which is missing; reinstall it"
            )
        files[name] = path
    return files


def _editable(dist: metadata.Distribution) -> bool:
    """Whether pip installed ``dist`` in editable (development) mode."""
    try:
        origin = json.loads(dist.read_text("direct_url.json") or "{}")
    except ValueError:
        return False
    return bool(origin.get("dir_info", {}).get("editable"))


def runtime_files() -> dict[str, Path]:
    """Archive name → file, for the CoWorks runtime modules."""
    package = Path(__file__).resolve().parent.parent
    return {f"coworks/{name}": package / name for name in RUNTIME_FILES}


def build_zip(
    service_source: str,
    service_name: str,
    class_name: str,
    distributions: t.Iterable[metadata.Distribution],
) -> bytes:
    """The bytes of the Lambda zip of one service.

    :param distributions: what the service needs, from :func:`distributions_for`.
    :raises PackageError: when two sources would write the same file.
    """
    generated = {
        "service.py": service_source.encode("utf-8"),
        "lambda_function.py": handler_module(service_name, class_name).encode(),
    }
    copied = runtime_files()
    for dist in distributions:
        for name, path in distribution_files(dist).items():
            if name in copied or name in generated:
                raise PackageError(
                    f"{dist.metadata['Name']} and another source both write {name}"
                )
            copied[name] = path
    files = {
        name: generated[name] if name in generated else copied[name].read_bytes()
        for name in {*generated, *copied}
    }
    for name, data in list(files.items()):
        compiled = _bytecode(name, data)
        if compiled is not None:
            files[compiled[0]] = compiled[1]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()


def _bytecode(name: str, source: bytes) -> tuple[str, bytes] | None:
    """The bytecode file of a module, for a cold start that compiles nothing:
    Lambda's task folder is read-only, so Python could never cache it there.

    The file is hash-based and checked (PEP 552): it holds no timestamp, so zips
    stay byte-identical, and Python uses it only while the source is unchanged.
    It serves the exporting Python's version (the manifest's ``runtime``); another
    version ignores it and compiles the source. A file that does not compile (a
    template that happens to end in .py) keeps its source alone.
    """
    if not name.endswith(".py"):
        return None
    try:
        code = compile(source, name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    folder, _, module = name.rpartition("/")
    tag = sys.implementation.cache_tag
    path = f"{folder}/__pycache__/{module[:-3]}.{tag}.pyc".lstrip("/")
    flags = (0b11).to_bytes(4, "little")  # hash-based, checked
    header = importlib.util.MAGIC_NUMBER + flags + importlib.util.source_hash(source)
    return path, header + marshal.dumps(code)
