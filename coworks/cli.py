"""The ``cws`` command: export, serve and inspect the services of a notebook."""

from __future__ import annotations

import json
import math
import typing as t
from pathlib import Path

import click

from .export import ExportError
from .export import export_notebook
from .sources import SourceError
from .sources import load_services

NOTEBOOK = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
@click.version_option(package_name="coworks")
def main() -> None:
    """CoWorks: tech services and business flows written in Jupyter notebooks."""


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise click.BadParameter("must be a number of seconds")
    return value


def _services(notebook: Path) -> dict[str, t.Any]:
    try:
        services = load_services(notebook)
    except SourceError as error:
        raise click.ClickException(str(error)) from None
    if not services:
        raise click.ClickException(f"{notebook} has no %%techservice cell")
    return services


@main.command()
@click.argument("notebook", type=NOTEBOOK)
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory to write into [default: build/NOTEBOOK_NAME]. An earlier "
    "export there is replaced whole; any other file there stops the export.",
)
def export(notebook: Path, out_dir: Path | None) -> None:
    """Write one Lambda zip per service and one DAG file per flow of NOTEBOOK."""
    out_dir = out_dir or Path("build") / notebook.stem
    try:
        manifest = export_notebook(notebook, out_dir)
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    for service in manifest["services"]:
        size = service["size"] / 1e6
        click.echo(f"service {service['name']:<16} {service['zip']} ({size:.1f} MB)")
    for dag in manifest["dags"]:
        click.echo(f"flow    {dag['dag_id']:<16} {dag['path']}")
    click.echo(f"manifest: {out_dir / 'manifest.json'}")


@main.command()
@click.argument("notebook", type=NOTEBOOK)
@click.option("--json", "as_json", is_flag=True, help="Print the routes as JSON.")
def routes(notebook: Path, as_json: bool) -> None:
    """Show the routes of every service of NOTEBOOK."""
    services = _services(notebook)
    if as_json:
        listing = {
            name: [route.as_dict() for route in service.routes]
            for name, service in services.items()
        }
        click.echo(json.dumps(listing, indent=2))
        return
    for name, service in services.items():
        for route in service.routes:
            click.echo(f"{name:<16} {route.method:<7} {route.rule}")


@main.command()
@click.argument("notebook", type=NOTEBOOK)
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
def run(notebook: Path, port: int, seconds: float | None) -> None:
    """Serve the services of NOTEBOOK on 127.0.0.1, each under /<service>."""
    from . import local

    services = _services(notebook)
    try:
        server = local.make(services, port)
    except OSError as error:
        raise click.ClickException(f"{error.strerror}; choose another --port") from None
    for name in services:
        click.echo(f"{name:<16} http://{local.HOST}:{server.port}/{name}")
    click.echo("Press Ctrl+C to stop." if seconds is None else f"Serving {seconds} s.")
    local.serve(server, seconds)


if __name__ == "__main__":
    main()
