"""The handler never raises: random and mutated events all get a well-formed answer."""

from __future__ import annotations

import json
import pathlib

from helpers import EVENTS
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from coworks import TechMicroService
from coworks import entry


class Target(TechMicroService):
    @entry
    def get(self, q: str = ""):
        return {"q": q}

    @entry
    def post_items(self, name: str = "", qty: int = 1):
        return {"name": name, "qty": qty}


SERVICE = Target()

REAL = [
    json.loads(path.read_text())
    for path in sorted(pathlib.Path(EVENTS).rglob("*.json"))
]

#: JSON values, odd ones included: lone surrogates, line breaks, big numbers.
ODD_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0xDFFF))
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | ODD_TEXT
    | st.sampled_from(["", "/", "2.0", "GET", "%%", "\r\n", "TOKEN", "$default"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            ODD_TEXT | st.sampled_from(["http", "elb"]), inner, max_size=4
        )
    ),
    max_leaves=12,
)


def well_formed(answer: object) -> bool:
    if not isinstance(answer, dict):
        return False
    if "isAuthorized" in answer or "policyDocument" in answer:
        return True  # an authorizer event's answer
    return isinstance(answer.get("statusCode"), int) and isinstance(
        answer.get("body"), str
    )


@st.composite
def mutated(draw: st.DrawFn) -> dict:
    """A real event with some of its fields, at any depth, replaced or removed."""
    event = json.loads(json.dumps(draw(st.sampled_from(REAL))))
    for _ in range(draw(st.integers(1, 4))):
        node = event
        while isinstance(node, dict) and node and draw(st.booleans()):
            child = node[draw(st.sampled_from(sorted(node, key=str)))]
            if not isinstance(child, dict) or not child:
                break
            node = child
        if not isinstance(node, dict) or not node:
            continue
        key = draw(st.sampled_from(sorted(node, key=str)))
        if draw(st.booleans()):
            del node[key]
        else:
            node[key] = draw(VALUES)
    return event


FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


@FUZZ
@given(mutated())
def test_a_mutated_real_event_gets_a_well_formed_answer(event):
    answer = SERVICE(event, None)
    assert well_formed(answer)
    if "statusCode" in answer:
        assert (
            answer["statusCode"] < 500
            or answer["statusCode"] == 500
            and ("request_id" in answer["body"])
        )


@FUZZ
@given(st.dictionaries(ODD_TEXT | st.sampled_from(["httpMethod", "version"]), VALUES))
def test_a_random_object_gets_a_well_formed_answer(event):
    assert well_formed(SERVICE(event, None))


@FUZZ
@given(VALUES)
def test_any_json_value_gets_a_well_formed_answer(event):
    assert well_formed(SERVICE(event, None))
