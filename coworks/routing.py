"""How an entry's method name and signature become an HTTP route.

The rules are those of coworks 0.9.4, so that its services move over unchanged. They
are pure and free of Flask, so that export can show routes without serving:

* leading and trailing underscores are dropped: ``get_`` and ``get__`` read as
  ``get``, which lets two methods serve ``/`` with different path parameters;
* when the first word of the name is an HTTP verb (``get``, ``post``, ``put``,
  ``patch``, ``delete``), it is the method and the other words, split on ``_``, are
  the literal path segments: ``get_orders`` serves ``GET /orders`` and
  ``get_order_lines`` serves ``GET /order/lines``; a name that is only a verb serves
  ``/``;
* a name that does not start with a verb is a POST on the whole name:
  ``compute_total`` serves ``POST /compute/total``;
* each path parameter (see :mod:`coworks.binding`) adds one segment, in order:
  ``get_order(self, order_id)`` serves ``GET /order/<order_id>``. A trailing path
  parameter takes the rest of the path, slashes included.
"""

from __future__ import annotations

import dataclasses
import typing as t

#: The HTTP verbs an entry name may start with.
VERBS = ("get", "post", "put", "patch", "delete")


class RoutingError(ValueError):
    """An entry's name or signature cannot be turned into a route."""


@dataclasses.dataclass(frozen=True)
class Route:
    """One HTTP entry of a service: verb, Werkzeug rule and the method serving it."""

    method: str
    rule: str
    endpoint: str

    def as_dict(self) -> dict[str, str]:
        """The route as the manifest and the CLI show it."""
        return {"method": self.method, "path": self.rule}


def route_for(
    name: str, path_params: t.Sequence[str], trailing_path: bool = False
) -> Route:
    """Build the route of the entry method ``name`` with these path parameters.

    :param name: the Python name of the entry method, such as ``get_orders``.
    :param path_params: names of the path parameters, in order.
    :param trailing_path: whether the last path parameter takes the rest of the
        path, slashes included.
    :raises RoutingError: when the name gives no route.
    """
    words = [word for word in name.strip("_").split("_") if word]
    if not words:
        raise RoutingError(f"entry {name!r} gives no route; name it like 'get_orders'")
    method = "POST"
    if words[0] in VERBS:
        method = words.pop(0).upper()
    for param in path_params:
        if not param.isascii():
            raise RoutingError(
                f"entry {name!r}: path parameter {param!r} must have an ASCII name"
            )
    segments = [f"<{param}>" for param in path_params]
    if trailing_path and segments:
        segments[-1] = f"<path:{path_params[-1]}>"
    return Route(method, "/" + "/".join(words + segments), name)
