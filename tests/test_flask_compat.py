"""A TechMicroService is a Flask app: Flask extensions and the ``flask`` command work
on it, through the Lambda path as through WSGI.

Expected CORS headers are those flask-cors documents for its defaults (every
origin allowed, the request's Origin sent back rather than ``*``, every method
allowed in a preflight); expected routes are those the README's naming rules give.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from flask_cors import CORS
from helpers import ROOT

from coworks import TechMicroService
from coworks import entry
from coworks.testing import LambdaClient

ORIGIN = "https://shop.example"


@pytest.fixture(autouse=True)
def open_services(monkeypatch):
    """No bearer token is asked for: the service is open."""
    monkeypatch.delenv("TOKEN", raising=False)


class Shop(TechMicroService):
    @entry
    def get_orders(self):
        return [{"id": 1}]

    @entry
    def post_orders(self, item: str = ""):
        return {"item": item}


def cors_shop() -> Shop:
    shop = Shop()
    CORS(shop)
    return shop


def call(via: str, method: str, path: str, headers: dict) -> tuple[int, dict]:
    """The status and headers of an answer, through Lambda or through WSGI."""
    if via == "lambda":
        result = LambdaClient(cors_shop()).request(method, path, headers=headers)
        return result.status, dict(result.headers)
    response = cors_shop().test_client().open(path, method=method, headers=headers)
    return response.status_code, dict(response.headers)


@pytest.mark.parametrize("via", ["lambda", "wsgi"])
def test_cors_allows_the_origin_of_a_get(via):
    status, headers = call(via, "GET", "/orders", {"Origin": ORIGIN})
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in headers["Vary"]


@pytest.mark.parametrize("via", ["lambda", "wsgi"])
def test_cors_answers_a_preflight(via):
    preflight = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type",
    }
    status, headers = call(via, "OPTIONS", "/orders", preflight)
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    allowed = {m.strip() for m in headers["Access-Control-Allow-Methods"].split(",")}
    assert "POST" in allowed
    assert headers["Access-Control-Allow-Headers"].lower() == "content-type"


@pytest.mark.parametrize("via", ["lambda", "wsgi"])
def test_the_entry_still_answers_with_cors_on(via):
    if via == "lambda":
        result = LambdaClient(cors_shop()).post("/orders", json={"item": "pen"})
        assert (result.status, result.json()) == (200, {"item": "pen"})
    else:
        response = cors_shop().test_client().post("/orders", json={"item": "pen"})
        assert (response.status_code, response.json) == (200, {"item": "pen"})


SHOP_MODULE = """
from coworks import TechMicroService, entry


class Shop(TechMicroService):
    @entry
    def get_orders(self):
        return []

    @entry
    def post_orders(self, item: str = ""):
        return {"item": item}

    @entry
    def get_order(self, order_id: int):
        return {"id": order_id}

    @entry
    def delete_order(self, order_id: int):
        return None


svc = Shop()
"""


def test_flask_routes_lists_every_entry(tmp_path: Path):
    (tmp_path / "shop.py").write_text(textwrap.dedent(SHOP_MODULE))
    flask = Path(sys.executable).with_name("flask")
    env = {key: value for key, value in os.environ.items() if key != "TOKEN"}
    env.pop("FLASK_APP", None)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
    done = subprocess.run(
        [str(flask), "--app", "shop:svc", "routes"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = {
        tuple(line.split())
        for line in done.stdout.splitlines()
        if line.strip() and not re.fullmatch(r"[-\s]+", line)
    }
    # Each entry has its row; routes the service adds of its own may follow.
    assert {
        ("Endpoint", "Methods", "Rule"),
        ("get_orders", "GET", "/orders"),
        ("post_orders", "POST", "/orders"),
        ("get_order", "GET", "/order/<order_id>"),
        ("delete_order", "DELETE", "/order/<order_id>"),
    } <= rows
