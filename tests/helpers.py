"""Paths and loaders the tests share."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).resolve().parent / "events"
NOTEBOOK = ROOT / "notebooks" / "01_countries.ipynb"


def load_event(name: str) -> dict:
    """A real event from tests/events (see its SOURCES.md)."""
    return json.loads((EVENTS / name).read_text())


def write_notebook(path: Path, *cells: str) -> Path:
    """Write a notebook whose code cells hold ``cells``, in order."""
    import nbformat
    from nbformat.v4 import new_code_cell
    from nbformat.v4 import new_notebook

    nbformat.write(new_notebook(cells=[new_code_cell(c) for c in cells]), path)
    return path
