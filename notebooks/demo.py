"""The main job of `make demo`, step by step, on the embedded defaults.

1. execute notebook 01 headlessly;
2. export it: Lambda zips, a DAG file, a manifest;
3. serve its services on 127.0.0.1;
4. run the exported DAG on real Airflow (SQLite in a temporary AIRFLOW_HOME) against
   those services, and show the flow's result;
5. unpack one zip alone and answer a real API Gateway event with it in an isolated
   interpreter.

Everything it writes goes to build/demo; the Airflow home is removed at the end.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01_countries.ipynb"
EVENT = ROOT / "tests" / "events" / "aws-sam-cli" / "AwsProxy.json"
BUILD = ROOT / "build" / "demo"


def step(text: str) -> None:
    print(f"==> {text}", flush=True)


def run_quietly(*command: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{done.stdout}\n{done.stderr}")


def main() -> None:
    airflow_home = Path(tempfile.mkdtemp(prefix="cws-demo-airflow-"))
    os.environ.update(
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(BUILD / "export" / "dags"),
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
    )
    # FastAPI, imported by Airflow, warns about its own test client's dependency.
    warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
    try:
        demo(airflow_home)
    finally:
        shutil.rmtree(airflow_home, ignore_errors=True)


def demo(airflow_home: Path) -> None:
    if BUILD.exists():
        shutil.rmtree(BUILD)
    BUILD.mkdir(parents=True)
    bin_dir = Path(sys.executable).parent

    step(f"executing {NOTEBOOK.name} headlessly")
    run_quietly(
        str(bin_dir / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
        str(NOTEBOOK), "--output-dir", str(BUILD), "--output", "01_executed.ipynb",
    )  # fmt: skip
    print(f"    executed copy: {BUILD / '01_executed.ipynb'}")

    step("cws export")
    export = BUILD / "export"
    run_quietly(str(bin_dir / "cws"), "export", str(NOTEBOOK), "-o", str(export))
    manifest = json.loads((export / "manifest.json").read_text())
    print(f"    into {export.relative_to(ROOT)}:")
    for service in manifest["services"]:
        routes = ", ".join(f"{r['method']} {r['path']}" for r in service["routes"])
        print(f"    {service['zip']}: {service['size']:,} bytes; {routes}")
    for dag in manifest["dags"]:
        print(f"    {dag['path']}")

    from coworks import local
    from coworks.sources import load_services

    step("serving the services on 127.0.0.1")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = local.start(load_services(NOTEBOOK), port=0)
    base = f"http://127.0.0.1:{server.port}"
    os.environ["AIRFLOW_CONN_COWORKS_COUNTRIES"] = f"{base}/countries"
    os.environ["AIRFLOW_CONN_COWORKS_STATS"] = f"{base}/stats"
    print(f"    {base}/countries and {base}/stats")
    try:
        step("running the exported DAG on Airflow (SQLite, temporary AIRFLOW_HOME)")
        run_quietly(sys.executable, "-m", "airflow", "db", "migrate")
        print(f"    {airflow_home}: database migrated")
        result = run_flow(export / "dags", "neighbourhood", {"code": "CHE"})
        print(f"    neighbourhood(code='CHE') -> {json.dumps(result)}")
    finally:
        server.shutdown()

    step("answering a real API Gateway event with a zip in an isolated interpreter")
    from coworks.export.check import aimed
    from coworks.export.check import invoke_zip

    # On Lambda, a service asks for the token its TOKEN variable holds.
    event = aimed(json.loads(EVENT.read_text()), "GET", "/country/CHE", token="demo")
    answer = invoke_zip(
        export / "countries" / "lambda.zip", event, environment={"TOKEN": "demo"}
    )
    response = answer["response"]
    print(f"    event {EVENT.relative_to(ROOT)} pointed at GET /country/CHE,")
    print("    with TOKEN=demo in the function's environment and its bearer token")
    print(f"    statusCode {response['statusCode']}: {response['body'].strip()}")
    step("done")


def run_flow(dags: Path, dag_id: str, conf: dict) -> object:
    """Run one DAG with dag.test() and return its last task's result."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    bag = DagBag(dag_folder=str(dags))
    if bag.import_errors:
        sys.exit(f"the DAG file does not load: {bag.import_errors}")
    dag = bag.dags[dag_id]
    run = dag.test(run_conf=conf)
    if run.state != "success":
        sys.exit(f"the flow ended {run.state}")
    last = dag.task_ids[-1]
    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(run_id=run.run_id, task_id=last, key="return_value")
            .one()
        )
        return row.value


if __name__ == "__main__":
    main()
