"""Shared fixtures. Airflow reads its configuration when first imported, so the
environment for a throwaway SQLite Airflow is set here, before any test imports it."""

from __future__ import annotations

import os
import shutil
import tempfile
import typing as t
from pathlib import Path

import pytest

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="cws-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_AIRFLOW_HOME / "dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
# Services read their token and stage from the environment: tests start from none.
os.environ.pop("TOKEN", None)
os.environ.pop("CWS_STAGE", None)

from helpers import NOTEBOOK  # noqa: E402  (after the environment is set)


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    return _AIRFLOW_HOME


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[None]:
    """A shell without the variables cws reads; what a test exports is undone."""
    for name in ("CWS_STAGE", "CWS_PROJECT_DIR", "CWS_RUN_PORT", "TOKEN"):
        monkeypatch.delenv(name, raising=False)
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Notebook 01 exported once for the session."""
    from coworks.export import export_notebook

    out = tmp_path_factory.mktemp("export") / "build"
    export_notebook(NOTEBOOK, out)
    return out
