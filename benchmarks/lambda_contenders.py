"""The contenders of the Lambda adapter benchmark, one builder each.

Every builder imports its own stack and returns a handler called as Lambda calls
one, ``handler(event, context)``, that answers ``GET /hello`` with the JSON object
``{"message": "hello"}``. A cold start is timed from before this module is
imported, so the module itself imports nothing that a contender might need (not
even :mod:`typing` or :mod:`json`): what a stack costs is counted for that stack.
"""

from __future__ import annotations

import io
import os
import sys

# typing is imported by type checkers only: a cold start would count it otherwise.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import typing as t

    Handler = t.Callable[[dict[str, t.Any], t.Any], t.Any]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVENT_FILE = os.path.join(ROOT, "tests", "events", "aws-sam-cli", "AwsProxy.json")


class Context:
    """The parts of a Lambda context object that adapters read."""

    function_name = "hello"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:hello"
    memory_limit_in_mb = 128
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    log_group_name = "/aws/lambda/hello"
    log_stream_name = "2015/04/09/[$LATEST]c6af9ac6"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def hello_event() -> dict[str, t.Any]:
    """The captured REST event, as API Gateway sends it for ``GET /hello`` on a
    ``/hello`` resource with Lambda proxy integration: Chalice routes on that
    resource path, the others on ``path``."""
    import json

    with open(EVENT_FILE, encoding="utf-8") as file:
        event = json.load(file)
    event.update(
        httpMethod="GET",
        path="/hello",
        resource="/hello",
        body=None,
        isBase64Encoded=False,
        queryStringParameters=None,
        multiValueQueryStringParameters=None,
        pathParameters=None,
    )
    event["requestContext"].update(
        httpMethod="GET", path="/prod/hello", resourcePath="/hello"
    )
    return event


def flask_app() -> t.Any:
    """A bare Flask app with one route."""
    from flask import Flask

    app = Flask(__name__)

    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"message": "hello"}

    return app


def build_flask_raw() -> Handler:
    """The floor: Flask's own dispatch, on an environ built once from the event and
    copied per call with a fresh ``wsgi.input``; the event is never read and the
    answer is the WSGI status, headers and body."""
    app = flask_app()
    base = wsgi_environ(hello_event())

    def dispatch(event: dict[str, t.Any], context: t.Any) -> t.Any:
        environ = {**base, "wsgi.input": io.BytesIO()}
        started: list[t.Any] = []

        def start_response(status: str, headers: t.Any, exc: t.Any = None) -> None:
            started[:] = [status, headers]

        result = app.wsgi_app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            result.close()
        return started[0], started[1], body

    return dispatch


def build_coworks() -> Handler:
    from coworks import TechMicroService
    from coworks import entry

    class Hello(TechMicroService):
        @entry
        def get_hello(self) -> dict[str, str]:
            return {"message": "hello"}

    return Hello()


def build_apig_wsgi() -> Handler:
    from apig_wsgi import make_lambda_handler

    return make_lambda_handler(flask_app())


def build_serverless_wsgi() -> Handler:
    import serverless_wsgi

    app = flask_app()
    return lambda event, context: serverless_wsgi.handle_request(app, event, context)


def build_mangum() -> Handler:
    from mangum import Mangum
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hello(request: t.Any) -> JSONResponse:
        return JSONResponse({"message": "hello"})

    # No lifespan: the app has no start-up work, and Mangum would run one per call.
    return Mangum(Starlette(routes=[Route("/hello", hello)]), lifespan="off")


def build_chalice() -> Handler:
    from chalice import Chalice
    from chalice import Response

    app = Chalice(app_name="hello")

    # Chalice sends a dict without Content-Type, leaving API Gateway to add its
    # default; it is said here, so that every contender's answer carries it.
    @app.route("/hello")
    def hello() -> Response:
        return Response({"message": "hello"}, {"Content-Type": "application/json"})

    return app


def build_powertools() -> Handler:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    app = APIGatewayRestResolver()

    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"message": "hello"}

    return app.resolve


def build_dict_handler() -> Handler:
    """A function that answers the event with the response dict, and routes by
    comparing two strings."""
    import json

    def handler(event: dict[str, t.Any], context: t.Any) -> dict[str, t.Any]:
        if event["httpMethod"] != "GET" or event["path"] != "/hello":
            return {"statusCode": 404, "body": ""}
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"message": "hello"}),
            "isBase64Encoded": False,
        }

    return handler


#: Key, label and builder of each contender, in the order of the table.
CONTENDERS = (
    ("flask", "raw Flask dispatch", build_flask_raw),
    ("coworks", "CoWorks", build_coworks),
    ("apig", "apig-wsgi + Flask", build_apig_wsgi),
    ("serverless", "serverless-wsgi + Flask", build_serverless_wsgi),
    ("mangum", "Mangum + Starlette", build_mangum),
    ("chalice", "Chalice", build_chalice),
    ("powertools", "Powertools REST resolver", build_powertools),
    ("dict", "hand-written dict handler", build_dict_handler),
)


def wsgi_environ(event: dict[str, t.Any]) -> dict[str, t.Any]:
    """A WSGI environ for a bodiless, queryless event, built by hand so that the
    floor owes nothing to any adapter."""
    headers = {key: values[-1] for key, values in event["multiValueHeaders"].items()}
    environ = {
        "REQUEST_METHOD": event["httpMethod"],
        "SCRIPT_NAME": "",
        "PATH_INFO": event["path"],
        "QUERY_STRING": "",
        "SERVER_NAME": headers["Host"],
        "SERVER_PORT": headers["X-Forwarded-Port"],
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": event["requestContext"]["identity"]["sourceIp"],
        "CONTENT_LENGTH": "0",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": headers["X-Forwarded-Proto"],
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for key, value in headers.items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    return environ
