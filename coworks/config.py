"""A project's configuration: defaults for the ``cws`` commands and env files.

Configuration serves the command line, export and deploy; it is never written
into a Lambda zip or a DAG file. It lives in the project directory:

``project.cws.yml``
    defaults for the options of each command, and per stage::

        run:
          port: 8001
        export:
          output: build/app     # relative to the project directory
        stages:
          prod:
            run:
              port: 9000

``.env`` and ``.env.<stage>``
    environment variables, ``NAME=value`` a line: secrets such as ``TOKEN``, and
    ``CWS_<COMMAND>_<OPTION>`` values for options (``CWS_RUN_PORT=9001``).

An option's value comes from the first of, highest first: the command line, the
environment (the shell's own variables, then ``.env.<stage>``, then ``.env``), the
stage's section of the project file, the command's section, the built-in default.
Env files never override a variable already set in the environment.

The stage is chosen by ``cws --stage NAME`` or the ``CWS_STAGE`` variable; with
none, only the base sections and ``.env`` are read. Nothing here needs click:
:func:`load_config` reads, :func:`apply_environment` exports.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import re
import reprlib
import typing as t
from pathlib import Path

import yaml
from dotenv import dotenv_values

#: The project file, in the project directory.
PROJECT_FILE = "project.cws.yml"

#: The base env file; a stage's is this name with ``.<stage>`` added.
ENV_FILE = ".env"

#: The variable that names the stage; services read it too.
STAGE_VARIABLE = "CWS_STAGE"

#: Prefix of the variables that set options: ``CWS_RUN_PORT`` is ``run --port``.
ENV_PREFIX = "CWS"

#: The project file's key for the stage sections.
STAGES = "stages"

_STAGE_NAME = re.compile(r"[A-Za-z0-9_-]+")


class ConfigError(ValueError):
    """A project file, env file or stage that cannot be used; says what to fix."""


@dataclasses.dataclass(frozen=True)
class Setting:
    """One option a project file may set: its type, and its allowed values in
    words, as an error message says them."""

    kind: type
    allowed: str
    check: t.Callable[[t.Any], bool] = lambda value: True

    def accepts(self, value: t.Any) -> bool:
        if self.kind is float:
            typed = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif self.kind is int:
            typed = isinstance(value, int) and not isinstance(value, bool)
        elif self.kind is list:
            typed = isinstance(value, list) and all(isinstance(v, str) for v in value)
        elif self.kind is Path:
            typed = isinstance(value, str) and value != ""
        else:
            typed = isinstance(value, self.kind)
        return typed and self.check(value)


_PORT = Setting(int, "a port from 0 to 65535", lambda port: 0 <= port <= 65535)
_SECONDS = Setting(
    float, "a number of seconds above 0", lambda s: math.isfinite(s) and 0 < s <= 1e9
)
_SERVICE = Setting(str, "a service name")
_HEADERS = Setting(
    list, "a list of 'Name: value' strings", lambda hs: all(":" in h for h in hs)
)

#: What a project file may set, by command then option (the option's long name).
#: Paths are relative to the project directory.
SETTINGS: dict[str, dict[str, Setting]] = {
    "run": {"port": _PORT, "seconds": _SECONDS},
    "export": {"output": Setting(Path, "a folder path")},
    "routes": {"json": Setting(bool, "true or false")},
    "call": {"service": _SERVICE, "header": _HEADERS},
    "openapi": {"service": _SERVICE, "output": Setting(Path, "a file path")},
}


@dataclasses.dataclass(frozen=True)
class Config:
    """What a project's files say, for one stage (or none)."""

    project_dir: Path
    stage: str | None = None
    #: The project file's command sections, checked, paths resolved.
    commands: t.Mapping[str, t.Mapping[str, t.Any]] = dataclasses.field(
        default_factory=dict
    )
    #: The command sections of the chosen stage.
    stage_commands: t.Mapping[str, t.Mapping[str, t.Any]] = dataclasses.field(
        default_factory=dict
    )
    #: The env files read, base first.
    env_files: tuple[Path, ...] = ()
    #: Their variables, a stage file's winning over the base file's.
    env: t.Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: Lines of the env files that were ignored, each naming its file.
    warnings: tuple[str, ...] = ()
    #: The env file each variable of :attr:`env` comes from.
    origins: t.Mapping[str, Path] = dataclasses.field(default_factory=dict)

    def variables_by_file(self) -> list[tuple[Path, str]]:
        """Each env file variable with the file it comes from, in file order."""
        return [(self.origins[name], name) for name in self.env]

    def defaults(self, command: str) -> dict[str, t.Any]:
        """The option defaults the project file gives ``command``, by option name:
        the stage's section over the command's own."""
        return {
            **self.commands.get(command, {}),
            **self.stage_commands.get(command, {}),
        }

    def default_map(self) -> dict[str, dict[str, t.Any]]:
        """:meth:`defaults` of every command that has some, as click's
        ``default_map``."""
        found = {command: self.defaults(command) for command in SETTINGS}
        return {command: options for command, options in found.items() if options}

    def environment(self) -> dict[str, str]:
        """The variables of the env files, a stage file's over the base file's."""
        return dict(self.env)


def load_config(project_dir: str | Path = ".", stage: str | None = None) -> Config:
    """Read the project file and env files of ``project_dir`` for ``stage``.

    Missing files are fine: they give nothing. The stage is not taken from the
    environment here; pass ``os.environ.get("CWS_STAGE")`` to follow it.

    :raises ConfigError: when the stage name or a file is not usable; the message
        names the file and the key.
    """
    project_dir = Path(project_dir)
    if stage is not None:
        check_stage(stage)
    if not project_dir.is_dir():
        raise ConfigError(f"{project_dir}: no such project directory")
    commands, stages = _read_project_file(project_dir)
    env_files = [project_dir / ENV_FILE]
    if stage is not None:
        env_files.append(project_dir / f"{ENV_FILE}.{stage}")
    env: dict[str, str] = {}
    warnings: list[str] = []
    read = tuple(path for path in env_files if path.is_file())
    origins: dict[str, Path] = {}
    for path in read:
        values, problems = _read_env_file(path)
        env.update(values)
        origins.update(dict.fromkeys(values, path))
        warnings.extend(problems)
    env = _resolve(env, os.environ)
    stage_file = project_dir / f"{ENV_FILE}.{stage}"
    # A stage the project file does not list, in a project file that lists stages,
    # with no env file of its own either, is most likely misspelt.
    unknown = stage is not None and stages and stage not in stages
    if unknown and not stage_file.is_file():
        warnings.append(
            f"stage {stage!r} has no section in {PROJECT_FILE} and no "
            f"{ENV_FILE}.{stage} file: is its name right?"
        )
    return Config(
        project_dir=project_dir,
        stage=stage,
        commands=commands,
        stage_commands=stages.get(stage, {}) if stage is not None else {},
        env_files=read,
        env=env,
        warnings=tuple(warnings),
        origins=origins,
    )


def apply_environment(
    config: Config, environ: t.MutableMapping[str, str] | None = None
) -> dict[str, str]:
    """Export the env files' variables, and the stage as ``CWS_STAGE``.

    A variable already in ``environ`` (default: ``os.environ``) keeps its value,
    so what a user sets in the shell beats the files. The stage, when the config
    has one, is always exported: services read it.

    :return: the variables set.
    """
    environ = os.environ if environ is None else environ
    added = {
        name: value
        for name, value in config.environment().items()
        if name not in environ
    }
    if config.stage is not None:
        added[STAGE_VARIABLE] = config.stage
    environ.update(added)
    return added


def check_stage(stage: str) -> str:
    """Return ``stage`` if it is a usable stage name.

    :raises ConfigError: otherwise.
    """
    if not _STAGE_NAME.fullmatch(stage):
        raise ConfigError(
            f"stage {stage!r} must be letters, digits, '-' or '_' (it names the "
            f"file {ENV_FILE}.<stage>)"
        )
    return stage


class _KeysAsWritten(yaml.SafeLoader):
    """YAML's safe loader, but for keys, read as written: YAML 1.1 would read the
    stage ``01`` as 1, ``0x1F`` as 31 and ``on`` as true."""


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[t.Any, t.Any]:
    loader.flatten_mapping(node)
    mapping = {}
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            key = key_node.value
        else:
            key = _short(loader.construct_object(key_node, deep=True))
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_KeysAsWritten.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _read_project_file(
    project_dir: Path,
) -> tuple[dict[str, dict[str, t.Any]], dict[str, dict[str, dict[str, t.Any]]]]:
    """The command sections and the stage sections of the project file."""
    path = project_dir / PROJECT_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, {}
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read it ({error})") from None
    try:
        content = yaml.load(text, Loader=_KeysAsWritten)  # a safe loader
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{path}: not valid YAML ({line}{problem})") from None
    if content is None:  # an empty file, or comments only
        return {}, {}
    if not isinstance(content, dict):
        raise ConfigError(
            f"{path}: must be a mapping of commands to options, as in 'run: "
            "{port: 8001}'"
        )
    stages = content.pop(STAGES, None)
    if stages is None:
        stages = {}
    if not isinstance(stages, dict):
        raise ConfigError(f"{path}: {STAGES} must map stage names to sections")
    by_stage = {}
    for name, section in stages.items():
        if not isinstance(name, str) or not _STAGE_NAME.fullmatch(name):
            raise ConfigError(
                f"{path}: {STAGES}.{name if isinstance(name, str) else _short(name)} "
                "is not a stage name (letters, digits, '-' or '_')"
            )
        by_stage[name] = _commands(section, path, project_dir, f"{STAGES}.{name}")
    return _commands(content, path, project_dir, ""), by_stage


def _commands(
    sections: t.Any, path: Path, project_dir: Path, prefix: str
) -> dict[str, dict[str, t.Any]]:
    """Check one level of command sections; resolve paths against the project."""
    where = f"{prefix}." if prefix else ""
    if sections is None:
        return {}
    if not isinstance(sections, dict):
        raise ConfigError(f"{path}: {prefix} must map commands to their options")
    checked = {}
    for command, options in sections.items():
        if command not in SETTINGS:
            known = sorted(SETTINGS) + ([] if prefix else [STAGES])
            raise ConfigError(
                f"{path}: {where}{command} is not a command with settings; "
                f"allowed: {', '.join(known)}"
            )
        checked[command] = _options(
            options, command, f"{where}{command}", path, project_dir
        )
    return checked


def _options(
    options: t.Any, command: str, key: str, path: Path, project_dir: Path
) -> dict[str, t.Any]:
    """Check the options of one command section; resolve paths."""
    allowed = SETTINGS[command]
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ConfigError(
            f"{path}: {key} must map options to values, as in "
            f"'{next(iter(allowed))}: ...'"
        )
    checked = {}
    for option, value in options.items():
        setting = allowed.get(option) if isinstance(option, str) else None
        if setting is None:
            raise ConfigError(
                f"{path}: {key}.{option} is not an option of 'cws {command}'; "
                f"allowed: {', '.join(allowed)}"
            )
        if not setting.accepts(value):
            raise ConfigError(
                f"{path}: {key}.{option} must be {setting.allowed}, not {_short(value)}"
            )
        checked[option] = str(project_dir / value) if setting.kind is Path else value
    return checked


_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _resolve(env: dict[str, str], shell: t.Mapping[str, str]) -> dict[str, str]:
    """Replace ``${NAME}`` (or ``${NAME:-default}``) in the env files' values by
    the value NAME takes in the end: the shell's, else the files' (a stage file
    over the base file), else the default, else nothing."""

    def value_of(name: str, default: str | None, seen: frozenset[str]) -> str:
        if name in shell:
            return shell[name]
        if name in env and name not in seen:
            return expand(env[name], seen | {name})
        return default or ""

    def expand(text: str, seen: frozenset[str]) -> str:
        return _REFERENCE.sub(lambda m: value_of(m[1], m[2], seen), text)

    return {name: expand(value, frozenset({name})) for name, value in env.items()}


_REPR = reprlib.Repr()  # keyword arguments come with Python 3.12
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring = 2, 4, 4, 60


def _short(value: t.Any) -> str:
    """A value as an error message quotes it: a huge one (a YAML alias can make
    a few bytes into millions) is cut short."""
    text = _REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _read_env_file(path: Path) -> tuple[dict[str, str], list[str]]:
    """The variables of an env file, and its lines that could not be read.

    python-dotenv reports a bad line in a log record that does not name the
    file; the record is kept here, and said again with the file's name.
    """
    problems: list[str] = []

    def keep(record: logging.LogRecord) -> bool:
        problems.append(f"{path}: {record.getMessage()}; that line is ignored")
        return False

    dotenv_logger = logging.getLogger("dotenv.main")
    dotenv_logger.addFilter(keep)
    try:
        # Read as written: references to other variables are resolved once all
        # files are read, so that they follow the precedence (see _resolve).
        values = dotenv_values(path, encoding="utf-8", interpolate=False)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read it ({error})") from None
    finally:
        dotenv_logger.removeFilter(keep)
    if STAGE_VARIABLE in values:
        raise ConfigError(
            f"{path}: {STAGE_VARIABLE} cannot be set in an env file, since the stage "
            "chooses the env files; use 'cws --stage NAME' or set it in the shell"
        )
    for name, value in values.items():
        if value is not None and "\x00" in value:
            raise ConfigError(
                f"{path}: {name} holds a NUL character, which no "
                "environment variable can"
            )
    return {k: v for k, v in values.items() if v is not None}, problems
