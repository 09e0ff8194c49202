"""The Airflow DAG file of one ``@biz`` flow, written from its notebook cell."""

from __future__ import annotations

import ast
import collections
import json
import re
import typing as t
from pathlib import Path

from ..sources import Flow
from ..sources import is_biz_decorator
from ..sources import undefined_names

#: The line breaks Python's own line numbers count; str.splitlines knows more.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class DagFileError(ValueError):
    """A flow cell whose DAG file would not be valid Python."""


def dag_file(flow: Flow, notebook: Path) -> str:
    """The text of the DAG file for ``flow``.

    The file keeps the flow cell's code but for what would run or define more than
    this flow at import time: other ``@biz`` functions and bare expressions (a cell
    often ends with one to show a value) are left out, when they stand on lines of
    their own. What remains does almost nothing when Airflow parses it: imports,
    definitions and the DAG itself.

    :raises DagFileError: if the text would not compile.
    """
    tree = ast.parse(flow.source)
    lines = _LINE_BREAK.split(flow.source)
    flows = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(is_biz_decorator(d) for d in node.decorator_list)
    }
    spans = [(node, _span(node)) for node in tree.body]
    owners = collections.Counter(number for _, span in spans for number in span)
    dropped = {
        number
        for node, span in spans
        if _dropped(node, flow, flows) and all(owners[number] == 1 for number in span)
        for number in span
    }
    kept = [line for number, line in enumerate(lines) if number not in dropped]
    # The notebook's name is quoted as JSON: whatever it holds stays in the comment.
    header = (
        f"# Airflow DAG {json.dumps(flow.dag_id)}, a CoWorks flow, written by cws\n"
        f"# export from {json.dumps(notebook.name)}, cell {flow.cell + 1}. Edit the\n"
        "# notebook, not this file, and export again.\n"
    )
    text = header + "\n" + "\n".join(_trim_blank_runs(kept)).strip() + "\n"
    try:
        compile(text, f"{flow.dag_id}.py", "exec", dont_inherit=True)
    except SyntaxError as error:
        raise DagFileError(
            f"the DAG file of flow {flow.dag_id!r} would not compile ({error.msg}, "
            f"line {error.lineno}); simplify the flow cell"
        ) from None
    missing = sorted(undefined_names(text))
    if missing:
        raise DagFileError(
            f"flow {flow.dag_id!r} uses {', '.join(missing)}, which its cell neither "
            "defines nor imports; a flow cell must stand alone, as it becomes the "
            "DAG file"
        )
    return text


def _span(node: ast.stmt) -> range:
    """The 0-based numbers of the lines a statement takes, decorators included."""
    start = min([node.lineno, *(d.lineno for d in _decorators(node))])
    return range(start - 1, node.end_lineno or node.lineno)


def _decorators(node: ast.stmt) -> list[ast.expr]:
    return getattr(node, "decorator_list", [])


def _dropped(node: ast.stmt, flow: Flow, flows: set[str]) -> bool:
    """Whether a top-level statement stays in the notebook.

    Display expressions do, and so do the other flows, the statements that use
    them (their DAG files have them), and calls on a flow made at import time
    (``run = neighbourhood.test()``: the notebook trying the flow out).
    """
    if isinstance(node, ast.Expr):
        return not isinstance(node.value, ast.Constant)  # docstrings stay
    if isinstance(node, ast.FunctionDef) and node.name in flows:
        return node.name != flow.function
    others = flows - {flow.function}
    if any(isinstance(n, ast.Name) and n.id in others for n in ast.walk(node)):
        return True
    return any(_calls_a_flow(n, flows) for n in _run_at_import(node))


def _run_at_import(node: ast.AST) -> t.Iterator[ast.AST]:
    """The nodes of a statement that run when the module runs: not function bodies."""
    yield node
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield from _run_at_import(child)


def _calls_a_flow(node: ast.AST, flows: set[str]) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in flows
    )


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
