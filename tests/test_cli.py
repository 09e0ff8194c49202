"""The cws command as a user types it."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from helpers import NOTEBOOK
from helpers import write_notebook

from coworks import TechMicroService
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


# TARGET, and the commands that take one: routes, call, run, openapi.

SHOP = """\
from flask import request

from coworks import TechMicroService, entry


class Shop(TechMicroService):
    # Lets every request in, whatever TOKEN a test sets: these tests read what the
    # service receives, not whether it accepts it.
    open_access = True

    @entry
    def get_item(self, item_id: int):
        return {"id": item_id}

    @entry
    def post_items(self, name: str = "", qty: int = 1):
        return {"name": name, "qty": qty}

    @entry
    def get_search(self, q: str = "", page: int = 1):
        return {"q": q, "page": page}

    @entry
    def get_headers(self):
        return {
            "authorization": request.headers.get("Authorization"),
            "trace": request.headers.get("X-Trace"),
        }


class OpenShop(Shop):
    name = "open-shop"

    def openapi(self):
        # A stand-in for the runtime's own document: these tests are about the
        # command, which prints whatever the service's openapi() returns.
        return {"openapi": "3.1.0", "info": {"title": self.name}}


class ClosedShop(Shop):
    name = "closed-shop"
    open_access = False


shop = Shop()
open_shop = OpenShop()
closed_shop = ClosedShop()
"""


@pytest.fixture
def shop(tmp_path, monkeypatch):
    """The module ``shop_app`` in the current directory, forgotten after the test."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "shop_app.py").write_text(SHOP)
    yield tmp_path
    sys.modules.pop("shop_app", None)


pytestmark = pytest.mark.usefixtures("clean_environ")


def cws(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env)


def test_routes_of_module_colon_object(shop):
    result = cws("routes", "shop_app:shop")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "shop             GET     /headers",
        "shop             GET     /item/<item_id>",
        "shop             POST    /items",
        "shop             GET     /search",
    ]


def test_a_service_cell_using_another_cells_name_is_refused_before_a_call(tmp_path):
    cells = (
        "GREETING = 'hello'",
        "%%techservice\nfrom coworks import TechMicroService, entry\n\n"
        "class Hi(TechMicroService):\n    @entry\n    def get(self):\n"
        "        return GREETING\n",
    )
    notebook = write_notebook(tmp_path / "nb.ipynb", *cells)
    result = cws("call", str(notebook), "GET", "/")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {notebook}, cell 2: the service uses GREETING, which its cell "
        "neither defines nor imports; a %%techservice cell must stand alone, as it "
        "becomes the Lambda's service.py\n"
    )


def test_routes_of_a_missing_notebook_is_an_error_naming_it(tmp_path):
    result = cws("routes", str(tmp_path / "nope.ipynb"))
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'nope.ipynb'}: no such notebook\n"


def test_call_goes_through_the_lambda_path_and_prints_status_and_body():
    result = cws("call", str(NOTEBOOK), "-s", "countries", "GET", "/country/ITA")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("200 OK\n{\n")
    assert json.loads(result.output.partition("\n")[2])["capital"] == "Rome"


def test_call_exits_with_1_on_an_error_status(shop):
    result = cws("call", "shop_app:shop", "GET", "/item/abc")  # not an int
    assert result.exit_code == 1
    assert result.output.startswith("422 Unprocessable Entity\n")


def test_call_sends_the_json_argument_as_body(shop):
    result = cws("call", "shop_app:shop", "post", "/items", '{"name": "tea", "qty": 3}')
    assert result.exit_code == 0, result.output
    assert result.output == '200 OK\n{\n  "name": "tea",\n  "qty": 3\n}\n'


def test_call_merges_the_query_of_the_path_and_of_the_options(shop):
    result = cws("call", "shop_app:shop", "GET", "/search?page=2", "-q", "q=red tea")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.partition("\n")[2]) == {"q": "red tea", "page": 2}


def test_call_sends_the_token_of_the_environment_as_bearer(shop):
    result = cws("call", "shop_app:shop", "GET", "/headers", env={"TOKEN": "s3cret"})
    body = json.loads(result.output.partition("\n")[2])
    assert body == {"authorization": "Bearer s3cret", "trace": None}


def test_call_headers_are_sent_and_an_authorization_header_beats_the_token(shop):
    result = cws(
        "call",
        "shop_app:shop",
        "GET",
        "/headers",
        "-H",
        "X-Trace: abc 123",
        "-H",
        "Authorization: Basic dXNlcg==",
        "--token",
        "ignored",
    )
    body = json.loads(result.output.partition("\n")[2])
    assert body == {"authorization": "Basic dXNlcg==", "trace": "abc 123"}


def test_an_environment_variable_gives_headers_one_a_line(shop):
    headers = "X-Trace: abc 123\nAuthorization: Bearer from env"
    result = cws(
        "call",
        "shop_app:shop",
        "GET",
        "/headers",
        "--token",
        "",
        env={"CWS_CALL_HEADER": headers},
    )
    body = json.loads(result.output.partition("\n")[2])
    assert body == {"authorization": "Bearer from env", "trace": "abc 123"}


def test_call_with_an_empty_token_sends_none(shop):
    result = cws(
        "call", "shop_app:shop", "GET", "/headers", "--token", "", env={"TOKEN": "x"}
    )
    body = json.loads(result.output.partition("\n")[2])
    assert body["authorization"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["GET", "/items", "{name: tea}"],
            "Invalid value for '[JSON]': not valid JSON",
        ),
        (
            ["FETCH", "/items"],
            "'FETCH' is not one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
        ),
        (["GET", "items"], "'items' must start with /"),
        (["GET", "/items", "-H", "X-Trace abc"], "'X-Trace abc' is not 'Name: value'"),
        (["GET", "/items", "-q", "page"], "'page' is not 'key=value'"),
    ],
)
def test_call_refuses_bad_arguments_as_usage_errors(shop, args, message):
    result = cws("call", "shop_app:shop", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_call_among_several_services_asks_for_service():
    result = cws("call", str(NOTEBOOK), "GET", "/country/ITA")
    assert result.exit_code == 1
    assert result.output == (
        "Error: several services here (countries, stats): choose one with "
        "--service NAME\n"
    )


def test_call_of_an_unknown_service_lists_the_known_ones():
    result = cws("call", str(NOTEBOOK), "-s", "maps", "GET", "/")
    assert result.exit_code == 1
    assert result.output == (
        "Error: no service 'maps' here; services: countries, stats\n"
    )


def serve_briefly(target, env=None):
    result = cws("run", target, "--port", "0", "--seconds", "0.05", env=env)
    assert result.exit_code == 0, result.output
    return result


def test_run_warns_about_a_service_open_to_every_caller(shop):
    assert serve_briefly("shop_app:open_shop").stderr == (
        "Warning: open-shop is open to every caller: no TOKEN is set and it has no "
        "token_authorizer of its own; fine for local work only\n"
    )


def test_run_says_nothing_of_a_service_that_checks_tokens(shop):
    assert serve_briefly("shop_app:closed_shop").stderr == ""


def test_run_warns_when_no_token_is_set(tmp_path):
    cell = (
        "%%techservice\nfrom coworks import TechMicroService, entry\n\n"
        "class Plain(TechMicroService):\n    @entry\n    def get(self):\n"
        "        return 'hi'\n"
    )
    notebook = str(write_notebook(tmp_path / "plain.ipynb", cell))
    assert "Warning: plain is open" in serve_briefly(notebook).stderr
    assert serve_briefly(notebook, env={"TOKEN": "s3cret"}).stderr == ""


def test_openapi_prints_the_services_document(shop):
    result = cws("openapi", "shop_app:open_shop")
    assert result.exit_code == 0, result.output
    assert result.output == (
        '{\n  "openapi": "3.1.0",\n  "info": {\n    "title": "open-shop"\n  }\n}\n'
    )


def test_openapi_writes_the_document_into_a_file(shop):
    result = cws("openapi", "shop_app:open_shop", "-o", "docs/openapi.json")
    assert result.exit_code == 0, result.output
    assert result.output == "openapi: docs/openapi.json\n"
    written = json.loads((shop / "docs" / "openapi.json").read_text())
    assert written == {"openapi": "3.1.0", "info": {"title": "open-shop"}}


def test_openapi_of_a_notebook_service_names_its_paths():
    result = cws("openapi", str(NOTEBOOK), "--service", "countries")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {"/country/{code}", "/neighbours/{code}"}


def test_export_takes_its_output_from_the_project_file(tmp_path, monkeypatch):
    (tmp_path / "project.cws.yml").write_text("export:\n  output: build/app\n")
    targets = []

    def export_notebook(notebook, out_dir):
        targets.append(out_dir)
        return {"services": [], "dags": []}

    monkeypatch.setattr("coworks.cli.export_notebook", export_notebook)
    result = cws("--project-dir", str(tmp_path), "export", str(NOTEBOOK))
    assert result.exit_code == 0, result.output
    assert targets == [tmp_path / "build" / "app"]


def test_configuration_never_goes_into_an_export(tmp_path, monkeypatch):
    cell = (
        "%%techservice\nimport os\nfrom coworks import TechMicroService, entry\n\n"
        "class Hi(TechMicroService):\n    @entry\n    def get(self):\n"
        "        return os.environ.get('GREETING', 'none')\n"
    )
    write_notebook(tmp_path / "hi.ipynb", cell)
    (tmp_path / ".env").write_text("TOKEN=env-file-secret\nGREETING=from-env\n")
    (tmp_path / "project.cws.yml").write_text("export:\n  output: out\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOKEN", "")  # so that the test's end removes what cws sets
    monkeypatch.delenv("TOKEN")
    monkeypatch.setenv("GREETING", "")
    monkeypatch.delenv("GREETING")
    result = cws("export", "hi.ipynb")
    assert result.exit_code == 0, result.output
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    contents = [p.read_bytes() for p in written]
    for path in written:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                assert not any(
                    ".env" in n or "project.cws" in n for n in archive.namelist()
                )
                contents += [archive.read(n) for n in archive.namelist()]
    assert not any(b"env-file-secret" in c or b"from-env" in c for c in contents)


def test_every_setting_of_the_project_file_is_an_option_of_its_command():
    from coworks.config import SETTINGS

    kinds = {
        int: click.types.IntParamType,
        float: click.types.FloatParamType,
        str: click.types.StringParamType,
        Path: click.Path,
    }
    for command, settings in SETTINGS.items():
        params = {p.name: p for p in main.commands[command].params}
        for name, setting in settings.items():
            param = params[name]
            assert isinstance(param, click.Option), (command, name)
            if setting.kind is bool:
                assert param.is_flag, (command, name)
            elif setting.kind is list:
                assert param.multiple, (command, name)
            else:
                assert isinstance(param.type, kinds[setting.kind]), (command, name)


# Found by attacking the command: each was a traceback, a lost file or a wrong call.


def test_openapi_replaces_an_earlier_document_but_no_other_file(shop):
    (shop / "openapi.json").write_text('{"openapi": "3.1.0", "old": true}')
    assert cws("openapi", "shop_app:open_shop", "-o", "openapi.json").exit_code == 0
    assert "old" not in json.loads((shop / "openapi.json").read_text())
    (shop / "notes.txt").write_text("mine")
    result = cws("openapi", "shop_app:open_shop", "-o", "notes.txt")
    assert result.exit_code == 1
    assert result.output == (
        "Error: notes.txt exists and holds no OpenAPI document; choose another "
        "file, or remove it first\n"
    )
    assert (shop / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in shop.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-H", "X-A: b\r\nX-B: c"], "header 'X-A' holds a line break"),
        (['{"a": NaN}'], "not valid JSON (NaN is not JSON)"),
        (["[" * 100000 + "]" * 100000], "nested too deeply"),
    ],
)
def test_call_refuses_what_it_could_not_send(shop, args, message):
    result = cws("call", "shop_app:shop", "POST", "/items", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_call_refuses_a_token_with_a_line_break(shop):
    result = cws("call", "shop_app:shop", "GET", "/headers", env={"TOKEN": "a\nb"})
    assert result.exit_code == 1
    assert result.output == (
        "Error: the token holds a line break or a NUL character (--token or TOKEN)\n"
    )


def test_call_sends_a_json_null_body_as_such(shop):
    result = cws("call", "shop_app:shop", "POST", "/items", "null")
    assert result.exit_code == 1
    assert "expected a JSON object, got null" in result.output


def test_call_leaves_a_fragment_with_the_client(shop):
    result = cws("call", "shop_app:shop", "GET", "/item/7#details")
    assert json.loads(result.output.partition("\n")[2]) == {"id": 7}


def test_a_target_that_exits_is_an_error_not_a_silent_end(shop):
    (shop / "quits.py").write_text("import sys\nsys.exit(3)\n")
    result = cws("routes", "quits")
    assert result.exit_code == 1
    assert result.output == "Error: importing 'quits' called exit(3)\n"


def test_a_file_hidden_by_a_module_python_has_is_named(shop):
    (shop / "json.py").write_text(SHOP)
    result = cws("routes", "json:shop")
    assert result.exit_code == 1
    assert result.output == (
        "Error: json.py is hidden by the module 'json' Python already has; rename "
        "your file\n"
    )


def test_help_of_a_command_works_beside_a_broken_project_file(shop):
    (shop / "project.cws.yml").write_text("run: [\n")
    result = cws("routes", "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_new_refuses_the_name_of_the_dags_folder(tmp_path):
    result = cws("new", "dags", "--dir", str(tmp_path))
    assert result.exit_code == 1
    assert "names the folder of an export's DAG files" in result.output
    assert list(tmp_path.iterdir()) == []
