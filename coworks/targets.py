"""Finding the services a ``cws`` command works on, from the TARGET a user types.

A TARGET is one of:

* a notebook, ``shop.ipynb``: every service of its ``%%techservice`` cells;
* ``module:object``, ``app:orders``: the module is imported from the current
  directory, and the object is a :class:`~coworks.TechMicroService` instance, a
  subclass of it (built with no arguments) or a function taking no arguments that
  returns one;
* a module alone, ``app``: its one ``TechMicroService`` instance.

:func:`load_target` gives the services by name, and :func:`pick` chooses one of
them. Both raise :class:`TargetError`, whose message says what to change.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import types
import typing as t
from pathlib import Path

from .service import TechMicroService
from .sources import SourceError
from .sources import load_services

#: What a TARGET may be, as errors remind the user.
FORMS = "a notebook (NAME.ipynb) or module:object"


class TargetError(ValueError):
    """A TARGET that gives no usable service; says what to change."""


def load_target(target: str | os.PathLike[str]) -> dict[str, TechMicroService]:
    """Build the services ``target`` names, by service name.

    :param target: a notebook path (a ``Path`` is one too), ``module:object`` or a
        module name (see the module's docstring).
    :raises TargetError: when the file or module is missing or fails, or the
        object is missing or not a service.
    """
    if not isinstance(target, str):
        return _notebook_services(Path(target))
    if target.lower().endswith(".ipynb"):
        return _notebook_services(Path(target))
    module_name, colon, attribute = target.partition(":")
    if module_name.endswith(".py") or os.sep in module_name:
        raise TargetError(
            f"{target!r} is not a TARGET: give {FORMS}, as in "
            f"{Path(module_name).stem}:service for a module file"
        )
    if not _dotted_name(module_name) or (colon and not _dotted_name(attribute)):
        raise TargetError(f"{target!r} is not a TARGET: give {FORMS}")
    module = _import(module_name)
    _check_not_shadowed(module, module_name)
    if not colon:
        service = _only_service(module)
    else:
        service = _service_of(_attribute(module, attribute), target)
    return {service.name: service}


def pick(
    services: t.Mapping[str, TechMicroService],
    name: str | None = None,
    *,
    how: str = "its name",
) -> TechMicroService:
    """The service called ``name``, or the only one when ``name`` is None.

    :param how: how the caller lets a user name a service, for the message when
        there are several (the CLI says ``--service NAME``).
    :raises TargetError: when ``name`` is unknown, or is None and there are
        several services or none.
    """
    known = ", ".join(sorted(services)) or "none"
    if name is not None:
        if name not in services:
            raise TargetError(f"no service {name!r} here; services: {known}")
        return services[name]
    if len(services) != 1:
        if not services:
            raise TargetError("no service here")
        raise TargetError(f"several services here ({known}): choose one with {how}")
    return next(iter(services.values()))


def _notebook_services(path: Path) -> dict[str, TechMicroService]:
    if not path.is_file():
        raise TargetError(f"{path}: no such notebook")
    try:
        services = load_services(path)
    except SourceError as error:
        raise TargetError(str(error)) from None
    if not services:
        raise TargetError(f"{path} has no %%techservice cell")
    return services


def _dotted_name(text: str) -> bool:
    return all(part.isidentifier() for part in text.split("."))


def _check_not_shadowed(module: types.ModuleType, name: str) -> None:
    """A file of the current folder named like a module imported before it (json,
    email, typing…) is never the one imported: say so rather than look for a
    service in the other."""
    top = name.partition(".")[0]
    mine = Path.cwd() / f"{top}.py"
    found = getattr(module, "__file__", None)
    if mine.is_file() and (found is None or Path(found).resolve() != mine.resolve()):
        if top == name or not (Path.cwd() / top).is_dir():
            raise TargetError(
                f"{mine.name} is hidden by the module {top!r} Python already has; "
                "rename your file"
            )


def _import(name: str) -> types.ModuleType:
    """Import a module from the current directory, or from those on sys.path.

    The current directory stays on sys.path afterwards, as it is for ``python -m``:
    a service that imports a module beside it later, inside an entry, finds it.
    """
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name is not None and (name + ".").startswith(error.name + "."):
            raise TargetError(
                f"no module {name!r} in {here} or on the Python path; run cws from "
                "the folder that holds it"
            ) from None
        raise TargetError(f"cannot import {name!r}: {_one_line(error)}") from None
    except SyntaxError as error:
        raise TargetError(
            f"cannot import {name!r}: {error.filename}, line {error.lineno}: "
            f"{error.msg}"
        ) from None
    except SystemExit as error:
        raise TargetError(f"importing {name!r} called exit({error.code!r})") from None
    except Exception as error:  # whatever the module raises while it runs
        raise TargetError(f"cannot import {name!r}: {_one_line(error)}") from None


def _attribute(module: types.ModuleType, path: str) -> t.Any:
    value: t.Any = module
    for part in path.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise TargetError(
                f"module {module.__name__!r} has no {path!r}; "
                f"services there: {_listing(module)}"
            ) from None
    return value


def _service_of(value: t.Any, target: str) -> TechMicroService:
    """The service an object stands for: itself, or the one it builds."""
    if isinstance(value, TechMicroService):
        return value
    if isinstance(value, type):
        if not issubclass(value, TechMicroService):
            raise TargetError(
                f"{target} is the class {value.__name__}, not a subclass of "
                "TechMicroService"
            )
        return _build(value, target)
    if callable(value):
        try:
            inspect.signature(value).bind()
        except TypeError:
            raise TargetError(
                f"{target} needs arguments; give a function that takes none"
            ) from None
        except ValueError:
            pass  # no signature to read (a builtin): calling it will tell
        built = _build(value, target)
        if not isinstance(built, TechMicroService):
            raise TargetError(
                f"{target}() returned {_kind(built)}, not a TechMicroService instance"
            )
        return built
    raise TargetError(
        f"{target} is {_kind(value)}; give a TechMicroService instance, a subclass "
        "of it, or a function that returns one"
    )


def _build(factory: t.Callable[[], t.Any], target: str) -> t.Any:
    try:
        return factory()
    except SystemExit as error:
        raise TargetError(
            f"{target}: building the service called exit({error.code!r})"
        ) from None
    except Exception as error:
        raise TargetError(
            f"{target}: building the service failed: {_one_line(error)}"
        ) from None


def _only_service(module: types.ModuleType) -> TechMicroService:
    found = _instances(module)
    if len(found) == 1:
        return next(iter(found.values()))
    name = module.__name__
    if not found:
        classes = [
            attr
            for attr, value in vars(module).items()
            if isinstance(value, type)
            and issubclass(value, TechMicroService)
            and value is not TechMicroService
        ]
        hint = f" (classes: {', '.join(classes)})" if classes else ""
        raise TargetError(
            f"module {name!r} holds no TechMicroService instance{hint}; name the "
            f"object to use, as in {name}:OBJECT"
        )
    raise TargetError(
        f"module {name!r} holds several services ({_listing(module)}); name the one "
        f"to use, as in {name}:{next(iter(found))}"
    )


def _instances(module: types.ModuleType) -> dict[str, TechMicroService]:
    """The module's service instances by the first variable naming each."""
    found: dict[str, TechMicroService] = {}
    for attr, value in vars(module).items():
        if isinstance(value, TechMicroService) and all(
            value is not other for other in found.values()
        ):
            found[attr] = value
    return found


def _listing(module: types.ModuleType) -> str:
    found = _instances(module)
    return ", ".join(f"{attr} ({svc.name})" for attr, svc in found.items()) or "none"


def _kind(value: t.Any) -> str:
    return "None" if value is None else f"an object of type {type(value).__name__}"


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
