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
