"""Entries ask for a bearer token; the same check answers API Gateway authorizers."""

from __future__ import annotations

import copy

import pytest
from helpers import load_event

from coworks import Blueprint
from coworks import TechMicroService
from coworks import entry
from coworks.invoke import invoke


class Vault(TechMicroService):
    @entry
    def get_secret(self):
        return {"secret": 42}

    @entry(no_auth=True)
    def get_health(self):
        return "ok"


class Keys(Blueprint):
    @entry
    def get_list(self):
        return ["k1"]


class OwnCheck(TechMicroService):
    def token_authorizer(self, token):
        return token.startswith("team-")

    @entry
    def get(self):
        return {"in": True}


@pytest.fixture
def vault(monkeypatch):
    monkeypatch.setenv("TOKEN", "s3cret")
    service = Vault()
    service.register_blueprint(Keys(), url_prefix="/keys")
    return service


def test_no_token_is_401_with_www_authenticate(vault):
    answer = invoke(vault, "GET", "/secret")
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="vault"'
    assert answer.json()["error"] == "Unauthorized"


def test_a_wrong_token_is_403(vault):
    answer = invoke(vault, "GET", "/secret", headers={"Authorization": "Bearer nope"})
    assert answer.status == 403
    assert answer.json()["error"] == "Forbidden"


def test_the_token_of_the_environment_lets_the_request_in(vault):
    answer = invoke(vault, "GET", "/secret", headers={"Authorization": "Bearer s3cret"})
    assert (answer.status, answer.json()) == (200, {"secret": 42})


def test_a_bare_token_is_read_as_coworks_0_9_clients_send_it(vault):
    answer = invoke(vault, "GET", "/secret", headers={"Authorization": "s3cret"})
    assert answer.status == 200


def test_another_scheme_is_refused(vault):
    answer = invoke(vault, "GET", "/secret", headers={"Authorization": "Basic s3cret"})
    assert answer.status == 401


def test_a_no_auth_entry_answers_without_a_token(vault):
    assert invoke(vault, "GET", "/health").text == "ok"


def test_blueprint_entries_ask_for_the_token_too(vault):
    assert invoke(vault, "GET", "/keys/list").status == 401
    answer = invoke(vault, "GET", "/keys/list", headers={"Authorization": "s3cret"})
    assert answer.json() == ["k1"]


def test_unknown_paths_and_wrong_methods_are_answered_before_the_token(vault):
    assert invoke(vault, "GET", "/nowhere").status == 404
    assert invoke(vault, "POST", "/secret").status == 405


def test_a_cors_preflight_needs_no_token(vault):
    assert invoke(vault, "OPTIONS", "/secret").status == 200


def test_without_token_and_own_authorizer_a_service_is_open(monkeypatch):
    monkeypatch.delenv("TOKEN", raising=False)
    service = Vault()
    assert service.open_access
    assert invoke(service, "GET", "/secret").status == 200


def test_a_service_with_its_own_authorizer_is_never_open(monkeypatch):
    monkeypatch.delenv("TOKEN", raising=False)
    service = OwnCheck()
    assert not service.open_access
    assert invoke(service, "GET", "/").status == 401
    assert (
        invoke(service, "GET", "/", headers={"Authorization": "Bearer x"}).status == 403
    )
    allowed = invoke(service, "GET", "/", headers={"Authorization": "Bearer team-a"})
    assert allowed.json() == {"in": True}


def test_only_true_lets_a_request_in(monkeypatch):
    class Sloppy(TechMicroService):
        def token_authorizer(self, token):
            return "refused: unknown user"  # truthy, but not True

        @entry
        def get(self):
            return {}

    answer = invoke(Sloppy(), "GET", "/", headers={"Authorization": "Bearer a"})
    assert answer.status == 403


def test_a_failing_authorizer_is_a_500_with_request_id(caplog):
    class Broken(TechMicroService):
        def token_authorizer(self, token):
            raise RuntimeError("directory down")

        @entry
        def get(self):
            return {}

    answer = invoke(Broken(), "GET", "/", headers={"Authorization": "Bearer a"})
    assert answer.status == 500
    assert "request_id" in answer.json()
    assert "directory down" not in answer.text
    assert "directory down" in caplog.text


# Authorizer events: the responses' shapes are those of the API Gateway guide,
# "Output from an API Gateway Lambda authorizer" (REST) and "Working with AWS
# Lambda authorizers for HTTP APIs" (simple response format).


def _policy(effect: str, resource: str) -> dict:
    return {
        "principalId": "coworks",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
            ],
        },
    }


def test_a_token_authorizer_event_gets_an_allow_policy_for_the_right_token(vault):
    event = load_event("powertools-lambda-python/apiGatewayAuthorizerTokenEvent.json")
    # The event's methodArn is …:ymy8tbxw7b/*/GET/; the policy covers the stage.
    arn = "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/*"
    assert vault(event, None) == _policy("Deny", arn)  # its token is "allow"
    event["authorizationToken"] = "Bearer s3cret"
    assert vault(event, None) == _policy("Allow", arn)


def test_a_request_authorizer_event_reads_the_authorization_header(vault):
    event = load_event("powertools-lambda-python/apiGatewayAuthorizerRequestEvent.json")
    # The event's methodArn is …:abcdef123/test/GET/request, on the stage "test".
    arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/*"
    assert vault(event, None) == _policy("Deny", arn)  # it has no such header
    allowed = copy.deepcopy(event)
    allowed["headers"]["Authorization"] = "Bearer s3cret"
    assert vault(allowed, None) == _policy("Allow", arn)


def test_an_http_api_authorizer_event_gets_a_simple_response(vault):
    event = load_event("powertools-lambda-python/apiGatewayAuthorizerV2Event.json")
    assert vault(event, None) == {"isAuthorized": False}  # its header says "value"
    event["headers"]["Authorization"] = "Bearer s3cret"
    assert vault(event, None) == {"isAuthorized": True}


def test_an_open_service_allows_no_authorizer_event(monkeypatch):
    monkeypatch.delenv("TOKEN", raising=False)
    event = load_event("powertools-lambda-python/apiGatewayAuthorizerV2Event.json")
    event["headers"]["Authorization"] = "Bearer anything"
    assert Vault()(event, None) == {"isAuthorized": False}


def test_a_failing_authorizer_denies_an_authorizer_event(caplog):
    class Broken(TechMicroService):
        def token_authorizer(self, token):
            raise RuntimeError("directory down")

    event = load_event("powertools-lambda-python/apiGatewayAuthorizerV2Event.json")
    assert Broken()(event, None) == {"isAuthorized": False}
    assert "directory down" in caplog.text


def test_on_lambda_a_service_without_token_is_closed(monkeypatch, caplog):
    monkeypatch.delenv("TOKEN", raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "vault")
    service = Vault()
    assert not service.open_access
    assert "no TOKEN is set, so every request is refused" in caplog.text
    assert invoke(service, "GET", "/secret").status == 401
    refused = invoke(service, "GET", "/secret", headers={"Authorization": "x"})
    assert refused.status == 403
    assert refused.json()["message"] == (
        "no TOKEN is set for this service, so every token is refused"
    )
    assert invoke(service, "GET", "/health").status == 200  # no_auth stays open


def test_cws_public_opens_a_service_without_token_on_lambda(monkeypatch):
    monkeypatch.delenv("TOKEN", raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "vault")
    monkeypatch.setenv("CWS_PUBLIC", "true")
    assert invoke(Vault(), "GET", "/secret").status == 200
