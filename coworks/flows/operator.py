"""The operator whose task calls one tech-service entry."""

from __future__ import annotations

import re
import typing as t

from airflow.sdk import BaseOperator
from airflow.sdk.bases.decorator import get_unique_task_id

from .hook import TechServiceError
from .hook import TechServiceHook

if t.TYPE_CHECKING:
    from airflow.sdk import Context


class TechServiceOperator(BaseOperator):
    """Call an entry of a tech service; the task's XCom result is the JSON answer.

    :param service: the service's name; its connection is ``coworks_<service>``
        (with ``_`` for ``-``) unless ``conn_id`` says otherwise.
    :param method: the HTTP verb.
    :param path: the entry's path, templated: ``"/country/{{ params.code }}"``.
    :param query: query parameters (GET, DELETE), templated.
    :param json: the JSON body (POST, PUT, PATCH), templated; the output of an
        earlier task placed here passes its result along.
    :param headers: extra request headers, templated.
    :param conn_id: the Airflow connection giving the service's base URL.
    :param timeout: seconds to wait for the answer.
    """

    template_fields: t.Sequence[str] = ("path", "query", "json", "headers")
    ui_color = "#e8f4f8"

    def __init__(
        self,
        *,
        service: str,
        method: str = "GET",
        path: str = "/",
        query: dict[str, t.Any] | None = None,
        json: t.Any = None,
        headers: dict[str, str] | None = None,
        conn_id: str | None = None,
        timeout: float = 30.0,
        **kwargs: t.Any,
    ) -> None:
        if "task_id" not in kwargs:
            # Two calls to the same entry in one flow: the second id ends in __1.
            kwargs["task_id"] = get_unique_task_id(
                default_task_id(service, method, path), kwargs.get("dag")
            )
        super().__init__(**kwargs)
        self.service = service
        self.method = method.upper()
        self.path = path
        self.query = query
        self.json = json
        self.headers = headers
        # An environment variable name cannot hold '-': AIRFLOW_CONN_COWORKS_MY_SVC.
        self.conn_id = conn_id or f"coworks_{service.replace('-', '_')}"
        self.timeout = timeout

    def execute(self, context: Context) -> t.Any:
        hook = TechServiceHook(self.conn_id, timeout=self.timeout)
        response = hook.call(
            self.method,
            str(self.path),  # a DAG rendering natively may make it a number
            query=self.query,
            json=self.json,
            headers=self.headers,
        )
        # Redirects are not followed: an entry answers, it does not send elsewhere.
        if response.status_code >= 300:
            raise TechServiceError(
                f"{self.service} answered {response.status_code} to {self.method} "
                f"{self.path}: {response.text[:500]}"
            )
        if response.status_code == 204 or not response.content:
            return None
        mimetype = response.headers.get("content-type", "").split(";")[0].strip()
        if mimetype == "application/json" or mimetype.endswith("+json"):
            try:
                return response.json()
            except ValueError:
                raise TechServiceError(
                    f"{self.service} answered {mimetype} that is not JSON: "
                    f"{response.text[:200]}"
                ) from None
        return response.text


def default_task_id(service: str, method: str, path: str) -> str:
    """A task id naming the call: service, verb and the literal path segments."""
    path = path.partition("?")[0]
    literal = [part for part in path.split("/") if part and "{" not in part]
    words = [service, method.lower(), *literal]
    # Airflow keys are under 250 characters; room is left for a __N suffix.
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "_".join(words))[:240]
