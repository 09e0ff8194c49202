"""Each layer imports only those below it: checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["airflow", "IPython", "ipykernel", "jupyter_client", "boto3", "botocore"]

#: The project tooling: the command line, its configuration and TARGETs.
TOOLING = [
    "yaml",
    "dotenv",
    "coworks.cli",
    "coworks.config",
    "coworks.targets",
    "coworks.scaffold",
]


#: A service answering an API Gateway REST event, as on Lambda.
ANSWER_EVENT = """
from coworks import TechMicroService
event = {"httpMethod": "GET", "path": "/", "headers": {}, "requestContext": {}}
assert TechMicroService("s")(event)["statusCode"] == 404
"""

#: The same event invoked asynchronously, in an environment where boto3 finds no
#: credentials: it fails before sending anything, anywhere.
ANSWER_ASYNCHRONOUSLY = """
import os
for name in [name for name in os.environ if name.startswith("AWS_")]:
    del os.environ[name]
os.environ.update(
    AWS_EC2_METADATA_DISABLED="true",
    AWS_CONFIG_FILE="/nonexistent/config",
    AWS_SHARED_CREDENTIALS_FILE="/nonexistent/credentials",
    AWS_ENDPOINT_URL_S3="http://127.0.0.1:9",
    AWS_DEFAULT_REGION="us-east-1",
)
from coworks import TechMicroService
event = {"httpMethod": "GET", "path": "/", "headers": {}, "requestContext": {}}
event["coworks"] = {"async": {"bucket": "answers", "key": "k.json"}}
assert "NoCredentialsError" in TechMicroService("s")(event)["error"]
"""


def loaded_after(statement: str) -> set[str]:
    """Top-level modules, and coworks' own submodules, loaded by ``statement``."""
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    names = json.loads(output)
    return {n.split(".")[0] for n in names} | {n for n in names if "coworks." in n}


@pytest.mark.parametrize(
    ("statement", "absent"),
    [
        # The service runtime, as a Lambda zip runs it.
        (
            "import coworks",
            # The asynchronous path and OpenAPI load when first used.
            HEAVY
            + TOOLING
            + ["nbformat", "coworks.export", "coworks.sources"]
            + ["coworks.asynchronous", "coworks.openapi"],
        ),
        ("from coworks import TechMicroService, entry", HEAVY + TOOLING + ["nbformat"]),
        # Answering HTTP events needs no boto3, even with the asynchronous path in.
        ("import coworks.asynchronous", HEAVY),
        (ANSWER_EVENT, HEAVY + TOOLING + ["nbformat"]),
        # Export works without IPython or Airflow.
        ("import coworks.export", HEAVY),
        ("import coworks.cli", HEAVY),
        # Configuration and TARGETs serve export and deploy too, without a notebook.
        ("import coworks.config", HEAVY),
        ("import coworks.targets", HEAVY),
        # The notebook's Python face does not need IPython.
        ("from coworks.notebook import call", HEAVY),
    ],
)
def test_import_pulls_in_nothing_from_the_layers_above(statement, absent):
    loaded = loaded_after(statement)
    assert not loaded & set(absent), f"{statement!r} loaded {loaded & set(absent)}"


def test_biz_imports_airflow_only_when_used():
    assert "airflow" not in loaded_after("import coworks")
    assert "airflow" in loaded_after("from coworks import biz")


def test_an_asynchronous_invocation_imports_boto3_only_when_storing():
    assert "boto3" not in loaded_after(ANSWER_EVENT)
    assert "boto3" in loaded_after(ANSWER_ASYNCHRONOUSLY)
