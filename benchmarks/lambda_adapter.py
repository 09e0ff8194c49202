"""The Lambda adapter of CoWorks against raw Flask dispatch and its peers.

Every contender answers the same route, ``GET /hello`` with the JSON object
``{"message": "hello"}``, and is handed the same API Gateway REST (v1) proxy event:
the one ``sam local generate-event`` prints (``tests/events/aws-sam-cli``), aimed at
``GET /hello`` with no body and no query. Two costs are measured in one run:

* **per call**: microseconds to answer the event in a warm interpreter. Rounds of
  many calls are timed with :func:`time.perf_counter_ns`, the contenders taking
  turns round after round so that a slow spell of the machine falls on all of them;
  the median and the best round are kept, and the ratios use the medians.
* **cold start**: milliseconds to import the contender's stack and build its
  handler, in a fresh interpreter (a subprocess per repetition; the median is kept),
  with every module's bytecode already compiled. The interpreter's own start-up,
  the same for all, is not counted. The first
  answer after that is shown beside it, for information.

The floor is raw Flask dispatch: ``app.wsgi_app(environ, start_response)`` with an
environ built once from the event and copied per call with a fresh ``wsgi.input``,
so no event is read and no response dict is written. Its app, a bare Flask app with
one route, is also the base of the cold start ratio.

Targets for CoWorks: per call at most 1.1 times raw Flask dispatch and at most 0.7
times apig-wsgi; cold start at most 1.1 times the bare Flask app. A full run prints
whether each is met and exits with status 1 when one is not. ``--smoke`` runs a few
calls and one cold start each, only checks that every contender answers right and
that the table prints, and enforces no target: shared CI machines are too noisy.

Run it from the repository root: ``python benchmarks/lambda_adapter.py [--smoke]``.
It measures the CoWorks of the checkout it sits in.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's coworks, not an installed one

from lambda_contenders import CONTENDERS  # noqa: E402
from lambda_contenders import EVENT_FILE  # noqa: E402
from lambda_contenders import Context  # noqa: E402
from lambda_contenders import hello_event  # noqa: E402

EXPECTED = {"message": "hello"}

#: Per call at most this many times raw Flask dispatch, and apig-wsgi.
TARGET_RAW = 1.1
TARGET_APIG = 0.7
#: Cold start at most this many times the bare Flask app.
TARGET_COLD = 1.1

LABELS = {key: label for key, label, _ in CONTENDERS}

#: A cold start, run by ``python -c``: the clock starts once the interpreter is up
#: (with what ``site`` imports), stops once the handler is built, and times the
#: first answer apart. Arguments: the repository, this folder, a contender's key.
COLD_START = """\
import time
started = time.perf_counter_ns()
import sys
sys.path[:0] = sys.argv[1:3]
import lambda_contenders as contenders
handler = dict((k, b) for k, _, b in contenders.CONTENDERS)[sys.argv[3]]()
built = time.perf_counter_ns()
event, context = contenders.hello_event(), contenders.Context()
called = time.perf_counter_ns()
answer = handler(event, context)
answered = time.perf_counter_ns()
import json
if isinstance(answer, tuple):
    answer = [answer[0], answer[1], answer[2].decode()]
print(json.dumps({"build": built - started, "first": answered - called,
                  "answer": answer}))
"""


def check(label: str, answer: t.Any) -> None:
    """Stop the run unless ``answer`` is a 200 carrying the expected JSON."""
    if isinstance(answer, tuple):  # raw dispatch: status line, headers, body
        status_line, header_list, data = answer
        status = int(status_line.split()[0])
        headers = {key.lower(): value for key, value in header_list}
    else:
        status = answer.get("statusCode")
        headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
        for key, values in (answer.get("multiValueHeaders") or {}).items():
            headers.setdefault(key.lower(), values[-1])
        text = answer.get("body") or ""
        data = base64.b64decode(text) if answer.get("isBase64Encoded") else text
    try:
        body = json.loads(data)
    except ValueError:
        body = data
    content_type = headers.get("content-type", "")
    if status != 200 or body != EXPECTED or "json" not in content_type:
        raise SystemExit(
            f"{label} answered {status} {content_type!r} {body!r}; expected 200 "
            f"application/json {EXPECTED!r}"
        )


def time_calls(handler: t.Any, event: t.Any, context: t.Any, calls: int) -> float:
    """Microseconds per call over ``calls`` calls."""
    started = time.perf_counter_ns()
    for _ in range(calls):
        handler(event, context)
    return (time.perf_counter_ns() - started) / calls / 1000


def per_call(smoke: bool) -> dict[str, list[float]]:
    """Microseconds per call of each round, for each contender; the contenders
    take turns, round after round."""
    context = Context()
    handlers = {}
    calls = {}
    for key, label, build in CONTENDERS:
        event = hello_event()
        handler = build()
        check(label, handler(event, context))
        time_calls(handler, event, context, 20 if smoke else 2000)  # warm-up
        if event != hello_event():
            raise SystemExit(f"{label} changed the event it was given")
        # Enough calls for a round to last about 0.2 s.
        sample = time_calls(handler, event, context, 50)
        calls[key] = 100 if smoke else max(200, int(200_000 / sample))
        handlers[key] = (handler, event)
    rounds: dict[str, list[float]] = {key: [] for key in handlers}
    for _ in range(2 if smoke else 9):
        for key, (handler, event) in handlers.items():
            rounds[key].append(time_calls(handler, event, context, calls[key]))
    for key, (handler, event) in handlers.items():  # still right after all that
        check(LABELS[key], handler(event, context))
    return rounds


def cold_start(key: str, env: dict[str, str]) -> tuple[float, float]:
    """Milliseconds to import and build one contender in a fresh interpreter, and
    to answer its first event."""
    here = str(Path(__file__).resolve().parent)
    command = [sys.executable, "-c", COLD_START, str(ROOT), here, key]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"the cold start of {LABELS[key]} failed:\n{done.stderr}")
    result = json.loads(done.stdout.splitlines()[-1])
    answer = result["answer"]
    check(LABELS[key], tuple(answer) if isinstance(answer, list) else answer)
    return result["build"] / 1e6, result["first"] / 1e6


def cold_starts(smoke: bool) -> dict[str, list[tuple[float, float]]]:
    """Each contender's cold starts, taking turns.

    Every contender loads its bytecode from the same place: a scratch cache that
    a first round, left out, fills. Otherwise the packages
    installed by pip would come with bytecode and a checkout's CoWorks might not
    (with ``PYTHONDONTWRITEBYTECODE`` set, it would be compiled at every start).
    """
    runs: dict[str, list[tuple[float, float]]] = {key: [] for key in LABELS}
    with tempfile.TemporaryDirectory(prefix="coworks-bench-") as cache:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for key in LABELS:
            cold_start(key, env)
        for _ in range(1 if smoke else 11):
            for key in LABELS:
                runs[key].append(cold_start(key, env))
    return runs


def report(
    rounds: dict[str, list[float]], colds: dict[str, list[tuple[float, float]]]
) -> dict[str, float]:
    """Print the table; return the three ratios the targets are about."""
    median = {key: statistics.median(values) for key, values in rounds.items()}
    cold = {key: statistics.median(b for b, _ in runs) for key, runs in colds.items()}
    first = {key: statistics.median(f for _, f in runs) for key, runs in colds.items()}
    head = (
        f"{'adapter':<26}{'µs/call':>9}{'min':>8}{'×raw':>7}{'×apig':>7}"
        f"{'cold ms':>9}{'×bare':>7}{'1st ms':>8}"
    )
    print(head)
    print("-" * len(head))
    for key, label, _ in CONTENDERS:
        print(
            f"{label:<26}{median[key]:>9.1f}{min(rounds[key]):>8.1f}"
            f"{median[key] / median['flask']:>7.2f}"
            f"{median[key] / median['apig']:>7.2f}"
            f"{cold[key]:>9.1f}{cold[key] / cold['flask']:>7.2f}{first[key]:>8.2f}"
        )
    print(
        "µs/call: median of the rounds (min: best round); ×raw, ×apig: ratios of "
        "medians;\ncold ms: median import + build in a fresh interpreter; ×bare: "
        "ratio to the bare Flask\napp of the raw dispatch row; 1st ms: the first "
        "answer after the build."
    )
    return {
        "raw": median["coworks"] / median["flask"],
        "apig": median["coworks"] / median["apig"],
        "cold": cold["coworks"] / cold["flask"],
    }


def verdicts(ratios: dict[str, float]) -> bool:
    """Print each target and whether CoWorks meets it; True when all are met."""
    targets = (
        ("per call vs raw Flask dispatch", ratios["raw"], TARGET_RAW),
        ("per call vs apig-wsgi + Flask", ratios["apig"], TARGET_APIG),
        ("cold start vs bare Flask app", ratios["cold"], TARGET_COLD),
    )
    print("\nTargets for CoWorks:")
    for name, ratio, bound in targets:
        verdict = "met" if ratio <= bound else "NOT met"
        print(f"  {name:<32} {ratio:5.2f}× (at most {bound}×): {verdict}")
    return all(ratio <= bound for _, ratio, bound in targets)


def versions() -> str:
    from importlib.metadata import version

    names = ("flask", "werkzeug", "apig-wsgi", "serverless-wsgi", "mangum")
    names += ("starlette", "chalice", "aws-lambda-powertools")
    return ", ".join(f"{name} {version(name)}" for name in names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="few calls, no targets")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit with 1 when a target is missed (the verdicts print either way)",
    )
    args = parser.parse_args(argv)
    # A public API, as every other contender is: no token asked for, on Lambda too.
    os.environ.pop("TOKEN", None)
    os.environ["CWS_PUBLIC"] = "true"
    print(f"Lambda adapter benchmark, {'smoke' if args.smoke else 'full'} run")
    print(f"{date.today()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(versions())
    print(f"GET /hello: {os.path.relpath(EVENT_FILE, ROOT)}, re-aimed\n")
    rounds = per_call(args.smoke)
    colds = cold_starts(args.smoke)
    ratios = report(rounds, colds)
    met = verdicts(ratios)
    if args.smoke:
        print("(smoke run: every adapter answered right; targets not enforced)")
        return 0
    return 0 if met or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
