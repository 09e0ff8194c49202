"""``cws new``: a project folder whose service, tests and settings work as written."""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import pytest
from click.testing import CliRunner
from helpers import ROOT

from coworks import scaffold
from coworks.cli import main
from coworks.config import load_config
from coworks.invoke import invoke
from coworks.scaffold import ScaffoldError
from coworks.scaffold import class_name
from coworks.scaffold import new_project
from coworks.sources import load_services


def test_new_writes_the_project_folder_and_says_what_next(tmp_path):
    result = CliRunner().invoke(main, ["new", "demo", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    project = tmp_path / "demo"
    assert result.output == (
        f"created {project}\nnext: cd {project} && cp .env.example .env && pytest\n"
    )
    written = sorted(
        str(path.relative_to(project)) for path in project.rglob("*") if path.is_file()
    )
    assert written == [
        ".env.example",
        ".gitignore",
        "demo.ipynb",
        "project.cws.yml",
        "pytest.ini",
        "tests/test_demo.py",
    ]
    assert os.listdir(tmp_path) == ["demo"]  # no staging folder left behind


def test_the_notebook_loads_the_extension_defines_the_service_and_calls_it(tmp_path):
    project = new_project("demo", tmp_path)
    cells = nbformat.read(project / "demo.ipynb", as_version=4).cells
    assert [cell.cell_type for cell in cells] == ["markdown", "code", "code", "code"]
    assert cells[1].source == "%load_ext coworks"
    assert cells[2].source.startswith("%%techservice\n")
    assert cells[3].source == "%cws call demo GET /hello/world"


def test_the_service_greets_at_its_two_entries(tmp_path):
    project = new_project("demo", tmp_path)
    service = load_services(project / "demo.ipynb")["demo"]
    assert invoke(service, "GET", "/").json() == {"message": "Hello from demo"}
    hello = invoke(service, "GET", "/hello/world")
    assert hello.json() == {"message": "Hello, world!"}


def test_a_name_with_a_dash_keeps_it_as_the_service_name(tmp_path):
    project = new_project("my-shop", tmp_path)
    services = load_services(project / "my-shop.ipynb")
    assert type(services["my-shop"]).__name__ == "MyShop"
    assert (project / "tests" / "test_my_shop.py").is_file()


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("demo", "Demo"),
        ("my-shop", "MyShop"),
        ("order_lines", "OrderLines"),
        ("myShop", "MyShop"),
        ("3d-prints", "Service3dPrints"),
        ("TechMicroService", "TechMicroServiceService"),
    ],
)
def test_the_class_name_is_the_name_in_camel_case(name, cls):
    assert class_name(name) == cls


def test_the_project_file_is_a_valid_configuration(tmp_path):
    project = new_project("demo", tmp_path)
    config = load_config(project)
    assert config.defaults("run") == {"port": 8000}
    assert config.defaults("export") == {"output": str(project / "build" / "demo")}


def test_env_files_stay_out_of_git_but_the_example(tmp_path):
    project = new_project("demo", tmp_path)
    ignored = (project / ".gitignore").read_text().splitlines()
    assert {".env", ".env.*", "!.env.example", "build/"} <= set(ignored)
    assert "TOKEN=change-me" in (project / ".env.example").read_text().splitlines()


@pytest.mark.parametrize("name", ["", "-demo", "my shop", "demo/x", "x" * 65, "dé"])
def test_a_name_that_is_no_service_name_is_refused(tmp_path, name):
    with pytest.raises(ScaffoldError, match="must be 1 to 64 letters, digits"):
        new_project(name, tmp_path)
    assert os.listdir(tmp_path) == []


def test_a_folder_holding_files_is_never_written_into(tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "notes.txt").write_text("mine")
    result = CliRunner().invoke(main, ["new", "demo", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {tmp_path / 'demo'} already exists and holds files; choose another "
        "name or --dir\n"
    )
    assert os.listdir(tmp_path / "demo") == ["notes.txt"]
    assert (tmp_path / "demo" / "notes.txt").read_text() == "mine"


def test_an_empty_folder_of_that_name_is_filled(tmp_path):
    (tmp_path / "demo").mkdir()
    new_project("demo", tmp_path)
    assert (tmp_path / "demo" / "demo.ipynb").is_file()


def test_a_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    # The second file needs a folder where the first file stands.
    monkeypatch.setattr(scaffold, "project_files", lambda name: {"a": "", "a/b": ""})
    with pytest.raises(ScaffoldError, match=r"^cannot create .*demo: "):
        new_project("demo", tmp_path)
    assert os.listdir(tmp_path) == []


def test_a_missing_parent_folder_is_named(tmp_path):
    with pytest.raises(ScaffoldError, match=r"nope: no such folder"):
        new_project("demo", tmp_path / "nope")


def test_the_projects_own_tests_pass(tmp_path):
    project = new_project("demo", tmp_path)
    # This checkout's coworks, whatever else is installed; no TOKEN from the shell.
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, paths)))
    env.pop("TOKEN", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout
