"""The Airflow DAG file of one ``@biz`` flow, written from its notebook cell."""

from __future__ import annotations

import ast
from pathlib import Path

from ..sources import Flow
from ..sources import is_biz_decorator


def dag_file(flow: Flow, notebook: Path) -> str:
    """The text of the DAG file for ``flow``.

    The file keeps the flow cell's code but for what would run or define more than
    this flow at import time: other ``@biz`` functions and bare expressions (a cell
    often ends with one to show a value) are left out. What remains does almost
    nothing when Airflow parses it: imports, definitions and the DAG itself.
    """
    tree = ast.parse(flow.source)
    lines = flow.source.splitlines()
    dropped: set[int] = set()
    for node in tree.body:
        if _dropped(node, flow):
            start = min([node.lineno, *(d.lineno for d in _decorators(node))])
            dropped.update(range(start - 1, node.end_lineno or node.lineno))
    kept = [line for number, line in enumerate(lines) if number not in dropped]
    header = (
        f'"""Airflow DAG {flow.dag_id!r}, a CoWorks flow.\n'
        "\n"
        f"Written by cws export from {notebook.name}, cell {flow.cell + 1}; edit the\n"
        "notebook, not this file, and export again.\n"
        '"""\n'
    )
    return header + "\n" + "\n".join(_trim_blank_runs(kept)).strip() + "\n"


def _decorators(node: ast.stmt) -> list[ast.expr]:
    return getattr(node, "decorator_list", [])


def _dropped(node: ast.stmt, flow: Flow) -> bool:
    if isinstance(node, ast.Expr):
        return not isinstance(node.value, ast.Constant)  # docstrings stay
    if isinstance(node, ast.FunctionDef) and node.name != flow.function:
        return any(is_biz_decorator(d) for d in node.decorator_list)
    return False


def _trim_blank_runs(lines: list[str]) -> list[str]:
    """At most two blank lines in a row, as a formatter would leave them."""
    out: list[str] = []
    for line in lines:
        if (
            not line.strip()
            and len(out) >= 2
            and not out[-1].strip()
            and not out[-2].strip()
        ):
            continue
        out.append(line)
    return out
