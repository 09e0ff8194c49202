"""The cws command as a user types it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request

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
