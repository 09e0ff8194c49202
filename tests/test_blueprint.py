"""Blueprints carry entries under a prefix; stages choose the entries that exist."""

from __future__ import annotations

import pytest

from coworks import Blueprint
from coworks import TechMicroService
from coworks import entry
from coworks.binding import EntryError
from coworks.routing import RoutingError


class Admin(Blueprint):
    @entry
    def get_version(self):
        return {"version": "1.2"}

    @entry
    def post_cache_clear(self, region: str = "all"):
        return {"cleared": region}


class Shop(TechMicroService):
    @entry
    def get(self):
        return {"shop": True}

    @entry(stage="dev")
    def get_debug(self):
        return {"debug": True}

    @entry(stage=["dev", "test"])
    def post_reset(self):
        return None


def test_a_blueprint_mounts_its_entries_under_its_prefix():
    service = Shop()
    service.register_blueprint(Admin(), url_prefix="/admin")
    client = service.test_client()
    assert client.get("/admin/version").json == {"version": "1.2"}
    answer = client.post("/admin/cache/clear", json={"region": "eu"})
    assert answer.json == {"cleared": "eu"}
    routes = {(r.method, r.rule, r.endpoint) for r in service.routes}
    assert ("GET", "/admin/version", "admin.get_version") in routes


def test_a_blueprint_binds_and_refuses_as_a_service_does():
    service = Shop()
    service.register_blueprint(Admin(), url_prefix="/admin")
    answer = service.test_client().post("/admin/cache/clear", json={"zone": 1})
    assert answer.status_code == 422
    assert answer.json["parameter"] == "zone"


def test_a_blueprint_serving_a_route_of_the_service_is_refused():
    class Root(Blueprint):
        @entry
        def get(self):
            return {}

    with pytest.raises(RoutingError, match="both serve GET /"):
        Shop().register_blueprint(Root())


def test_a_blueprint_is_named_after_its_class_or_its_name():
    assert Admin().name == "admin"
    assert Admin("ops").name == "ops"


def test_stage_entries_exist_only_in_their_stage(monkeypatch):
    monkeypatch.delenv("CWS_STAGE", raising=False)
    assert {r.rule for r in Shop().routes} == {"/"}
    monkeypatch.setenv("CWS_STAGE", "dev")
    assert {r.rule for r in Shop().routes} == {"/", "/debug", "/reset"}
    monkeypatch.setenv("CWS_STAGE", "test")
    client = Shop().test_client()
    assert client.post("/reset").status_code == 204
    assert client.get("/debug").status_code == 404


def test_blueprint_entries_follow_the_stage_too(monkeypatch):
    class Tools(Blueprint):
        @entry(stage="dev")
        def get_dump(self):
            return {}

    monkeypatch.setenv("CWS_STAGE", "prod")
    assert Tools().blueprint_entries == {}


def test_a_stage_must_be_named():
    with pytest.raises(EntryError, match="stage must be a stage name"):
        entry(stage="")
