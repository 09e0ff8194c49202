"""The ``cws`` command: create, inspect, call, serve and export services.

Each command is a thin face over a library function. The group reads the project's
configuration first (see :mod:`coworks.config`): ``project.cws.yml`` gives the
options' defaults, ``.env`` files the environment, and ``CWS_<COMMAND>_<OPTION>``
variables the options.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import typing as t
from pathlib import Path

import click

from . import callargs
from .config import ENV_PREFIX
from .config import STAGE_VARIABLE
from .config import Config
from .config import ConfigError
from .config import apply_environment
from .config import check_stage
from .config import load_config
from .export import ExportError
from .export import export_notebook
from .invoke import invoke
from .targets import FORMS
from .targets import TargetError
from .targets import load_target
from .targets import pick

if t.TYPE_CHECKING:
    from .service import TechMicroService

NOTEBOOK = click.Path(exists=True, dir_okay=False, path_type=Path)

_TARGET_HELP = f"TARGET is {FORMS}."


def _stage(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if not value:
        return None
    try:
        return check_stage(value)
    except ConfigError as error:
        raise click.BadParameter(str(error)) from None


_CONFIG_ERROR = "coworks.config_error"


class _Command(click.Command):
    """A cws command: fails on a broken project file when it runs, not before,
    so that its --help still shows."""

    def invoke(self, ctx: click.Context) -> t.Any:
        error = ctx.meta.get(_CONFIG_ERROR)
        if error is not None:
            raise click.ClickException(str(error))
        return super().invoke(ctx)


class _Group(click.Group):
    command_class = _Command


@click.group(cls=_Group, context_settings={"auto_envvar_prefix": ENV_PREFIX})
@click.version_option(package_name="coworks")
@click.option(
    "--stage",
    metavar="NAME",
    envvar=STAGE_VARIABLE,
    show_envvar=True,
    callback=_stage,
    help="Stage whose settings apply: its section of project.cws.yml and its "
    ".env.NAME file. Services see it as CWS_STAGE.",
)
@click.option(
    "--project-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
    help="Folder holding project.cws.yml and the .env files [default: the "
    "current directory].",
)
@click.pass_context
def main(ctx: click.Context, stage: str | None, project_dir: Path) -> None:
    """CoWorks: tech services and business flows written in Jupyter notebooks.

    An option's value comes from, highest first: the command line, the
    environment (the shell, then .env.STAGE, then .env, as CWS_COMMAND_OPTION),
    project.cws.yml's stage section, then its command section.
    """
    if ctx.invoked_subcommand == "new":
        return  # a new project is made outside any project's settings
    try:
        config = load_config(project_dir, stage)
    except ConfigError as error:
        ctx.meta[_CONFIG_ERROR] = error  # said when the command runs
        return
    for warning in [*config.warnings, *_unknown_variables(config)]:
        click.echo(f"Warning: {warning}", err=True)
    apply_environment(config)
    ctx.default_map = config.default_map()


#: CWS_ variables that name no option but mean something all the same.
_OWN_VARIABLES = {STAGE_VARIABLE, "CWS_PUBLIC"}


def _unknown_variables(config: Config) -> list[str]:
    """A CWS_ variable of an env file that sets no option is a typo, most likely:
    say so, since nothing else would."""
    known = set(_OWN_VARIABLES)
    for name, command in main.commands.items():
        for param in command.params:
            if isinstance(param, click.Option) and param.name:
                known.add(f"{ENV_PREFIX}_{name}_{param.name}".upper())
    return [
        f"{path}: {variable} sets no option of cws (they read "
        f"{ENV_PREFIX}_COMMAND_OPTION, such as {ENV_PREFIX}_RUN_PORT)"
        for path, variable in config.variables_by_file()
        if variable.startswith(f"{ENV_PREFIX}_") and variable not in known
    ]


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise click.BadParameter("must be a number of seconds")
    return value


def _services(target: str) -> dict[str, TechMicroService]:
    try:
        return load_target(target)
    except TargetError as error:
        raise click.ClickException(str(error)) from None


def _service(target: str, name: str | None) -> TechMicroService:
    try:
        return pick(_services(target), name, how="--service NAME")
    except TargetError as error:
        raise click.ClickException(str(error)) from None


@main.command()
@click.argument("notebook", type=NOTEBOOK)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory to write into [default: build/NOTEBOOK_NAME]. An earlier "
    "export there is replaced whole; any other file there stops the export.",
)
def export(notebook: Path, output: Path | None) -> None:
    """Write one Lambda zip per service and one DAG file per flow of NOTEBOOK."""
    output = output or Path("build") / notebook.stem
    try:
        manifest = export_notebook(notebook, output)
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    for service in manifest["services"]:
        size = service["size"] / 1e6
        click.echo(f"service {service['name']:<16} {service['zip']} ({size:.1f} MB)")
    for dag in manifest["dags"]:
        click.echo(f"flow    {dag['dag_id']:<16} {dag['path']}")
    click.echo(f"manifest: {output / 'manifest.json'}")


@main.command(epilog=_TARGET_HELP)
@click.argument("target")
@click.option("--json", "json", is_flag=True, help="Print the routes as JSON.")
def routes(target: str, json: bool) -> None:
    """Show the routes of every service of TARGET."""
    services = _services(target)
    if json:
        listing = {
            name: [route.as_dict() for route in service.routes]
            for name, service in services.items()
        }
        click.echo(_json_text(listing))
        return
    for name, service in services.items():
        for route in service.routes:
            click.echo(f"{name:<16} {route.method:<7} {route.rule}")


@main.command(epilog=_TARGET_HELP)
@click.argument("target")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1; 0 picks a free one.",
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0, min_open=True, max=10**9),
    callback=lambda ctx, param, value: _finite(value),
    default=None,
    help="Stop after this many seconds (default: run until interrupted).",
)
def run(target: str, port: int, seconds: float | None) -> None:
    """Serve the services of TARGET on 127.0.0.1, each under /<service>."""
    from . import local

    services = _services(target)
    try:
        server = local.make(services, port)
    except OSError as error:
        raise click.ClickException(f"{error.strerror}; choose another --port") from None
    for name, service in services.items():
        if getattr(service, "open_access", False):
            click.echo(
                f"Warning: {name} is open to every caller: no TOKEN is set and it "
                "has no token_authorizer of its own; fine for local work only",
                err=True,
            )
    for name in services:
        click.echo(f"{name:<16} http://{local.HOST}:{server.port}/{name}")
    click.echo("Press Ctrl+C to stop." if seconds is None else f"Serving {seconds} s.")
    local.serve(server, seconds)


@main.command(epilog=_TARGET_HELP)
@click.argument("target")
@click.argument("method", callback=callargs.method)
@click.argument("path")
@click.argument(
    "body", metavar="[JSON]", required=False, callback=callargs.json_argument
)
@click.option(
    "-s",
    "--service",
    metavar="NAME",
    help="The service to call, when TARGET has several.",
)
@click.option(
    "-H",
    "--header",
    metavar="'NAME: VALUE'",
    type=callargs.Line(),
    multiple=True,
    callback=callargs.headers,
    help="A request header; repeat for several.",
)
@click.option(
    "-q",
    "--query",
    metavar="KEY=VALUE",
    type=callargs.Line(),
    multiple=True,
    callback=callargs.queries,
    help="A query parameter, added to any ?query in PATH; repeat for several.",
)
@click.option(
    "--token",
    envvar="TOKEN",
    show_envvar=True,
    help="Sent as 'Authorization: Bearer TOKEN', unless -H gives an "
    "Authorization header; --token '' sends none.",
)
@click.pass_context
def call(
    ctx: click.Context,
    target: str,
    method: str,
    path: str,
    body: t.Any,
    service: str | None,
    header: dict[str, str],
    query: dict[str, list[str]],
    token: str | None,
) -> None:
    """Call an entry of a service of TARGET through the Lambda event path.

    METHOD is GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS. PATH is the path as
    a client writes it, with an optional ?query; JSON is the request body. Prints
    the status and the body; exits with 1 when the status is 400 or more.
    """
    if not path.startswith("/"):
        raise click.BadParameter(f"{path!r} must start with /", param_hint="PATH")
    chosen = _service(target, service)
    headers = dict(header)
    if token and not any(name.lower() == "authorization" for name in headers):
        try:
            headers["Authorization"] = f"Bearer {callargs.clean(token, 'the token')}"
        except click.BadParameter as error:
            raise click.ClickException(f"{error.message} (--token or TOKEN)") from None
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    result = invoke(
        chosen, method, path, body=body or b"", query=query, headers=headers
    )
    click.echo(result.describe())
    ctx.exit(0 if result.ok else 1)


@main.command(epilog=_TARGET_HELP)
@click.argument("target")
@click.option(
    "-s",
    "--service",
    metavar="NAME",
    help="The service to describe, when TARGET has several.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the document into this file instead of printing it.",
)
def openapi(target: str, service: str | None, output: Path | None) -> None:
    """Print the OpenAPI document of a service of TARGET."""
    chosen = _service(target, service)
    try:
        document = chosen.openapi()
    except Exception as error:
        raise click.ClickException(
            f"{chosen.name}: its openapi() failed: {type(error).__name__}: {error}"
        ) from None
    text = _json_text(document)
    if output is None:
        click.echo(text)
        return
    _write_document(output, text + "\n")
    click.echo(f"openapi: {output}")


def _write_document(output: Path, text: str) -> None:
    """Write ``text`` into ``output`` whole or not at all; replace an earlier
    OpenAPI document there, never any other file."""
    if output.is_dir():
        raise click.ClickException(f"{output} is a folder; give a file path")
    if output.exists() and not _holds_openapi(output):
        raise click.ClickException(
            f"{output} exists and holds no OpenAPI document; choose another file, "
            "or remove it first"
        )
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=output.parent, prefix=f".{output.name}.", delete=False
        ) as staged:
            staged.write(text)
        os.replace(staged.name, output)
    except OSError as error:
        with contextlib.suppress(NameError, OSError):
            os.unlink(staged.name)
        raise click.ClickException(f"cannot write {output}: {error.strerror}") from None


def _holds_openapi(path: Path) -> bool:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(document, dict) and "openapi" in document


@main.command()
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Folder to create the project in [default: the current directory].",
)
def new(name: str, parent: Path) -> None:
    """Create the project folder NAME: a notebook with a first service, its
    tests, project.cws.yml, .env.example and .gitignore."""
    from .scaffold import ScaffoldError
    from .scaffold import new_project

    try:
        project = new_project(name, parent)
    except ScaffoldError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created {project}")
    click.echo(f"next: cd {project} && cp .env.example .env && pytest")


def _json_text(value: t.Any) -> str:
    return json.dumps(value, indent=2)


if __name__ == "__main__":
    main()
