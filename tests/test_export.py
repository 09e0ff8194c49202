"""cws export: zips that answer alone, DAG files, a manifest, and nothing lost."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import PurePosixPath

import pytest
from helpers import NOTEBOOK
from helpers import ROOT
from helpers import load_event
from helpers import write_notebook

from coworks.export import ExportError
from coworks.export import export_notebook
from coworks.export.check import FORBIDDEN_MODULES
from coworks.export.check import aimed
from coworks.export.check import invoke_zip

SERVICE = """%%techservice
from coworks import TechMicroService, entry

class Ping(TechMicroService):
    @entry
    def get(self):
        return {"pong": True}
"""

# France as the countryinfo package's data file (countryinfo/data/france.json) has it.
FRANCE = {
    "code": "FRA",
    "name": "France",
    "capital": "Paris",
    "region": "Europe",
    "population": 66078000,
    "area": 640679,
}


def manifest_of(out):
    return json.loads((out / "manifest.json").read_text())


def test_manifest_lists_each_service_and_flow(exported):
    manifest = manifest_of(exported)
    by_name = {s["name"]: s for s in manifest["services"]}
    assert set(by_name) == {"countries", "stats"}
    countries = by_name["countries"]
    assert countries["zip"] == "countries/lambda.zip"
    assert countries["handler"] == "lambda_function.lambda_handler"
    assert countries["routes"] == [
        {"method": "GET", "path": "/country/<code>"},
        {"method": "GET", "path": "/neighbours/<code>"},
    ]
    assert by_name["stats"]["routes"] == [{"method": "POST", "path": "/density"}]
    # Neither service checks tokens itself: deployed, they need TOKEN.
    assert {s["auth"] for s in manifest["services"]} == {"TOKEN"}
    assert [(d["dag_id"], d["path"]) for d in manifest["dags"]] == [
        ("neighbourhood", "dags/neighbourhood.py")
    ]


def test_manifest_sizes_and_hashes_match_the_files(exported):
    manifest = manifest_of(exported)
    for service in manifest["services"]:
        data = (exported / service["zip"]).read_bytes()
        assert service["size"] == len(data)
        assert service["sha256"] == hashlib.sha256(data).hexdigest()
    for dag in manifest["dags"]:
        data = (exported / dag["path"]).read_bytes()
        assert dag["sha256"] == hashlib.sha256(data).hexdigest()


def test_zip_holds_service_runtime_and_dependencies_only(exported):
    names = zipfile.ZipFile(exported / "countries" / "lambda.zip").namelist()
    tops = {name.split("/")[0] for name in names}
    assert {"service.py", "lambda_function.py", "coworks", "flask", "werkzeug"} <= tops
    assert "countryinfo" in tops  # imported by the service cell
    assert "countryinfo/data/france.json" in names
    for absent in (
        "airflow",
        "IPython",
        "ipykernel",
        "jupyterlab",
        "boto3",
        "botocore",
    ):
        assert absent not in tops
    coworks_files = {n for n in names if n.startswith("coworks/")}
    assert not any(n.startswith(("coworks/flows", "coworks/notebook")) for n in names)
    assert "coworks/service.py" in coworks_files
    # Bytecode comes only from the zip's own sources, one file a module, for this
    # Python: nothing copied from the exporting machine's caches.
    modules = {n for n in names if n.endswith(".py")}
    compiled = {n for n in names if n.endswith(".pyc")}
    tag = sys.implementation.cache_tag
    for name in compiled:
        path = PurePosixPath(name)
        assert path.parent.name == "__pycache__" and path.name.endswith(f".{tag}.pyc")
        source = path.parent.parent / f"{path.name.split('.')[0]}.py"
        assert str(source) in modules
    assert "service.py" in modules and f"__pycache__/service.{tag}.pyc" in compiled


def test_export_is_byte_for_byte_repeatable(exported, tmp_path):
    again = export_notebook(NOTEBOOK, tmp_path / "again")
    assert again == manifest_of(exported)


def test_zip_answers_a_real_event_in_an_isolated_interpreter(exported):
    event = aimed(
        load_event("aws-sam-cli/AwsProxy.json"), "GET", "/country/FRA", token="t0k"
    )
    answer = invoke_zip(
        exported / "countries" / "lambda.zip", event, environment={"TOKEN": "t0k"}
    )
    response = answer["response"]
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == FRANCE
    assert not set(answer["modules"]) & set(FORBIDDEN_MODULES)
    assert "countryinfo" in answer["modules"]


def test_a_zip_asks_for_the_token_its_environment_sets(exported):
    zip_path = exported / "countries" / "lambda.zip"
    real = load_event("aws-sam-cli/AwsProxy.json")
    event = aimed(real, "GET", "/country/FRA")
    refused = invoke_zip(zip_path, event, environment={"TOKEN": "s3cret"})
    assert refused["response"]["statusCode"] == 401
    event = aimed(real, "GET", "/country/FRA", token="s3cret")
    allowed = invoke_zip(zip_path, event, environment={"TOKEN": "s3cret"})
    assert allowed["response"]["statusCode"] == 200


def test_on_lambda_a_service_without_token_refuses_everyone(exported):
    zip_path = exported / "countries" / "lambda.zip"
    real = load_event("aws-sam-cli/AwsProxy.json")
    for token in (None, "anything"):
        event = aimed(real, "GET", "/country/FRA", token=token)
        answer = invoke_zip(zip_path, event)
        assert answer["response"]["statusCode"] == (401 if token is None else 403)


def test_on_lambda_a_public_api_is_asked_for_explicitly(exported):
    event = aimed(load_event("aws-sam-cli/AwsProxy.json"), "GET", "/country/FRA")
    answer = invoke_zip(
        exported / "countries" / "lambda.zip",
        event,
        environment={"CWS_PUBLIC": "true"},
    )
    assert answer["response"]["statusCode"] == 200


def test_the_zip_runs_on_its_bytecode_without_compiling(exported, tmp_path):
    # Lambda's task folder is read-only: what the zip does not hold compiled is
    # compiled at every cold start. Python -B writes nothing, as there; a module
    # whose bytecode is used has no source compiled, which py_compile would show.
    with zipfile.ZipFile(exported / "countries" / "lambda.zip") as archive:
        archive.extractall(tmp_path)
    code = (
        "import sys, importlib.machinery as m\n"
        "compiled = []\n"
        "original = m.SourceFileLoader.source_to_code\n"
        "def spy(self, data, path, **k):\n"
        "    compiled.append(path)\n"
        "    return original(self, data, path, **k)\n"
        "m.SourceFileLoader.source_to_code = spy\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import lambda_function\n"
        "print(len(compiled))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"


def test_stats_zip_reads_a_json_body_from_a_real_event(exported):
    countries = [
        {"name": "A", "population": 100, "area": 10},
        {"name": "B", "population": 50, "area": 1},
    ]
    event = aimed(
        load_event("aws-lambda-go/apigw-request.json"),
        "POST",
        "/density",
        body=json.dumps({"countries": countries}),
        token="t0k",
    )
    answer = invoke_zip(
        exported / "stats" / "lambda.zip", event, environment={"TOKEN": "t0k"}
    )
    response = answer["response"]
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {
        "count": 2,
        "population": 150,
        "area": 11,
        "density": 13.6,
        "densest": "B",
    }


def test_dag_file_keeps_the_flow_and_drops_the_display_line(exported):
    text = (exported / "dags" / "neighbourhood.py").read_text()
    assert text.startswith('# Airflow DAG "neighbourhood", a CoWorks flow')
    assert '@biz\ndef neighbourhood(code: str = "FRA"):' in text
    assert "task_ids" not in text
    compile(text, "neighbourhood.py", "exec")


STAGED = """%%techservice
from coworks import TechMicroService, entry

class Tools(TechMicroService):
    @entry
    def get(self):
        return "tools"

    @entry(stage="dev")
    def get_debug(self):
        return "debug"
"""


def test_the_manifest_names_the_stage_its_routes_were_listed_in(tmp_path, monkeypatch):
    notebook = write_notebook(tmp_path / "nb.ipynb", STAGED)
    monkeypatch.delenv("CWS_STAGE", raising=False)
    plain = export_notebook(notebook, tmp_path / "plain")
    assert plain["stage"] is None
    assert [r["path"] for r in plain["services"][0]["routes"]] == ["/"]
    monkeypatch.setenv("CWS_STAGE", "dev")
    dev = export_notebook(notebook, tmp_path / "dev")
    assert dev["stage"] == "dev"
    assert [r["path"] for r in dev["services"][0]["routes"]] == ["/", "/debug"]


def test_a_directory_with_a_users_file_is_refused_and_kept(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    notebook = write_notebook(tmp_path / "nb.ipynb", SERVICE)
    with pytest.raises(ExportError, match="holds no export manifest"):
        export_notebook(notebook, out)
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_a_file_added_to_an_earlier_export_is_not_replaced(tmp_path):
    notebook = write_notebook(tmp_path / "nb.ipynb", SERVICE)
    out = tmp_path / "out"
    export_notebook(notebook, out)
    (out / "ping" / "README").write_text("mine")
    with pytest.raises(ExportError, match="ping/README"):
        export_notebook(notebook, out)
    assert (out / "ping" / "README").read_text() == "mine"


def test_an_earlier_export_is_replaced_whole(tmp_path):
    out = tmp_path / "out"
    first = write_notebook(tmp_path / "a.ipynb", SERVICE)
    export_notebook(first, out)
    second = write_notebook(tmp_path / "b.ipynb", SERVICE.replace("Ping", "Pong"))
    manifest = export_notebook(second, out)
    assert [s["name"] for s in manifest["services"]] == ["pong"]
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "pong"]


def test_a_failed_export_leaves_the_earlier_one_and_no_debris(tmp_path):
    out = tmp_path / "out"
    export_notebook(write_notebook(tmp_path / "a.ipynb", SERVICE), out)
    before = (out / "manifest.json").read_text()
    broken = write_notebook(
        tmp_path / "b.ipynb", SERVICE, SERVICE.replace("Ping", "Pang") + "1 / 0\n"
    )
    with pytest.raises(
        ExportError, match="cell 2: ZeroDivisionError: division by zero"
    ):
        export_notebook(broken, out)
    assert (out / "manifest.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ipynb", "b.ipynb", "out"]


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (["x = 1"], "nothing to export"),
        (["%%techservice\nclass (:\n"], "cell 1, line 2"),
        (["%%techservice\nx = 1\n"], "must define a subclass of TechMicroService"),
        (
            [SERVICE.replace("from coworks", "import no_such_package\nfrom coworks")],
            "imports 'no_such_package', which is not installed here",
        ),
        (
            [SERVICE.replace("from coworks", "import airflow\nfrom coworks")],
            "cannot go into a Lambda zip",
        ),
        (
            [SERVICE.replace("from coworks import", "from coworks import biz,")],
            "coworks.biz, which is not part of the service runtime",
        ),
        ([SERVICE, SERVICE], "cell 2: the service name 'ping' is taken"),
        (
            ["from coworks import biz\n@biz\ndef f():\n    pass\n"] * 2,
            "both define the flow 'f'",
        ),
    ],
)
def test_bad_notebooks_get_an_error_saying_what_to_fix(tmp_path, cells, message):
    notebook = write_notebook(tmp_path / "nb.ipynb", *cells)
    with pytest.raises(ExportError, match=message):
        export_notebook(notebook, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_file_that_is_not_a_notebook_is_refused(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text("{not json")
    with pytest.raises(ExportError, match="not a readable notebook"):
        export_notebook(path, tmp_path / "out")


FLOW = "from coworks import biz\n\n@biz{args}\ndef flow():\n    pass\n"


@pytest.mark.parametrize(
    "args",
    [
        '(dag_id="../../victim")',
        '(dag_id="/abs/path/x")',
        "(dag_id=None)",
        "(dag_id=NAME)",
        '(dag_id="")',
    ],
)
def test_a_dag_id_that_is_not_a_safe_literal_name_is_refused(tmp_path, args):
    (tmp_path / "victim.py").write_text("mine")
    notebook = write_notebook(tmp_path / "nb.ipynb", FLOW.format(args=args))
    with pytest.raises(ExportError, match="dag_id"):
        export_notebook(notebook, tmp_path / "a" / "b")
    assert (tmp_path / "victim.py").read_text() == "mine"
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())


def test_a_service_name_that_is_not_a_safe_segment_is_refused(tmp_path):
    cell = (
        SERVICE + "\n    def __init__(self):\n        super().__init__(name='../x')\n"
    )
    notebook = write_notebook(tmp_path / "nb.ipynb", cell)
    with pytest.raises(ExportError, match="cell 1: .*service name '../x'"):
        export_notebook(notebook, tmp_path / "out")
    assert not (tmp_path / "x").exists()


def test_the_current_directory_is_refused_as_target(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notebook = write_notebook(tmp_path / "nb.ipynb", SERVICE)
    with pytest.raises(ExportError, match="current directory"):
        export_notebook(notebook, ".")


def test_a_target_under_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    notebook = write_notebook(tmp_path / "nb.ipynb", SERVICE)
    with pytest.raises(ExportError, match="cannot write into"):
        export_notebook(notebook, tmp_path / "afile" / "build")


def test_a_folder_added_to_an_earlier_export_is_not_removed(tmp_path):
    notebook = write_notebook(tmp_path / "nb.ipynb", SERVICE)
    out = tmp_path / "out"
    export_notebook(notebook, out)
    (out / "mine").mkdir()
    with pytest.raises(ExportError, match="mine"):
        export_notebook(notebook, out)
    assert (out / "mine").is_dir()


def test_a_linked_target_receives_the_export_and_stays_a_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    notebook = write_notebook(tmp_path / "nb.ipynb", SERVICE)
    export_notebook(notebook, tmp_path / "link")
    assert (tmp_path / "link").is_symlink()
    assert (real / "ping" / "lambda.zip").is_file()


def test_the_export_folder_is_readable_by_others(tmp_path):
    out = tmp_path / "out"
    export_notebook(write_notebook(tmp_path / "nb.ipynb", SERVICE), out)
    assert out.stat().st_mode & 0o755 == 0o755


def test_a_killed_exports_staging_folder_is_cleaned_by_the_next(tmp_path):
    leftover = tmp_path / ".out.cws-export-abc123"
    (leftover / "ping").mkdir(parents=True)
    export_notebook(write_notebook(tmp_path / "nb.ipynb", SERVICE), tmp_path / "out")
    assert not leftover.exists()


def test_an_optional_import_that_is_missing_is_left_out(tmp_path):
    cell = SERVICE.replace(
        "from coworks",
        "try:\n    import no_such_json as fast\nexcept ImportError:\n"
        "    import json as fast\nfrom coworks",
    )
    manifest = export_notebook(
        write_notebook(tmp_path / "nb.ipynb", cell), tmp_path / "o"
    )
    assert manifest["services"][0]["name"] == "ping"


def test_a_module_beside_the_notebook_is_named_as_such(tmp_path):
    (tmp_path / "helpers_of_mine.py").write_text("X = 1\n")
    cell = SERVICE.replace("from coworks", "import helpers_of_mine\nfrom coworks")
    notebook = write_notebook(tmp_path / "nb.ipynb", cell)
    with pytest.raises(ExportError, match="a module beside the notebook"):
        export_notebook(notebook, tmp_path / "out")


def test_a_shell_line_mentioning_biz_is_not_a_flow(tmp_path):
    notebook = write_notebook(tmp_path / "nb.ipynb", SERVICE, "!echo '@biz is cool'")
    manifest = export_notebook(notebook, tmp_path / "out")
    assert manifest["dags"] == []


def test_techservice_arguments_are_refused_as_the_magic_refuses_them(tmp_path):
    cell = SERVICE.replace("%%techservice", "%%techservice --name shop")
    notebook = write_notebook(tmp_path / "nb.ipynb", cell)
    with pytest.raises(ExportError, match="takes no arguments"):
        export_notebook(notebook, tmp_path / "out")


def test_a_name_from_another_cell_says_cells_stand_alone(tmp_path):
    base = "%%techservice\nfrom coworks import TechMicroService\n"
    cell = base + "class Child(Base):\n    pass\n"
    notebook = write_notebook(tmp_path / "nb.ipynb", cell)
    with pytest.raises(ExportError, match="must stand alone"):
        export_notebook(notebook, tmp_path / "out")


def test_a_base_and_a_subclass_in_one_cell_export_the_subclass(tmp_path):
    cell = SERVICE + "\nclass Pong(Ping):\n    pass\n"
    manifest = export_notebook(
        write_notebook(tmp_path / "nb.ipynb", cell), tmp_path / "o"
    )
    assert [s["name"] for s in manifest["services"]] == ["pong"]


def test_a_second_export_into_the_same_target_waits_its_turn(tmp_path):
    from coworks.export import _exclusive

    notebook = write_notebook(tmp_path / "nb.ipynb", SERVICE)
    out = tmp_path / "out"
    with _exclusive(out.resolve()):  # as an export in progress holds it
        with pytest.raises(ExportError, match="another export into .* is running"):
            export_notebook(notebook, out)
    export_notebook(notebook, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nb.ipynb", "out"]


def test_a_package_installed_in_editable_mode_is_refused(tmp_path, monkeypatch):
    import importlib.metadata

    from coworks.export import package

    real = importlib.metadata.distribution

    class Editable:
        def __init__(self, dist):
            self.dist = dist

        def __getattr__(self, name):
            return getattr(self.dist, name)

        def read_text(self, name):
            if name == "direct_url.json":
                return (
                    '{"url": "file:///src/countryinfo", "dir_info": {"editable": true}}'
                )
            return self.dist.read_text(name)

    def distribution(name):
        dist = real(name)
        return Editable(dist) if name == "countryinfo" else dist

    monkeypatch.setattr(package.metadata, "distribution", distribution)
    cell = SERVICE.replace("from coworks", "import countryinfo\nfrom coworks")
    notebook = write_notebook(tmp_path / "nb.ipynb", cell)
    with pytest.raises(ExportError, match="countryinfo is installed in editable mode"):
        export_notebook(notebook, tmp_path / "out")


@pytest.mark.parametrize(
    ("cell", "kept", "dropped"),
    [
        # A display expression sharing a line with an assignment keeps the line.
        ('CODES = ["FRA", "CHE"]; CODES\n', 'CODES = ["FRA", "CHE"]; CODES', None),
        # Separators str.splitlines() knows but Python does not stay inside a line.
        (
            'GREETING = "caf\u00e9 \x85 ok"\nGREETING\n',
            'GREETING = "caf',
            "\nGREETING\n",
        ),
        ("\x0c\nimport json\njson.dumps(1)\n", "import json", "json.dumps(1)"),
    ],
)
def test_dag_files_keep_statements_python_sees(tmp_path, cell, kept, dropped):
    flow = "from coworks import biz\n" + cell + "\n@biz\ndef flow():\n    pass\n"
    out = tmp_path / "out"
    export_notebook(write_notebook(tmp_path / "nb.ipynb", flow), out)
    text = (out / "dags" / "flow.py").read_text()
    compile(text, "flow.py", "exec")
    assert kept in text
    if dropped:
        assert dropped not in text


def test_an_odd_notebook_name_stays_inside_the_dag_files_comment(tmp_path):
    flow = "from coworks import biz\n\n@biz\ndef flow():\n    pass\n"
    notebook = write_notebook(tmp_path / 'q"""\\N.ipynb', flow)
    export_notebook(notebook, tmp_path / "out")
    compile((tmp_path / "out" / "dags" / "flow.py").read_text(), "flow.py", "exec")


def test_a_flow_importing_a_module_beside_the_notebook_is_refused(tmp_path):
    (tmp_path / "settings_of_mine.py").write_text("CODE = 'FRA'\n")
    flow = (
        "from coworks import biz\nfrom settings_of_mine import CODE\n\n"
        "@biz\ndef flow():\n    pass\n"
    )
    notebook = write_notebook(tmp_path / "nb.ipynb", flow)
    with pytest.raises(ExportError, match="which Airflow will not have"):
        export_notebook(notebook, tmp_path / "out")


def test_a_notebook_with_cell_ids_in_an_older_minor_version_is_read(tmp_path):
    notebook = write_notebook(tmp_path / "nb.ipynb", SERVICE)
    data = json.loads(notebook.read_text())
    data["nbformat_minor"] = 4
    for number, cell in enumerate(data["cells"]):
        cell["id"] = f"cell-{number}"
    notebook.write_text(json.dumps(data))
    assert export_notebook(notebook, tmp_path / "out")["services"][0]["name"] == "ping"


def test_export_runs_cells_with_the_annotations_semantics_of_the_lambda(tmp_path):
    from coworks.sources import load_service
    from coworks.sources import read_notebook

    cell = SERVICE.replace("def get(self):", "def get(self, n: int = 1):")
    sources = read_notebook(write_notebook(tmp_path / "nb.ipynb", cell))
    service = load_service(sources.services[0], sources.path)
    assert type(service).get.__annotations__["n"] is int


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        # A service using a name from another cell: fine live, a NameError on Lambda.
        (
            [
                "PRICES = {'tea': 3}",
                SERVICE.replace('return {"pong": True}', "return PRICES"),
            ],
            "the service uses PRICES, which its cell neither defines nor imports",
        ),
        # A flow relying on another cell's imports or constants.
        (
            ["from coworks import biz", "@biz\ndef flow():\n    pass\n"],
            "flow 'flow' uses biz, which its cell neither defines nor imports",
        ),
        (
            [
                "DEFAULT = 'FRA'",
                "from coworks import biz\n@biz\ndef flow(code=DEFAULT):\n    pass\n",
            ],
            "uses DEFAULT",
        ),
        (
            ["from coworks import biz\n@biz\ndef flow(code: str):\n    pass\n"],
            "parameter 'code' needs a default value",
        ),
        (
            [SERVICE + "\nreturn Ping\n"],
            "cell 1, line 9: 'return' outside function",
        ),
    ],
)
def test_cells_that_do_not_stand_alone_are_refused(tmp_path, cells, message):
    notebook = write_notebook(tmp_path / "nb.ipynb", *cells)
    with pytest.raises(ExportError, match=message):
        export_notebook(notebook, tmp_path / "out")


def test_statements_using_a_flow_stay_in_the_notebook(tmp_path):
    cell = (
        "from coworks import biz\n\n@biz\ndef first():\n    pass\n\n"
        "@biz\ndef second():\n    pass\n\n"
        "ids = {d.dag_id: d.task_ids for d in (first, second)}\n"
        "run = first.test()\n"
    )
    out = tmp_path / "out"
    export_notebook(write_notebook(tmp_path / "nb.ipynb", cell), out)
    text = (out / "dags" / "first.py").read_text()
    assert "ids =" not in text
    assert ".test()" not in text
    assert "def second" not in text


def test_a_folder_named_like_an_installed_package_is_not_a_local_module(tmp_path):
    (tmp_path / "airflow" / "logs").mkdir(parents=True)
    flow = (
        "from airflow.sdk import dag\nfrom coworks import biz\n\n"
        "@biz\ndef f():\n    pass\n"
    )
    manifest = export_notebook(
        write_notebook(tmp_path / "nb.ipynb", flow), tmp_path / "o"
    )
    assert [d["dag_id"] for d in manifest["dags"]] == ["f"]


def test_requirements_through_extras_are_packaged():
    from coworks.export.package import _closure

    def names(requirement):
        return {d.metadata["Name"].lower() for d in _closure([requirement])}

    # bleach needs tinycss2 for its css extra only (its own metadata says so).
    assert "tinycss2" in names("bleach[css]")
    assert "tinycss2" not in names("bleach")


def test_a_package_requiring_coworks_does_not_package_coworks_twice():
    from coworks.export.package import _closure

    assert _closure(["coworks"]) == []


def test_names_bound_by_global_statements_and_module_names_count_as_defined():
    from coworks.sources import undefined_names

    source = (
        "def setup():\n    global CACHE\n    CACHE = {}\n\n"
        "def use():\n    return CACHE, __file__, __name__, len\n"
    )
    assert undefined_names(source) == set()
    assert undefined_names("def f():\n    return PRICES\n") == {"PRICES"}


def test_statements_using_the_files_own_flow_without_calling_it_are_kept(tmp_path):
    cell = (
        "from coworks import biz\n\n"
        "def on_failure(context):\n    print(neighbourhood.dag_id)\n\n"
        "@biz(on_failure_callback=on_failure)\ndef neighbourhood():\n    pass\n\n"
        'neighbourhood.doc_md = "Neighbours of a country"\n'
    )
    out = tmp_path / "out"
    export_notebook(write_notebook(tmp_path / "nb.ipynb", cell), out)
    text = (out / "dags" / "neighbourhood.py").read_text()
    assert "def on_failure(context):" in text
    assert 'neighbourhood.doc_md = "Neighbours of a country"' in text


@pytest.mark.parametrize("signature", ["*codes", "code='FRA', **extra", "code='F', /"])
def test_flow_parameters_must_be_plain_named_ones(tmp_path, signature):
    flow = f"from coworks import biz\n\n@biz\ndef f({signature}):\n    pass\n"
    notebook = write_notebook(tmp_path / "nb.ipynb", flow)
    with pytest.raises(ExportError, match="must be a plain named one"):
        export_notebook(notebook, tmp_path / "out")


def test_notebook_02_exports_a_service_with_its_blueprint(tmp_path):
    out = tmp_path / "build"
    manifest = export_notebook(ROOT / "notebooks" / "02_shop.ipynb", out)
    (shop,) = manifest["services"]
    assert {"method": "GET", "path": "/admin/version"} in shop["routes"]
    event = aimed(
        load_event("aws-sam-cli/AwsProxy.json"), "GET", "/admin/version", token="t"
    )
    answer = invoke_zip(out / shop["zip"], event, environment={"TOKEN": "t"})
    assert answer["response"]["statusCode"] == 200
    assert json.loads(answer["response"]["body"]) == {"version": "1.0"}
