"""What a TARGET names: a notebook, module:object, or a module's only service."""

from __future__ import annotations

import sys
import textwrap

import pytest
from helpers import write_notebook

from coworks.targets import TargetError
from coworks.targets import load_target
from coworks.targets import pick

SHOP = """\
from coworks import TechMicroService, entry


class Shop(TechMicroService):
    @entry
    def get(self):
        return "open"
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """The current directory, where modules are written; they are forgotten after."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def module(folder, name, source):
    (folder / f"{name}.py").write_text(textwrap.dedent(source))


def test_a_notebook_gives_every_service_by_name(folder):
    cell = "%%techservice\n" + SHOP
    write_notebook(folder / "shop.ipynb", cell, cell.replace("Shop", "Till"))
    services = load_target("shop.ipynb")
    assert sorted(services) == ["shop", "till"]


def test_a_path_object_is_a_notebook(folder):
    write_notebook(folder / "shop.ipynb", "%%techservice\n" + SHOP)
    assert list(load_target(folder / "shop.ipynb")) == ["shop"]


def test_a_missing_notebook_is_named(folder):
    with pytest.raises(TargetError, match=r"^nope\.ipynb: no such notebook$"):
        load_target("nope.ipynb")


def test_a_notebook_error_keeps_the_cell_it_names(folder):
    write_notebook(folder / "bad.ipynb", "%%techservice\nx = 1\n")
    with pytest.raises(TargetError, match=r"bad\.ipynb, cell 1: .*defines none"):
        load_target("bad.ipynb")


def test_a_notebook_without_service_cells_says_so(folder):
    write_notebook(folder / "empty.ipynb", "x = 1")
    with pytest.raises(TargetError, match="has no %%techservice cell"):
        load_target("empty.ipynb")


def test_module_colon_instance(folder):
    module(folder, "app", SHOP + "shop = Shop()\n")
    assert list(load_target("app:shop")) == ["shop"]


def test_module_colon_class_builds_it(folder):
    module(folder, "app", SHOP)
    services = load_target("app:Shop")
    assert type(services["shop"]).__name__ == "Shop"


def test_module_colon_function_calls_it(folder):
    module(folder, "app", SHOP + "def create():\n    return Shop(name='corner')\n")
    assert list(load_target("app:create")) == ["corner"]


def test_a_module_alone_gives_its_only_instance(folder):
    module(folder, "app", SHOP + "shop = Shop()\nsame = shop\n")
    assert list(load_target("app")) == ["shop"]


def test_a_module_alone_without_instance_names_its_classes(folder):
    module(folder, "app", SHOP)
    with pytest.raises(TargetError) as error:
        load_target("app")
    assert str(error.value) == (
        "module 'app' holds no TechMicroService instance (classes: Shop); name the "
        "object to use, as in app:OBJECT"
    )


def test_a_module_alone_with_several_services_names_them(folder):
    module(folder, "app", SHOP + "a = Shop(name='north')\nb = Shop(name='south')\n")
    with pytest.raises(TargetError) as error:
        load_target("app")
    assert str(error.value) == (
        "module 'app' holds several services (a (north), b (south)); name the one "
        "to use, as in app:a"
    )


def test_a_missing_module_says_where_it_was_looked_for(folder):
    with pytest.raises(TargetError) as error:
        load_target("nowhere:svc")
    assert str(error.value) == (
        f"no module 'nowhere' in {folder} or on the Python path; run cws from the "
        "folder that holds it"
    )


def test_a_module_failing_on_its_own_import_names_the_cause(folder):
    module(folder, "app", "import not_installed_anywhere\n")
    with pytest.raises(TargetError) as error:
        load_target("app:svc")
    assert str(error.value) == (
        "cannot import 'app': ModuleNotFoundError: No module named "
        "'not_installed_anywhere'"
    )


def test_a_module_raising_while_it_runs_gives_one_line(folder):
    module(folder, "app", "raise RuntimeError('no database\\nsecond line')\n")
    with pytest.raises(TargetError) as error:
        load_target("app:svc")
    assert str(error.value) == "cannot import 'app': RuntimeError: no database"


def test_a_module_that_does_not_parse_names_file_and_line(folder):
    module(folder, "app", "x = 1\ndef broken(:\n")
    with pytest.raises(TargetError, match=r"^cannot import 'app': .*app\.py, line 2: "):
        load_target("app:svc")


def test_a_missing_object_lists_the_services_there(folder):
    module(folder, "app", SHOP + "shop = Shop()\n")
    with pytest.raises(TargetError) as error:
        load_target("app:shoop")
    assert str(error.value) == (
        "module 'app' has no 'shoop'; services there: shop (shop)"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "number = 3\n",
            "app:number is an object of type int; give a TechMicroService instance, "
            "a subclass of it, or a function that returns one",
        ),
        (
            "class Plain:\n    pass\nnumber = Plain\n",
            "app:number is the class Plain, not a subclass of TechMicroService",
        ),
        (
            "def number(size):\n    return size\n",
            "app:number needs arguments; give a function that takes none",
        ),
        (
            "def number():\n    return {}\n",
            "app:number() returned an object of type dict, not a TechMicroService "
            "instance",
        ),
        (
            "def number():\n    raise ValueError('no config')\n",
            "app:number: building the service failed: ValueError: no config",
        ),
    ],
)
def test_an_object_that_is_no_service_says_what_would_be(folder, source, message):
    module(folder, "app", source)
    with pytest.raises(TargetError) as error:
        load_target("app:number")
    assert str(error.value) == message


def test_a_python_file_is_answered_with_the_module_form(folder):
    with pytest.raises(TargetError, match=r"as in app:service for a module file"):
        load_target("app.py")


@pytest.mark.parametrize("target", ["", "app:", "my app:svc", "app:1svc"])
def test_a_target_in_no_known_form_is_refused(folder, target):
    with pytest.raises(TargetError, match="is not a TARGET"):
        load_target(target)


def test_pick_gives_the_only_service_or_the_named_one():
    services = {"north": "N", "south": "S"}
    assert pick({"north": "N"}) == "N"
    assert pick(services, "south") == "S"


def test_pick_among_several_lists_them_and_says_how_to_choose():
    with pytest.raises(TargetError) as error:
        pick({"south": "S", "north": "N"}, how="--service NAME")
    assert str(error.value) == (
        "several services here (north, south): choose one with --service NAME"
    )


def test_pick_of_an_unknown_name_lists_the_known_ones():
    with pytest.raises(TargetError) as error:
        pick({"north": "N"}, "west")
    assert str(error.value) == "no service 'west' here; services: north"
