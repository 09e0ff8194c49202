"""A TechMicroService is a Flask app whose entries bind and answer as documented."""

from __future__ import annotations

import dataclasses
import json
import typing as t

import pytest
from flask import Response

from coworks import TechMicroService
from coworks import entry
from coworks.routing import RoutingError


@dataclasses.dataclass
class Order:
    id: int
    qty: int


class Shop(TechMicroService):
    @entry
    def get(self):
        return {"service": "shop"}

    @entry
    def get_orders(self, limit: int = 10, tags: list[str] | None = None):
        return {"limit": limit, "tags": tags}

    @entry
    def post_orders(self, name: str = "", qty: int = 1, price: float = 0.0):
        return {"name": name, "qty": qty, "price": price}

    @entry
    def get_order(self, order_id: int):
        return Order(order_id, 3)

    @entry
    def delete_order(self, order_id: int):
        return None

    @entry
    def get_flag(self, on: bool):
        return {"on": on}

    @entry
    def get_note(self):
        return "plain words"

    @entry
    def get_search(self, q: str = "", **extra):
        return {"q": q, "extra": extra}

    @entry
    def get_boom(self):
        raise RuntimeError("secret detail")

    def helper(self):
        return "not an entry"


@pytest.fixture
def client():
    return Shop().test_client()


def test_name_defaults_to_the_class_name_in_lower_case():
    assert Shop().name == "shop"
    assert Shop(name="store").name == "store"


def test_routes_are_listed_from_the_entries():
    routes = {(r.method, r.rule) for r in Shop().routes}
    assert ("GET", "/") in routes
    assert ("GET", "/order/<order_id>") in routes
    assert ("DELETE", "/order/<order_id>") in routes
    assert ("POST", "/orders") in routes
    assert all(r.endpoint != "helper" for r in Shop().routes)


def test_get_root_returns_json(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.json == {"service": "shop"}


def test_query_parameters_are_converted_and_repeated_keys_are_lists(client):
    response = client.get("/orders?limit=3&tags=a&tags=b")
    assert response.json == {"limit": 3, "tags": ["a", "b"]}


def test_defaults_apply_when_the_query_is_empty(client):
    assert client.get("/orders").json == {"limit": 10, "tags": None}


def test_path_parameter_converted_by_its_annotation(client):
    assert client.get("/order/42").json == {"id": 42, "qty": 3}


def test_bool_path_parameter(client):
    assert client.get("/flag/true").json == {"on": True}
    assert client.get("/flag/0").json == {"on": False}


def test_json_body_binds_the_parameters_with_defaults(client):
    response = client.post("/orders", json={"name": "tea", "qty": 2, "price": 3})
    assert response.json == {"name": "tea", "qty": 2, "price": 3.0}


def test_none_is_204_with_empty_body(client):
    response = client.delete("/order/1")
    assert response.status_code == 204
    assert response.data == b""


def test_text_is_text_plain(client):
    response = client.get("/note")
    assert response.mimetype == "text/plain"
    assert response.text == "plain words"


def test_a_value_that_does_not_convert_is_422_naming_the_parameter(client):
    response = client.get("/order/abc")
    assert response.status_code == 422
    assert response.json["parameter"] == "order_id"
    assert "integer" in response.json["message"]


def test_a_json_value_of_the_wrong_type_is_422(client):
    response = client.post("/orders", json={"qty": "two"})
    assert response.status_code == 422
    assert response.json["parameter"] == "qty"


def test_an_unknown_key_is_422_unless_the_entry_takes_kwargs(client):
    refused = client.get("/orders?colour=red")
    assert refused.status_code == 422
    assert refused.json["parameter"] == "colour"
    accepted = client.get("/search?q=x&colour=red")
    assert accepted.json == {"q": "x", "extra": {"colour": "red"}}


def test_a_body_that_is_not_a_json_object_is_422(client):
    response = client.post("/orders", data="[1, 2]", content_type="application/json")
    assert response.status_code == 422
    assert response.json["parameter"] == "body"


def test_wrong_method_is_405_with_allow(client):
    response = client.put("/orders")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert response.json["error"] == "Method Not Allowed"


def test_unknown_path_is_a_json_404(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.json["error"] == "Not Found"


def test_an_uncaught_exception_is_500_with_a_request_id_and_no_detail(client, caplog):
    response = client.get("/boom")
    assert response.status_code == 500
    assert set(response.json) == {"error", "request_id"}
    assert "secret detail" not in response.text
    assert "secret detail" in caplog.text
    assert response.json["request_id"] in caplog.text


def test_two_entries_on_the_same_route_are_refused():
    class Twice(TechMicroService):
        @entry
        def get_(self):
            return 1

        @entry
        def get__(self):
            return 2

    with pytest.raises(RoutingError, match="both serve GET /"):
        Twice()


def test_an_entry_name_without_verb_is_a_post_on_the_whole_name():
    class Calc(TechMicroService):
        @entry
        def compute_total(self, a: int = 0, b: int = 0):
            return {"total": a + b}

    client = Calc().test_client()
    assert client.post("/compute/total", json={"a": 2, "b": 3}).json == {"total": 5}
    assert client.get("/compute/total").status_code == 405


class Strict(TechMicroService):
    name = "strict-service"

    @entry
    def post_tags(self, tags: list[int] | None = None):
        return {"tags": tags}

    @entry
    def get_item(self, item_id: int, **extra):
        return {"item_id": item_id, "extra": extra}

    @entry
    def get_ratio(self, f: float = 1.0, n: int = 0):
        return {"f": f, "n": n}

    @entry
    def get_set(self):
        return {1, 2}


@pytest.fixture
def strict():
    return Strict().test_client()


def test_a_class_attribute_names_the_service():
    assert Strict().name == "strict-service"


def test_a_name_that_cannot_be_a_path_segment_is_refused():
    with pytest.raises(RoutingError, match="letters, digits"):
        Shop(name="../x")


def test_json_list_items_are_checked_against_the_item_type(strict):
    assert strict.post("/tags", json={"tags": [1, 2]}).json == {"tags": [1, 2]}
    response = strict.post("/tags", json={"tags": [1, "x"]})
    assert response.status_code == 422
    assert response.json["parameter"] == "tags[1]"
    assert response.json["message"] == "expected an integer, got a string"


def test_extra_keys_cannot_replace_path_parameters_or_self(strict):
    assert strict.get("/item/5?colour=red").json == {
        "item_id": 5,
        "extra": {"colour": "red"},
    }
    for key in ("item_id", "self"):
        response = strict.get(f"/item/5?{key}=evil")
        assert response.status_code == 422
        assert response.json["parameter"] == key


@pytest.mark.parametrize(
    "query", ["f=nan", "f=inf", "f=1e400", "n=1_000", "n=%D9%A4%D9%A2", "n=1.5"]
)
def test_numbers_are_plain_finite_decimal_numbers(strict, query):
    response = strict.get(f"/ratio?{query}")
    assert response.status_code == 422
    assert response.json["parameter"] == query.split("=")[0]


def test_plain_numbers_convert(strict):
    assert strict.get("/ratio?f=-2.5e1&n=%2B7").json == {"f": -25.0, "n": 7}


def test_a_body_that_is_not_json_says_so(strict):
    response = strict.post("/tags", data="{oops", content_type="application/json")
    assert response.status_code == 422
    assert response.json["message"] == "not valid JSON"


def test_a_204_has_no_content_type(client):
    assert "Content-Type" not in client.delete("/order/1").headers


def test_a_return_value_flask_cannot_send_is_a_500_with_request_id(strict):
    response = strict.get("/set")
    assert response.status_code == 500
    assert set(response.json) == {"error", "request_id"}


def test_no_static_route_unless_asked_for(client):
    assert client.get("/static/anything.txt").status_code == 404


def test_entries_are_inherited_and_can_be_overridden():
    class Child(Shop):
        @entry
        def get(self):
            return {"service": "child"}

    client = Child().test_client()
    assert client.get("/").json == {"service": "child"}
    assert client.get("/order/3").json == {"id": 3, "qty": 3}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("async def get_x(self): pass", "is async"),
        ("def get_x(self, a, /): pass", "passable by keyword"),
        ("def get_x(self, *a): pass", "passable by keyword"),
        ("def get_x(self, d: tuple = ()): pass", "JSON has no value of type tuple"),
        ("def get_x(self, d: set[int]): pass", "cannot be read from a request"),
        ("def get_x(self, d: dict[str, bytes]): pass", "of type bytes"),
    ],
)
def test_signatures_that_cannot_be_bound_are_refused(source, message):
    namespace: dict = {}
    exec(source, namespace)
    cls = type("Bad", (TechMicroService,), {"get_x": entry(namespace["get_x"])})
    with pytest.raises(TypeError, match=message):
        cls()


def test_static_and_class_method_entries_are_refused():
    class Bad(TechMicroService):
        @staticmethod
        @entry
        def get_x(code):
            return code

    with pytest.raises(TypeError, match="plain method, not a staticmethod"):
        Bad()


class Unions(TechMicroService):
    @entry
    def post_u(self, a: int | str = 0, b: list[int | str] | None = None, c: int = None):
        return {"a": a, "b": b, "c": c}

    @entry
    def get_big(self, n: int):
        return {"digits": len(str(n))}


def test_union_annotations_accept_any_member_and_name_them_all():
    client = Unions().test_client()
    assert client.post("/u", json={"a": 1, "b": [1, "x"]}).json["b"] == [1, "x"]
    assert client.post("/u", json={"a": "x"}).json["a"] == "x"
    refused = client.post("/u", json={"a": [1]})
    assert refused.status_code == 422
    assert refused.json["message"] == "expected an integer or a string, got a list"


def test_a_none_default_accepts_null():
    assert Unions().test_client().post("/u", json={"c": None}).json["c"] is None


def test_an_integer_too_long_to_read_is_422_not_500():
    client = Unions().test_client()
    assert client.get("/big/" + "9" * 4300).json == {"digits": 4300}
    response = client.get("/big/" + "9" * 4301)
    assert response.status_code == 422
    assert response.json["parameter"] == "n"


class Risky(TechMicroService):
    @entry
    def get_nan(self):
        return {"x": float("nan")}

    @entry
    def get_exit(self):
        raise SystemExit(3)

    @entry
    def get_stream(self):
        def chunks():
            yield "one"
            raise RuntimeError("mid-stream")

        return Response(chunks(), mimetype="text/plain")


def test_nan_is_not_sent_as_json():
    response = Risky().test_client().get("/nan")
    assert response.status_code == 500
    assert "request_id" in response.json


@pytest.mark.parametrize("path", ["/exit", "/stream"])
def test_the_lambda_handler_answers_exits_and_broken_streams(path, caplog):
    from coworks.events import rest_event

    class Context:
        aws_request_id = "req-42"

    response = Risky()(rest_event("GET", path), Context())
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["request_id"] == "req-42"
    assert "req-42" in caplog.text


def test_flask_style_routes_are_listed_with_the_entries():
    shop = Shop()

    @shop.route("/health")
    def health():
        return {"ok": True}

    routes = {(r.method, r.rule, r.endpoint) for r in shop.routes}
    assert ("GET", "/health", "health") in routes
    assert ("GET", "/order/<order_id>", "get_order") in routes


def test_a_cancellation_inside_an_entry_is_answered_not_raised():
    import asyncio

    from coworks.events import rest_event

    class Cancelled(TechMicroService):
        @entry
        def get(self):
            raise asyncio.CancelledError()

    assert Cancelled()(rest_event("GET", "/"), None)["statusCode"] == 500


def test_routes_differing_only_by_parameter_names_are_refused():
    class Same(TechMicroService):
        @entry
        def get_x(self, a):
            return a

        @entry
        def get_x_(self, b):
            return b

    with pytest.raises(RoutingError, match="both serve GET /x/<b>"):
        Same()


@pytest.mark.parametrize(
    "body",
    ['{"f": NaN}', '{"f": Infinity}', '{"f": 1e400}', '{"f": 1' + "0" * 400 + "}"],
)
def test_body_numbers_a_float_cannot_hold_are_422(body):
    class Floats(TechMicroService):
        @entry
        def post_f(self, f: float = 0.0):
            return {"f": f}

    response = (
        Floats().test_client().post("/f", data=body, content_type="application/json")
    )
    assert response.status_code == 422


class Point(t.TypedDict):
    x: int


def test_a_typed_dict_body_value_is_checked_as_an_object():
    class Points(TechMicroService):
        @entry
        def post_p(self, p: Point | None = None):
            return {"p": p}

    client = Points().test_client()
    assert client.post("/p", json={"p": {"x": 1}}).json == {"p": {"x": 1}}
    assert client.post("/p", json={"p": [1]}).status_code == 422
