"""Export: a notebook file becomes Lambda zips, Airflow DAG files and a manifest.

``export_notebook("01_countries.ipynb", "build")`` writes::

    build/<service>/lambda.zip   one per %%techservice cell
    build/dags/<dag_id>.py       one per @biz flow
    build/manifest.json          what was written, with sizes and sha256

The whole export is built aside and moved into place at the end: a failure leaves
the target as it was. A target that holds files export did not write is refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shutil
import sys
import tempfile
import typing as t
from pathlib import Path

from ..entries import STAGE_VARIABLE
from ..sources import NotebookSources
from ..sources import SourceError
from ..sources import load_service
from ..sources import read_notebook
from ..sources import where
from .dagfile import DagFileError
from .dagfile import dag_file
from .package import HANDLER
from .package import PackageError
from .package import beside
from .package import build_zip
from .package import distributions_for
from .package import imported_modules
from .package import is_installed

MANIFEST = "manifest.json"


class ExportError(Exception):
    """An export that cannot be made; the message says what to change."""


def export_notebook(notebook: str | Path, out_dir: str | Path) -> dict[str, t.Any]:
    """Export a notebook's services and flows into ``out_dir``; return the manifest.

    :raises ExportError: when the notebook, a cell or the target is not usable.
    """
    notebook = Path(notebook)
    try:
        # A link to a directory stays a link: the export goes where it points.
        out = Path(out_dir).resolve()
    except (OSError, RuntimeError) as error:
        raise ExportError(f"{out_dir}: {error}") from None
    try:
        sources = read_notebook(notebook)
    except SourceError as error:
        raise ExportError(str(error)) from None
    if not sources.services and not sources.flows:
        raise ExportError(
            f"{notebook}: nothing to export; it has no %%techservice cell and no "
            "@biz flow"
        )
    with _exclusive(out):
        _check_target(out)
        _remove_leftovers(out)
        try:
            staging = Path(
                tempfile.mkdtemp(prefix=_staging_prefix(out), dir=out.parent)
            )
        except OSError as error:
            raise ExportError(f"cannot write into {out.parent}: {error}") from None
        try:
            manifest = _write(sources, staging)
            staging.chmod(0o777 & ~_umask())
            _move_into_place(staging, out)
        except OSError as error:  # a full disk, a quota: the earlier export stays
            raise ExportError(
                f"cannot write the export of {notebook} into {out}: "
                f"{error.strerror or error}"
            ) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return manifest


@contextlib.contextmanager
def _exclusive(out: Path) -> t.Iterator[None]:
    """Hold the lock of exports into ``out``, or refuse: one at a time.

    The lock file is removed when the export ends. A lock taken on a file that
    was removed meanwhile is no lock, so its taker checks that the file it
    locked is still the one at the path, and tries again if not.
    """
    path = out.parent / f".{out.name}.cws-lock"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(f"cannot write into {out.parent}: {error}") from None
    for _ in range(10):
        try:
            lock = open(path, "a")  # noqa: SIM115 (closed below)
        except OSError as error:
            raise ExportError(f"cannot write into {out.parent}: {error}") from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise ExportError(
                f"another export into {out} is running; let it finish first"
            ) from None
        if _same_file(lock, path):
            break
        lock.close()
    else:
        raise ExportError(f"cannot take the lock {path}; try again")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        lock.close()


def _same_file(handle: t.IO[str], path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except FileNotFoundError:
        return False


def _write(sources: NotebookSources, root: Path) -> dict[str, t.Any]:
    services = []
    for cell in sources.services:
        place = where(sources.path, cell.index)
        try:
            # Checked before the cell runs: a missing package is named as such.
            needed = distributions_for(cell.source, sources.path.parent)
            service = load_service(cell, sources.path)
            data = build_zip(cell.source, service.name, type(service).__name__, needed)
        except PackageError as error:
            raise ExportError(f"{place}: {error}") from None
        except SourceError as error:
            raise ExportError(str(error)) from None
        if service.name == "dags" or any(s["name"] == service.name for s in services):
            raise ExportError(
                f"{place}: the service name {service.name!r} is taken "
                "(by another cell, or by the dags folder); choose another"
            )
        zip_path = Path(service.name) / "lambda.zip"
        _write_file(root / zip_path, data)
        services.append(
            {
                "name": service.name,
                "zip": zip_path.as_posix(),
                "handler": HANDLER,
                "runtime": f"python{sys.version_info.major}.{sys.version_info.minor}",
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "routes": [route.as_dict() for route in service.routes],
                # Whom deploy asks for the token check: the class, or TOKEN (a
                # service deployed without TOKEN would be open to everyone).
                "auth": "token_authorizer" if service.own_authorizer else "TOKEN",
            }
        )
    dags = []
    for flow in sources.flows:
        required, _ = imported_modules(flow.source)
        local = sorted(
            m
            for m in required
            if beside(m, sources.path.parent) and not is_installed(m)
        )
        if local:
            raise ExportError(
                f"{where(sources.path, flow.cell)}: the flow imports {local[0]!r}, a "
                "module beside the notebook, which Airflow will not have; put that "
                "code in the cell, or install it where Airflow runs as a package"
            )
        try:
            data = dag_file(flow, sources.path).encode("utf-8")
        except DagFileError as error:
            raise ExportError(f"{where(sources.path, flow.cell)}: {error}") from None
        dag_path = Path("dags") / f"{flow.dag_id}.py"
        _write_file(root / dag_path, data)
        dags.append(
            {
                "dag_id": flow.dag_id,
                "path": dag_path.as_posix(),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    # The stage the routes were listed in: deploy sets it as CWS_STAGE on each
    # function, which then serves the same stage-only entries.
    stage = os.environ.get(STAGE_VARIABLE) or None
    manifest = {"stage": stage, "services": services, "dags": dags}
    _write_file(root / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _check_target(out: Path) -> None:
    """Refuse a target that holds anything but an earlier export's own files."""
    if out == Path.cwd() or out in Path.cwd().parents:
        raise ExportError(
            f"{out} is the current directory or holds it; export into a subdirectory"
        )
    if not out.exists():
        return
    if not out.is_dir():
        raise ExportError(f"{out} exists and is not a directory")
    present = _entries(out)
    if not present:
        return
    try:
        previous = json.loads((out / MANIFEST).read_text())
        written = {MANIFEST, *(s["zip"] for s in previous["services"])}
        written |= {d["path"] for d in previous["dags"]}
    except (OSError, ValueError, KeyError, TypeError):
        raise ExportError(
            f"{out} is not empty and holds no export manifest; choose an empty or "
            "new directory, so that no file of yours is replaced"
        ) from None
    folders = {p.as_posix() for name in written for p in Path(name).parents}
    foreign = sorted(present - written - folders)
    if foreign:
        raise ExportError(
            f"{out} holds files an export did not write ({', '.join(foreign[:5])}); "
            "move them away or choose another directory"
        )


def _entries(root: Path) -> set[str]:
    """Every file, folder and link below ``root``, links not followed."""
    found = set()
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            found.add((Path(folder) / name).relative_to(root).as_posix())
    return found


def _staging_prefix(out: Path) -> str:
    return f".{out.name}.cws-export-"


def _remove_leftovers(out: Path) -> None:
    """Remove the staging folders of exports to ``out`` that were killed."""
    # Only ever called under the lock, so no running export owns these.
    for leftover in out.parent.glob(glob.escape(_staging_prefix(out)) + "*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _move_into_place(staging: Path, out: Path) -> None:
    """Swap the finished export in for the old one, which is removed only after."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=_staging_prefix(out), dir=out.parent))
        os.replace(out, old / "export")
    try:
        os.replace(staging, out)
    except OSError:
        if old is not None:
            os.replace(old / "export", out)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
