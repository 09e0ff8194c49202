"""The cws command as a user types it."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from click.testing import CliRunner
from helpers import NOTEBOOK
from helpers import write_notebook

from coworks.cli import main


def test_export_writes_the_files_and_says_where(tmp_path):
    out = tmp_path / "build"
    result = CliRunner().invoke(main, ["export", str(NOTEBOOK), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "countries/lambda.zip" in result.output
    assert "dags/neighbourhood.py" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert {s["name"] for s in manifest["services"]} == {"countries", "stats"}


def test_export_error_is_one_line_and_exit_code_1(tmp_path):
    notebook = write_notebook(tmp_path / "empty.ipynb", "x = 1")
    result = CliRunner().invoke(main, ["export", str(notebook), "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "nothing to export" in result.output
    assert "Traceback" not in result.output


def test_export_of_a_missing_notebook_says_so(tmp_path):
    result = CliRunner().invoke(main, ["export", str(tmp_path / "nope.ipynb")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_routes_lists_every_entry():
    result = CliRunner().invoke(main, ["routes", str(NOTEBOOK), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "countries": [
            {"method": "GET", "path": "/country/<code>"},
            {"method": "GET", "path": "/neighbours/<code>"},
        ],
        "stats": [{"method": "POST", "path": "/density"}],
    }


def test_run_serves_each_service_under_its_name_on_loopback():
    process = subprocess.Popen(
        [sys.executable, "-m", "coworks.cli", "run", str(NOTEBOOK), "--port", "0"]
        + ["--seconds", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        urls = {}
        deadline = time.monotonic() + 30
        while len(urls) < 2 and time.monotonic() < deadline:
            line = process.stdout.readline()
            match = re.match(r"(\w+)\s+(http://127\.0\.0\.1:\d+/\w+)", line)
            if match:
                urls[match[1]] = match[2]
        assert set(urls) == {"countries", "stats"}
        with urllib.request.urlopen(urls["countries"] + "/country/ITA") as answer:
            country = json.load(answer)
        assert country["name"] == "Italy"
        assert country["capital"] == "Rome"
        request = urllib.request.Request(
            urls["stats"] + "/density",
            data=json.dumps(
                {"countries": [{"name": "X", "population": 10, "area": 4}]}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as answer:
            assert json.load(answer)["density"] == 2.5
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_routes_reports_a_bad_cell_in_one_line(tmp_path):
    cell = (
        "%%techservice\nfrom coworks import TechMicroService, entry\n\n"
        "class S(TechMicroService):\n    @entry\n    def get_x(self, *args):\n"
        "        return 1\n"
    )
    notebook = write_notebook(tmp_path / "nb.ipynb", cell)
    result = CliRunner().invoke(main, ["routes", str(notebook)])
    assert result.exit_code == 1
    assert "cell 1: EntryError: entry 'get_x': parameter 'args' must be passable" in (
        result.output
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "option", [["--port", "70000"], ["--port", "-1"], ["--seconds", "nan"]]
)
def test_run_refuses_out_of_range_options(option):
    result = CliRunner().invoke(main, ["run", str(NOTEBOOK), *option])
    assert result.exit_code == 2
    assert "Invalid value" in result.output


def test_run_on_a_busy_port_says_to_choose_another():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["run", str(NOTEBOOK), "--port", str(port)])
    assert result.exit_code == 1
    assert "choose another --port" in result.output


def test_the_local_server_gives_services_the_clients_scheme():
    from flask import request

    from coworks import TechMicroService
    from coworks import entry
    from coworks import local

    class Where(TechMicroService):
        @entry
        def get(self):
            return {"url": request.url}

    server = local.start({"where": Where()}, port=0)
    try:
        url = f"http://127.0.0.1:{server.port}/where/"
        with urllib.request.urlopen(url) as answer:
            assert json.load(answer)["url"].startswith("http://127.0.0.1:")
    finally:
        server.shutdown()


def test_export_defaults_to_a_folder_named_after_the_notebook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["export", str(NOTEBOOK)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "build" / "01_countries" / "manifest.json").is_file()


def test_the_local_server_adds_no_content_type_to_a_204():
    from coworks import TechMicroService
    from coworks import entry
    from coworks import local

    class Quiet(TechMicroService):
        @entry
        def delete(self):
            return None

    server = local.start({"quiet": Quiet()}, port=0)
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/quiet/", method="DELETE"
        )
        with urllib.request.urlopen(request) as answer:
            assert answer.status == 204
            assert answer.headers.get("Content-Type") is None
    finally:
        server.shutdown()
