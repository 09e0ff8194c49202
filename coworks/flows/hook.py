"""The hook that owns a tech service's connection and its HTTP calls."""

from __future__ import annotations

import typing as t
from urllib.parse import unquote

import httpx
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowException
from airflow.sdk.exceptions import AirflowNotFoundException

if t.TYPE_CHECKING:
    from airflow.sdk import Connection


_LEAD_OUT = "a value placed in the path must not lead it out of the service's entries"


class TechServiceError(AirflowException):
    """A tech service that cannot be reached, or that answered with an error."""


class TechServiceHook(BaseHook):
    """Calls the entries of one tech service, whose base URL is an Airflow connection.

    The connection's URI is the service's base URL: ``http://127.0.0.1:8000/countries``
    gives scheme ``http`` (the connection type), host, port and the path prefix
    ``countries`` (the connection's schema). A host that holds a whole URL is used as
    it is. The connection's password, when set, is sent as a bearer token.

    :param conn_id: the Airflow connection of the service.
    """

    conn_name_attr = "conn_id"
    conn_type = "http"
    hook_name = "CoWorks tech service"

    def __init__(self, conn_id: str, timeout: float = 30.0) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.timeout = timeout

    def connection(self) -> Connection:
        """The service's connection; a missing one says how to define it."""
        try:
            return self.get_connection(self.conn_id)
        except AirflowNotFoundException:
            raise TechServiceError(
                f"connection {self.conn_id!r} is not defined; define it in Airflow or "
                f"set AIRFLOW_CONN_{self.conn_id.upper()} to the service's base URL"
            ) from None

    def base_url(self, conn: Connection | None = None) -> str:
        """The service's base URL, without a trailing slash."""
        conn = conn or self.connection()
        host = conn.host or ""
        if "://" in host:
            return host.rstrip("/")
        if not host:
            raise TechServiceError(
                f"connection {self.conn_id!r} has no host; set it to the service's "
                "base URL, for example AIRFLOW_CONN_"
                f"{self.conn_id.upper()}='http://127.0.0.1:8000/servicename'"
            )
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 address
        scheme = conn.conn_type if conn.conn_type in ("http", "https") else "http"
        port = f":{conn.port}" if conn.port else ""
        prefix = f"/{conn.schema.strip('/')}" if conn.schema else ""
        return f"{scheme}://{host}{port}{prefix}"

    def call(
        self,
        method: str,
        path: str,
        *,
        query: t.Mapping[str, t.Any] | None = None,
        json: t.Any = None,
        headers: t.Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request to the service; return its response, whatever its status.

        :param path: the entry's path below the base URL; a ``?query`` part is
            added to ``query``. A ``..`` or ``.`` segment, or a ``#``, is refused:
            a value placed in the path must not lead to another service.
        """
        conn = self.connection()
        all_headers = {str(k): str(v) for k, v in (headers or {}).items()}
        if conn.password and not any(k.lower() == "authorization" for k in all_headers):
            all_headers["Authorization"] = f"Bearer {conn.password}"
        if "#" in path:
            raise TechServiceError(f"path {path!r} holds a '#'; {_LEAD_OUT}")
        path, _, query_string = path.partition("?")
        if {".", ".."} & {unquote(segment) for segment in path.split("/")}:
            raise TechServiceError(f"path {path!r} holds '.' or '..'; {_LEAD_OUT}")
        params = httpx.QueryParams(query_string)
        for key, value in (query or {}).items():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                params = params.add(key, item)
        url = self.base_url(conn) + "/" + path.lstrip("/")
        self.log.info("%s %s", method.upper(), url)
        try:
            return httpx.request(
                method.upper(),
                url,
                params=params,
                json=json,
                headers=all_headers,
                timeout=self.timeout,
            )
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise TechServiceError(
                f"cannot reach {url} (connection {self.conn_id!r}): {error}"
            ) from error
