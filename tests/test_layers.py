"""Each layer imports only those below it: checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["airflow", "IPython", "ipykernel", "jupyter_client", "boto3", "botocore"]


def loaded_after(statement: str) -> set[str]:
    """Top-level modules, and coworks' own submodules, loaded by ``statement``."""
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    names = json.loads(output)
    return {n.split(".")[0] for n in names} | {n for n in names if "coworks." in n}


@pytest.mark.parametrize(
    ("statement", "absent"),
    [
        # The service runtime, as a Lambda zip runs it.
        ("import coworks", HEAVY + ["nbformat", "coworks.export", "coworks.sources"]),
        ("from coworks import TechMicroService, entry", HEAVY + ["nbformat"]),
        # Export works without IPython or Airflow.
        ("import coworks.export", HEAVY),
        ("import coworks.cli", HEAVY),
        # The notebook's Python face does not need IPython.
        ("from coworks.notebook import call", HEAVY),
    ],
)
def test_import_pulls_in_nothing_from_the_layers_above(statement, absent):
    loaded = loaded_after(statement)
    assert not loaded & set(absent), f"{statement!r} loaded {loaded & set(absent)}"


def test_biz_imports_airflow_only_when_used():
    assert "airflow" not in loaded_after("import coworks")
    assert "airflow" in loaded_after("from coworks import biz")
