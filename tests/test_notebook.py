"""The magics as a notebook user meets them, in a real IPython shell."""

from __future__ import annotations

import os

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import coworks.notebook

HELLO = """
from coworks import TechMicroService, entry

class Hello(TechMicroService):
    @entry
    def get_greeting(self, who: str, punctuation: str = "!"):
        return {"text": f"hello {who}{punctuation}"}
"""


@pytest.fixture
def shell(monkeypatch):
    # A token is set, as in a project's .env: live calls send it.
    monkeypatch.setenv("TOKEN", "t0ken")
    coworks.notebook.services.clear()
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "coworks")
    yield ip
    coworks.notebook.services.clear()


def test_techservice_registers_the_service_and_shows_its_routes(shell, capsys):
    shell.run_cell_magic("techservice", "", HELLO)
    assert capsys.readouterr().out.splitlines() == [
        "hello: 1 entry",
        "  GET  /greeting/<who>  (get_greeting)",
    ]
    assert "hello" in coworks.notebook.services
    assert isinstance(shell.user_ns["Hello"], type)


def test_techservice_says_when_the_service_is_open(shell, capsys, monkeypatch):
    monkeypatch.delenv("TOKEN")
    shell.run_cell_magic("techservice", "", HELLO)
    assert capsys.readouterr().out.splitlines()[-1] == (
        "  open: no TOKEN is set, every request is let in (local work only)"
    )


def test_a_live_call_sends_the_token_of_the_environment(shell):
    shell.run_cell_magic("techservice", "", HELLO)
    assert coworks.notebook.call("hello", "GET", "/greeting/ann").status == 200
    refused = coworks.notebook.call(
        "hello", "GET", "/greeting/ann", headers={"authorization": "Bearer x"}
    )
    assert refused.status == 403


def test_running_the_cell_again_replaces_the_service(shell, capsys):
    shell.run_cell_magic("techservice", "", HELLO)
    first = coworks.notebook.services["hello"]
    shell.run_cell_magic("techservice", "", HELLO.replace("hello {who}", "hi {who}"))
    assert capsys.readouterr().out.splitlines()[2].startswith("replaced hello")
    assert coworks.notebook.services["hello"] is not first
    result = coworks.notebook.call("hello", "GET", "/greeting/ann")
    assert result.json() == {"text": "hi ann!"}


def test_cws_call_goes_through_the_lambda_event_path(shell, monkeypatch):
    shell.run_cell_magic("techservice", "", HELLO)
    seen = []
    service = coworks.notebook.services["hello"]
    original = service.handle_event

    def spy(event, context):
        seen.append(event)
        return original(event, context)

    monkeypatch.setattr(service, "handle_event", spy)
    result = shell.run_line_magic("cws", "call hello GET /greeting/bob?punctuation=?")
    assert result.status == 200
    assert result.json() == {"text": "hello bob?"}
    assert seen[0]["httpMethod"] == "GET"
    assert seen[0]["resource"] == "/{proxy+}"


def test_cws_call_sends_a_json_body(shell):
    shell.run_cell_magic(
        "techservice",
        "",
        HELLO + "\n    @entry\n    def post_echo(self, n: int = 0):\n"
        "        return {'twice': 2 * n}\n",
    )
    result = shell.run_line_magic("cws", 'call hello POST /echo {"n": 21}')
    assert result.json() == {"twice": 42}


def test_the_result_shows_status_and_indented_json(shell):
    shell.run_cell_magic("techservice", "", HELLO)
    result = coworks.notebook.call("hello", "GET", "/greeting/cy")
    assert result.describe() == '200 OK\n{\n  "text": "hello cy!"\n}'


def test_an_unknown_service_is_a_usage_error_listing_the_known_ones(shell):
    shell.run_cell_magic("techservice", "", HELLO)
    with pytest.raises(UsageError, match="no service 'nope'; defined services: hello"):
        shell.run_line_magic("cws", "call nope GET /")


def test_a_body_that_is_not_json_is_a_usage_error(shell):
    shell.run_cell_magic("techservice", "", HELLO)
    with pytest.raises(UsageError, match="not valid JSON"):
        shell.run_line_magic("cws", "call hello POST /greeting/x {oops")


def test_a_cell_without_service_is_a_usage_error(shell):
    with pytest.raises(UsageError, match="must define a subclass of TechMicroService"):
        shell.run_cell_magic("techservice", "", "x = 1\n")


def test_a_cell_with_two_services_is_a_usage_error(shell):
    cell = HELLO + "\nclass Other(TechMicroService):\n    pass\n"
    with pytest.raises(UsageError, match="defines Hello, Other"):
        shell.run_cell_magic("techservice", "", cell)


def test_an_error_in_the_cell_raises_it(shell):
    with pytest.raises(ZeroDivisionError):
        shell.run_cell_magic("techservice", "", "1 / 0\n")


def test_unknown_cws_command_shows_usage(shell):
    with pytest.raises(UsageError, match="%cws call SERVICE METHOD PATH"):
        shell.run_line_magic("cws", "dance")


def test_an_error_in_the_cell_is_reported_at_the_cells_own_line(shell):
    cell = "x = 1\n\nraise ValueError('third body line')\n"
    with pytest.raises(ValueError) as caught:
        shell.run_cell_magic("techservice", "", cell)
    # The magic's line is line 1, so the body's third line is the cell's fourth.
    assert caught.traceback[-1].lineno + 1 == 4


def test_a_bad_entry_is_a_usage_error_not_a_traceback(shell):
    cell = HELLO + "\n    @entry\n    def get_x(self, *args):\n        return 1\n"
    with pytest.raises(UsageError, match="must be passable by keyword"):
        shell.run_cell_magic("techservice", "", cell)


def test_a_base_and_its_service_in_one_cell_register_the_service(shell, capsys):
    cell = HELLO + "\nclass Loud(Hello):\n    name = 'loud'\n"
    shell.run_cell_magic("techservice", "", cell)
    assert capsys.readouterr().out.startswith("loud: 1 entry")


def test_cws_call_decodes_the_path_as_a_url_does(shell):
    shell.run_cell_magic("techservice", "", HELLO)
    result = shell.run_line_magic("cws", "call\thello GET /greeting/caf%C3%A9%20x")
    assert result.json() == {"text": "hello café x!"}


def test_cws_without_command_shows_usage(shell):
    with pytest.raises(UsageError, match="%cws call SERVICE"):
        shell.run_line_magic("cws", "")


def test_an_empty_query_list_sends_no_key(shell):
    shell.run_cell_magic("techservice", "", HELLO)
    result = coworks.notebook.call(
        "hello", "GET", "/greeting/x", query={"punctuation": []}
    )
    assert result.json() == {"text": "hello x!"}


def test_a_binary_answer_is_described_by_size_and_type():
    from werkzeug.datastructures import Headers

    from coworks.invoke import Result

    result = Result(200, Headers({"Content-Type": "image/png"}), b"\x89PNG\x00")
    assert result.describe() == "200 OK\n<5 bytes of image/png>"


@pytest.mark.parametrize(
    ("method", "message"),
    [
        (
            "    @staticmethod\n    @entry\n    def get_x(code):\n        pass\n",
            "plain",
        ),
        ("    @entry\n    def get_x():\n        pass\n", "must take self"),
        (
            '    @entry\n    def get_x(self, a: "Missing" = 1):\n        pass\n',
            "resolve",
        ),
    ],
)
def test_definition_mistakes_are_usage_errors(shell, method, message):
    with pytest.raises(UsageError, match=message):
        shell.run_cell_magic("techservice", "", HELLO + "\n" + method)


def test_a_class_defined_twice_in_a_cell_is_the_last_definition(shell, capsys):
    shell.run_cell_magic("techservice", "", HELLO + HELLO.replace("hello {", "hey {"))
    assert coworks.notebook.call("hello", "GET", "/greeting/x").json() == {
        "text": "hey x!"
    }


def test_cells_run_with_the_annotations_semantics_the_lambda_will_have(shell):
    # CoWorks' own modules postpone annotations; a cell must not inherit that.
    shell.run_cell_magic("techservice", "", HELLO)
    hints = shell.user_ns["Hello"].get_greeting.__annotations__
    assert hints["who"] is str


def test_load_ext_reads_the_env_file_of_the_notebooks_folder(
    tmp_path, monkeypatch, capsys
):
    from coworks.notebook.magics import register

    (tmp_path / ".env").write_text("TOKEN=from-dotenv\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOKEN", "")  # so that the test's end removes it again
    monkeypatch.delenv("TOKEN")
    register(InteractiveShell.instance())
    assert capsys.readouterr().out == "coworks: read .env\n"
    assert os.environ["TOKEN"] == "from-dotenv"


def test_load_ext_keeps_a_token_set_before(tmp_path, monkeypatch, capsys):
    from coworks.notebook.magics import register

    (tmp_path / ".env").write_text("TOKEN=from-dotenv\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOKEN", "from-shell")
    register(InteractiveShell.instance())
    assert os.environ["TOKEN"] == "from-shell"
