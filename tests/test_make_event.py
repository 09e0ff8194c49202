"""make_event: the Lambda event each AWS front sends for a request.

The shape of each built event is checked against a real captured event of its kind
(tests/events, see SOURCES.md); the values against what the AWS documentation of
each payload format says the front does to a request. A built REST event, the kind
services read today, is answered as the real ones are.
"""

from __future__ import annotations

import base64
import json

import pytest
from flask import request
from helpers import load_event

from coworks import TechMicroService
from coworks import entry
from coworks.testing import KINDS
from coworks.testing import make_event


@pytest.fixture(autouse=True)
def open_services(monkeypatch):
    """No bearer token is asked for: the service is open."""
    monkeypatch.delenv("TOKEN", raising=False)


# -- the shape of an event ----------------------------------------------------------

#: Maps and lists whose keys are the request's own data (header names, query keys),
#: not the event's structure: only their presence is compared.
DATA = {
    "cookies",
    "headers",
    "multiValueHeaders",
    "multiValueQueryStringParameters",
    "pathParameters",
    "queryStringParameters",
    "stageVariables",
}


def key_paths(event: dict, ignore: set[str] = frozenset(), prefix: str = "") -> set:
    """Every key of an event as a dotted path, without looking into data maps."""
    paths = set()
    for key, value in event.items():
        path = prefix + key
        if path in ignore:
            continue
        paths.add(path)
        if isinstance(value, dict) and key not in DATA:
            paths |= key_paths(value, ignore, path + ".")
    return paths


def test_a_rest_event_has_the_keys_of_the_documented_rest_event():
    # The AWS documentation's own example of a REST proxy event, as powertools
    # keeps it; "version" marks the HTTP API's 1.0 payload, which a REST API does
    # not send, and an authorizer and mutual TLS add keys only when set up.
    real = load_event("powertools-lambda-python/apiGatewayProxyEvent.json")
    built = make_event(
        "rest",
        "GET",
        "/my/path",
        query={"parameter1": ["value1", "value2"], "parameter2": "value"},
        headers=[("Header1", "value1"), ("Header2", "value1"), ("Header2", "value2")],
        body="Hello from Lambda!",
    )
    ignore = {
        "version",
        "requestContext.authorizer",
        "requestContext.identity.clientCert",
    }
    assert key_paths(built) == key_paths(real, ignore)


def test_a_rest_event_has_every_key_of_a_sam_generated_one():
    real = load_event("aws-sam-cli/AwsProxy.json")
    built = make_event("rest", "POST", "/path/to/resource", query={"foo": "bar"})
    assert key_paths(real) <= key_paths(built)


def test_an_http_api_event_has_the_keys_of_a_real_one():
    # A JWT authorizer, mutual TLS, path parameters of a route and stage variables
    # each add their keys only when the API has them.
    real = load_event("powertools-lambda-python/apiGatewayProxyV2Event.json")
    built = make_event(
        "http",
        "POST",
        "/my/path",
        query={"parameter1": ["value1", "value2"], "parameter2": "value"},
        cookies={"cookie1": "a", "cookie2": "b"},
        json={"message": "hello world", "username": "tom"},
    )
    ignore = {
        "requestContext.authentication",
        "requestContext.authorizer",
        "pathParameters",
        "stageVariables",
    }
    assert key_paths(built) == key_paths(real, ignore)


def test_an_http_api_event_without_body_query_or_cookies_has_no_key_for_them():
    real = load_event("aws-lambda-rust-runtime/apigw_v2_proxy_request_minimal.json")
    assert key_paths(make_event("http")) == key_paths(real)


def test_a_function_url_event_has_the_keys_of_a_real_one():
    real = load_event("powertools-lambda-python/lambdaFunctionUrlEvent.json")
    assert key_paths(make_event("url")) == key_paths(real)


def test_an_alb_event_has_the_keys_of_a_real_one():
    real = load_event("aws-sam-cli/ALBRequest.json")
    built = make_event(
        "alb",
        "POST",
        "/path/to/resource",
        query={"query": "1234ABCD"},
        body=b'{"test":"body"}',
        base64=True,
    )
    assert key_paths(built) == key_paths(real)
    assert built["body"] == real["body"]
    assert built["isBase64Encoded"] is True


def test_a_multi_value_alb_event_has_the_keys_of_a_real_one():
    real = load_event("powertools-lambda-python/albMultiValueQueryStringEvent.json")
    built = make_event(
        "alb-multi",
        "GET",
        "/todos",
        query={"parameter1": ["value1", "value2"], "parameter2": "value"},
        headers=[("Header2", "value1"), ("Header2", "value2")],
    )
    assert key_paths(built) == key_paths(real)
    assert (
        built["multiValueQueryStringParameters"]
        == (real["multiValueQueryStringParameters"])
    )
    assert built["multiValueHeaders"]["header2"] == real["multiValueHeaders"]["header2"]
    assert built["body"] == real["body"] == ""


# -- what each front does to a request ----------------------------------------------


def test_rest_gives_headers_and_query_in_single_and_multi_value_maps():
    event = make_event(
        "rest",
        "get",
        "/my/path",
        query={"parameter1": ["value1", "value2"], "parameter2": "value"},
        headers=[("Header1", "value1"), ("Header2", "value1"), ("Header2", "value2")],
    )
    assert event["httpMethod"] == "GET"
    assert event["path"] == "/my/path"
    assert event["multiValueQueryStringParameters"] == {
        "parameter1": ["value1", "value2"],
        "parameter2": ["value"],
    }
    assert event["queryStringParameters"]["parameter2"] == "value"
    assert event["multiValueHeaders"]["Header2"] == ["value1", "value2"]
    assert event["headers"]["Header1"] == "value1"


def test_rest_puts_the_stage_in_the_context_path_only():
    # As in the SAM event: path /path/to/resource, context path /prod/path/to/resource.
    event = make_event("rest", "POST", "/path/to/resource", stage="prod")
    assert event["path"] == "/path/to/resource"
    assert event["requestContext"]["stage"] == "prod"
    assert event["requestContext"]["path"] == "/prod/path/to/resource"


def test_http_api_joins_repeated_headers_and_query_values_with_commas():
    # The documentation's example request, header names in lower case.
    event = make_event(
        "http",
        "POST",
        "/my/path?parameter1=value1&parameter1=value2",
        query={"parameter2": "value"},
        headers=[("Header1", "value1"), ("Header2", "value1"), ("Header2", "value2")],
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/my/path"
    assert event["rawQueryString"] == (
        "parameter1=value1&parameter1=value2&parameter2=value"
    )
    assert event["queryStringParameters"] == {
        "parameter1": "value1,value2",
        "parameter2": "value",
    }
    assert event["headers"]["header1"] == "value1"
    assert event["headers"]["header2"] == "value1,value2"
    assert "multiValueHeaders" not in event
    http = event["requestContext"]["http"]
    assert (http["method"], http["path"], http["protocol"]) == (
        "POST",
        "/my/path",
        "HTTP/1.1",
    )
    assert event["requestContext"]["stage"] == "$default"


def test_http_api_moves_cookies_to_their_own_list():
    event = make_event(
        "http", cookies={"cookie1": "a"}, headers={"Cookie": "cookie2=b; cookie3=c"}
    )
    assert event["cookies"] == ["cookie1=a", "cookie2=b", "cookie3=c"]
    # As in every captured 2.0 event: cookies are not repeated among the headers.
    assert "cookie" not in event["headers"]


def test_http_api_gives_the_path_decoded():
    real = load_event("aws-lambda-rust-runtime/apigw_request_path_with_space.json")
    event = make_event("http", "POST", "/my/path-with%20space")
    assert event["rawPath"] == real["rawPath"] == "/my/path-with space"
    assert (
        event["requestContext"]["http"]["path"]
        == real["requestContext"]["http"]["path"]
    )


def test_http_api_puts_a_named_stage_in_front_of_the_path():
    real = load_event(
        "aws-lambda-rust-runtime/apigw_v2_proxy_request_with_stage_in_path.json"
    )
    event = make_event("http", "POST", "/my/path", stage="Prod")
    assert event["rawPath"] == real["rawPath"] == "/Prod/my/path"
    assert event["requestContext"]["http"]["path"] == "/Prod/my/path"
    assert event["requestContext"]["stage"] == real["requestContext"]["stage"]


def test_a_function_url_event_comes_from_the_functions_own_domain():
    event = make_event("url", "GET", "/my/path", query={"parameter1": "value1"})
    context = event["requestContext"]
    domain = context["domainName"]
    url_id, region = domain.removesuffix(".on.aws").split(".lambda-url.")
    assert context["domainPrefix"] == context["apiId"] == url_id
    assert region == "us-east-1"
    assert event["headers"]["host"] == domain
    assert event["rawPath"] == context["http"]["path"] == "/my/path"
    assert event["rawQueryString"] == "parameter1=value1"
    assert (event["routeKey"], context["stage"]) == ("$default", "$default")


def test_alb_passes_query_values_still_percent_encoded():
    real = load_event(
        "aws-lambda-rust-runtime/alb_multi_value_request_encoded_query_parameters.json"
    )
    event = make_event(
        "alb-multi", query={"myKey": ["?showAll=true", "?showAll=false"]}
    )
    assert (
        event["multiValueQueryStringParameters"]
        == (real["multiValueQueryStringParameters"])
    )


def test_alb_without_multi_value_headers_keeps_the_last_value_sent():
    event = make_event(
        "alb",
        "GET",
        "/todos?name=first&name=second",
        headers=[("X-Tag", "a"), ("X-Tag", "b")],
    )
    assert event["queryStringParameters"] == {"name": "second"}
    assert event["headers"]["x-tag"] == "b"
    assert "multiValueHeaders" not in event


@pytest.mark.parametrize(
    ("kind", "field", "expected"),
    [
        # API Gateway REST, an ALB and a function URL pass the path as the client
        # sent it, %-escaped; the HTTP API decodes it.
        ("rest", "path", "/caf%C3%A9/a%20b"),
        ("alb", "path", "/caf%C3%A9/a%20b"),
        ("url", "rawPath", "/caf%C3%A9/a%20b"),
        ("http", "rawPath", "/café/a b"),
    ],
)
def test_each_front_gives_the_path_as_it_does(kind, field, expected):
    assert make_event(kind, "GET", "/café/a%20b")[field] == expected


@pytest.mark.parametrize("kind", KINDS)
def test_json_sets_the_body_and_its_content_type(kind):
    event = make_event(kind, "POST", "/orders", json={"item": "pen"})
    assert json.loads(event["body"]) == {"item": "pen"}
    assert event["isBase64Encoded"] is False
    headers = event.get("headers") or {
        key: values[-1] for key, values in event["multiValueHeaders"].items()
    }
    assert {k.lower(): v for k, v in headers.items()}["content-type"] == (
        "application/json"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_a_binary_body_travels_base64_encoded(kind):
    data = bytes(range(128, 256))
    event = make_event(kind, "POST", "/upload", body=data)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == data


@pytest.mark.parametrize("kind", KINDS)
def test_a_text_body_stays_text(kind):
    event = make_event(kind, "POST", "/notes", body="Montréal")
    assert (event["body"], event["isBase64Encoded"]) == ("Montréal", False)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"kind": "websocket"}, "unknown event kind"),
        ({"kind": "rest", "path": "orders"}, "starts with '/'"),
        ({"kind": "url", "stage": "dev"}, "has no stage"),
        ({"kind": "alb", "stage": "dev"}, "has no stage"),
        ({"kind": "rest", "body": "x", "json": {}}, "not both"),
        ({"kind": "rest", "body": b"\xff", "base64": False}, "base64"),
    ],
)
def test_make_event_refuses_what_no_front_would_send(arguments, message):
    with pytest.raises(ValueError, match=message):
        make_event(**arguments)


# -- a REST event answered by a service ---------------------------------------------


class Shop(TechMicroService):
    @entry
    def get_order(self, order_id: int, detail: bool = False):
        return {"id": order_id, "detail": detail}

    @entry
    def post_orders(self, item: str = "", qty: int = 1):
        return {"item": item, "qty": qty}

    @entry
    def get_caller(self):
        return {
            "authorization": request.headers.get("Authorization"),
            "cookies": request.cookies,
            "tag": request.headers.get("X-Tag"),
        }


def shop() -> Shop:
    """A Shop with a raw Flask route besides its entries, for bodies of any type."""
    service = Shop()

    @service.route("/upload", methods=["POST"])
    def upload():
        return {"size": len(request.get_data()), "type": request.content_type}

    return service


def answer(event: dict) -> tuple[int, dict]:
    response = shop()(event, None)
    return response["statusCode"], json.loads(response["body"])


def test_a_built_rest_event_reaches_the_entry_with_its_path_and_query():
    event = make_event("rest", "GET", "/order/42", query={"detail": "true"})
    assert answer(event) == (200, {"id": 42, "detail": True})


def test_a_built_rest_event_carries_its_json_body_to_the_entry():
    event = make_event("rest", "POST", "/orders", json={"item": "pen", "qty": 3})
    assert answer(event) == (200, {"item": "pen", "qty": 3})


def test_a_built_rest_event_carries_headers_and_cookies_to_the_entry():
    event = make_event(
        "rest", "GET", "/caller", headers={"X-Tag": "t1"}, cookies={"a": "1"}
    )
    status, seen = answer(event)
    assert status == 200
    assert seen["tag"] == "t1"
    assert seen["cookies"] == {"a": "1"}


def test_a_built_rest_event_carries_a_binary_body_whole():
    event = make_event(
        "rest",
        "POST",
        "/upload",
        body=bytes(range(256)),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert answer(event) == (200, {"size": 256, "type": "application/octet-stream"})
