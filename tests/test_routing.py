"""Entry names and signatures become routes by the rules of coworks 0.9.4."""

import pytest

from coworks.routing import Route
from coworks.routing import RoutingError
from coworks.routing import route_for


@pytest.mark.parametrize(
    ("name", "params", "method", "rule"),
    [
        # A verb alone serves the root.
        ("get", [], "GET", "/"),
        ("put", ["key"], "PUT", "/<key>"),
        # The other words are the path.
        ("get_orders", [], "GET", "/orders"),
        ("post_orders", [], "POST", "/orders"),
        ("get_order_lines", [], "GET", "/order/lines"),
        # Parameters without a default are appended, in order.
        ("get_order", ["order_id"], "GET", "/order/<order_id>"),
        (
            "delete_order_line",
            ["order", "line"],
            "DELETE",
            "/order/line/<order>/<line>",
        ),
        # Leading and trailing underscores are dropped, and so are empty words.
        ("get_", ["id"], "GET", "/<id>"),
        ("get__", ["id", "other"], "GET", "/<id>/<other>"),
        ("patch_", [], "PATCH", "/"),
        ("_get_content_", ["value"], "GET", "/content/<value>"),
        ("get_order__lines", [], "GET", "/order/lines"),
        # A name that does not start with a verb is a POST on the whole name.
        ("orders", [], "POST", "/orders"),
        ("compute_total", ["currency"], "POST", "/compute/total/<currency>"),
        ("getter", [], "POST", "/getter"),
    ],
)
def test_name_and_path_parameters_give_the_route(name, params, method, rule):
    assert route_for(name, params) == Route(method, rule, name)


def test_a_trailing_path_parameter_takes_the_rest_of_the_path():
    route = route_for("get_file", ["bucket", "key"], trailing_path=True)
    assert route.rule == "/file/<bucket>/<path:key>"


def test_a_name_of_underscores_alone_gives_no_route():
    with pytest.raises(RoutingError, match="gives no route"):
        route_for("__", [])
