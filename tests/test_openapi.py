"""svc.openapi() is a valid OpenAPI 3.1 document that says what the entries take."""

from __future__ import annotations

import dataclasses
import typing as t
import uuid
from pathlib import PurePosixPath

import pydantic
import pytest
from openapi_spec_validator import validate
from werkzeug.datastructures import FileStorage

from coworks import Blueprint
from coworks import TechMicroService
from coworks import entry


@dataclasses.dataclass
class Line:
    sku: str
    qty: int = 1


class Customer(pydantic.BaseModel):
    name: str
    age: int = 0


class Admin(Blueprint):
    @entry
    def get_version(self) -> dict:
        return {}


class Shop(TechMicroService):
    """Sells tea.

    And mugs."""

    version = "2.1.0"

    @entry(no_auth=True)
    def get(self) -> str:
        """Say hello.

        Nothing else."""
        return "hello"

    @entry
    def get_item(
        self,
        item_id: uuid.UUID,
        tags: list[str] | None = None,
        sort: t.Literal["asc", "desc"] = "asc",
    ) -> Line:
        return Line("tea")

    @entry
    def post_line(self, line: Line, dry: bool = False) -> None:
        return None

    @entry
    def put_customer(self, customer: Customer) -> Customer:
        return customer

    @entry
    def post_upload(self, file: FileStorage, note: str = ""):
        return {}

    @entry
    def post_search(self, q: str, limit: int = 10, **extra):
        return {}

    @entry
    def get_file(self, bucket: str, key: PurePosixPath):
        return {}


@pytest.fixture(scope="module")
def doc():
    service = Shop()
    service.register_blueprint(Admin(), url_prefix="/admin")
    return service.openapi()


def test_the_document_is_valid_openapi_3_1(doc):
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {
        "title": "shop",
        "version": "2.1.0",
        "description": "Sells tea.\n\nAnd mugs.",
    }


def test_every_route_is_an_operation(doc):
    operations = {
        (method.upper(), path, operation["operationId"])
        for path, item in doc["paths"].items()
        for method, operation in item.items()
    }
    assert operations == {
        ("GET", "/", "get"),
        ("GET", "/item/{item_id}", "get_item"),
        ("POST", "/line", "post_line"),
        ("PUT", "/customer", "put_customer"),
        ("POST", "/upload", "post_upload"),
        ("POST", "/search/{q}", "post_search"),
        ("GET", "/file/{bucket}/{key}", "get_file"),
        ("GET", "/admin/version", "admin.get_version"),
    }


def test_path_and_query_parameters_are_typed(doc):
    parameters = doc["paths"]["/item/{item_id}"]["get"]["parameters"]
    assert parameters == [
        {
            "name": "item_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "format": "uuid"},
        },
        {
            "name": "tags",
            "in": "query",
            "required": False,
            "schema": {
                "anyOf": [
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "null"},
                ],
                "default": None,
            },
            "style": "form",
            "explode": True,
        },
        {
            "name": "sort",
            "in": "query",
            "required": False,
            "schema": {"enum": ["asc", "desc"], "default": "asc"},
        },
    ]


def test_a_dataclass_body_is_a_component_schema(doc):
    operation = doc["paths"]["/line"]["post"]
    assert operation["requestBody"] == {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Line"}}
        },
    }
    assert doc["components"]["schemas"]["Line"] == {
        "type": "object",
        "properties": {
            "sku": {"type": "string"},
            "qty": {"type": "integer", "default": 1},
        },
        "required": ["sku"],
        "additionalProperties": False,
    }
    # With the model taking the whole body, the flag comes from the query string.
    assert [p["name"] for p in operation["parameters"]] == ["dry"]
    assert set(operation["responses"]) == {"204", "401", "403", "422", "500"}


def test_a_pydantic_model_uses_its_own_schema(doc):
    schema = doc["components"]["schemas"]["Customer"]
    assert schema["properties"]["name"]["type"] == "string"
    assert schema["required"] == ["name"]
    ok = doc["paths"]["/customer"]["put"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Customer"
    }


def test_uploads_are_multipart_form_data(doc):
    body = doc["paths"]["/upload"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["file"] == {"type": "string", "format": "binary"}
    assert schema["required"] == ["file"]


def test_a_json_body_lists_its_keys_and_allows_extra_ones_for_kwargs(doc):
    body = doc["paths"]["/search/{q}"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema == {
        "type": "object",
        "properties": {"limit": {"type": "integer", "default": 10}},
    }


def test_no_auth_entries_need_no_token_and_others_the_bearer(doc):
    assert doc["security"] == [{"bearerAuth": []}]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
    root = doc["paths"]["/"]["get"]
    assert root["security"] == []
    assert "401" not in root["responses"]
    assert root["summary"] == "Say hello."
    assert root["description"] == "Nothing else."
    assert root["responses"]["200"]["content"] == {
        "text/plain": {"schema": {"type": "string"}}
    }


def test_errors_are_json_with_the_error_schema(doc):
    responses = doc["components"]["responses"]
    assert set(responses) == {"401", "403", "422", "500"}
    assert responses["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]


def test_a_trailing_path_is_described(doc):
    key = doc["paths"]["/file/{bucket}/{key}"]["get"]["parameters"][1]
    assert key["description"] == "The rest of the path, slashes included."
