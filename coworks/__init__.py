"""CoWorks: serverless microservices written as classes, composed into Airflow flows.

The service runtime (:class:`TechMicroService`, :func:`entry`) imports nothing heavy:
it is what ships in a Lambda zip. :func:`biz` and ``TechServiceOperator`` import
Airflow only when first used, and ``%load_ext coworks`` loads the notebook magics.
"""

from __future__ import annotations

import typing as t

from .blueprint import Blueprint as Blueprint
from .service import TechMicroService as TechMicroService
from .service import entry as entry

__all__ = ["Blueprint", "TechMicroService", "TechServiceOperator", "biz", "entry"]

#: Names served by :mod:`coworks.flows`, which imports Airflow.
_FLOW_NAMES = ("biz", "TechServiceOperator")


def __getattr__(name: str) -> t.Any:
    # Airflow takes seconds to import: only a flow definition pays for it.
    if name in _FLOW_NAMES:
        from . import flows

        return getattr(flows, name)
    raise AttributeError(f"module 'coworks' has no attribute {name!r}")


def load_ipython_extension(ipython: t.Any) -> None:
    """Register the CoWorks magics (``%load_ext coworks``)."""
    from .notebook.magics import register

    register(ipython)
