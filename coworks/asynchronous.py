"""Asynchronous invocation: run an HTTP request now, keep its whole answer in S3.

A caller that invokes a service's Lambda function with ``InvocationType=Event`` gets
no answer back: Lambda drops what the handler returns. To still get the answer, the
caller adds one key to the HTTP event it sends, beside the event's own keys::

    {
        "coworks": {"async": {"bucket": "answers", "key": "orders/42.json"}},
        "httpMethod": "GET",
        "path": "/order/42",
        ...
    }

The handler then takes the ``coworks`` key away, answers the rest as the HTTP event it
is (token check included), and writes the response dict (``statusCode``, headers,
``body``, ``isBase64Encoded``…) as a JSON object to ``s3://answers/orders/42.json``,
with a ``coworks`` key added to it for the service's name, the Lambda request id and
the times the request was received and answered. It returns a small summary (see
:func:`answer`), which a caller invoking with ``RequestResponse`` sees.

Only the invocation payload itself can hold the marker: API Gateway, a load balancer
or a function URL build the event's top-level keys themselves, so no HTTP client can
add it with a header, a query string or a body. Any ``coworks`` key makes the event
an asynchronous invocation, and a marker that is not exactly as above (an unknown key,
a bucket name S3 would refuse, an empty key or one starting with ``/``) runs nothing:
it is logged and answered with an error summary.

boto3 is imported here only when an answer is stored, so that a service answering
HTTP events never loads it; Lambda's Python runtime provides it.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import re
import typing as t
import uuid

from . import authorizer

if t.TYPE_CHECKING:
    from .service import TechMicroService

logger = logging.getLogger(__name__)

#: The top-level key of an invocation payload that asks for an asynchronous answer.
MARKER = "coworks"

#: S3 counts an object key's length in bytes of UTF-8.
_KEY_BYTES = 1024

#: Lower-case letters, digits, dots and hyphens, starting and ending with a letter
#: or a digit, 3 to 63 characters: the names S3 gives buckets.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")

#: A bucket name must not look like an IPv4 address.
_IP_ADDRESS = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}")

#: Prefixes S3 keeps for itself: no bucket is ever named so.
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")


class MarkerError(ValueError):
    """An asynchronous marker that cannot be followed; the message says why."""


@dataclasses.dataclass(frozen=True)
class Destination:
    """Where the answer of an asynchronous invocation is written."""

    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def is_asynchronous(event: t.Any) -> bool:
    """Whether ``event`` is an invocation payload carrying the marker."""
    return isinstance(event, dict) and MARKER in event


def destination_of(event: t.Mapping[str, t.Any]) -> Destination:
    """The bucket and key the marker of ``event`` names, checked.

    :raises MarkerError: when the marker is not ``{"async": {"bucket": …, "key":
        …}}`` with a valid bucket name and key, or wraps an authorizer event.
    """
    marker = event.get(MARKER)
    if not isinstance(marker, dict) or set(marker) != {"async"}:
        raise MarkerError(
            f'the {MARKER!r} key must be {{"async": {{"bucket": …, "key": …}}}}'
        )
    where = marker["async"]
    if not isinstance(where, dict) or set(where) != {"bucket", "key"}:
        raise MarkerError('"async" must hold exactly "bucket" and "key"')
    if authorizer.is_authorizer_event(request_of(event)):
        raise MarkerError("an authorizer event has no HTTP answer to store")
    return Destination(_checked_bucket(where["bucket"]), _checked_key(where["key"]))


def _checked_bucket(bucket: t.Any) -> str:
    """A bucket name S3 could have given.

    The suffixes S3 keeps out of bucket names (``-s3alias``, ``--x-s3``…) are
    accepted: an access point alias and a directory bucket are named so, and both
    take objects. An access point ARN is not a bucket name and is refused.
    """
    if not isinstance(bucket, str):
        raise MarkerError("the bucket must be a string")
    problem = None
    if not _BUCKET.fullmatch(bucket):
        problem = (
            "3 to 63 lower-case letters, digits, '.' or '-', starting and ending "
            "with a letter or digit"
        )
    elif ".." in bucket:
        problem = "no two dots in a row"
    elif bucket.startswith(_RESERVED_PREFIXES):
        problem = "a name that does not start with " + ", ".join(_RESERVED_PREFIXES)
    elif _IP_ADDRESS.fullmatch(bucket):
        problem = "a name, not an IP address"
    if problem:
        raise MarkerError(f"bucket {_shown(bucket)} is not a bucket name: {problem}")
    return bucket


def _checked_key(key: t.Any) -> str:
    """An object key: 1 to 1024 bytes of UTF-8, not starting with ``/``."""
    if not isinstance(key, str) or not key:
        raise MarkerError("the key must be a non-empty string")
    if key.startswith("/"):
        # s3://bucket//key is easily misread; the caller surely meant no slash.
        raise MarkerError(f"the key {_shown(key)} must not start with '/'")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise MarkerError(f"the key {_shown(key)} is not valid Unicode") from None
    if size > _KEY_BYTES:
        raise MarkerError(
            f"the key is {size} bytes long in UTF-8; S3 takes {_KEY_BYTES} at most"
        )
    return key


def _shown(text: str) -> str:
    """A value from the caller, quoted and cut short for a message."""
    return repr(text if len(text) <= 80 else text[:77] + "...")


def request_of(event: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The HTTP event an asynchronous invocation wraps: the payload, marker aside."""
    return {key: value for key, value in event.items() if key != MARKER}


def answer(
    service: TechMicroService, event: t.Mapping[str, t.Any], context: t.Any
) -> dict[str, t.Any]:
    """Answer an asynchronous invocation; never raises.

    :return: a summary: ``stored`` (whether the answer is in S3), ``bucket`` and
        ``key`` (``None`` when the marker is malformed), ``status`` (the HTTP
        status of the answer; ``None`` when the request did not run), ``requestId``,
        and ``error`` when ``stored`` is false.
    """
    request_id = _request_id(context)
    try:
        destination = destination_of(event)
    except MarkerError as error:
        logger.error("%s: invocation %s not run: %s", service.name, request_id, error)
        return _summary(request_id, error=f"malformed {MARKER!r} marker: {error}")
    received = _now()
    response = service.handle_event(request_of(event), context)  # never raises
    status = response.get("statusCode")
    metadata = {
        "service": service.name,
        "requestId": request_id,
        "receivedAt": received,
        "answeredAt": _now(),
    }
    try:
        document = json.dumps({**response, MARKER: metadata}, allow_nan=False)
        store(destination, document.encode("utf-8"))
    except BaseException as error:  # a Lambda handler answers, always
        cause = f"{type(error).__name__}: {error}"
        logger.error(
            "%s: invocation %s answered %s, but the answer is not stored at %s: %s",
            service.name,
            request_id,
            status,
            destination.uri,
            cause,
            # A refusal from S3 says all in its message; anything else may be a bug.
            exc_info=not type(error).__module__.startswith(("botocore", "boto3")),
        )
        return _summary(
            request_id,
            destination,
            status,
            error=f"cannot store the answer at {destination.uri}: {cause}",
        )
    logger.debug(
        "%s: invocation %s stored at %s", service.name, request_id, destination.uri
    )
    return _summary(request_id, destination, status)


def store(destination: Destination, document: bytes) -> None:
    """Write ``document``, a JSON object, at ``destination``.

    The function's own credentials, region and S3 endpoint apply, as boto3 finds
    them in the environment (``AWS_ENDPOINT_URL_S3`` included).

    :raises Exception: whatever boto3 raises when S3 cannot be reached or refuses.
    """
    import boto3  # here only: a service answering HTTP events never loads it
    from botocore.config import Config

    # A session of its own each time, so that the environment is read now: boto3's
    # default session keeps the first credentials it found. That costs some tens of
    # milliseconds, which an asynchronous caller does not wait for.
    client = boto3.session.Session().client(
        "s3",
        # Fail within a Lambda timeout rather than retry for minutes.
        config=Config(
            connect_timeout=10, read_timeout=30, retries={"mode": "standard"}
        ),
    )
    client.put_object(
        Bucket=destination.bucket,
        Key=destination.key,
        Body=document,
        ContentType="application/json",
    )


def _summary(
    request_id: str,
    destination: Destination | None = None,
    status: t.Any = None,
    *,
    error: str | None = None,
) -> dict[str, t.Any]:
    summary = {
        "stored": error is None,
        "bucket": destination.bucket if destination else None,
        "key": destination.key if destination else None,
        "status": status,
        "requestId": request_id,
    }
    if error is not None:
        summary["error"] = error
    return summary


def _request_id(context: t.Any) -> str:
    """The Lambda request id, or a new one outside Lambda."""
    request_id = getattr(context, "aws_request_id", None)
    return request_id if isinstance(request_id, str) else str(uuid.uuid4())


def _now() -> str:
    """The time now in UTC, as ISO 8601 to the millisecond."""
    now = datetime.datetime.now(datetime.UTC)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
