"""Asynchronous invocation: the marked request runs and its whole answer lands in S3.

S3 is moto's server on 127.0.0.1; boto3 reaches it through ``AWS_ENDPOINT_URL_S3``
with fake credentials, and never any other endpoint.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import os
import socket
import uuid
import zipfile

import pytest
from helpers import load_event
from helpers import write_notebook
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from coworks import TechMicroService
from coworks import entry
from coworks.asynchronous import Destination
from coworks.asynchronous import MarkerError
from coworks.asynchronous import destination_of
from coworks.export.check import aimed
from coworks.invoke import LocalContext
from coworks.testing import KINDS
from coworks.testing import make_event

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


class Orders(TechMicroService):
    def __init__(self) -> None:
        super().__init__()
        self.placed: list[str] = []

    @entry
    def get_order(self, order_id: int):
        return {"id": order_id, "status": "shipped"}

    @entry
    def post_orders(self, item: str = "", qty: int = 1):
        self.placed.append(item)
        return {"item": item, "qty": qty}, 201, {"Location": "/order/1"}

    @entry
    def get_logo(self):
        return bytes(range(256))

    @entry
    def get_broken(self):
        raise RuntimeError("the database is down")


def context() -> LocalContext:
    return LocalContext("orders", aws_request_id=REQUEST_ID)


def marked(event: dict, bucket: str, key: str) -> dict:
    """``event`` as an asynchronous invocation whose answer goes to bucket/key."""
    return {**event, "coworks": {"async": {"bucket": bucket, "key": key}}}


def order_event(**options) -> dict:
    return make_event(
        "rest", "POST", "/orders", json={"item": "tea", "qty": 2}, **options
    )


@pytest.fixture(scope="module")
def s3_endpoint():
    server = moto_server.ThreadedMotoServer(
        ip_address="127.0.0.1", port=0, verbose=False
    )
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def aws_environment(endpoint: str, folder) -> dict[str, str]:
    """Fake credentials and a local S3: nothing can reach AWS itself."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": endpoint,
        # No credentials from files or from an instance's metadata service.
        "AWS_CONFIG_FILE": str(folder / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture
def aws(s3_endpoint, tmp_path, monkeypatch) -> dict[str, str]:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    environment = aws_environment(s3_endpoint, tmp_path)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return environment


@pytest.fixture
def s3(aws):
    return boto3.session.Session().client("s3", endpoint_url=aws["AWS_ENDPOINT_URL_S3"])


@pytest.fixture
def bucket(s3) -> str:
    name = f"answers-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def stored(s3, bucket: str, key: str) -> dict:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def keys_in(s3, bucket: str) -> list[str]:
    return [
        item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    ]


# What is stored


def test_the_stored_answer_is_the_response_the_request_gets_synchronously(s3, bucket):
    event = aimed(
        load_event("aws-sam-cli/AwsProxy.json"),
        "POST",
        "/orders",
        body='{"item": "tea", "qty": 2}',
    )
    synchronous = Orders()(event, context())

    Orders()(marked(event, bucket, "orders/1.json"), context())

    answer = stored(s3, bucket, "orders/1.json")
    answer.pop("coworks")
    assert answer == synchronous
    assert answer["statusCode"] == 201
    assert answer["headers"]["Location"] == "/order/1"
    assert json.loads(answer["body"]) == {"item": "tea", "qty": 2}
    assert answer["isBase64Encoded"] is False


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_http_event_can_be_invoked_asynchronously(s3, bucket, kind):
    event = make_event(kind, "POST", "/orders", json={"item": "tea", "qty": 2})
    synchronous = Orders()(event, context())

    summary = Orders()(marked(event, bucket, f"{kind}.json"), context())

    assert summary["stored"] is True
    answer = stored(s3, bucket, f"{kind}.json")
    answer.pop("coworks")
    assert answer == synchronous
    assert answer["statusCode"] == 201
    assert json.loads(answer["body"]) == {"item": "tea", "qty": 2}


def test_the_stored_object_is_json_with_the_service_request_id_and_times(s3, bucket):
    before = datetime.datetime.now(datetime.UTC)
    Orders()(marked(order_event(), bucket, "orders/1.json"), context())
    after = datetime.datetime.now(datetime.UTC)

    obj = s3.get_object(Bucket=bucket, Key="orders/1.json")
    assert obj["ContentType"] == "application/json"
    metadata = json.loads(obj["Body"].read())["coworks"]
    assert set(metadata) == {"service", "requestId", "receivedAt", "answeredAt"}
    assert metadata["service"] == "orders"
    assert metadata["requestId"] == REQUEST_ID
    received = datetime.datetime.fromisoformat(metadata["receivedAt"])
    answered = datetime.datetime.fromisoformat(metadata["answeredAt"])
    assert received.utcoffset() == datetime.timedelta(0)
    # Stamped to the millisecond, so compared at that precision.
    slack = datetime.timedelta(milliseconds=1)
    assert before - slack <= received <= answered <= after


def test_the_handler_returns_a_summary_saying_where_the_answer_is(bucket):
    summary = Orders()(marked(order_event(), bucket, "orders/1.json"), context())
    assert summary == {
        "stored": True,
        "bucket": bucket,
        "key": "orders/1.json",
        "status": 201,
        "requestId": REQUEST_ID,
    }


def test_the_request_runs_once(bucket):
    service = Orders()
    service(marked(order_event(), bucket, "orders/1.json"), context())
    assert service.placed == ["tea"]


def test_a_binary_answer_is_stored_base64_encoded(s3, bucket):
    event = make_event("rest", "GET", "/logo")
    Orders()(marked(event, bucket, "logo.json"), context())
    answer = stored(s3, bucket, "logo.json")
    assert answer["isBase64Encoded"] is True
    assert base64.b64decode(answer["body"]) == bytes(range(256))


def test_error_answers_are_stored_as_any_other(s3, bucket):
    for path, status in (("/no/such/path", 404), ("/broken", 500)):
        event = make_event("rest", "GET", path)
        summary = Orders()(marked(event, bucket, f"{status}.json"), context())
        assert summary["stored"] is True
        assert summary["status"] == status
        assert stored(s3, bucket, f"{status}.json")["statusCode"] == status
    broken = json.loads(stored(s3, bucket, "500.json")["body"])
    assert broken == {"error": "Internal Server Error", "request_id": REQUEST_ID}


def test_the_wrapped_request_needs_its_token_as_any_other(s3, bucket, monkeypatch):
    monkeypatch.setenv("TOKEN", "s3cret")
    service = Orders()
    service(marked(order_event(), bucket, "anonymous.json"), context())
    assert stored(s3, bucket, "anonymous.json")["statusCode"] == 401
    assert service.placed == []

    event = order_event(headers={"Authorization": "Bearer s3cret"})
    service(marked(event, bucket, "allowed.json"), context())
    assert stored(s3, bucket, "allowed.json")["statusCode"] == 201
    assert service.placed == ["tea"]


def test_an_event_the_service_cannot_read_gets_its_400_stored(s3, bucket):
    summary = Orders()(marked({}, bucket, "unreadable.json"), context())
    assert summary["stored"] is True
    assert summary["status"] == 400
    answer = stored(s3, bucket, "unreadable.json")
    assert json.loads(answer["body"])["error"] == "Bad Request"


def test_a_stored_answer_replaces_an_earlier_one_at_the_same_key(s3, bucket):
    for path in ("/order/1", "/order/2"):
        event = make_event("rest", "GET", path)
        Orders()(marked(event, bucket, "latest.json"), context())
    assert json.loads(stored(s3, bucket, "latest.json")["body"])["id"] == 2


# Who can ask for it


@pytest.mark.parametrize(
    ("where", "status"),
    # An unknown query key is an unknown parameter of the entry: a 422.
    [("headers", 201), ("query", 422)],
)
def test_an_http_client_cannot_set_the_marker(s3, bucket, where, status):
    marker = json.dumps({"async": {"bucket": bucket, "key": "k"}})
    response = Orders()(order_event(**{where: {"coworks": marker}}), context())
    assert response["statusCode"] == status  # an HTTP answer, not a summary
    assert "stored" not in response
    assert keys_in(s3, bucket) == []


def test_a_marker_in_the_json_body_is_an_ordinary_field(s3, bucket):
    body = {"item": "tea", "coworks": {"async": {"bucket": bucket, "key": "k"}}}
    response = Orders()(make_event("rest", "POST", "/orders", json=body), context())
    # The body's keys are the entry's parameters: this one is unknown to it.
    assert response["statusCode"] == 422
    assert keys_in(s3, bucket) == []


# Malformed markers


def async_marker(bucket="answers", key="orders/1.json", **more):
    return {"async": {"bucket": bucket, "key": key, **more}}


MALFORMED = {
    "not an object": (None, "must be"),
    "misspelt": ({"asnyc": {"bucket": "answers", "key": "k"}}, "must be"),
    "an extra key": ({**async_marker(), "sync": True}, "must be"),
    "a URI": ({"async": "s3://answers/k"}, 'exactly "bucket" and "key"'),
    "no key": ({"async": {"bucket": "answers"}}, 'exactly "bucket" and "key"'),
    "an option": (async_marker(acl="public-read"), 'exactly "bucket" and "key"'),
    "a bucket number": (async_marker(bucket=42), "bucket must be a string"),
    "capitals": (async_marker(bucket="Answers"), "not a bucket name"),
    "too short": (async_marker(bucket="ab"), "not a bucket name"),
    "too long": (async_marker(bucket="a" * 64), "not a bucket name"),
    "underscore": (async_marker(bucket="my_answers"), "not a bucket name"),
    "leading dash": (async_marker(bucket="-answers"), "not a bucket name"),
    "trailing dot": (async_marker(bucket="answers."), "not a bucket name"),
    "two dots": (async_marker(bucket="my..answers"), "no two dots"),
    "an IP address": (async_marker(bucket="192.168.5.4"), "not an IP address"),
    "xn--": (async_marker(bucket="xn--answers"), "does not start with"),
    "sthree-": (async_marker(bucket="sthree-answers"), "does not start with"),
    "an ARN": (
        async_marker(bucket="arn:aws:s3:us-east-1:123456789012:accesspoint/ap"),
        "not a bucket name",
    ),
    "an empty key": (async_marker(key=""), "non-empty string"),
    "a null key": (async_marker(key=None), "non-empty string"),
    "a leading slash": (async_marker(key="/orders/1.json"), "must not start with '/'"),
    # 513 two-byte characters: 1026 bytes of UTF-8.
    "a key too long": (async_marker(key="é" * 513), "1026 bytes"),
    "a lone surrogate": (async_marker(key="orders/\ud800"), "not valid Unicode"),
}


@pytest.mark.parametrize(
    ("marker", "reason"), list(MALFORMED.values()), ids=list(MALFORMED)
)
def test_a_malformed_marker_runs_nothing_and_says_why(aws, caplog, marker, reason):
    service = Orders()
    event = {**order_event(), "coworks": marker}
    with caplog.at_level(logging.ERROR, logger="coworks.asynchronous"):
        summary = service(event, context())
    assert summary["stored"] is False
    assert (summary["bucket"], summary["key"], summary["status"]) == (None,) * 3
    assert summary["requestId"] == REQUEST_ID
    assert reason in summary["error"]
    assert service.placed == []
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert reason in record.getMessage()
    assert REQUEST_ID in record.getMessage()


def test_an_authorizer_event_cannot_be_invoked_asynchronously(aws):
    event = load_event("powertools-lambda-python/apiGatewayAuthorizerTokenEvent.json")
    summary = Orders()(marked(event, "answers", "policy.json"), context())
    assert summary["stored"] is False
    assert "authorizer" in summary["error"]


@pytest.mark.parametrize(
    "bucket",
    [
        "abc",
        "a" * 63,
        "my.answers-01",
        "1.2.3.4.5",  # five numbers: not an IP address
        # An access point alias and a directory bucket take objects too.
        "orders-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias",
        "answers--usw2-az1--x-s3",
    ],
)
def test_every_bucket_name_s3_gives_is_accepted(bucket):
    event = marked(order_event(), bucket, "k")
    assert destination_of(event) == Destination(bucket, "k")


@pytest.mark.parametrize(
    "key", ["k", "orders/2024/06/01.json", "orders/", "é" * 512, "a b+c%20?&=.json"]
)
def test_every_key_of_1_to_1024_utf8_bytes_not_starting_with_a_slash_is_accepted(key):
    event = marked(order_event(), "answers", key)
    assert destination_of(event).key == key


#: Any JSON value, nested.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text() | st.sampled_from(["async", "bucket", "key"]), inner
        )
    ),
    max_leaves=8,
)


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(JSON_VALUES)
def test_any_other_marker_gets_an_error_summary_never_an_exception(aws, marker):
    service = Orders()
    summary = service({**order_event(), "coworks": marker}, context())
    assert summary["stored"] is False
    assert isinstance(summary["error"], str)
    assert service.placed == []


def test_a_malformed_marker_raises_marker_error_when_checked_directly():
    with pytest.raises(MarkerError, match="must not start with '/'"):
        destination_of(marked(order_event(), "answers", "/k"))


# When S3 fails


def test_a_missing_bucket_is_logged_and_summarised(aws, caplog):
    service = Orders()
    with caplog.at_level(logging.ERROR, logger="coworks.asynchronous"):
        summary = service(marked(order_event(), "no-such-answers", "k.json"), context())
    assert summary["stored"] is False
    assert (summary["bucket"], summary["key"]) == ("no-such-answers", "k.json")
    # The request ran: only its answer is lost.
    assert summary["status"] == 201
    assert service.placed == ["tea"]
    assert "NoSuchBucket" in summary["error"]
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert "NoSuchBucket" in record.getMessage()
    assert "s3://no-such-answers/k.json" in record.getMessage()


def test_missing_credentials_are_logged_and_summarised(bucket, monkeypatch, caplog):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    with caplog.at_level(logging.ERROR, logger="coworks.asynchronous"):
        summary = Orders()(marked(order_event(), bucket, "k.json"), context())
    assert summary["stored"] is False
    assert "NoCredentialsError" in summary["error"]
    assert "NoCredentialsError" in caplog.records[-1].getMessage()


def test_an_unreachable_s3_is_logged_and_summarised(aws, monkeypatch, caplog):
    with socket.socket() as probe:  # a port on 127.0.0.1 that nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{closed}")
    with caplog.at_level(logging.ERROR, logger="coworks.asynchronous"):
        summary = Orders()(marked(order_event(), "answers", "k.json"), context())
    assert summary["stored"] is False
    assert "EndpointConnectionError" in summary["error"]
    assert caplog.records[-1].levelno == logging.ERROR


# In a Lambda zip

SERVICE_CELL = """%%techservice
from coworks import TechMicroService, entry

class Orders(TechMicroService):
    @entry
    def post_orders(self, item: str = "", qty: int = 1):
        return {"item": item, "qty": qty}, 201, {"Location": "/order/1"}
"""

#: What Lambda's Python runtime provides beside a zip for boto3 to import.
BOTO3_DISTRIBUTIONS = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
)


def with_boto3(zip_path, out_path):
    """A copy of a zip with boto3 added, as the Lambda runtime has it on its path.

    The isolated interpreter of ``invoke_zip`` sees nothing but the zip's folder
    and the standard library, so boto3 must be in that folder.
    """
    import importlib.metadata as metadata

    from coworks.export.package import distribution_files

    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(out_path, "w") as copy:
        names = set(source.namelist())
        for name in sorted(names):
            copy.writestr(name, source.read(name))
        for dist in BOTO3_DISTRIBUTIONS:
            for name, path in distribution_files(metadata.distribution(dist)).items():
                if name not in names:
                    copy.write(path, name)
    return out_path


def test_an_exported_zip_stores_the_answer_it_gives_synchronously(
    tmp_path, aws, s3, bucket
):
    from coworks.export import export_notebook
    from coworks.export.check import invoke_zip

    notebook = write_notebook(tmp_path / "orders.ipynb", SERVICE_CELL)
    export_notebook(notebook, tmp_path / "build")
    zip_path = with_boto3(tmp_path / "build" / "orders" / "lambda.zip", tmp_path / "z")
    environment = {**aws, "TOKEN": "t0k"}
    event = aimed(
        load_event("aws-sam-cli/AwsProxy.json"),
        "POST",
        "/orders",
        body='{"item": "tea", "qty": 2}',
        token="t0k",
    )

    synchronous = invoke_zip(zip_path, event, environment=environment)
    answered = invoke_zip(
        zip_path, marked(event, bucket, "zip.json"), environment=environment
    )

    # invoke_zip's context has this request id.
    request_id = "00000000-0000-0000-0000-000000000000"
    assert answered["response"] == {
        "stored": True,
        "bucket": bucket,
        "key": "zip.json",
        "status": 201,
        "requestId": request_id,
    }
    answer = stored(s3, bucket, "zip.json")
    assert answer.pop("coworks")["requestId"] == request_id
    assert answer == synchronous["response"]
    assert json.loads(answer["body"]) == {"item": "tea", "qty": 2}
    # boto3 was there all along, and loaded for the asynchronous answer only.
    assert "boto3" not in synchronous["modules"]
    assert "boto3" in answered["modules"]


def test_the_service_hands_the_marker_of_this_module_to_it():
    from coworks import service
    from coworks.asynchronous import MARKER

    assert service._ASYNC_MARKER == MARKER
