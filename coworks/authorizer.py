"""Bearer tokens, and the Lambda authorizer events API Gateway sends.

A service checks a request's token with its ``token_authorizer`` method. API
Gateway can ask the same question before it calls the service at all, by sending
an *authorizer event* to a Lambda function; the service's handler answers those
too, through the same method:

* a REST API TOKEN authorizer (``"type": "TOKEN"``, the token in
  ``authorizationToken``) and a REST API REQUEST authorizer (``"type": "REQUEST"``,
  the token in the Authorization header) get an IAM policy allowing or denying
  ``execute-api:Invoke`` on the ``methodArn``;
* an HTTP API Lambda authorizer (``"version": "2.0"``, ``"type": "REQUEST"``) gets
  the simple response ``{"isAuthorized": ...}``: configure the authorizer with
  simple responses enabled.

Everything here is pure: dicts in, dicts out.
"""

from __future__ import annotations

import typing as t

_POLICY_VERSION = "2012-10-17"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an Authorization header: ``Bearer <token>``, or a bare token
    as API Gateway TOKEN authorizers and coworks 0.9.4 clients send it."""
    if not authorization or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None if token else scheme  # another scheme, or a bare token
    return token.strip() or None


def is_authorizer_event(event: t.Any) -> bool:
    """Whether ``event`` asks for an authorization rather than a response."""
    if not isinstance(event, dict):
        return False
    if event.get("type") == "TOKEN":
        return "methodArn" in event
    return event.get("type") == "REQUEST" and (
        "methodArn" in event or "routeArn" in event
    )


def token_of(event: dict[str, t.Any]) -> str | None:
    """The bearer token an authorizer event carries, if any."""
    if event.get("type") == "TOKEN":
        value = event.get("authorizationToken")
        return bearer_token(value) if isinstance(value, str) else None
    headers = event.get("headers")
    if isinstance(headers, dict):
        for key, value in headers.items():
            if isinstance(key, str) and key.lower() == "authorization":
                return bearer_token(value) if isinstance(value, str) else None
    return None


def answer(event: dict[str, t.Any], allowed: bool) -> dict[str, t.Any]:
    """The authorizer response of ``event``'s kind."""
    if "methodArn" not in event:  # an HTTP API authorizer names its routeArn
        return {"isAuthorized": allowed}
    resource = event["methodArn"]
    if not isinstance(resource, str):
        allowed, resource = False, "*"  # no resource to allow: deny them all
    else:
        resource = _whole_stage(resource)
    return {
        "principalId": "coworks",
        "policyDocument": {
            "Version": _POLICY_VERSION,
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if allowed else "Deny",
                    "Resource": resource,
                }
            ],
        },
    }


def _whole_stage(method_arn: str) -> str:
    """The ARN of every method of the API stage ``method_arn`` belongs to.

    The decision rests on the token alone, and API Gateway caches an authorizer's
    policy per token for all routes: a policy naming the one method asked about
    would refuse the same token on the API's other routes until the cache expires.
    ``arn:…:api-id/stage/GET/orders`` gives ``arn:…:api-id/stage/*``.
    """
    api, _, rest = method_arn.partition("/")
    stage = rest.partition("/")[0]
    return f"{api}/{stage}/*" if api and stage else method_arn
