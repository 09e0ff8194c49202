"""The ``@entry`` mark, and how a class's marked methods become Flask routes.

A :class:`~coworks.TechMicroService` and a :class:`~coworks.Blueprint` both collect
their entries here, so that an entry reads the same wherever it is written.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
import typing as t

from flask import request

from .binding import EntryError
from .binding import EntrySignature
from .binding import to_response
from .routing import VERBS
from .routing import RoutingError

if t.TYPE_CHECKING:
    from flask.sansio.scaffold import Scaffold

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

_MARK = "__cws_entry__"

#: The environment variable naming the stage a service runs in.
STAGE_VARIABLE = "CWS_STAGE"

_STAGE = re.compile(r"[A-Za-z0-9_-]+")


@dataclasses.dataclass(frozen=True)
class EntryOptions:
    """What ``@entry(...)`` says of an entry beyond its name and signature."""

    #: Whether the entry answers without a token.
    no_auth: bool = False
    #: The stages the entry exists in; None for every stage.
    stages: frozenset[str] | None = None


@dataclasses.dataclass(frozen=True)
class Entry:
    """An entry as served: its method's name, signature and options."""

    name: str
    signature: EntrySignature
    options: EntryOptions
    doc: str | None


@t.overload
def entry(func: F) -> F: ...


@t.overload
def entry(
    *, no_auth: bool = False, stage: str | t.Iterable[str] | None = None
) -> t.Callable[[F], F]: ...


def entry(
    func: F | None = None,
    *,
    no_auth: bool = False,
    stage: str | t.Iterable[str] | None = None,
) -> F | t.Callable[[F], F]:
    """Mark a method of a :class:`TechMicroService` or a :class:`Blueprint` as an
    HTTP entry.

    The method's name gives the verb and path (see :mod:`coworks.routing`), its
    signature the parameters (see :mod:`coworks.binding`)::

        class Orders(TechMicroService):
            @entry
            def get_order(self, order_id: int):
                return {"id": order_id}

            @entry(no_auth=True)
            def get_health(self):
                return "ok"

    :param no_auth: answer without asking for a token.
    :param stage: a stage name, or several: the entry exists only when the
        ``CWS_STAGE`` environment variable names one of them when the service is
        built.
    """
    options = EntryOptions(bool(no_auth), _stages(stage))

    def mark(method: F) -> F:
        setattr(method, _MARK, options)
        return method

    return mark if func is None else mark(func)


def _stages(stage: str | t.Iterable[str] | None) -> frozenset[str] | None:
    if stage is None:
        return None
    problem = EntryError(
        f"stage must be a stage name (letters, digits, '-' or '_') or a list of "
        f"them, not {stage!r}"
    )
    if isinstance(stage, str):
        stage = [stage]
    elif not isinstance(stage, (list, tuple, set, frozenset)):
        raise problem
    if not stage or not all(isinstance(s, str) and _STAGE.fullmatch(s) for s in stage):
        raise problem
    return frozenset(stage)


def class_name(cls: type) -> str:
    """The default name of a service or blueprint class: its ``name`` attribute
    when the class sets one as text, else the class name in lower case."""
    declared = getattr(cls, "name", None)  # Flask's own is a property, not a str
    return declared if isinstance(declared, str) else cls.__name__.lower()


def current_stage() -> str | None:
    """The stage named by ``CWS_STAGE``, or None."""
    return os.environ.get(STAGE_VARIABLE) or None


def register_entries(scaffold: Scaffold, base: type) -> dict[str, Entry]:
    """Add a route to ``scaffold`` for each entry method of its class that exists
    in the current stage; return them by method name.

    :param base: the framework class ``scaffold`` derives from, whose attributes
        an entry may not hide.
    :raises RoutingError: when two entries serve the same verb and path.
    :raises EntryError: when an entry hides an attribute of the framework.
    """
    stage = current_stage()
    added: dict[str, Entry] = {}
    for attr, func in _entry_methods(type(scaffold)):
        _check_not_hiding(attr, scaffold, base)
        options = getattr(func, _MARK)
        if options.stages is not None and stage not in options.stages:
            continue
        signature = EntrySignature.of(func, attr)
        found = Entry(attr, signature, options, inspect.getdoc(func))
        _check_unique(found, added.values())
        added[attr] = found
        route = found.signature.route
        scaffold.add_url_rule(
            route.rule,
            endpoint=attr,
            view_func=_view(getattr(scaffold, attr), found),
            methods=[route.method],
        )
    return added


def _check_not_hiding(attr: str, scaffold: Scaffold, base: type) -> None:
    """An entry named like an attribute of Flask or CoWorks would replace it (an
    entry ``open_access`` would open the service): refuse it. Entries named after
    a verb alone, which serve ``/``, may hide Flask's route shortcuts
    (``app.get(rule)``): a service declares its routes as entries."""
    if attr in VERBS:
        return
    if attr in vars(scaffold) or any(attr in vars(k) for k in base.__mro__):
        raise EntryError(
            f"entry {attr!r} would hide the attribute {attr!r} of "
            f"{base.__name__}; rename it: {attr + '_'!r} serves the same route"
        )


def _view(bound: t.Callable[..., t.Any], found: Entry) -> t.Callable[..., t.Any]:
    signature = found.signature

    def view(**view_args: str) -> t.Any:
        return to_response(bound(**signature.bind(view_args, request)))

    view.__name__ = found.name
    view.__doc__ = found.doc
    view.cws_entry = found  # type: ignore[attr-defined]
    return view


def _check_unique(found: Entry, known: t.Iterable[Entry]) -> None:
    route = found.signature.route
    for other in known:
        if (other.signature.route.method, shape(other.signature.route.rule)) == (
            route.method,
            shape(route.rule),
        ):
            raise RoutingError(
                f"entries {other.name!r} and {found.name!r} both serve "
                f"{route.method} {route.rule}; rename one of them"
            )


def shape(rule: str) -> str:
    """A rule with its parameters unnamed: /x/<a> and /x/<b> serve the same URLs."""
    return re.sub(r"<(path:)?[^>]*>", r"<\1>", rule)


def _entry_methods(cls: type) -> list[tuple[str, t.Callable[..., t.Any]]]:
    """The entry methods of a class and its bases, a subclass's winning."""
    found: dict[str, t.Callable[..., t.Any]] = {}
    for klass in reversed(cls.__mro__):
        for name, member in vars(klass).items():
            if isinstance(member, (staticmethod, classmethod)):
                if hasattr(member, _MARK) or hasattr(member.__func__, _MARK):
                    raise EntryError(
                        f"entry {name!r} must be a plain method, not a "
                        f"{type(member).__name__}"
                    )
            elif inspect.isfunction(member) and hasattr(member, _MARK):
                found[name] = member
            else:
                found.pop(name, None)  # overridden by a non-entry
    return sorted(found.items())
