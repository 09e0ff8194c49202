"""IPython magics: ``%%techservice`` defines a service, ``%cws`` calls and lists."""

from __future__ import annotations

import json
import os
import typing as t

from IPython.core.error import UsageError
from IPython.core.magic import Magics
from IPython.core.magic import cell_magic
from IPython.core.magic import line_magic
from IPython.core.magic import magics_class

from ..binding import EntryError
from ..config import STAGE_VARIABLE
from ..config import ConfigError
from ..config import apply_environment
from ..config import load_config
from ..routing import RoutingError
from ..sources import NO_ARGUMENTS
from ..sources import SourceError
from ..sources import class_names
from ..sources import service_class
from . import UnknownService
from . import call
from . import get
from . import register as register_service
from . import routes_text
from . import services

_CWS_USAGE = """\
%cws call SERVICE METHOD PATH [JSON]   call an entry through the Lambda path
%cws routes [SERVICE]                   show the routes of one or all services
%cws services                           list the services defined so far"""


@magics_class
class CoWorksMagics(Magics):
    """The CoWorks magics."""

    @cell_magic
    def techservice(self, line: str, cell: str) -> None:
        """Define a tech service: run the cell, then register its service.

        The cell defines one subclass of ``coworks.TechMicroService``; the magic
        builds it, registers it under its name (running the cell again replaces
        it) and shows its routes. Call it with ``%cws call`` or
        ``coworks.notebook.call``.
        """
        if line.strip():
            raise UsageError(NO_ARGUMENTS)
        try:
            names = class_names(cell)
        except SyntaxError:
            names = []  # running the cell shows the error where it is
        self._run(cell)
        try:
            service = service_class(self.shell.user_ns, names)()
        except (SourceError, RoutingError, EntryError) as error:
            raise UsageError(str(error)) from None
        replaced = register_service(service) is not None
        print(("replaced " if replaced else "") + routes_text(service))

    def _run(self, cell: str) -> None:
        """Run the cell's code in the user's namespace.

        A blank first line stands for the magic's, so that tracebacks give the
        line numbers of the cell; IPython's cache lets them show its source.
        """
        source = "\n" + cell
        filename = self.shell.compile.cache(source)
        code = compile(source, filename, "exec", dont_inherit=True)
        exec(code, self.shell.user_global_ns, self.shell.user_ns)

    @line_magic
    def cws(self, line: str) -> t.Any:
        """Call and inspect the services of this notebook.

        %cws call SERVICE METHOD PATH [JSON]
        %cws routes [SERVICE]
        %cws services
        """
        words = line.split(maxsplit=1)
        command = words[0] if words else ""
        rest = words[1] if len(words) > 1 else ""
        try:
            if command == "call":
                return self._call(rest)
            if command == "routes":
                chosen = [get(rest.strip())] if rest.strip() else services.values()
                print("\n".join(routes_text(s) for s in chosen) or "no services yet")
                return None
            if command == "services":
                print("\n".join(sorted(services)) or "no services yet")
                return None
        except UnknownService as error:
            raise UsageError(str(error)) from None
        raise UsageError(f"unknown %cws command {command!r}\n{_CWS_USAGE}")

    def _call(self, rest: str) -> t.Any:
        words = rest.split(maxsplit=3)
        if len(words) < 3:
            raise UsageError("usage: %cws call SERVICE METHOD PATH [JSON]")
        service, method, path = words[:3]
        body = None
        if len(words) == 4:
            try:
                body = json.loads(words[3])
            except json.JSONDecodeError as error:
                raise UsageError(f"the body is not valid JSON: {error}") from None
        return call(service, method, path, body)


def register(ipython: t.Any) -> None:
    """Register the magics with a running IPython, and read the project's env
    files (``.env``, and ``.env.<stage>`` for ``CWS_STAGE``) in the current
    directory, as ``cws`` does: a token set there is the notebook's too."""
    ipython.register_magics(CoWorksMagics)
    try:
        config = load_config(".", os.environ.get(STAGE_VARIABLE) or None)
    except ConfigError as error:
        print(f"coworks: the project's settings are not read: {error}")
        return
    for warning in config.warnings:
        print(f"coworks: {warning}")
    apply_environment(config)
    if config.env_files:
        print("coworks: read " + ", ".join(path.name for path in config.env_files))
