"""How an entry's method name and signature become an HTTP route.

The rules, pure and free of Flask so that export can show routes without serving:

* the first word of the name is the HTTP verb: ``get``, ``post``, ``put``, ``patch``
  or ``delete``;
* the other words, split on ``_``, are the literal path segments: ``get_orders``
  serves ``/orders`` and ``get_order_lines`` serves ``/order/lines``; a name that is
  only a verb serves ``/``;
* each parameter without a default value adds one path segment, in order:
  ``get_order(self, order_id)`` serves ``/order/<order_id>``.
"""

from __future__ import annotations

import dataclasses
import typing as t

#: The HTTP verbs an entry name may start with.
VERBS = ("get", "post", "put", "patch", "delete")

#: Verbs whose parameters with a default value come from the query string; the
#: others read them from the JSON body.
QUERY_VERBS = ("GET", "DELETE")


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


def route_for(name: str, path_params: t.Sequence[str]) -> Route:
    """Build the route of the entry method ``name`` with these path parameters.

    :param name: the Python name of the entry method, such as ``get_orders``.
    :param path_params: names of the parameters without default, in order.
    :raises RoutingError: when the name does not start with an HTTP verb.
    """
    verb, _, rest = name.partition("_")
    if verb not in VERBS:
        raise RoutingError(
            f"entry {name!r} must start with an HTTP verb "
            f"({', '.join(VERBS)}), as in 'get_orders'"
        )
    for param in path_params:
        if not param.isascii():
            raise RoutingError(
                f"entry {name!r}: path parameter {param!r} must have an ASCII name"
            )
    segments = [word for word in rest.split("_") if word]
    segments += [f"<{param}>" for param in path_params]
    return Route(verb.upper(), "/" + "/".join(segments), name)
