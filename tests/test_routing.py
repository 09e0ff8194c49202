"""Entry names and signatures become routes by the rules in coworks.routing."""

import pytest

from coworks.routing import Route
from coworks.routing import RoutingError
from coworks.routing import route_for


@pytest.mark.parametrize(
    ("name", "params", "method", "rule"),
    [
        ("get", [], "GET", "/"),
        ("get_orders", [], "GET", "/orders"),
        ("post_orders", [], "POST", "/orders"),
        ("get_order", ["order_id"], "GET", "/order/<order_id>"),
        ("get_order_lines", [], "GET", "/order/lines"),
        (
            "delete_order_line",
            ["order", "line"],
            "DELETE",
            "/order/line/<order>/<line>",
        ),
        ("put", ["key"], "PUT", "/<key>"),
        ("patch_", [], "PATCH", "/"),
    ],
)
def test_name_and_path_parameters_give_the_route(name, params, method, rule):
    assert route_for(name, params) == Route(method, rule, name)


def test_a_name_without_a_verb_is_refused_with_the_fix():
    with pytest.raises(RoutingError, match="must start with an HTTP verb"):
        route_for("orders", [])
