"""Reports (issue #8): the dashboard and every KPI page on 1,000,000 orders, each beside the raw
SQL aggregate of the same figure, timed in the same run.

Data (bench/reports_seed.py; the raw SQL in bench/reports_raw.py): a database of its own
(``<default name>_reports_bench`` on the same PostgreSQL server), migrated in a subprocess and
seeded with COPY: N orders over the last 365 days with a weekly pattern (1-3 lines each), a
shipment per routed order, a parcel per shipped shipment, tracking exceptions on ~4 % of
parcels, a stock ledger (weekly receipts per product and location, one shipment movement per
shipped line; reservations are folded into the shipment rows) and stock rows equal to the
ledger. The pages then read it through the ``reports`` alias, exactly as they
would read a replica (REPORTS_DATABASE_URL).

Facts: the heavy cohort KPIs (on-time delivery, fill rate, return rate, logistics cost, carrier
scorecard, exception rate) read the report facts (reports/facts.py), built here once after seeding
and timed ("facts brought up to date"); the page timings then read them through the reports
alias as a replica would (no catch-up inside the timed call). The raw SQL beside each page stays
the hand-written aggregate over the source tables: what the figure costs without facts. What
keeping the facts costs is timed at the end: a catch-up with nothing changed and one after 1,000
orders changed.

Timing: each page is called through Django's real view (RequestFactory, a superuser in
memory, so no session or permission query) with its default filters (the last 30 days); the
figure is the median of 5 calls after a warm-up call, each with the report cache emptied first
(the computation, not the cached copy), beside the median of 5 runs of the raw SQL aggregate
written by hand. The cached page (reports.cache) is recorded beside it (``cached_ms``). Aim: page
≤ 1.5 × raw and < 0.5 s.

Reuse: ``REPORTS_BENCH_REUSE=1`` keeps the bench database and, on the next run, reuses it when it
holds the same number of orders (migrated again, not seeded): for iterating on the queries with
``python bench/reports_bench.py`` against a PostgreSQL of your own.

    python bench/run.py --only reports [--quick]       (make bench ARGS="--only reports")
    python bench/reports_bench.py [N] [--keep]         (standalone, DATABASE_URL=postgres://...)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

NEEDS = ("postgresql",)
FULL_N = 1_000_000
QUICK_N = 100_000
ROUNDS = 5
ROOT = Path(__file__).resolve().parent.parent


def time_raw(db: str, sqls: list[str], params: dict) -> float:
    from django.db import connections

    def once():
        started = time.perf_counter()
        with connections[db].cursor() as cursor:
            for sql in sqls:
                cursor.execute(sql, params)
                cursor.fetchall()
        return time.perf_counter() - started

    once()
    return statistics.median(once() for _ in range(ROUNDS))


def time_view(view, path: str, cold: bool = True, **kwargs) -> tuple[float, int]:
    """Median seconds of the view. cold: the report cache (reports.cache) is emptied before each
    call, so the figure is the computation; else the cached page after the warm-up call."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import RequestFactory

    user = get_user_model()(username="bench", is_superuser=True, is_active=True, is_staff=True)
    factory = RequestFactory()

    def once():
        request = factory.get(path)
        request.user = user
        request.session = {}
        request._messages = _NoMessages()
        if cold:
            cache.clear()
        started = time.perf_counter()
        response = view(request, **kwargs)
        if hasattr(response, "render"):
            response.render()
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (path, response.status_code)
        return elapsed, len(response.content)

    _elapsed, size = once()
    return statistics.median(once()[0] for _ in range(ROUNDS)), size


class _NoMessages:
    def __iter__(self):
        return iter(())

    def add(self, *args, **kwargs):
        pass


def measure(report) -> list[dict]:
    from django.conf import settings
    from django.utils import timezone

    from bench.reports_raw import RAW
    from reports import views
    from reports.kpis import REGISTRY, Filters

    f = Filters.default()
    now = timezone.now()
    today_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    params = {
        "start": f.start,
        "end": f.end,
        "tz": settings.TIME_ZONE,
        "today": today_start,
        "yesterday": today_start - timedelta(days=1),
        "late": now - timedelta(hours=24),
    }
    results = []
    pages = [("dashboard", views.dashboard, "/reports/dashboard/", {})]
    pages += [
        (slug, views.kpi_view, f"/reports/kpi/{slug}/", {"slug": slug})
        for slug in REGISTRY
        if not REGISTRY[slug].waiting_for
    ]
    for name, view, path, kwargs in pages:
        page, size = time_view(view, path, **kwargs)
        cached, _size = time_view(view, path, cold=False, **kwargs)
        raw = time_raw("reports", RAW[name], params)
        ratio = page / raw if raw else None
        report.figure(
            f"{name} page",
            page * 1000,
            " ms",
            baseline=("raw SQL aggregate", raw * 1000),
            html_bytes=size,
            cached_ms=round(cached * 1000, 2),
        )
        results.append(
            {"name": name, "page_ms": page * 1000, "raw_ms": raw * 1000, "ratio": ratio, "cached_ms": cached * 1000}
        )
    within = [r for r in results if r["ratio"] is not None and r["ratio"] <= 1.5 and r["page_ms"] < 500]
    report.note(
        f"{len(within)} of {len(results)} pages within 1.5 × raw SQL and under 500 ms, computed with the report "
        f"cache emptied before each call (period {f.date_from} – {f.date_to})"
    )
    report.note(
        "served from the report cache (REPORTS_CACHE_SECONDS, after the first call): "
        + ", ".join(f"{r['name']} {r['cached_ms']:.1f} ms" for r in results)
    )
    return results


def build_facts(report) -> None:
    """The report facts (reports/facts.py) the heavy KPI pages read: built once after seeding (a
    reused database keeps its facts and is only caught up), timed."""
    from reports import facts

    started = time.perf_counter()
    n = facts.catch_up(force=True, using="reports")
    took = time.perf_counter() - started
    report.figure("facts brought up to date", took, " s", orders=n)


def time_catch_up(report, changed: int = 1000) -> None:
    """What keeping the facts costs: a catch-up with nothing changed, then after ``changed`` orders
    of the last days were touched (as a minute of a busy shop would)."""
    from django.db import connections
    from django.utils import timezone

    from reports import facts

    facts.catch_up(force=True, using="reports")  # the orders the seed stamped in the last minutes, once
    started = time.perf_counter()
    facts.catch_up(force=True, using="reports")
    idle = time.perf_counter() - started
    with connections["reports"].cursor() as cursor:
        cursor.execute(
            "UPDATE orders_order SET updated_at = %s WHERE id IN (SELECT id FROM orders_order "
            "ORDER BY id DESC LIMIT %s)",
            [timezone.now(), changed],
        )
    started = time.perf_counter()
    n = facts.catch_up(force=True, using="reports")
    busy = time.perf_counter() - started
    report.figure("facts catch-up, nothing changed", idle * 1000, " ms")
    report.figure(f"facts catch-up, {changed:,} orders changed", busy * 1000, " ms", orders=n)


def reuse_bench_db(report, n: int) -> dict | None:
    """With REPORTS_BENCH_REUSE=1: the bench database a ``--keep`` run left, when it holds exactly
    ``n`` orders; migrated again (new reports migrations, e.g. indexes) and wired in. Else None."""
    import psycopg
    from django.conf import settings
    from django.db import connections

    from bench.reports_seed import bench_db_settings, dsn

    if os.environ.get("REPORTS_BENCH_REUSE") != "1":
        return None
    conf = bench_db_settings()
    try:
        with psycopg.connect(dsn(conf), autocommit=True) as conn:
            found = conn.execute("SELECT COUNT(*) FROM orders_order").fetchone()[0]
    except psycopg.Error:
        return None
    if found != n:
        report.note(f"bench database {conf['NAME']} holds {found:,} orders, not {n:,}: seeding again")
        return None
    url = (
        f"postgres://{conf.get('USER')}:{conf.get('PASSWORD')}@{conf.get('HOST') or 'localhost'}:"
        f"{conf.get('PORT') or 5432}/{conf['NAME']}"
    )
    env = dict(os.environ, DATABASE_URL=url)
    env.pop("REPORTS_DATABASE_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    report.note(f"reused the bench database {conf['NAME']} ({n:,} orders, REPORTS_BENCH_REUSE=1)")
    settings.DATABASES["reports"] = conf
    connections.__dict__.pop("settings", None)
    connections.settings  # noqa: B018 - fills in the defaults of the new alias
    return conf


def run(report, quick: bool, n: int | None = None, keep: bool = False) -> None:
    from bench.common import require_postgresql
    from bench.reports_seed import create_bench_db, drop_bench_db, seed

    require_postgresql()
    n = n or (QUICK_N if quick else FULL_N)
    keep = keep or os.environ.get("REPORTS_BENCH_REUSE") == "1"
    conf = reuse_bench_db(report, n)
    fresh = conf is None
    if fresh:
        conf = create_bench_db(report)
    try:
        if fresh:
            seed(report, conf, n)
        build_facts(report)
        measure(report)
        time_catch_up(report)
    finally:
        if keep:
            report.note(f"kept the bench database {conf['NAME']}")
        else:
            drop_bench_db(conf)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()
    from bench.common import Report

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rep = Report()
    rep.section("reports")
    run(rep, "--quick" in sys.argv, n=int(args[0]) if args else None, keep="--keep" in sys.argv)
    rep.write_json()
