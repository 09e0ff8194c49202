"""Project configuration: project.cws.yml, .env files, stages, and their order."""

from __future__ import annotations

import logging
import textwrap

import pytest
from click.testing import CliRunner
from helpers import write_notebook

from coworks import local
from coworks.cli import main
from coworks.config import ConfigError
from coworks.config import apply_environment
from coworks.config import check_stage
from coworks.config import load_config

SERVICE_CELL = """\
%%techservice
import os

from flask import request

from coworks import TechMicroService, entry


class Echo(TechMicroService):
    @entry
    def get_stage(self):
        return {"stage": os.environ.get("CWS_STAGE")}

    @entry
    def get_auth(self):
        return {"authorization": request.headers.get("Authorization")}
"""

pytestmark = pytest.mark.usefixtures("clean_environ")


def write(folder, name, text):
    (folder / name).write_text(textwrap.dedent(text))


# The library: reading the files.


def test_a_folder_without_files_gives_nothing(tmp_path):
    config = load_config(tmp_path, None)
    assert config.defaults("run") == {}
    assert config.environment() == {}


def test_the_command_section_gives_defaults(tmp_path):
    write(tmp_path, "project.cws.yml", "run:\n  port: 8001\n")
    assert load_config(tmp_path).defaults("run") == {"port": 8001}


def test_the_stage_section_overrides_the_command_section_key_by_key(tmp_path):
    write(
        tmp_path,
        "project.cws.yml",
        """\
        run:
          port: 8001
          seconds: 30
        stages:
          prod:
            run:
              port: 9000
        """,
    )
    assert load_config(tmp_path, "prod").defaults("run") == {
        "port": 9000,
        "seconds": 30,
    }
    assert load_config(tmp_path, "dev").defaults("run") == {"port": 8001, "seconds": 30}
    assert load_config(tmp_path).defaults("run") == {"port": 8001, "seconds": 30}


def test_a_stage_named_by_digits_alone_is_found(tmp_path):
    write(tmp_path, "project.cws.yml", "stages:\n  2024:\n    run:\n      port: 9000\n")
    assert load_config(tmp_path, "2024").defaults("run") == {"port": 9000}


@pytest.mark.parametrize("name", ["01", "0x1F", "1_0", "on", "no"])
def test_a_stage_name_yaml_1_1_would_read_as_a_number_keeps_its_letters(tmp_path, name):
    write(
        tmp_path, "project.cws.yml", f"stages:\n  {name}:\n    run:\n      port: 9000\n"
    )
    assert load_config(tmp_path, name).defaults("run") == {"port": 9000}


def test_a_huge_value_is_quoted_short_in_an_error(tmp_path):
    # Nine lists of nine lists… : a few bytes that YAML aliases make into millions.
    levels = ["&l0 [a, a, a, a, a, a, a, a, a]"]
    levels += [f"&l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 8)]
    write(tmp_path, "project.cws.yml", f"run:\n  port: [{', '.join(levels)}]\n")
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path)
    assert len(str(error.value)) < 300
    assert "run.port must be a port from 0 to 65535" in str(error.value)


def test_a_project_file_nested_too_deep_is_an_error(tmp_path):
    write(tmp_path, "project.cws.yml", "run: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply to read"):
        load_config(tmp_path)


def test_references_in_env_files_follow_the_precedence(tmp_path, monkeypatch):
    write(tmp_path, ".env", "A=file\nB=${A}-two\nC=${MISSING:-fallback}\n")
    write(tmp_path, ".env.dev", "A=stage\nD=${B}-three\n")
    monkeypatch.delenv("A", raising=False)
    env = load_config(tmp_path, "dev").environment()
    assert env == {
        "A": "stage",
        "B": "stage-two",
        "C": "fallback",
        "D": "stage-two-three",
    }
    monkeypatch.setenv("A", "shell")
    assert load_config(tmp_path, "dev").environment()["D"] == "shell-two-three"


def test_a_nul_character_in_an_env_file_is_an_error(tmp_path):
    (tmp_path / ".env").write_bytes(b"A=a\x00b\n")
    with pytest.raises(ConfigError, match="A holds a NUL character"):
        load_config(tmp_path)


def test_a_stage_nothing_names_is_a_warning(tmp_path):
    write(tmp_path, "project.cws.yml", "stages:\n  prod:\n    run:\n      port: 9000\n")
    assert load_config(tmp_path, "prdo").warnings == (
        "stage 'prdo' has no section in project.cws.yml and no .env.prdo file: is "
        "its name right?",
    )
    assert load_config(tmp_path, "prod").warnings == ()


def test_a_stage_in_a_project_without_stages_is_no_warning(tmp_path):
    # Entries marked @entry(stage="dev") need no configuration at all.
    assert load_config(tmp_path, "dev").warnings == ()


def test_paths_in_the_project_file_are_relative_to_the_project(tmp_path):
    write(tmp_path, "project.cws.yml", "export:\n  output: build/app\n")
    config = load_config(tmp_path)
    assert config.defaults("export") == {"output": str(tmp_path / "build" / "app")}


def test_a_file_of_comments_only_gives_nothing(tmp_path):
    write(tmp_path, "project.cws.yml", "# run:\n#   port: 8001\n")
    assert load_config(tmp_path).default_map() == {}


def test_the_stage_env_file_overrides_the_base_one(tmp_path):
    write(tmp_path, ".env", "TOKEN=base\nREGION=eu-west-1\n")
    write(tmp_path, ".env.prod", "TOKEN=prod\n")
    assert load_config(tmp_path, "prod").environment() == {
        "TOKEN": "prod",
        "REGION": "eu-west-1",
    }
    assert load_config(tmp_path).environment() == {
        "TOKEN": "base",
        "REGION": "eu-west-1",
    }


def test_applying_keeps_what_the_shell_set_and_exports_the_stage(tmp_path):
    write(tmp_path, ".env", "TOKEN=from-file\nREGION=eu-west-1\n")
    environ = {"TOKEN": "from-shell"}
    added = apply_environment(load_config(tmp_path, "dev"), environ)
    assert environ == {
        "TOKEN": "from-shell",
        "REGION": "eu-west-1",
        "CWS_STAGE": "dev",
    }
    assert added == {"REGION": "eu-west-1", "CWS_STAGE": "dev"}


def test_a_bad_env_line_is_reported_with_its_file(tmp_path, caplog):
    write(tmp_path, ".env", "TOKEN=abc\nthis is not a variable\nREGION=eu\n")
    with caplog.at_level(logging.WARNING):
        config = load_config(tmp_path)
    assert config.environment() == {"TOKEN": "abc", "REGION": "eu"}
    assert config.warnings == (
        f"{tmp_path / '.env'}: python-dotenv could not parse statement starting at "
        "line 2; that line is ignored",
    )
    assert caplog.records == []  # said once, by the config, with the file's name


def test_the_stage_cannot_come_from_an_env_file(tmp_path):
    write(tmp_path, ".env", "CWS_STAGE=prod\n")
    with pytest.raises(ConfigError, match=r"\.env: CWS_STAGE cannot be set in an env"):
        load_config(tmp_path)


@pytest.mark.parametrize("stage", ["", "../prod", "pro d", "prod.eu", "prød"])
def test_a_stage_name_is_letters_digits_dash_underscore(stage):
    with pytest.raises(ConfigError, match="must be letters, digits, '-' or '_'"):
        check_stage(stage)


@pytest.mark.parametrize("stage", ["prod", "eu-west_1", "2"])
def test_a_good_stage_name_passes(stage):
    assert check_stage(stage) == stage


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "- run\n",
            "must be a mapping of commands to options, as in 'run: {port: 8001}'",
        ),
        (
            "deploy:\n  region: eu\n",
            "deploy is not a command with settings; allowed: call, export, "
            "openapi, routes, run, stages",
        ),
        (
            "run:\n  host: 0.0.0.0\n",
            "run.host is not an option of 'cws run'; allowed: port, seconds",
        ),
        ("run: 8001\n", "run must map options to values, as in 'port: ...'"),
        ("run:\n  port: abc\n", "run.port must be a port from 0 to 65535, not 'abc'"),
        ("run:\n  port: true\n", "run.port must be a port from 0 to 65535, not True"),
        (
            "run:\n  port: 70000\n",
            "run.port must be a port from 0 to 65535, not 70000",
        ),
        (
            "run:\n  seconds: 0\n",
            "run.seconds must be a number of seconds above 0, not 0",
        ),
        ("routes:\n  json: 1\n", "routes.json must be true or false, not 1"),
        (
            "call:\n  header: 'Accept: text/plain'\n",
            "call.header must be a list of 'Name: value' strings, not 'Accept: "
            "text/plain'",
        ),
        ("stages: [prod]\n", "stages must map stage names to sections"),
        (
            "stages:\n  pro d: {}\n",
            "stages.pro d is not a stage name (letters, digits, '-' or '_')",
        ),
        (
            "stages:\n  prod:\n    deploy: {}\n",
            "stages.prod.deploy is not a command with settings; allowed: call, "
            "export, openapi, routes, run",
        ),
        (
            "stages:\n  prod:\n    run:\n      port: x\n",
            "stages.prod.run.port must be a port from 0 to 65535, not 'x'",
        ),
    ],
)
def test_a_bad_project_file_is_one_line_naming_file_and_key(tmp_path, text, message):
    write(tmp_path, "project.cws.yml", text)
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path)
    assert str(error.value) == f"{tmp_path / 'project.cws.yml'}: {message}"


def test_a_project_file_that_is_not_yaml_gives_the_line(tmp_path):
    write(tmp_path, "project.cws.yml", "run:\n  port: [8001\n")
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path)
    said = str(error.value)
    assert said.startswith(f"{tmp_path / 'project.cws.yml'}: not valid YAML (line 3: ")
    assert "\n" not in said


def test_a_missing_project_directory_is_named(tmp_path):
    with pytest.raises(ConfigError, match="no such project directory"):
        load_config(tmp_path / "nope")


# The command line: each layer of the order, highest first, beats the next.


@pytest.fixture
def project(tmp_path):
    write_notebook(tmp_path / "echo.ipynb", SERVICE_CELL)
    return tmp_path


@pytest.fixture
def served_port(monkeypatch):
    """The port ``cws run`` would serve on, given its arguments and a shell."""
    ports = []

    class Server:
        port = 0

    def make(services, port):
        ports.append(port)
        return Server()

    monkeypatch.setattr(local, "make", make)
    monkeypatch.setattr(local, "serve", lambda server, seconds: None)

    def run(project, *group_options, options=(), env=None):
        notebook = str(project / "echo.ipynb")
        command = ["--project-dir", str(project), *group_options, "run", notebook]
        result = CliRunner().invoke(main, [*command, *options], env=env)
        assert result.exit_code == 0, result.output
        return ports[-1]

    return run


LAYERED = """\
run:
  port: 8001
stages:
  prod:
    run:
      port: 9000
"""


def test_without_settings_the_built_in_default_holds(project, served_port):
    assert served_port(project) == 8000


def test_the_command_section_beats_the_built_in_default(project, served_port):
    write(project, "project.cws.yml", "run:\n  port: 8001\n")
    assert served_port(project) == 8001


def test_the_stage_section_beats_the_command_section(project, served_port):
    write(project, "project.cws.yml", LAYERED)
    assert served_port(project, "--stage", "prod") == 9000


def test_the_stage_can_come_from_the_shell(project, served_port):
    write(project, "project.cws.yml", LAYERED)
    assert served_port(project, env={"CWS_STAGE": "prod"}) == 9000


def test_the_env_file_beats_the_stage_section(project, served_port):
    write(project, "project.cws.yml", LAYERED)
    write(project, ".env", "CWS_RUN_PORT=9001\n")
    assert served_port(project, "--stage", "prod") == 9001


def test_the_stage_env_file_beats_the_env_file(project, served_port):
    write(project, "project.cws.yml", LAYERED)
    write(project, ".env", "CWS_RUN_PORT=9001\n")
    write(project, ".env.prod", "CWS_RUN_PORT=9002\n")
    assert served_port(project, "--stage", "prod") == 9002


def test_the_shell_beats_the_env_files(project, served_port):
    write(project, "project.cws.yml", LAYERED)
    write(project, ".env", "CWS_RUN_PORT=9001\n")
    write(project, ".env.prod", "CWS_RUN_PORT=9002\n")
    shell = {"CWS_RUN_PORT": "9004"}
    assert served_port(project, "--stage", "prod", env=shell) == 9004


def test_the_command_line_beats_everything(project, served_port):
    write(project, "project.cws.yml", LAYERED)
    write(project, ".env", "CWS_RUN_PORT=9001\n")
    write(project, ".env.prod", "CWS_RUN_PORT=9002\n")
    shell = {"CWS_RUN_PORT": "9004"}
    port = served_port(
        project, "--stage", "prod", options=["--port", "9003"], env=shell
    )
    assert port == 9003


# The command line: the environment services see.


def call(project, *args):
    notebook = str(project / "echo.ipynb")
    command = ["--project-dir", str(project), *args[:-1], "call", notebook, "GET"]
    return CliRunner().invoke(main, [*command, args[-1]])


def test_the_stage_is_exported_to_the_services(project):
    result = call(project, "--stage", "dev", "/stage")
    assert result.exit_code == 0, result.output
    assert '"stage": "dev"' in result.output


def test_a_token_from_the_env_file_is_sent_as_bearer(project):
    write(project, ".env", "TOKEN=from-dotenv\n")
    result = call(project, "/auth")
    assert result.exit_code == 0, result.output
    assert '"authorization": "Bearer from-dotenv"' in result.output


def test_a_bad_project_file_stops_every_command_in_one_line(project):
    write(project, "project.cws.yml", "run:\n  host: 0.0.0.0\n")
    result = call(project, "/stage")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {project / 'project.cws.yml'}: run.host is not an option of "
        "'cws run'; allowed: port, seconds\n"
    )


def test_a_bad_env_line_is_a_warning_naming_the_file(project):
    write(project, ".env.dev", "not a variable\n")
    result = call(project, "--stage", "dev", "/stage")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {project / '.env.dev'}: python-dotenv could not parse statement "
        "starting at line 1; that line is ignored\n"
    )


def test_a_cws_variable_that_sets_no_option_is_a_warning(project):
    write(project, ".env.dev", "CWS_RUN_PROT=9001\nCWS_CALL_SERVICE=echo\n")
    result = call(project, "--stage", "dev", "/stage")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {project / '.env.dev'}: CWS_RUN_PROT sets no option of cws "
        "(they read CWS_COMMAND_OPTION, such as CWS_RUN_PORT)\n"
    )


def test_a_bad_stage_name_is_a_usage_error(project):
    result = call(project, "--stage", "../prod", "/stage")
    assert result.exit_code == 2
    assert "stage '../prod' must be letters, digits, '-' or '_'" in result.output
