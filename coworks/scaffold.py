"""``cws new``: a project folder with a first service, its tests and its settings.

:func:`new_project` writes::

    NAME/
      NAME.ipynb           the service, and a live call to it
      tests/test_NAME.py   its tests, through the Lambda event path (coworks.testing)
      project.cws.yml      defaults for the cws command, commented
      .env.example         the variables a developer copies into .env
      .gitignore           keeps .env files and build output out of git
      pytest.ini           makes ``pytest`` in the folder run tests/

The folder is written aside and renamed into place, so a failure leaves nothing
half-written, and a folder that already holds files is never written into.
"""

from __future__ import annotations

import keyword
import os
import re
import secrets
import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell
from nbformat.v4 import new_markdown_cell
from nbformat.v4 import new_notebook

#: A project's name is its service's name, so the same rule holds.
PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")

#: Names the service cell imports, which its class must not take.
_IMPORTED = {"TechMicroService", "entry"}


class ScaffoldError(ValueError):
    """A project that cannot be created; says what to change."""


def class_name(name: str) -> str:
    """The service class for a project name: ``my-shop`` gives ``MyShop``.

    A name that does not give an identifier free for the cell to use (``3d``,
    ``TechMicroService``) gets ``Service`` added.
    """
    words = [word for word in re.split(r"[-_]+", name) if word]
    camel = "".join(word[0].upper() + word[1:] for word in words)
    if camel[0].isdigit():
        camel = "Service" + camel
    if not camel.isidentifier() or keyword.iskeyword(camel) or camel in _IMPORTED:
        camel += "Service"
    return camel


def new_project(name: str, parent: str | Path = ".") -> Path:
    """Create the project folder ``parent/name`` and return its path.

    :raises ScaffoldError: when the name is not a service name, or the folder
        exists and is not empty, or cannot be written.
    """
    if not PROJECT_NAME.fullmatch(name):
        raise ScaffoldError(
            f"project name {name!r} must be 1 to 64 letters, digits, '-' or '_', "
            "starting with a letter or digit (it names the service)"
        )
    if name == "dags":
        raise ScaffoldError(
            "project name 'dags' names the folder of an export's DAG files; choose "
            "another"
        )
    parent = Path(parent)
    target = parent / name
    _check_free(target)
    if not parent.is_dir():
        raise ScaffoldError(f"{parent}: no such folder")
    staging = parent / f".{name}.cws-new-{secrets.token_hex(4)}"
    try:
        staging.mkdir()
        for relative, text in project_files(name).items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        _check_free(target)
        # Renaming onto an empty folder replaces it; onto a non-empty one, fails.
        os.replace(staging, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        reason = error.strerror or str(error)
        raise ScaffoldError(f"cannot create {target}: {reason}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _check_free(target: Path) -> None:
    if target.is_dir() and any(target.iterdir()):
        raise ScaffoldError(
            f"{target} already exists and holds files; choose another name or --dir"
        )
    if target.exists() and not target.is_dir():
        raise ScaffoldError(f"{target} already exists and is not a folder")


def project_files(name: str) -> dict[str, str]:
    """The text of each file of a new project, by path inside its folder."""
    module = name.replace("-", "_")
    return {
        f"{name}.ipynb": notebook(name),
        f"tests/test_{module}.py": TEST.format(name=name),
        "project.cws.yml": PROJECT.format(name=name),
        ".env.example": ENV_EXAMPLE,
        ".gitignore": GITIGNORE,
        "pytest.ini": PYTEST_INI,
    }


def notebook(name: str) -> str:
    """The project's notebook: an introduction, the service, a live call."""
    cells = [
        new_markdown_cell(INTRO.format(name=name)),
        new_code_cell("%load_ext coworks"),
        new_code_cell(SERVICE.format(name=name, cls=class_name(name))),
        new_code_cell(f"%cws call {name} GET /hello/world"),
    ]
    document = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3",
                "language": "python",
            },
            "language_info": {"name": "python"},
        },
    )
    return nbformat.writes(document) + "\n"


INTRO = """\
# {name}

A CoWorks tech service. The `%%techservice` cell below defines it: each method
marked `@entry` is an HTTP entry, routed from its name (`get_hello(self, who)` serves
`GET /hello/<who>`). `%cws call` calls it through the same Lambda event path as
production.

From a terminal in this folder:

- `cws run {name}.ipynb` serves it on 127.0.0.1:8000 under `/{name}`;
- `cws call {name}.ipynb GET /hello/world` calls it once;
- `cws export {name}.ipynb` writes its Lambda zip;
- `pytest` runs `tests/`."""

SERVICE = '''\
%%techservice
from coworks import TechMicroService, entry


class {cls}(TechMicroService):
    name = "{name}"

    @entry
    def get(self):
        """GET /: a greeting."""
        return {{"message": "Hello from {name}"}}

    @entry
    def get_hello(self, who: str):
        """GET /hello/<who>: a greeting for someone."""
        return {{"message": f"Hello, {{who}}!"}}
'''

TEST = '''\
"""The {name} service, called through the same Lambda event path as production."""

from pathlib import Path

import pytest

from coworks.testing import LambdaClient
from coworks.testing import service_from

PROJECT = Path(__file__).parents[1]


@pytest.fixture
def service(monkeypatch):
    """The service of the notebook, expecting the bearer token "test-token"."""
    monkeypatch.setenv("TOKEN", "test-token")
    return service_from(PROJECT / "{name}.ipynb")


def test_root_greets(cws_client):
    result = cws_client.get("/")
    assert result.status == 200
    assert result.json() == {{"message": "Hello from {name}"}}


def test_hello_greets_who_the_path_names(cws_client):
    result = cws_client.get("/hello/world")
    assert result.status == 200
    assert result.json() == {{"message": "Hello, world!"}}


def test_a_call_without_the_token_is_refused(service):
    result = LambdaClient(service, token=None).get("/hello/world")
    assert result.status == 401
'''

PROJECT = """\
# Defaults for the cws command in this project, by command, then by stage.
# An option given on the command line wins; then the environment (.env.<stage>,
# then .env, as CWS_<COMMAND>_<OPTION>, e.g. CWS_RUN_PORT=8001); then the stage's
# section below; then the command's section.

run:
  port: 8000
  # seconds: 60          # stop serving after this many seconds

export:
  output: build/{name}   # relative to this folder

# call:
#   header: ["Accept: application/json"]

# stages:                # chosen with `cws --stage dev` or CWS_STAGE=dev
#   dev:
#     run:
#       port: 8001
"""

ENV_EXAMPLE = """\
# Copy this file to .env (git ignores .env) and set your own values there.
# .env.<stage> (e.g. .env.dev) adds or overrides variables for one stage.
# TOKEN is the bearer token the services expect, and the one `cws call` sends.
TOKEN=change-me
"""

GITIGNORE = """\
.env
.env.*
!.env.example
build/
__pycache__/
.ipynb_checkpoints/
"""

PYTEST_INI = """\
[pytest]
testpaths = tests
"""
