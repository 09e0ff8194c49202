"""The notebook kit: services defined in cells, called live.

``%load_ext coworks`` registers the magics of :mod:`coworks.notebook.magics`; a
``%%techservice`` cell registers its service here, and :func:`call` is the Python
twin of ``%cws call``. This module does not import IPython.
"""

from __future__ import annotations

import os
import typing as t

from ..invoke import Result
from ..invoke import invoke

if t.TYPE_CHECKING:
    from ..service import TechMicroService

#: The services defined in this kernel, by name; running a cell again replaces one.
services: dict[str, TechMicroService] = {}


class UnknownService(LookupError):
    """A call names a service no cell has defined."""


def register(service: TechMicroService) -> TechMicroService | None:
    """Register a service under its name; return the one it replaces, if any."""
    previous = services.get(service.name)
    services[service.name] = service
    return previous


def get(name: str) -> TechMicroService:
    """The registered service ``name``."""
    try:
        return services[name]
    except KeyError:
        known = ", ".join(sorted(services)) or "none yet"
        raise UnknownService(
            f"no service {name!r}; defined services: {known} "
            "(a %%techservice cell defines one)"
        ) from None


def call(
    service: str,
    method: str,
    path: str,
    json: t.Any = None,
    *,
    query: t.Mapping[str, str | list[str]] | None = None,
    headers: t.Mapping[str, str] | None = None,
) -> Result:
    """Call an entry of a service defined in this notebook, through the Lambda path.

    The ``TOKEN`` environment variable, when set, is sent as the bearer token
    unless ``headers`` carry an Authorization of their own.

    ``call("countries", "GET", "/country/FRA")`` is ``%cws call countries GET
    /country/FRA``.
    """
    headers = dict(headers or {})
    token = os.environ.get("TOKEN")
    if token and not any(key.lower() == "authorization" for key in headers):
        headers["Authorization"] = f"Bearer {token}"
    return invoke(get(service), method, path, json=json, query=query, headers=headers)


def routes_text(service: TechMicroService) -> str:
    """The service's routes, one a line, as the magics show them."""
    width = max((len(r.method) for r in service.routes), default=0)
    count = len(service.routes)
    lines = [f"{service.name}: {count} {'entry' if count == 1 else 'entries'}"]
    if not count:
        lines[0] += " (mark its methods with @entry)"
    lines += [
        f"  {r.method:<{width}}  {r.rule}  ({r.endpoint})" for r in service.routes
    ]
    if service.open_access:
        lines.append(
            "  open: no TOKEN is set, every request is let in (local work only)"
        )
    return "\n".join(lines)
