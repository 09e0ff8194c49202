"""Proving a Lambda zip: unpack it alone and let it answer an event.

The zip is unpacked into an empty folder and imported by a fresh interpreter started
with ``-I -S``: no site-packages, no user site, no environment variables, so the
handler sees nothing but that folder and the standard library, as on Lambda.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import typing as t
import zipfile
from pathlib import Path

from .package import HANDLER

#: Top-level modules a zip must answer without importing.
FORBIDDEN_MODULES = ("airflow", "IPython", "ipykernel", "jupyter_client", "boto3")

_RUNNER = """
import importlib, json, sys
root, handler_name = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
module_name, _, function_name = handler_name.rpartition(".")
handler = getattr(importlib.import_module(module_name), function_name)

class Context:
    function_name = "isolated"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    memory_limit_in_mb = 128

    def get_remaining_time_in_millis(self):
        return 30000

response = handler(json.load(sys.stdin), Context())
loaded = sorted({name.split(".")[0] for name in sys.modules})
json.dump({"response": response, "modules": loaded}, sys.stdout)
"""


def aimed(
    event: t.Mapping[str, t.Any],
    method: str,
    path: str,
    body: str | None = None,
    token: str | None = None,
) -> dict[str, t.Any]:
    """A copy of a real REST event sent to another route.

    Method, path and body are replaced and the query is cleared; the headers and the
    request context stay as the event had them, but for the Authorization header,
    which carries ``token`` as a bearer token, or is removed.
    """
    headers = _without_authorization(event.get("headers"))
    multi = _without_authorization(event.get("multiValueHeaders"))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
        multi["Authorization"] = [f"Bearer {token}"]
    return {
        **event,
        "httpMethod": method.upper(),
        "path": path,
        "body": body,
        "isBase64Encoded": False,
        "headers": headers,
        "multiValueHeaders": multi,
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
    }


def _without_authorization(headers: t.Any) -> dict[str, t.Any]:
    return {
        key: value
        for key, value in (headers or {}).items()
        if key.lower() != "authorization"
    }


class ZipCheckError(RuntimeError):
    """The zip did not answer: it failed to import, raised, or timed out."""


def invoke_zip(
    zip_path: str | Path,
    event: t.Mapping[str, t.Any],
    *,
    handler: str = HANDLER,
    timeout: float = 60.0,
    environment: t.Mapping[str, str] | None = None,
) -> dict[str, t.Any]:
    """Answer ``event`` with the zip's handler in an isolated interpreter.

    :param environment: the function's environment variables (``TOKEN``,
        ``CWS_STAGE``…), as its configuration would set them; Lambda's own
        ``AWS_LAMBDA_FUNCTION_NAME`` is set to the zip's folder name. Nothing else
        of this process's environment reaches the interpreter.

    :return: ``{"response": <the handler's response dict>, "modules": [<top-level
        modules the interpreter had loaded>]}``.
    :raises ZipCheckError: with the interpreter's error output when it fails.
    """
    with tempfile.TemporaryDirectory(prefix="cws-zip-") as folder:
        root = Path(folder) / "task"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(root)
        try:
            process = subprocess.run(
                [sys.executable, "-I", "-S", "-c", _RUNNER, str(root), handler],
                input=json.dumps(event),
                capture_output=True,
                text=True,
                cwd=folder,
                timeout=timeout,
                env={
                    "LANG": "C.UTF-8",
                    "AWS_LAMBDA_FUNCTION_NAME": Path(zip_path).parent.name or "coworks",
                    **(environment or {}),
                },
            )
        except subprocess.TimeoutExpired:
            raise ZipCheckError(f"{zip_path} did not answer in {timeout} s") from None
    if process.returncode != 0:
        raise ZipCheckError(f"{zip_path} failed to answer:\n{process.stderr.strip()}")
    return json.loads(process.stdout)
