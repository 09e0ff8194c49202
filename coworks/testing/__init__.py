"""Testing a service the way Lambda runs it: events, a client and pytest fixtures.

Three tools, from the lowest level up:

* :func:`make_event` builds the Lambda event one kind of AWS front sends for a
  request: API Gateway REST (``"rest"``), API Gateway HTTP API (``"http"``), an
  Application Load Balancer (``"alb"``, or ``"alb-multi"`` when its target group
  has multi-value headers on) or a Lambda function URL (``"url"``). Hand it to
  ``service(event, context)`` to see what a deployed service would answer.
* :class:`LambdaClient` calls a service's entries through that same Lambda path
  (a REST event in, the proxy response dict out) and reads the answer back as a
  :class:`~coworks.invoke.Result`.
* The pytest plugin (this package, registered as the ``coworks`` plugin) gives the
  fixtures ``cws_client``, a :class:`LambdaClient` for the test's own ``service``
  fixture, and ``cws_event``, which is :func:`make_event`.

Nothing here imports Airflow, Jupyter or boto3, and only the fixtures need pytest:
:func:`make_event` and :class:`LambdaClient` work in a notebook as well.
"""

from __future__ import annotations

import io
import os
import typing as t
from urllib.parse import urlencode

from werkzeug.datastructures import FileStorage
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart

from ..invoke import Result
from ..invoke import invoke
from ..service import TechMicroService
from .payloads import KINDS
from .payloads import QueryValue
from .payloads import make_event

try:
    import pytest
except ModuleNotFoundError:  # the fixtures need pytest; the rest of the kit does not
    pytest = None  # type: ignore[assignment]

__all__ = ["KINDS", "LambdaClient", "Result", "make_event", "service_from"]


class RequestOptions(t.TypedDict, total=False):
    """What a :class:`LambdaClient` call may send besides its method and path."""

    json: t.Any
    query: t.Mapping[str, QueryValue | int | float | bool]
    headers: t.Mapping[str, str]
    body: bytes | str
    form: t.Mapping[str, str | list[str]]
    files: t.Mapping[str, Upload | list[Upload]]


#: An uploaded file: ``(filename, content)`` or ``(filename, content, type)``.
Upload = tuple[str, bytes] | tuple[str, bytes, str]


class LambdaClient:
    """Calls a service's entries through its Lambda handler, as API Gateway would.

    Each call builds a REST proxy event (see :func:`coworks.invoke.invoke`), hands
    it to ``service(event, context)`` and reads the response dict back::

        client = LambdaClient(Orders(), token="s3cret")
        assert client.get("/order/42").json() == {"id": 42, "status": "shipped"}

    :param token: sent as ``Authorization: Bearer <token>`` with every call that
        does not give its own Authorization header.
    """

    def __init__(self, service: TechMicroService, *, token: str | None = None) -> None:
        self.service = service
        self.token = token

    def __repr__(self) -> str:
        return f"<LambdaClient {self.service.name}>"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: t.Any = None,
        query: t.Mapping[str, QueryValue | int | float | bool] | None = None,
        headers: t.Mapping[str, str] | None = None,
        body: bytes | str = b"",
        form: t.Mapping[str, str | list[str]] | None = None,
        files: t.Mapping[str, Upload | list[Upload]] | None = None,
    ) -> Result:
        """Call ``method path`` and return the answer.

        :param path: as written in a URL; a ``?query`` part joins ``query``.
        :param json: a value sent as the JSON body (instead of ``body``).
        :param form: fields sent as an ``application/x-www-form-urlencoded``
            body, or beside ``files`` as ``multipart/form-data``.
        :param files: uploads sent as ``multipart/form-data``, by field name.
        """
        if not path.startswith("/"):
            raise ValueError(f"path {path!r} must start with /")
        if json is not None and (body or form is not None or files is not None):
            raise ValueError("send json=, body= or form=/files=, one of them")
        sent = dict(headers or {})
        given = {key.lower() for key in sent}
        if self.token and "authorization" not in given:
            sent["Authorization"] = f"Bearer {self.token}"
        data = body.encode("utf-8") if isinstance(body, str) else body
        if form is not None or files is not None:
            data, sent["Content-Type"] = _form_body(form or {}, files or {})
        return invoke(
            self.service, method, path, json=json, query=query, headers=sent, body=data
        )

    def get(self, path: str, **kwargs: t.Unpack[RequestOptions]) -> Result:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: t.Unpack[RequestOptions]) -> Result:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: t.Unpack[RequestOptions]) -> Result:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: t.Unpack[RequestOptions]) -> Result:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: t.Unpack[RequestOptions]) -> Result:
        return self.request("DELETE", path, **kwargs)

    def head(self, path: str, **kwargs: t.Unpack[RequestOptions]) -> Result:
        return self.request("HEAD", path, **kwargs)

    def options(self, path: str, **kwargs: t.Unpack[RequestOptions]) -> Result:
        return self.request("OPTIONS", path, **kwargs)


def _form_body(
    form: t.Mapping[str, str | list[str]], files: t.Mapping[str, Upload | list[Upload]]
) -> tuple[bytes, str]:
    """A form body and its Content-Type, as a browser would send it."""
    fields: MultiDict[str, t.Any] = MultiDict()
    for name, value in form.items():
        for text in value if isinstance(value, list) else [value]:
            fields.add(name, text)
    if not files:
        return urlencode(list(fields.items(multi=True))).encode(), _URLENCODED
    for name, uploads in files.items():
        for upload in uploads if isinstance(uploads, list) else [uploads]:
            filename, content, *kind = upload
            stream = io.BytesIO(content)
            kind = kind or ["application/octet-stream"]
            fields.add(name, FileStorage(stream, filename, name, kind[0]))
    boundary, data = encode_multipart(fields)
    return data, f"multipart/form-data; boundary={boundary}"


_URLENCODED = "application/x-www-form-urlencoded"


def service_from(
    target: str | os.PathLike[str], name: str | None = None
) -> TechMicroService:
    """The service a target holds: a notebook path or ``module:object``, as the
    ``cws`` command reads it.

    :param name: which service, when the target holds several.
    :raises coworks.targets.TargetError: when the target cannot be read, or holds
        no service of that name, or several and no name is given.
    """
    # Imported here: reading a target may read notebooks, which a service's own
    # tests need not pay for.
    from ..targets import load_target
    from ..targets import pick

    return pick(load_target(target), name)


_NO_SERVICE = """\
cws_client calls the service of a fixture named `service`, and this test has none.
Define it in the test module or in conftest.py, for example:

    @pytest.fixture
    def service():
        return Orders()
"""


def _cws_client(request: t.Any) -> LambdaClient:
    """A :class:`LambdaClient` for the test's ``service`` fixture, sending the
    ``TOKEN`` environment variable, if set, as its bearer token."""
    missing = object()
    try:
        service = request.getfixturevalue("service")
    except pytest.FixtureLookupError:
        service = missing  # failed outside the handler, so no lookup error shows
    if service is missing:
        pytest.fail(_NO_SERVICE, pytrace=False)
    if not isinstance(service, TechMicroService):
        pytest.fail(
            f"cws_client needs the `service` fixture to give a TechMicroService "
            f"instance, not {service!r}",
            pytrace=False,
        )
    return LambdaClient(service, token=os.environ.get("TOKEN") or None)


def _cws_event() -> t.Callable[..., dict[str, t.Any]]:
    """:func:`make_event`, to build the Lambda events of a test."""
    return make_event


if pytest is not None:
    cws_client = pytest.fixture(name="cws_client")(_cws_client)
    cws_event = pytest.fixture(name="cws_event")(_cws_event)
