"""Business flows: Airflow DAGs whose tasks call tech services.

Importing this package imports Airflow; ``from coworks import biz`` defers it until a
flow is defined.
"""

from __future__ import annotations

import inspect
import typing as t

from airflow.sdk import dag

from ..sources import flow_parameter_problem
from .hook import TechServiceError
from .hook import TechServiceHook
from .operator import TechServiceOperator

__all__ = ["TechServiceError", "TechServiceHook", "TechServiceOperator", "biz"]

#: What a flow is unless its ``@biz(...)`` says otherwise: run on demand, tagged.
_DEFAULTS: dict[str, t.Any] = {
    "schedule": None,
    "catchup": False,
    "tags": ["coworks"],
}


def biz(func: t.Callable[..., t.Any] | None = None, /, **dag_options: t.Any) -> t.Any:
    """Turn a function into an Airflow DAG: a business flow over tech services.

    The function's parameters become the DAG's params (``{{ params.name }}`` in
    templates) and its body creates the tasks, usually :class:`TechServiceOperator`.
    The decorated name is the DAG itself, so a DAG file needs nothing more::

        @biz(dag_id="neighbourhood")
        def neighbourhood(code: str = "FRA"):
            neighbours = TechServiceOperator(
                service="countries", path="/neighbours/{{ params.code }}"
            )
            TechServiceOperator(
                service="stats", method="POST", path="/density",
                json={"countries": neighbours.output},
            )

    :param dag_options: options of Airflow's DAG; ``dag_id`` defaults to the
        function's name and ``schedule`` to None (run on demand). Templates render
        to text; to send a param with its own type in a JSON body, place the
        function's parameter itself there: ``json={"rate": rate}``.
    """

    def build(function: t.Callable[..., t.Any]) -> t.Any:
        for param in inspect.signature(function).parameters.values():
            problem = flow_parameter_problem(
                param.name, param.kind.name, param.default is not param.empty
            )
            if problem:
                raise TypeError(f"flow {function.__name__!r}: {problem}")
        options = {**_DEFAULTS, "dag_id": function.__name__, **dag_options}
        return dag(**options)(function)()

    return build(func) if func is not None else build
