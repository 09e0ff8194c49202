"""Every real event of tests/events reads right, whatever its kind; each kind answers
in its own format. The expected values are read from the event files themselves."""

from __future__ import annotations

import base64
import json

import pytest
from flask import make_response
from flask import request
from flask import url_for
from helpers import load_event

from coworks import TechMicroService
from coworks import entry
from coworks.events import from_response
from coworks.events import kind_of

VERBS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class Echo(TechMicroService):
    @entry
    def get_cookies(self):
        response = make_response({"set": 2})
        response.set_cookie("a", "1")
        response.set_cookie("b", "2", path="/x")
        return response

    @entry
    def get_png(self):
        return make_response(b"\x89PNG\r\n", 200, {"Content-Type": "image/png"})

    @entry
    def get_link(self):
        return {"self": url_for("get_link", _external=True)}


def echo() -> Echo:
    service = Echo()

    @service.route("/", defaults={"path": ""}, methods=VERBS)
    @service.route("/<path:path>", methods=VERBS)
    def anything(path):
        return {
            "method": request.method,
            "path": request.path,
            "query": request.args.to_dict(flat=False),
            "cookies": request.cookies,
            "cookie": request.headers.get("Cookie"),
            "body": request.get_data(as_text=True),
            "url": request.url,
        }

    return service


def seen(event: dict) -> dict:
    status, _, body = from_response(echo()(event, None))
    assert status == 200, body
    return json.loads(body)


Q = {"parameter1": ["value1", "value2"], "parameter2": ["value"]}
CRLF_JSON = '{\r\n\t"a": 1\r\n}'

# file, kind, method, path, query, Cookie header, body
GO, RUST, SAM, PT, SW = (
    "aws-lambda-go/",
    "aws-lambda-rust-runtime/",
    "aws-sam-cli/",
    "powertools-lambda-python/",
    "serverless-wsgi/",
)
C12 = "cookie1; cookie2"  # the cookies list ["cookie1", "cookie2"]
SAM_BODY = '{"test":"body"}'  # eyJ0ZXN0IjoiYm9keSJ9, base64
READS = [
    (
        GO + "alb-lambda-target-request-multivalue-headers.json",
        "alb-multi",
        "GET",
        "/",
        {"key": ["hello"]},
        None,
        "",
    ),
    (
        GO + "apigw-request.json",
        "rest",
        "POST",
        "/hello/world",
        {"name": ["me"]},
        None,
        CRLF_JSON,
    ),
    (
        GO + "apigw-v2-request-jwt-authorizer.json",
        "http",
        "GET",
        "/my/path",
        Q,
        C12,
        CRLF_JSON,
    ),
    (
        GO + "lambda-urls-request.json",
        "url",
        "POST",
        "/my/path",
        Q,
        C12,
        "Hello from client!",
    ),
    (RUST + "alb_health_check.json", "alb", "GET", "/", {}, None, ""),
    (
        RUST + "alb_multi_value_request_encoded_query_parameters.json",
        "alb-multi",
        "GET",
        "/",
        # An ALB hands the values still %-encoded: they are decoded once, here.
        {"myKey": ["?showAll=true", "?showAll=false"]},
        "name1=value1; name2=value2",
        "request_body",
    ),
    (RUST + "apigw_no_host.json", "rest", "GET", "/hello", {"name": ["me"]}, None, ""),
    (
        RUST + "apigw_request_path_with_space.json",
        "http",
        "POST",
        "/my/path-with space",
        Q,
        "cookie1=value1; cookie2=value2",
        "Hello from Lambda",
    ),
    (RUST + "apigw_v2_proxy_request_minimal.json", "http", "GET", "/", {}, None, ""),
    (
        RUST + "apigw_v2_proxy_request_with_stage_in_path.json",
        "http",
        "POST",
        "/my/path",  # rawPath "/Prod/my/path" on the stage "Prod"
        Q,
        "cookie1=value1; cookie2=value2",
        "Hello from Lambda",
    ),
    (
        RUST + "example-apigw-console-test-request.json",
        "rest",
        "POST",
        "/myPath",
        {},
        None,
        CRLF_JSON,
    ),
    (
        SAM + "ALBRequest.json",
        "alb",
        "POST",
        "/path/to/resource",
        {"query": ["1234ABCD"]},
        None,
        SAM_BODY,
    ),
    (
        SAM + "AwsProxy.json",
        "rest",
        "POST",
        "/path/to/resource",
        {"foo": ["bar"]},
        None,
        SAM_BODY,
    ),
    (SAM + "HttpApi.json", "http", "POST", "/path/to/resource", Q, C12, SAM_BODY),
    (
        PT + "albMultiValueQueryStringEvent.json",
        "alb-multi",
        "GET",
        "/todos",
        Q,
        None,
        "",
    ),
    (
        PT + "apiGatewayProxyEvent.json",
        "rest",
        "GET",
        "/my/path",
        Q,
        None,
        "Hello from Lambda!",
    ),
    (
        PT + "apiGatewayProxyV2Event.json",
        "http",
        "POST",
        "/my/path",
        Q,
        C12,
        '{"message": "hello world", "username": "tom"}',
    ),
    (
        PT + "apiGatewayProxyV2IamEvent.json",
        "http",
        "GET",
        "/my/path",
        Q,
        C12,
        CRLF_JSON,
    ),
    (PT + "lambdaFunctionUrlEvent.json", "url", "GET", "/", {}, None, ""),
    (
        SW + "event_v1.json",
        "rest",
        "GET",
        "/some/path",
        {"param1": ["value1"], "param2": ["value2"]},
        "CUSTOMER=WILE_E_COYOTE; PART_NUMBER=ROCKET_LAUNCHER_0001",
        "",
    ),
    (
        SW + "event_v2.json",
        "http",
        "GET",
        "/some/path",
        {"param1": ["value1"], "param2": ["value2", "value3"]},
        "CUSTOMER=WILE_E_COYOTE; PART_NUMBER=ROCKET_LAUNCHER_0001",
        "",
    ),
]


@pytest.mark.parametrize(
    ("name", "kind", "method", "path", "query", "cookie", "body"),
    READS,
    ids=[row[0] for row in READS],
)
def test_a_real_event_reads_right(name, kind, method, path, query, cookie, body):
    event = load_event(name)
    assert kind_of(event).name == kind
    got = seen(event)
    assert (got["method"], got["path"]) == (method, path)
    assert got["query"] == query
    assert got["cookie"] == cookie
    assert got["body"] == body


def test_a_body_marked_base64_that_is_not_is_a_400():
    # This event says isBase64Encoded but carries "Hello from Lambda!".
    event = load_event(
        "powertools-lambda-python/apiGatewayProxyEvent_noVersionAuth.json"
    )
    response = echo()(event, None)
    assert response["statusCode"] == 400
    assert "base64" in json.loads(response["body"])["message"]


# URLs the app builds: with the stage on the execute-api host, not elsewhere.


def test_rest_urls_carry_the_stage_on_the_execute_api_host():
    got = seen(load_event("serverless-wsgi/event_v1.json"))  # stage "dev"
    assert got["url"] == (
        "https://3z6kd9fbb1.execute-api.us-east-1.amazonaws.com/dev/some/path"
        "?param1=value1&param2=value2"
    )


def test_http_api_urls_carry_a_named_stage_once():
    event = load_event(
        "aws-lambda-rust-runtime/apigw_v2_proxy_request_with_stage_in_path.json"
    )
    event["rawQueryString"] = ""
    assert seen(event)["url"] == (
        "https://id.execute-api.us-east-1.amazonaws.com/Prod/my/path"
    )


def test_a_custom_domain_gets_no_stage_in_urls():
    event = load_event("serverless-wsgi/event_v1.json")
    event["headers"]["Host"] = "api.example.com"
    event["queryStringParameters"] = None
    assert seen(event)["url"] == "https://api.example.com/some/path"


def test_the_stage_is_stripped_only_as_a_whole_first_segment():
    event = load_event(
        "aws-lambda-rust-runtime/apigw_v2_proxy_request_with_stage_in_path.json"
    )
    event["requestContext"]["stage"] = "prod"
    event["rawPath"] = "/products/1"
    assert seen(event)["path"] == "/products/1"
    event["rawPath"] = "/prod"
    assert seen(event)["path"] == "/"


# Paths: v2 delivers them decoded, the others %-encoded.


def test_an_encoded_path_is_decoded_once():
    event = load_event("serverless-wsgi/event_v1.json")
    event["path"] = "/caf%C3%A9/a%2Bb/100%25"
    assert seen(event)["path"] == "/café/a+b/100%"


def test_a_decoded_http_api_path_is_not_decoded_again():
    event = load_event("serverless-wsgi/event_v2.json")
    event["rawPath"] = "/café/100%25"
    assert seen(event)["path"] == "/café/100%25"


def test_a_function_url_path_is_decoded():
    event = load_event("powertools-lambda-python/lambdaFunctionUrlEvent.json")
    event["rawPath"] = "/caf%C3%A9%20bar"
    assert seen(event)["path"] == "/café bar"


# Query: a raw query string keeps + and %2B apart.


def test_plus_and_encoded_plus_in_a_raw_query_string():
    event = load_event("serverless-wsgi/event_v2.json")
    event["rawQueryString"] = "q=a+b&r=a%2Bb"
    assert seen(event)["query"] == {"q": ["a b"], "r": ["a+b"]}


# Cookies.


def test_a_function_url_cookie_header_is_not_counted_twice():
    event = load_event("aws-lambda-go/lambda-urls-request.json")
    event["cookies"] = ["a=1", "b=2"]
    event["headers"]["cookie"] = "a=1; b=2"
    got = seen(event)
    assert got["cookies"] == {"a": "1", "b": "2"}


@pytest.mark.parametrize(
    "name",
    [
        "aws-sam-cli/AwsProxy.json",
        "aws-sam-cli/HttpApi.json",
        "aws-lambda-go/lambda-urls-request.json",
        "aws-sam-cli/ALBRequest.json",
        "aws-lambda-go/alb-lambda-target-request-multivalue-headers.json",
    ],
)
def test_every_cookie_set_comes_back_exactly_once(name):
    event = aimed(load_event(name), "/cookies")
    _, headers, _ = from_response(echo()(event, None))
    cookies = sorted(headers.getlist("Set-Cookie"))
    assert cookies == ["a=1; Path=/", "b=2; Path=/x"]


def test_each_kind_answers_in_its_own_format():
    answers = {
        kind: echo()(aimed(load_event(name), "/cookies"), None)
        for kind, name in [
            ("rest", "aws-sam-cli/AwsProxy.json"),
            ("http", "aws-sam-cli/HttpApi.json"),
            ("alb", "aws-sam-cli/ALBRequest.json"),
            (
                "alb-multi",
                "aws-lambda-go/alb-lambda-target-request-multivalue-headers.json",
            ),
        ]
    }
    assert set(answers["rest"]) == {
        "statusCode",
        "headers",
        "multiValueHeaders",
        "body",
        "isBase64Encoded",
    }
    assert answers["rest"]["multiValueHeaders"]["Set-Cookie"] == [
        "a=1; Path=/",
        "b=2; Path=/x",
    ]
    assert set(answers["http"]) == {
        "statusCode",
        "headers",
        "cookies",
        "body",
        "isBase64Encoded",
    }
    assert answers["http"]["cookies"] == ["a=1; Path=/", "b=2; Path=/x"]
    assert "set-cookie" not in {k.lower() for k in answers["http"]["headers"]}
    assert answers["alb"]["statusDescription"] == "200 OK"
    assert "multiValueHeaders" not in answers["alb"]
    assert "headers" not in answers["alb-multi"]
    assert answers["alb-multi"]["multiValueHeaders"]["Set-Cookie"] == [
        "a=1; Path=/",
        "b=2; Path=/x",
    ]


def test_a_binary_answer_is_base64_whatever_the_request():
    for name in ["aws-sam-cli/HttpApi.json", "aws-sam-cli/ALBRequest.json"]:
        response = echo()(aimed(load_event(name), "/png"), None)
        assert response["isBase64Encoded"] is True
        assert base64.b64decode(response["body"]) == b"\x89PNG\r\n"


def aimed(event: dict, path: str) -> dict:
    """A real event turned into a GET of ``path`` with no query and no body."""
    event = dict(event, body=None, isBase64Encoded=False)
    if "rawPath" in event:
        context = dict(event["requestContext"])
        context["http"] = dict(context["http"], method="GET", path=path)
        return dict(event, rawPath=path, rawQueryString="", requestContext=context)
    event.update(path=path, httpMethod="GET")
    event.update(queryStringParameters=None, multiValueQueryStringParameters=None)
    return event


# Found by attacking the adapter.


def test_a_rest_custom_domain_base_path_is_the_script_name():
    # A base path mapping "shop" on api.example.com: the path carries it.
    event = load_event("serverless-wsgi/event_v1.json")
    event.update(
        path="/shop/some/path", resource="/{proxy+}", queryStringParameters=None
    )
    event["pathParameters"] = {"proxy": "some/path"}
    event["requestContext"]["resourcePath"] = "/{proxy+}"
    event["headers"]["Host"] = "api.example.com"
    got = seen(event)
    assert got["path"] == "/some/path"
    assert got["url"] == "https://api.example.com/shop/some/path"


def test_a_custom_domain_keeps_a_first_segment_named_like_the_stage():
    event = load_event("serverless-wsgi/event_v2.json")  # stage "dev"
    event["headers"] = {"host": "api.example.com"}
    event["rawPath"] = "/dev/report"
    event["requestContext"]["domainName"] = "api.example.com"
    assert seen(event)["path"] == "/dev/report"


@pytest.mark.parametrize(
    "name",
    ["serverless-wsgi/event_v2.json", "aws-lambda-go/lambda-urls-request.json"],
)
def test_a_raw_query_may_hold_characters_no_client_encoded(name):
    event = load_event(name)
    event["rawQueryString"] = "q=café&r=日本"
    assert seen(event)["query"] == {"q": ["café"], "r": ["日本"]}


def test_alb_query_values_hold_unicode_too():
    event = load_event("aws-sam-cli/ALBRequest.json")
    event["queryStringParameters"] = {"q": "日本", "r": "caf%C3%A9"}
    assert seen(event)["query"] == {"q": ["日本"], "r": ["café"]}


def test_an_unreadable_event_is_answered_in_its_own_kind():
    event = load_event(
        "aws-lambda-go/alb-lambda-target-request-multivalue-headers.json"
    )
    event.update(body="%%", isBase64Encoded=True)
    answer = echo()(event, None)
    assert answer["statusCode"] == 400
    assert answer["statusDescription"] == "400 Bad Request"
    assert "headers" not in answer and "multiValueHeaders" in answer


def test_urls_carry_the_stage_on_china_execute_api_hosts_too():
    event = load_event("serverless-wsgi/event_v1.json")
    event["headers"]["Host"] = "abc123.execute-api.cn-north-1.amazonaws.com.cn"
    event["queryStringParameters"] = None
    assert seen(event)["url"] == (
        "https://abc123.execute-api.cn-north-1.amazonaws.com.cn/dev/some/path"
    )


def test_the_alb_client_address_is_the_last_one_it_appended():
    class Who(TechMicroService):
        @entry
        def get(self):
            return request.remote_addr

    event = aimed(
        load_event("aws-lambda-go/alb-lambda-target-request-multivalue-headers.json"),
        "/",
    )
    event["multiValueHeaders"]["x-forwarded-for"] = ["6.6.6.6", "1.2.3.4"]
    _, _, body = from_response(Who()(event, None))
    assert body == b"1.2.3.4"


@pytest.mark.parametrize("kind", ["rest", "http", "url", "alb", "alb-multi"])
def test_every_kind_the_testing_kit_builds_is_read_back_as_sent(kind):
    from coworks.testing import make_event

    event = make_event(
        kind,
        "POST",
        "/a b/café+x",
        query={"q": ["1 2", "a+b"], "r": "é"},
        json={"n": 1},
        cookies={"s": "v", "t": "w"},
    )
    got = seen(event)
    assert (got["method"], got["path"]) == ("POST", "/a b/café+x")
    # An ALB without multi-value headers passes the last value of a repeated key.
    repeated = ["a+b"] if kind == "alb" else ["1 2", "a+b"]
    assert got["query"] == {"q": repeated, "r": ["é"]}
    assert got["cookies"] == {"s": "v", "t": "w"}
    assert json.loads(got["body"]) == {"n": 1}
