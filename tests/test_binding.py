"""Parameters bind from the path, the query string, forms, uploads and JSON bodies."""

from __future__ import annotations

import dataclasses
import io
import typing as t
import uuid
from pathlib import PurePosixPath

import pydantic
import pytest
from werkzeug.datastructures import FileStorage

from coworks import TechMicroService
from coworks import entry
from coworks.binding import EntryError
from coworks.invoke import invoke


@dataclasses.dataclass
class Line:
    sku: str
    qty: int = 1


@dataclasses.dataclass
class Basket:
    owner: str
    lines: list[Line] = dataclasses.field(default_factory=list)

    def __post_init__(self):
        if not self.owner:
            raise ValueError("owner must not be empty")


class Customer(pydantic.BaseModel):
    name: str
    age: int = pydantic.Field(ge=0)


class Store(TechMicroService):
    @entry
    def get_thing(self, thing_id: uuid.UUID):
        return {"id": str(thing_id), "version": thing_id.version}

    @entry
    def get_file(self, bucket: str, key: PurePosixPath):
        return {"bucket": bucket, "key": str(key), "parts": list(key.parts)}

    @entry
    def get_search(self, tags: list[int], sort: t.Literal["asc", "desc"] = "asc"):
        return {"tags": tags, "sort": sort}

    @entry
    def post_search(self, q: str = "", limit: int = 10):
        return {"q": q, "limit": limit}

    @entry
    def post_basket(self, basket: Basket, dry: bool = False):
        return {"basket": dataclasses.asdict(basket), "dry": dry}

    @entry
    def put_customer(self, customer: Customer):
        return customer

    @entry
    def post_pair(self, left: Line, right: Line):
        return {"left": left.sku, "right": right.sku}

    @entry
    def post_upload(self, file: FileStorage, note: str = ""):
        return {"name": file.filename, "size": len(file.read()), "note": note}

    @entry
    def post_uploads(self, files: list[FileStorage]):
        return {"names": [f.filename for f in files]}

    @entry
    def post_raw(self):
        from flask import request

        return {"length": len(request.get_data())}

    @entry
    def post_settings(self, config: dict[str, int]):
        return config


@pytest.fixture
def client():
    return Store().test_client()


def test_a_uuid_path_parameter_is_a_uuid(client):
    answer = client.get("/thing/6ba7b810-9dad-11d1-80b4-00c04fd430c8")
    # The namespace UUID of RFC 4122 appendix C is a version 1 UUID.
    assert answer.json == {"id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "version": 1}


def test_a_path_parameter_that_is_not_a_uuid_is_422(client):
    answer = client.get("/thing/42")
    assert answer.status_code == 422
    assert answer.json["parameter"] == "thing_id"
    assert answer.json["message"] == "expected a UUID, got '42'"


def test_a_trailing_path_parameter_takes_the_slashes(client):
    answer = client.get("/file/photos/2024/june/beach.jpg")
    assert answer.json == {
        "bucket": "photos",
        "key": "2024/june/beach.jpg",
        "parts": ["2024", "june", "beach.jpg"],
    }


def test_a_list_without_default_is_a_required_query_parameter(client):
    assert client.get("/search?tags=3&tags=1").json == {"tags": [3, 1], "sort": "asc"}
    missing = client.get("/search")
    assert missing.status_code == 422
    assert missing.json["parameter"] == "tags"
    assert missing.json["message"].startswith("missing")


def test_a_literal_accepts_its_values_only(client):
    assert client.get("/search?tags=1&sort=desc").json["sort"] == "desc"
    answer = client.get("/search?tags=1&sort=up")
    assert answer.status_code == 422
    assert answer.json["message"] == "expected one of asc, desc, got 'up'"


def test_a_post_reads_options_from_the_query_string_too(client):
    assert client.post("/search?q=tea&limit=3").json == {"q": "tea", "limit": 3}
    assert client.post("/search?q=tea", json={"limit": 3}).json == {
        "q": "tea",
        "limit": 3,
    }


def test_a_value_given_in_the_query_and_the_body_is_422(client):
    answer = client.post("/search?q=tea", json={"q": "coffee"})
    assert answer.status_code == 422
    assert answer.json["parameter"] == "q"
    assert answer.json["message"] == "given twice; give it once"


def test_a_form_body_is_converted_like_a_query(client):
    answer = client.post("/search", data={"q": "tea", "limit": "4"})
    assert answer.json == {"q": "tea", "limit": 4}


def test_a_form_value_that_does_not_convert_is_422(client):
    answer = client.post("/search", data={"limit": "four"})
    assert answer.status_code == 422
    assert answer.json == {
        "error": "Unprocessable Entity",
        "parameter": "limit",
        "message": "expected an integer, got 'four'",
    }


def test_a_lone_dataclass_takes_the_whole_json_body(client):
    body = {"owner": "ann", "lines": [{"sku": "tea"}, {"sku": "mug", "qty": 2}]}
    answer = client.post("/basket?dry=true", json=body)
    assert answer.json == {
        "basket": {
            "owner": "ann",
            "lines": [{"sku": "tea", "qty": 1}, {"sku": "mug", "qty": 2}],
        },
        "dry": True,
    }


@pytest.mark.parametrize(
    ("body", "parameter", "message"),
    [
        ({"lines": []}, "basket.owner", "missing required field"),
        ({"owner": "ann", "colour": "red"}, "basket.colour", "unknown field"),
        ({"owner": "ann", "lines": [{"qty": 2}]}, "basket.lines[0].sku", "missing"),
        ({"owner": "ann", "lines": [{"sku": 3}]}, "basket.lines[0].sku", "a string"),
        ({"owner": ""}, "basket", "owner must not be empty"),
        ([1, 2], "basket", "expected an object, got a list"),
    ],
)
def test_a_dataclass_body_is_checked_field_by_field(client, body, parameter, message):
    answer = client.post("/basket", json=body)
    assert answer.status_code == 422
    assert answer.json["parameter"] == parameter
    assert message in answer.json["message"]


def test_a_missing_model_body_is_422(client):
    answer = client.post("/basket")
    assert answer.status_code == 422
    assert answer.json["parameter"] == "basket"
    assert answer.json["message"] == "missing; expected a JSON body (Basket)"


def test_a_pydantic_model_is_validated_by_pydantic_and_returned_as_json(client):
    answer = client.put("/customer", json={"name": "Ann", "age": 41})
    assert answer.json == {"name": "Ann", "age": 41}
    refused = client.put("/customer", json={"name": "Ann", "age": -1})
    assert refused.status_code == 422
    assert refused.json["parameter"] == "customer.age"
    assert refused.json["message"] == "Input should be greater than or equal to 0"


def test_two_models_are_read_from_keys_of_their_names(client):
    body = {"left": {"sku": "tea"}, "right": {"sku": "mug"}}
    assert client.post("/pair", json=body).json == {"left": "tea", "right": "mug"}


def test_an_uploaded_file_is_a_werkzeug_file_storage(client):
    data = {"file": (io.BytesIO(b"hello"), "note.txt"), "note": "first"}
    answer = client.post("/upload", data=data, content_type="multipart/form-data")
    assert answer.json == {"name": "note.txt", "size": 5, "note": "first"}


def test_repeated_uploads_make_a_list(client):
    data = {"files": [(io.BytesIO(b"a"), "a.txt"), (io.BytesIO(b"b"), "b.txt")]}
    answer = client.post("/uploads", data=data, content_type="multipart/form-data")
    assert answer.json == {"names": ["a.txt", "b.txt"]}


def test_a_file_sent_as_json_or_text_is_422(client):
    answer = client.post("/upload", json={"file": "hello"})
    assert answer.status_code == 422
    assert answer.json["parameter"] == "file"
    assert "multipart/form-data" in answer.json["message"]
    text = client.post("/upload", data={"file": "hello"})
    assert text.status_code == 422
    assert text.json["parameter"] == "file"


def test_a_body_of_another_type_is_left_for_the_entry(client):
    answer = client.post("/raw", data=b"\x00\x01\x02", content_type="image/png")
    assert answer.json == {"length": 3}


def test_dict_values_are_checked_against_their_type(client):
    assert client.post("/settings", json={"config": {"a": 1}}).json == {"a": 1}
    answer = client.post("/settings", json={"config": {"a": "one"}})
    assert answer.json["parameter"] == "config.a"


def test_binding_is_the_same_through_the_lambda_path():
    store = Store()
    answer = invoke(store, "POST", "/basket", json={"owner": "bo"})
    assert answer.json() == {"basket": {"owner": "bo", "lines": []}, "dry": False}
    wrong = invoke(store, "GET", "/thing/nope")
    assert wrong.status == 422
    assert wrong.json()["parameter"] == "thing_id"


def test_a_trailing_path_parameter_must_be_the_last_path_parameter():
    class Bad(TechMicroService):
        @entry
        def get_x(self, key: PurePosixPath, name: str):
            return {}

    with pytest.raises(EntryError, match="must be the last parameter"):
        Bad()


def test_returns_follow_flask_tuples_and_responses():
    class Answers(TechMicroService):
        @entry
        def post_made(self):
            return Line("tea"), 201, {"Location": "/made/1"}

        @entry
        def get_binary(self):
            return b"\x89PNG"

        @entry
        def get_customer(self):
            return Customer(name="Ann", age=3), 200

    client = Answers().test_client()
    made = client.post("/made")
    assert (made.status_code, made.json) == (201, {"sku": "tea", "qty": 1})
    assert made.headers["Location"] == "/made/1"
    binary = client.get("/binary")
    assert binary.headers["Content-Type"] == "application/octet-stream"
    assert binary.data == b"\x89PNG"
    assert client.get("/customer").json == {"name": "Ann", "age": 3}
