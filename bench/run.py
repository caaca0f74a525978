"""Run every benchmark module in bench/ (make bench does, against a throwaway PostgreSQL and Redis).

    python bench/run.py [--quick] [--only NAME [--only NAME ...]] [--list] [--out PATH]

A module is bench/<name>_bench.py with a top-level ``run(report, quick)`` (see bench/README.md).
The skeleton runs first, then the others in name order, each in its own try/except: one broken
module is reported and the next one runs. Figures go to the screen and to
bench/out/results.json. Exit code 1 when a module failed, 0 otherwise (skipped modules included).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import os
import sys
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
FIRST = "skeleton"


def discover(bench_dir: Path = BENCH_DIR) -> list[tuple[str, Path, bool]]:
    """(name, path, has_run) for each bench/*_bench.py, skeleton first. has_run is read from the
    source (a top-level ``def run``) so a module without one is never imported: standalone
    scripts may do work at import time."""
    found = []
    for path in sorted(bench_dir.glob("*_bench.py")):
        name = path.name.removesuffix("_bench.py")
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            has_run = any(isinstance(node, ast.FunctionDef) and node.name == "run" for node in tree.body)
        except (SyntaxError, UnicodeDecodeError, OSError):
            has_run = True  # let the import report the error
        found.append((name, path, has_run))
    found.sort(key=lambda item: (item[0] != FIRST, item[0]))
    return found


def _setup_django() -> None:
    for path in (str(ROOT),):
        if path not in sys.path:
            sys.path.insert(0, path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    # Benchmarks never send mail (seed_demo's notices would try SMTP on localhost): keep it in
    # memory, here and in the gunicorns the modules start (they inherit the environment).
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    import django

    django.setup()


def _contract_problem(func) -> str:
    """Why func cannot be called as run(report, quick), or ''."""
    try:
        inspect.signature(func).bind(object(), True)
    except TypeError as exc:
        return f"its run{inspect.signature(func)} does not take (report, quick): {exc}"
    except ValueError:
        return ""
    return ""


def _needs_problem(module) -> str:
    from django.conf import settings
    from django.db import connection

    needs = set(getattr(module, "NEEDS", ()) or ())
    if "postgresql" in needs and connection.vendor != "postgresql":
        return f"needs PostgreSQL, the default database is {connection.vendor} (run it with `make bench`)"
    if "redis" in needs and not (settings.CELERY_BROKER_URL or "").startswith(("redis://", "rediss://")):
        return "needs Redis (CELERY_BROKER_URL is not redis://; run it with `make bench`)"
    unknown = needs - {"postgresql", "redis"}
    if unknown:
        return f"unknown NEEDS {sorted(unknown)}"
    return ""


def run_module(report, name: str, path: Path, has_run: bool, quick: bool) -> str:
    """Run one module inside its own section; returns its status: ok, skipped or error."""
    from django.db import connections

    from bench.common import Skip

    report.section(name)
    started = time.perf_counter()
    status, message = "ok", ""
    try:
        if not has_run:
            status, message = "skipped", f"{path.name} has no top-level run(report, quick)"
        else:
            module = importlib.import_module(f"bench.{path.stem}")
            func = getattr(module, "run", None)
            problem = "it has no run()" if not callable(func) else _contract_problem(func)
            problem = problem or _needs_problem(module)
            if problem:
                status, message = "skipped", problem
            else:
                func(report, quick)
    except Skip as exc:
        status, message = "skipped", str(exc)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - one broken module must not stop the others
        status = "error"
        message = f"{type(exc).__name__}: {exc}"
        report.note("traceback:\n" + traceback.format_exc().rstrip())
    finally:
        # A module may leave a broken transaction or a connection behind: the next one starts clean.
        connections.close_all()
    report.finish_section(status, time.perf_counter() - started, message)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a quick look, not figures to quote)")
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME",
        help="run only this module (skeleton, inventory or inventory_bench...); repeat or comma-separate",
    )  # fmt: skip
    parser.add_argument("--list", action="store_true", help="list the modules and exit")
    parser.add_argument("--out", type=Path, default=None, help="the JSON summary (default bench/out/results.json)")
    args = parser.parse_args(argv)

    modules = discover()
    if args.list:
        for name, path, has_run in modules:
            print(f"{name:<12} {path.relative_to(ROOT)}{'' if has_run else '  (no run(): skipped)'}")
        return 0
    wanted = {n.strip().removesuffix("_bench") for item in args.only for n in item.split(",") if n.strip()}
    unknown = wanted - {name for name, _path, _has in modules}
    if unknown:
        print(f"No such bench module: {', '.join(sorted(unknown))}. Known: {', '.join(n for n, *_ in modules)}")
        return 2
    if wanted:
        modules = [m for m in modules if m[0] in wanted]

    _setup_django()
    from django.conf import settings
    from django.db import connection

    from bench.common import Report

    sys.modules.setdefault("common", sys.modules["bench.common"])  # `import common` gets the same module
    report = Report(out_path=args.out, quick=args.quick)
    print(
        f"bench: {len(modules)} module(s){' (quick)' if args.quick else ''}; database {connection.vendor}, "
        f"DEBUG={settings.DEBUG}, Celery eager={settings.CELERY_TASK_ALWAYS_EAGER}, {os.cpu_count()} CPUs"
    )
    if settings.DEBUG:
        print("warning: DEBUG is on (Django keeps every query in memory): figures are not representative")
    statuses = {}
    try:
        for name, path, has_run in modules:
            statuses[name] = run_module(report, name, path, has_run, args.quick)
    finally:
        out = report.write_json()
        summary = ", ".join(f"{n} {s}" for n, s in statuses.items())
        shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
        print(f"\n{summary or 'no modules'}; JSON summary in {shown}")
    return 1 if "error" in statuses.values() else 0


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    # `python bench/run.py` puts bench/ first on sys.path; drop it so `import common` and
    # `import bench.common` cannot load two copies (run() aliases `common` to bench.common).
    if sys.path and Path(sys.path[0]).resolve() == BENCH_DIR:
        sys.path.pop(0)
    sys.exit(main())
