"""Real API Gateway REST events reach a service as the client sent them, and the
service answers in the REST proxy response format. Expected values are read from
the event files themselves (tests/events, see SOURCES.md)."""

from __future__ import annotations

import base64
import json

import pytest
from flask import make_response
from flask import request
from helpers import load_event

from coworks import TechMicroService
from coworks import entry
from coworks.events import EventError
from coworks.events import from_response
from coworks.events import kind_of
from coworks.events import rest_event

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class Echo(TechMicroService):
    """Says back what it received; its raw Flask routes show Flask still works."""

    @entry
    def get_cookies(self):
        response = make_response({"set": 2})
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    @entry
    def get_binary(self):
        return bytes(range(256))

    @entry
    def get_accents(self):
        return {"city": "Montréal"}


def make_echo() -> Echo:
    echo = Echo()

    @echo.route("/", defaults={"path": ""}, methods=ALL_METHODS)
    @echo.route("/<path:path>", methods=ALL_METHODS)
    def anything(path):
        return {
            "method": request.method,
            "path": request.path,
            "query": request.args.to_dict(flat=False),
            "headers": dict(request.headers),
            "body": request.get_data(as_text=True),
            "cookies": request.cookies,
            "remote_addr": request.remote_addr,
            "url": request.url,
        }

    return echo


def echo_of(event: dict) -> dict:
    response = make_echo()(event, None)
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def test_sam_proxy_event_with_base64_body():
    seen = echo_of(load_event("aws-sam-cli/AwsProxy.json"))
    assert seen["method"] == "POST"
    assert seen["path"] == "/path/to/resource"
    assert seen["query"] == {"foo": ["bar"]}
    assert seen["body"] == '{"test":"body"}'
    # multiValueHeaders carry every value and win over the single-value map.
    assert seen["headers"]["Host"] == "0123456789.execute-api.us-east-1.amazonaws.com"
    assert seen["remote_addr"] == "127.0.0.1"
    # On the default execute-api host, a client writes the stage ("prod") first.
    assert seen["url"] == (
        "https://0123456789.execute-api.us-east-1.amazonaws.com"
        "/prod/path/to/resource?foo=bar"
    )


def test_serverless_wsgi_v1_event_with_cookie_header_and_no_body():
    seen = echo_of(load_event("serverless-wsgi/event_v1.json"))
    assert seen["method"] == "GET"
    assert seen["path"] == "/some/path"
    assert seen["query"] == {"param1": ["value1"], "param2": ["value2"]}
    assert seen["cookies"] == {
        "CUSTOMER": "WILE_E_COYOTE",
        "PART_NUMBER": "ROCKET_LAUNCHER_0001",
    }
    assert seen["body"] == ""
    assert seen["remote_addr"] == "76.20.166.147"


def test_go_event_with_text_json_body_and_lower_case_header():
    seen = echo_of(load_event("aws-lambda-go/apigw-request.json"))
    assert seen["method"] == "POST"
    assert seen["path"] == "/hello/world"
    assert seen["query"] == {"name": ["me"]}
    assert seen["body"] == '{\r\n\t"a": 1\r\n}'
    assert seen["headers"]["Content-Type"] == "application/json"
    assert seen["headers"]["Cache-Control"] == "no-cache"
    assert seen["headers"]["Content-Length"] == str(len('{\r\n\t"a": 1\r\n}'))


def test_event_without_host_header():
    seen = echo_of(load_event("aws-lambda-rust-runtime/apigw_no_host.json"))
    assert seen["path"] == "/hello"
    assert seen["query"] == {"name": ["me"]}
    assert seen["remote_addr"] == "192.168.100.1"


def test_console_test_event_without_any_header():
    event = load_event(
        "aws-lambda-rust-runtime/example-apigw-console-test-request.json"
    )
    seen = echo_of(event)
    assert seen["method"] == "POST"
    assert seen["path"] == "/myPath"
    assert seen["body"] == '{\r\n\t"a": 1\r\n}'


def test_versioned_event_with_multi_value_header_and_query():
    seen = echo_of(load_event("powertools-lambda-python/apiGatewayProxyEvent.json"))
    assert seen["path"] == "/my/path"
    assert seen["query"] == {
        "parameter1": ["value1", "value2"],
        "parameter2": ["value"],
    }
    assert seen["headers"]["Header2"] == "value1, value2"
    assert seen["body"] == "Hello from Lambda!"


def test_response_dict_has_the_rest_proxy_format():
    response = make_echo()(rest_event("GET", "/accents"), None)
    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is False
    assert json.loads(response["body"]) == {"city": "Montréal"}
    assert response["headers"]["Content-Type"] == "application/json"
    # Content-Length counts the UTF-8 bytes, the é taking two.
    assert int(response["headers"]["Content-Length"]) == len(
        response["body"].encode("utf-8")
    )


def test_every_cookie_set_comes_back_once_in_multi_value_headers():
    response = make_echo()(rest_event("GET", "/cookies"), None)
    cookies = response["multiValueHeaders"]["Set-Cookie"]
    assert [c.split(";")[0] for c in cookies] == ["a=1", "b=2"]


def test_a_binary_response_is_base64_encoded():
    response = make_echo()(rest_event("GET", "/binary"), None)
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == bytes(range(256))
    assert response["headers"]["Content-Type"] == "application/octet-stream"


def test_a_path_with_space_and_accents_reaches_the_route_as_meant():
    seen = echo_of(rest_event("GET", "/a b/é", query={"q": "x y+z"}))
    assert seen["path"] == "/a b/é"
    assert seen["query"] == {"q": ["x y+z"]}


def test_rest_event_round_trips_a_binary_body():
    body = bytes(range(256))
    event = rest_event("POST", "/upload", body=body)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([1, 2], "JSON object"),
        ({"hello": "world"}, "unsupported event"),
        ({"version": "2.0", "requestContext": {}}, "unsupported event"),
        (
            {"version": "2.0", "rawPath": 7, "requestContext": {"http": {}}},
            "'rawPath'",
        ),
        ({"requestContext": {"elb": {}}, "httpMethod": "GET"}, "'path'"),
        ({"httpMethod": "GET"}, "'path'"),
        ({"httpMethod": "GET", "path": "/", "body": 3}, "'body'"),
        (
            {"httpMethod": "POST", "path": "/", "body": "%%%", "isBase64Encoded": True},
            "base64",
        ),
    ],
)
def test_an_unreadable_event_gets_a_400_json_answer_not_an_exception(
    event, message, caplog
):
    response = make_echo()(event, None)
    assert response["statusCode"] == 400
    assert message in json.loads(response["body"])["message"]
    assert message in caplog.text


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("aws-sam-cli/AwsProxy.json", "rest"),
        ("aws-sam-cli/HttpApi.json", "http"),
        ("aws-lambda-go/lambda-urls-request.json", "url"),
        ("aws-sam-cli/ALBRequest.json", "alb"),
        (
            "aws-lambda-go/alb-lambda-target-request-multivalue-headers.json",
            "alb-multi",
        ),
    ],
)
def test_kind_of_names_each_kind(name, kind):
    assert kind_of(load_event(name)).name == kind


def test_kind_of_refuses_an_unknown_kind():
    with pytest.raises(EventError, match="unsupported event"):
        kind_of({"Records": []})


def test_from_response_reads_back_status_headers_and_body():
    status, headers, body = from_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )
    assert status == 201
    assert headers["Content-Type"] == "text/plain"
    assert headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert body == b"\x00\x01"


def test_a_failure_outside_the_apps_error_handlers_is_a_500_not_an_exception(caplog):
    echo = make_echo()

    def broken_middleware(environ, start_response):
        raise RuntimeError("middleware bug")

    echo.wsgi_app = broken_middleware
    response = echo(rest_event("GET", "/"), None)
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["error"] == "Internal Server Error"
    assert "middleware bug" in caplog.text


def test_a_callable_context_still_gets_the_lambda_path():
    class CallableContext:
        aws_request_id = "r-1"

        def __call__(self, *args):
            raise AssertionError("not start_response")

    response = make_echo()(rest_event("GET", "/x"), CallableContext())
    assert response["statusCode"] == 200


def test_a_header_spelt_with_underscore_cannot_shadow_its_dashed_twin():
    event = rest_event("GET", "/x", headers=[("X-User", "alice"), ("X_User", "eve")])
    assert echo_of(event)["headers"]["X-User"] == "alice"


def test_headers_keep_their_order_when_repeated():
    event = rest_event("GET", "/x", headers=[("X-A", "1"), ("x-a", "2")])
    assert echo_of(event)["headers"]["X-A"] == "1, 2"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"requestContext": "x"}, "'requestContext' must be an object"),
        ({"requestContext": {"identity": [1]}}, "requestContext.identity"),
        ({"multiValueQueryStringParameters": "a=1"}, "must be an object"),
        ({"multiValueQueryStringParameters": {"a": [1]}}, "query value of 'a'"),
        ({"headers": {"X-A": "a\nb"}, "multiValueHeaders": None}, "line break"),
        ({"body": "\ud800", "isBase64Encoded": False}, "not valid Unicode"),
        ({"path": "/\udc80"}, "not valid Unicode"),
        ({"isBase64Encoded": "false"}, "'isBase64Encoded' must be true"),
    ],
)
def test_malformed_fields_get_a_400_naming_the_field(change, message):
    event = {**rest_event("GET", "/x"), **change}
    response = make_echo()(event, None)
    assert response["statusCode"] == 400
    assert message in json.loads(response["body"])["message"]


def test_an_event_with_keys_of_mixed_types_gets_a_400():
    response = make_echo()({1: "a", "b": 2}, None)
    assert response["statusCode"] == 400


def test_a_chunked_transfer_header_does_not_empty_the_body():
    event = rest_event(
        "POST",
        "/x",
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        body=b'{"x": 5}',
    )
    seen = echo_of(event)
    assert seen["body"] == '{"x": 5}'
    assert "Transfer-Encoding" not in seen["headers"]
