"""The exported flow runs on real Airflow 3 (SQLite) against the notebook's services
served on 127.0.0.1, each step's JSON reaching the next through XCom.

Expected values come from the countryinfo package's data files: Switzerland borders
AUT, FRA, ITA, LIE, DEU; their populations and areas are summed by hand below.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest
from flask import Response
from flask import redirect
from flask import request
from helpers import NOTEBOOK

from coworks import TechMicroService
from coworks import entry
from coworks import local
from coworks.sources import load_services

# population, area (km²) as in countryinfo/data/<country>.json
SWISS_NEIGHBOURS = {
    "AUT": (8527230, 83871),
    "FRA": (66078000, 640679),
    "ITA": (60769102, 301336),
    "LIE": (37132, 160),
    "DEU": (80783000, 357114),
}


@pytest.fixture(scope="session")
def airflow_db(airflow_home):
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return airflow_home


@pytest.fixture(scope="session")
def services_url():
    server = local.start(load_services(NOTEBOOK), port=0)
    base = f"http://127.0.0.1:{server.port}"
    saved = dict(os.environ)
    os.environ["AIRFLOW_CONN_COWORKS_COUNTRIES"] = f"{base}/countries"
    os.environ["AIRFLOW_CONN_COWORKS_STATS"] = f"{base}/stats"
    yield base
    server.shutdown()
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def dags_folder(airflow_db, exported):
    dags = airflow_db / "dags"
    dags.mkdir(exist_ok=True)
    shutil.copy(exported / "dags" / "neighbourhood.py", dags)
    return dags


@pytest.fixture
def neighbourhood(dags_folder, services_url):
    """The DAG as Airflow's own DagBag reads the exported file, parsed afresh for
    each test: an in-process dag.test() leaves its run's params on the tasks."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags_folder))
    assert bag.import_errors == {}
    return bag.dags["neighbourhood"]


def xcoms(run) -> dict:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter_by(run_id=run.run_id, key="return_value")
        return {row.task_id: row.value for row in rows}


def test_the_dag_file_defines_two_chained_tasks(neighbourhood):
    assert neighbourhood.task_ids == ["countries_get_neighbours", "stats_post_density"]
    assert neighbourhood.get_task("stats_post_density").upstream_task_ids == {
        "countries_get_neighbours"
    }
    assert neighbourhood.params["code"] == "FRA"


def test_the_flow_runs_and_passes_results_through_xcom(neighbourhood):
    run = neighbourhood.test(run_conf={"code": "CHE"})
    assert run.state == "success"
    results = xcoms(run)
    neighbours = results["countries_get_neighbours"]
    assert [c["code"] for c in neighbours] == list(SWISS_NEIGHBOURS)
    population = sum(p for p, _ in SWISS_NEIGHBOURS.values())
    area = sum(a for _, a in SWISS_NEIGHBOURS.values())
    assert population == 216194464
    assert results["stats_post_density"] == {
        "count": 5,
        "population": population,
        "area": area,
        "density": round(population / area, 1),
        "densest": "Liechtenstein",
    }


def test_the_default_param_is_used_when_the_run_gives_none(neighbourhood):
    run = neighbourhood.test()
    assert run.state == "success"
    density = xcoms(run)["stats_post_density"]
    assert density["count"] == 8  # France: AND BEL DEU ITA LUX MCO ESP CHE
    assert density["densest"] == "Monaco"


def test_an_error_status_fails_the_task(neighbourhood):
    run = neighbourhood.test(run_conf={"code": "ATLANTIS"})
    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["countries_get_neighbours"] == "failed"
    assert states["stats_post_density"] == "upstream_failed"


@pytest.mark.parametrize(
    ("uri", "base"),
    [
        ("http://127.0.0.1:8000/countries", "http://127.0.0.1:8000/countries"),
        ("https://api.example.com/dev", "https://api.example.com/dev"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        (
            '{"conn_type": "http", "host": "http://127.0.0.1:1/x/"}',
            "http://127.0.0.1:1/x",
        ),
    ],
)
def test_the_connection_gives_the_base_url(airflow_db, monkeypatch, uri, base):
    from coworks.flows import TechServiceHook

    monkeypatch.setenv("AIRFLOW_CONN_COWORKS_PROBE", uri)
    assert TechServiceHook("coworks_probe").base_url() == base


def test_a_connection_without_host_says_how_to_set_it(airflow_db, monkeypatch):
    from coworks.flows import TechServiceError
    from coworks.flows import TechServiceHook

    monkeypatch.setenv("AIRFLOW_CONN_COWORKS_EMPTY", "http://")
    with pytest.raises(TechServiceError, match="AIRFLOW_CONN_COWORKS_EMPTY="):
        TechServiceHook("coworks_empty").base_url()


def test_an_unreachable_service_is_named_in_the_error(airflow_db, monkeypatch):
    from coworks.flows import TechServiceError
    from coworks.flows import TechServiceHook

    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_CONN_COWORKS_GONE", f"http://127.0.0.1:{port}/gone")
    with pytest.raises(TechServiceError, match=f"cannot reach http://127.0.0.1:{port}"):
        TechServiceHook("coworks_gone", timeout=5).call("GET", "/x")


def test_two_calls_to_one_entry_get_distinct_task_ids():
    from coworks import TechServiceOperator
    from coworks import biz

    @biz
    def twice(a: str = "x", b: str = "y"):
        TechServiceOperator(service="countries", path="/country/{{ params.a }}")
        TechServiceOperator(service="countries", path="/country/{{ params.b }}")

    assert twice.task_ids == ["countries_get_country", "countries_get_country__1"]


class Echo(TechMicroService):
    @entry
    def get_args(self, **query):
        return query

    @entry
    def get_auth(self):
        return {"authorization": request.headers.get("Authorization")}

    @entry
    def post_typed(self, rate: float = 0.0, zip_code: str = ""):
        return {"rate": rate, "zip_code": zip_code}

    @entry
    def get_moved(self):
        return redirect("/elsewhere")

    @entry
    def get_problem(self):
        body = json.dumps({"title": "odd"})
        return Response(body, mimetype="application/problem+json")

    @entry
    def get_fake(self):
        return Response("{not json", mimetype="application/json")


@pytest.fixture(scope="module")
def echo_conn(airflow_db):
    server = local.start({"echo": Echo()}, port=0)
    os.environ["AIRFLOW_CONN_COWORKS_ECHO"] = f"http://127.0.0.1:{server.port}/echo"
    yield "coworks_echo"
    server.shutdown()
    del os.environ["AIRFLOW_CONN_COWORKS_ECHO"]


def run_operator(**kwargs):
    from coworks import TechServiceOperator

    return TechServiceOperator(service="echo", **kwargs).execute({})


def test_a_query_in_the_path_joins_the_query_argument(echo_conn):
    assert run_operator(path="/args?a=1", query={"b": "2"}) == {"a": "1", "b": "2"}


@pytest.mark.parametrize("path", ["/args/../../dags/", "/./args", "/args#frag"])
def test_a_path_that_could_leave_the_service_is_refused(echo_conn, path):
    from coworks.flows import TechServiceError

    with pytest.raises(TechServiceError, match="must not lead it out"):
        run_operator(path=path)


def test_a_redirect_fails_the_task(echo_conn):
    from coworks.flows import TechServiceError

    with pytest.raises(TechServiceError, match="answered 302"):
        run_operator(path="/moved")


def test_a_json_flavoured_answer_is_parsed(echo_conn):
    assert run_operator(path="/problem") == {"title": "odd"}


def test_an_answer_labelled_json_that_is_not_fails_clearly(echo_conn):
    from coworks.flows import TechServiceError

    with pytest.raises(TechServiceError, match="that is not JSON"):
        run_operator(path="/fake")


def test_an_ipv6_host_is_bracketed(airflow_db, monkeypatch):
    from coworks.flows import TechServiceHook

    monkeypatch.setenv("AIRFLOW_CONN_COWORKS_SIX", "http://[::1]:8765/svc")
    assert TechServiceHook("coworks_six").base_url() == "http://[::1]:8765/svc"


def test_a_flow_parameter_without_default_is_refused():
    from coworks import biz

    with pytest.raises(TypeError, match="'code' needs a default value"):

        @biz
        def flow(code: str):
            pass


def test_a_long_path_still_gives_a_valid_task_id():
    from coworks.flows.operator import default_task_id

    assert len(default_task_id("svc", "GET", "/" + "x" * 400)) <= 240


def test_a_query_in_the_path_and_the_query_argument_add_up(echo_conn):
    assert run_operator(path="/args?tag=a", query={"tag": "b"}) == {"tag": ["a", "b"]}


@pytest.mark.parametrize("path", ["/args/%2e%2e/x", "/args/.%2E", "/args?a=b#c"])
def test_encoded_dot_segments_and_late_fragments_are_refused(echo_conn, path):
    from coworks.flows import TechServiceError

    with pytest.raises(TechServiceError, match="must not lead it out"):
        run_operator(path=path)


def test_the_connection_password_is_the_token_unless_the_task_sends_one(
    echo_conn, monkeypatch
):
    url = os.environ["AIRFLOW_CONN_COWORKS_ECHO"].replace("http://", "http://:s3@")
    monkeypatch.setenv("AIRFLOW_CONN_COWORKS_ECHO", url)
    assert run_operator(path="/auth") == {"authorization": "Bearer s3"}
    own = run_operator(path="/auth", headers={"authorization": "Bearer mine"})
    assert own == {"authorization": "Bearer mine"}


TYPED_FLOW = """# Airflow DAG file of a test flow.
from coworks import TechServiceOperator, biz


@biz
def typed(rate: float = 0.1, zip_code: str = "FRA"):
    TechServiceOperator(
        service="echo",
        method="POST",
        path="/typed",
        json={"rate": rate, "zip_code": "{{ params.zip_code }}"},
    )
"""


def test_params_keep_their_types_in_a_json_body(dags_folder, echo_conn):
    from airflow.dag_processing.dagbag import DagBag

    (dags_folder / "typed.py").write_text(TYPED_FLOW)
    dag = DagBag(dag_folder=str(dags_folder)).dags["typed"]
    run = dag.test(run_conf={"rate": 0.25, "zip_code": "75001"})
    assert run.state == "success"
    assert xcoms(run)["echo_post_typed"] == {"rate": 0.25, "zip_code": "75001"}


def test_a_service_name_with_dash_gets_an_underscore_connection():
    from coworks import TechServiceOperator

    assert TechServiceOperator(service="inv-store").conn_id == "coworks_inv_store"


def test_a_missing_connection_says_how_to_define_it(airflow_db):
    from coworks.flows import TechServiceError
    from coworks.flows import TechServiceHook

    with pytest.raises(TechServiceError, match="set AIRFLOW_CONN_COWORKS_NOWHERE"):
        TechServiceHook("coworks_nowhere").base_url()
