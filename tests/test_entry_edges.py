"""Edges found by attacking entries: each was a 500, a bypass or a wrong document."""

from __future__ import annotations

import dataclasses
import datetime  # noqa: F401  (the annotation of a dataclass built below)
import io
import typing as t
from pathlib import PurePosixPath

import pydantic
import pytest
from helpers import load_event
from openapi_spec_validator import validate
from werkzeug.datastructures import FileStorage
from werkzeug.test import Client

from coworks import Blueprint
from coworks import TechMicroService
from coworks import entry
from coworks.binding import EntryError
from coworks.local import LocalGateway
from coworks.routing import RoutingError


def test_an_entry_may_not_hide_an_attribute_of_the_service(monkeypatch):
    monkeypatch.setenv("TOKEN", "s3cret")

    class Doors(TechMicroService):
        @entry
        def open_access(self):  # would make every request let in
            return {}

    with pytest.raises(EntryError, match="'open_access_' serves the same route"):
        Doors()


def test_entries_named_after_a_verb_alone_are_the_root():
    class Root(TechMicroService):
        @entry
        def get(self):
            return "root"

        @entry
        def post(self, name: str = ""):
            return {"name": name}

    client = Root().test_client()
    assert client.get("/").text == "root"
    assert client.post("/", json={"name": "a"}).json == {"name": "a"}


def test_the_route_follows_the_name_in_the_class():
    class Orders(TechMicroService):
        @entry
        def get_orders(self):
            return ["o1"]

        get_commands = get_orders

    assert {r.rule for r in Orders().routes} == {"/orders", "/commands"}


@dataclasses.dataclass
class Node:
    value: int
    children: list[Node] = dataclasses.field(default_factory=list)


class Address(t.TypedDict):
    city: str
    zip: int


class Edges(TechMicroService):
    @entry
    def post_tree(self, node: Node):
        return {"value": node.value}

    @entry
    def post_ship(self, address: Address):
        return {"zip": address["zip"] + 1}

    @entry
    def post_upload(self, file: FileStorage | None = None, meta: dict | None = None):
        return {"meta": meta}

    @entry
    def get_file(self, key: PurePosixPath):
        return {"key": str(key)}

    @entry
    def post_echo(self, text: str = ""):
        return text

    @entry
    def get_report(self, fmt: t.Literal["csv", "json"]):
        return {"fmt": fmt}

    @entry
    def post_choice(self, pick: t.Literal["a", None] = None):
        return {"pick": pick}


@pytest.fixture
def edges():
    return Edges().test_client()


def test_a_model_nested_too_deep_for_python_is_422(edges):
    body = '{"value":1,"children":[' * 400 + '{"value":0}' + "]}" * 400
    answer = edges.post("/tree", data=body, content_type="application/json")
    assert answer.status_code == 422
    assert answer.json["message"] == "nested too deeply"


@pytest.mark.parametrize(
    ("body", "parameter", "message"),
    [
        ({"city": "Paris"}, "address.zip", "missing required key"),
        ({"city": "Paris", "zip": "75001"}, "address.zip", "expected an integer"),
        ({"city": "Paris", "zip": 75001, "x": 1}, "address.x", "unknown key"),
    ],
)
def test_typed_dict_keys_and_values_are_checked(edges, body, parameter, message):
    answer = edges.post("/ship", json={"address": body})
    assert answer.status_code == 422
    assert answer.json["parameter"] == parameter
    assert answer.json["message"].startswith(message)


def test_a_typed_dict_that_fits_reaches_the_entry(edges):
    address = {"city": "P", "zip": 75001}
    assert edges.post("/ship", json={"address": address}).json == {"zip": 75002}


@pytest.mark.parametrize("path", ["/file/a/../../etc/passwd", "/file/%2e%2e/x"])
def test_a_trailing_path_may_not_climb(edges, path):
    answer = edges.get(path)
    assert answer.status_code == 422
    assert answer.json["parameter"] == "key"


def test_lone_surrogates_in_json_text_are_422(edges):
    answer = edges.post(
        "/echo", data='{"text": "\\ud800"}', content_type="application/json"
    )
    assert answer.status_code == 422
    assert answer.json["message"] == "expected text, got invalid Unicode"


def test_a_required_literal_is_a_path_segment(edges):
    assert edges.get("/report/csv").json == {"fmt": "csv"}
    assert edges.get("/report/pdf").status_code == 422


def test_a_literal_may_hold_none_in_json(edges):
    assert edges.post("/choice", json={"pick": None}).json == {"pick": None}
    assert edges.post("/choice", json={"pick": "a"}).json == {"pick": "a"}


def test_an_integer_too_long_says_so(edges):
    answer = edges.post("/echo", data='{"text": ' + "9" * 5000 + "}")
    assert answer.json["message"] == "holds a number too long to read"


def test_a_form_field_carries_json_for_an_option_a_form_cannot_say(edges):
    data = {"meta": '{"author": "ann"}', "file": (io.BytesIO(b"x"), "x.txt")}
    answer = edges.post("/upload", data=data, content_type="multipart/form-data")
    assert answer.json == {"meta": {"author": "ann"}}
    bad = edges.post("/upload", data={"meta": "{oops"})
    assert bad.status_code == 422
    assert bad.json["parameter"] == "meta"


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("when: datetime.date", "JSON has no value of type date"),
        ("secret: dataclasses.InitVar[str]", "is an InitVar"),
    ],
)
def test_a_dataclass_json_cannot_fill_is_refused_when_the_service_is_built(
    field, message
):
    # Its annotations resolve in this module, which imports datetime and dataclasses.
    namespace = {"__name__": __name__, "dataclasses": dataclasses}
    exec(f"@dataclasses.dataclass\nclass Bad:\n    {field}\n", namespace)
    bad = namespace["Bad"]

    def post_bad(self, item):
        return {}

    post_bad.__annotations__ = {"item": bad}

    cls = type("Svc", (TechMicroService,), {"post_bad": entry(post_bad)})
    with pytest.raises(EntryError, match=message):
        cls()


@dataclasses.dataclass
class Buggy:
    a: int

    def __post_init__(self):
        self.a + None  # noqa: B018


def test_a_type_error_in_post_init_is_a_bug_of_the_service_not_of_the_client():
    class Svc(TechMicroService):
        @entry
        def post_x(self, item: Buggy):
            return {}

    answer = Svc().test_client().post("/x", json={"a": 1})
    assert answer.status_code == 500
    assert "NoneType" not in answer.text


def test_a_blueprint_clash_leaves_the_service_as_it_was():
    class Admin(Blueprint):
        @entry
        def get_version(self):
            return {"v": 1}

    class Svc(TechMicroService):
        @entry
        def get_admin_version(self):
            return {"v": 0}

    service = Svc()
    with pytest.raises(RoutingError, match="both serve GET /admin/version"):
        service.register_blueprint(Admin(), url_prefix="/admin")
    assert {r.rule for r in service.routes} == {"/admin/version"}
    service.register_blueprint(Admin(), url_prefix="/ops")
    assert service.test_client().get("/ops/version").json == {"v": 1}


def test_a_blueprint_root_entry_serves_its_prefix_without_redirect():
    class Items(Blueprint):
        @entry
        def get(self):
            return ["i1"]

    service = TechMicroService("shop")
    service.register_blueprint(Items(), url_prefix="/items")
    client = service.test_client()
    assert client.get("/items").json == ["i1"]
    assert client.get("/items/").json == ["i1"]
    assert not 300 <= client.get("/items//").status_code < 400


def test_an_authorizer_that_exits_denies_instead_of_raising():
    class Exits(TechMicroService):
        def token_authorizer(self, token):
            raise SystemExit(1)

    event = load_event("powertools-lambda-python/apiGatewayAuthorizerV2Event.json")
    assert Exits()(event, None) == {"isAuthorized": False}


def test_a_token_event_without_a_usable_method_arn_is_denied(monkeypatch):
    monkeypatch.setenv("TOKEN", "s3cret")
    event = {"type": "TOKEN", "authorizationToken": "s3cret", "methodArn": 7}
    statement = TechMicroService("x")(event, None)["policyDocument"]["Statement"][0]
    assert (statement["Effect"], statement["Resource"]) == ("Deny", "*")


def test_a_stage_that_is_not_a_name_is_refused():
    with pytest.raises(EntryError, match="stage must be a stage name"):
        entry(stage=5)  # type: ignore[arg-type]


def test_the_local_gateway_reads_header_bytes_as_utf8(monkeypatch):
    monkeypatch.setenv("TOKEN", "clé")

    class Vault(TechMicroService):
        @entry
        def get(self):
            return "in"

    client = Client(LocalGateway({"vault": Vault()}))
    # WSGI hands header bytes on as Latin-1 text; these are the UTF-8 bytes of "clé".
    wire = "Bearer clé".encode().decode("latin-1")
    assert client.get("/vault/", headers={"Authorization": wire}).status_code == 200


# The OpenAPI document stays valid whatever the models.


class PTree(pydantic.BaseModel):
    value: int
    children: list[PTree] = []


T = t.TypeVar("T")


class Page(pydantic.BaseModel, t.Generic[T]):
    items: list[T]


def _other_line():
    @dataclasses.dataclass
    class Line:  # the same name as another model, another shape
        label: str

    return Line


@dataclasses.dataclass
class Line:
    sku: str


@dataclasses.dataclass
class Error:
    code: int


OtherLine = _other_line()


class Documented(TechMicroService):
    @entry
    def post_tree(self, tree: PTree):
        return {}

    @entry
    def post_page(self, page: Page[int]):
        return {}

    @entry
    def post_line(self, line: Line):
        return {}

    @entry
    def post_label(self, line: OtherLine):  # type: ignore[valid-type]
        return {}

    @entry
    def post_error(self, error: Error):
        return {}

    @entry
    def get_any(self, **extra):
        return {}

    @entry
    def get_maybe(self, n: int | None):
        return {}


class Tenants(Blueprint):
    @entry
    def get_users(self):
        return []


def test_openapi_stays_valid_with_recursive_generic_and_clashing_models():
    service = Documented()
    service.register_blueprint(Tenants(), url_prefix="/t/<tenant>")
    service.add_url_rule("/legacy/<int:id>", "legacy", lambda id: "")
    doc = service.openapi()
    validate(doc)
    schemas = doc["components"]["schemas"]
    assert schemas["Error"]["required"] == ["error"]  # the service's own errors
    assert schemas["Error2"]["properties"] == {"code": {"type": "integer"}}
    lines = [schemas["Line"]["properties"], schemas["Line2"]["properties"]]
    assert sorted(map(list, lines)) == [["label"], ["sku"]]
    assert "requestBody" not in doc["paths"]["/any"]["get"]
    (maybe,) = doc["paths"]["/maybe/{n}"]["get"]["parameters"]
    assert maybe["schema"] == {"type": "integer"}
    tenant = doc["paths"]["/t/{tenant}/users"]["get"]["parameters"]
    assert [p["name"] for p in tenant] == ["tenant"]


def test_a_model_wrapped_in_a_key_of_its_name_says_to_send_it_bare():
    class Svc(TechMicroService):
        @entry
        def post_line(self, line: Line, dry: bool = False):
            return {}

    answer = Svc().test_client().post("/line", json={"line": {"sku": "tea"}})
    assert answer.status_code == 422
    assert answer.json["message"] == (
        "send the Line itself as the body, not inside a 'line' key"
    )


def test_json_sent_as_a_form_says_how_to_send_json(edges):
    answer = edges.post(
        "/echo",
        data='{"text": "hi"}',
        content_type="application/x-www-form-urlencoded",  # what curl -d sends
    )
    assert answer.status_code == 422
    assert "Content-Type: application/json" in answer.json["message"]


def test_a_stage_name_with_a_space_is_refused():
    with pytest.raises(EntryError, match="stage must be a stage name"):
        entry(stage="dev prod")
