"""The testing kit's client and pytest plugin: LambdaClient goes through the Lambda
path, and the fixtures cws_client and cws_event serve a test's own service.

make_event has its own tests, in test_make_event.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest
from flask import request
from helpers import ROOT
from werkzeug.datastructures import FileStorage

from coworks import TechMicroService
from coworks import entry
from coworks.testing import LambdaClient

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def open_services(monkeypatch):
    """No bearer token is asked for unless a test sets TOKEN itself."""
    monkeypatch.delenv("TOKEN", raising=False)


class Shop(TechMicroService):
    @entry
    def get_order(self, order_id: int, detail: bool = False):
        return {"id": order_id, "detail": detail}

    @entry
    def post_orders(self, item: str = "", qty: int = 1):
        return {"item": item, "qty": qty}

    @entry
    def get_caller(self):
        return {"authorization": request.headers.get("Authorization")}


# -- LambdaClient -------------------------------------------------------------------


def test_the_client_answers_with_a_result():
    result = LambdaClient(Shop()).get("/order/7", query={"detail": True})
    assert result.status == 200
    assert result.headers["Content-Type"] == "application/json"
    assert result.json() == {"id": 7, "detail": True}


def test_the_client_posts_json():
    result = LambdaClient(Shop()).post("/orders", json={"item": "ink"})
    assert (result.status, result.json()) == (200, {"item": "ink", "qty": 1})


def test_the_client_sends_its_token_as_a_bearer():
    seen = LambdaClient(Shop(), token="s3cret").get("/caller").json()
    assert seen["authorization"] == "Bearer s3cret"


def test_an_authorization_header_given_to_a_call_wins_over_the_token():
    client = LambdaClient(Shop(), token="s3cret")
    seen = client.get("/caller", headers={"authorization": "Basic dTpw"}).json()
    assert seen["authorization"] == "Basic dTpw"


def test_without_a_token_the_client_sends_no_authorization():
    assert LambdaClient(Shop()).get("/caller").json()["authorization"] is None


def verbs_service() -> TechMicroService:
    service = TechMicroService("verbs")

    @service.route("/any", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def any_method():
        return {"method": request.method}

    return service


@pytest.mark.parametrize("verb", ["get", "post", "put", "patch", "delete"])
def test_each_verb_method_sends_its_verb(verb):
    result = getattr(LambdaClient(verbs_service()), verb)("/any")
    assert result.json() == {"method": verb.upper()}


class Uploads(TechMicroService):
    @entry
    def post_note(self, title: str = "", tags: list[str] | None = None):
        return {"title": title, "tags": tags}

    @entry
    def post_upload(self, file: FileStorage, caption: str = ""):
        return {
            "name": file.filename,
            "type": file.mimetype,
            "content": file.read().decode(),
            "caption": caption,
        }


def test_the_client_sends_a_form():
    answer = LambdaClient(Uploads()).post(
        "/note", form={"title": "tea", "tags": ["a", "b"]}
    )
    assert answer.json() == {"title": "tea", "tags": ["a", "b"]}


def test_the_client_uploads_files_beside_form_fields():
    answer = LambdaClient(Uploads()).post(
        "/upload",
        form={"caption": "hello"},
        files={"file": ("note.txt", b"some words", "text/plain")},
    )
    assert answer.json() == {
        "name": "note.txt",
        "type": "text/plain",
        "content": "some words",
        "caption": "hello",
    }


def test_head_answers_the_get_headers_without_a_body():
    result = LambdaClient(verbs_service()).head("/any")
    assert result.status == 200
    assert result.headers["Content-Type"] == "application/json"
    assert result.body == b""


def test_options_lists_the_allowed_methods():
    result = LambdaClient(verbs_service()).options("/any")
    assert result.status == 200
    allowed = {m.strip() for m in result.headers["Allow"].split(",")}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= allowed


# -- the pytest plugin --------------------------------------------------------------


SHOP_TESTS = """
import pytest
from flask import request

from coworks import TechMicroService, entry


class Orders(TechMicroService):
    @entry
    def get_order(self, order_id: int):
        return {"id": order_id}

    @entry
    def get_caller(self):
        return {"authorization": request.headers.get("Authorization")}


@pytest.fixture
def service():
    return Orders()
"""


def test_cws_client_calls_the_service_fixture_through_lambda(pytester):
    pytester.makepyfile(
        SHOP_TESTS
        + """
def test_order(cws_client):
    result = cws_client.get("/order/42")
    assert (result.status, result.json()) == (200, {"id": 42})
    assert result.headers["Content-Type"] == "application/json"
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_cws_client_sends_the_token_environment_variable(pytester, monkeypatch):
    monkeypatch.setenv("TOKEN", "s3cret")
    pytester.makepyfile(
        SHOP_TESTS
        + """
def test_caller(cws_client):
    seen = cws_client.get("/caller").json()
    assert seen == {"authorization": "Bearer s3cret"}
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_cws_client_sends_no_token_when_the_variable_is_unset(pytester):
    pytester.makepyfile(
        SHOP_TESTS
        + """
def test_caller(cws_client):
    assert cws_client.get("/caller").json() == {"authorization": None}
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_cws_client_without_a_service_fixture_says_how_to_define_one(pytester):
    pytester.makepyfile(
        """
def test_orphan(cws_client):
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*a fixture named `service`*", "*@pytest.fixture*", "*def service():*"]
    )


def test_cws_client_refuses_a_service_fixture_that_gives_a_class(pytester):
    pytester.makepyfile(
        """
import pytest
from coworks import TechMicroService


@pytest.fixture
def service():
    return TechMicroService


def test_class(cws_client):
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*needs the `service` fixture to give a*"])


def test_cws_event_is_make_event(pytester):
    pytester.makepyfile(
        """
from coworks.testing import make_event


def test_event(cws_event):
    assert cws_event is make_event
    event = cws_event("http", "POST", "/orders", json={"item": "pen"})
    assert event["requestContext"]["http"]["method"] == "POST"
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_the_plugin_is_declared_as_a_pytest11_entry_point():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    plugins = project["project"]["entry-points"]["pytest11"]
    assert plugins == {"coworks": "coworks.testing"}


def test_pytest_loads_the_plugin_by_its_entry_point(pytester):
    pytester.makepyfile(
        """
def test_event(cws_event):
    assert cws_event("rest")["httpMethod"] == "GET"
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def run_python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_kit_imports_neither_airflow_nor_jupyter_nor_boto3():
    heavy = {"airflow", "IPython", "ipykernel", "jupyter_client", "nbformat", "boto3"}
    loaded = run_python(
        "import sys, coworks.testing\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy!r}))"
    )
    assert loaded == "[]"


def test_make_event_and_the_client_work_without_pytest():
    printed = run_python(
        "import sys\n"
        "sys.modules['pytest'] = None  # as if pytest were not installed\n"
        "from coworks.testing import LambdaClient, make_event\n"
        "import coworks.testing as kit\n"
        "print(make_event('rest')['httpMethod'], hasattr(kit, 'cws_client'))"
    )
    assert printed == "GET False"


def test_the_client_refuses_calls_no_client_could_make():
    client = LambdaClient(Uploads())
    with pytest.raises(ValueError, match="must start with /"):
        client.get("note")
    with pytest.raises(ValueError, match="one of them"):
        client.post("/note", json={}, body=b"x")


def test_an_empty_token_sends_no_authorization():
    class Echo(TechMicroService):
        @entry
        def get(self):
            return {"authorization": request.headers.get("Authorization")}

    assert LambdaClient(Echo(), token="").get("/").json() == {"authorization": None}
