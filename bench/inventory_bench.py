"""Inventory benchmarks (issue #4), each beside a baseline from the same run:

(a) Reservations per second through ``inventory.services.stock_reserve`` (on PostgreSQL one
    statement: the guarded UPDATE and its ledger row in a CTE, autocommit) with 8 concurrent workers on 10
    hot SKUs, next to a raw guarded ``UPDATE ... SET reserved = reserved + 1 WHERE id = %s AND
    on_hand - reserved >= 1`` (autocommit, no ledger) by 8 workers on another 10 hot rows. The
    stock runs out during the run on purpose, so the guard is exercised; the oversell count
    (units reserved beyond what was on hand, plus rows breaking 0 <= reserved <= on_hand, plus
    ledger mismatches) must be 0 for both. The p99 latency of one call (service and raw UPDATE) is
    reported beside it (issue 15: p99 < 50 ms).
(b) The demand forecast (weekly level x day-of-week factors, inventory/forecast.py) on a held
    back month (28 days) of synthetic daily series with a weekly pattern, a slow drift and noise,
    next to the naive "same weekday last week" forecast: WAPE (sum |error| / sum demand), lower
    is better, so a ratio below 1 means the model beats the naive forecast.

PostgreSQL only (``make bench``). Also runs standalone: ``DATABASE_URL=postgres://... python
bench/inventory_bench.py [--quick]`` on a migrated database.
"""

from __future__ import annotations

import random
import secrets
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

if __name__ == "__main__":  # standalone: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Report, require_postgresql  # noqa: E402

NEEDS = ("postgresql",)
WORKERS = 8
HOT_SKUS = 10
FULL = {"attempts_per_worker": 2500, "stock_per_sku": 1500, "series": 200}
QUICK = {"attempts_per_worker": 600, "stock_per_sku": 400, "series": 50}


def run(report: Report, quick: bool) -> None:
    require_postgresql()
    sizes = QUICK if quick else FULL
    reservations(report, sizes)
    forecast_accuracy(report, sizes)


# ---- (a) reservations ---------------------------------------------------------------------------


def _setup(run_id: str, kind: str, stock_per_sku: int):
    from inventory.models import Location, Product, Stock
    from inventory.services import stock_receive

    location = Location.objects.create(code=f"bench-{kind}-{run_id}", name=f"Bench {kind} {run_id}")
    rows = []
    for i in range(HOT_SKUS):
        product = Product.objects.create(sku=f"BENCH-{kind.upper()}-{run_id}-{i}", name=f"Bench hot SKU {i}")
        stock_receive(location=location, product=product, quantity=stock_per_sku, reason="bench")
        rows.append(Stock.objects.get(location=location, product=product))
    return location, rows


def _threads(target, count: int) -> float:
    barrier = threading.Barrier(count + 1)
    threads = [threading.Thread(target=target, args=(i, barrier)) for i in range(count)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def reservations(report: Report, sizes: dict) -> None:
    from django.db import connection, connections
    from django.db.models import F, Q

    from inventory.models import Stock, StockMovement
    from inventory.services import StockRequest, stock_reserve
    from oms.errors import InsufficientStock

    run_id = secrets.token_hex(3)
    attempts, stock_per_sku = sizes["attempts_per_worker"], sizes["stock_per_sku"]
    total_stock = HOT_SKUS * stock_per_sku
    report.note(
        f"{WORKERS} workers x {attempts} attempts of 1 unit on {HOT_SKUS} hot SKUs with {stock_per_sku} each "
        f"({WORKERS * attempts} attempts for {total_stock} units: the stock runs out); run id {run_id}"
    )

    # the service
    location, rows = _setup(run_id, "svc", stock_per_sku)
    ok = [0] * WORKERS
    refused = [0] * WORKERS
    errors: list[str] = []
    svc_latency: list[float] = []  # seconds per call, every worker (list.append is atomic)
    raw_latency: list[float] = []

    def service_worker(n: int, barrier) -> None:
        rng = random.Random(n)
        try:
            barrier.wait()
            for i in range(attempts):
                row = rng.choice(rows)
                began = time.perf_counter()
                try:
                    stock_reserve(
                        requests=[StockRequest(location.pk, row.product_id, 1)], reference=f"B{run_id}-{n}-{i}"
                    )
                    ok[n] += 1
                except InsufficientStock:
                    refused[n] += 1
                svc_latency.append(time.perf_counter() - began)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    seconds = _threads(service_worker, WORKERS)
    svc_rate = WORKERS * attempts / seconds
    reserved = Stock.objects.filter(location=location).values_list("reserved", flat=True)
    ledger = sum(
        StockMovement.objects.filter(location=location, kind="reserve").values_list("reserved_delta", flat=True)
    )
    broken = Stock.objects.filter(location=location).filter(Q(reserved__lt=0) | Q(reserved__gt=F("on_hand"))).count()
    svc_oversell = max(0, sum(ok) - total_stock) + abs(sum(reserved) - sum(ok)) + abs(ledger - sum(ok)) + broken

    # the raw guarded UPDATE
    raw_location, raw_rows = _setup(run_id, "raw", stock_per_sku)
    raw_ok = [0] * WORKERS

    def raw_worker(n: int, barrier) -> None:
        rng = random.Random(100 + n)
        try:
            with connection.cursor() as cursor:
                barrier.wait()
                for _ in range(attempts):
                    began = time.perf_counter()
                    cursor.execute(
                        "UPDATE inventory_stock SET reserved = reserved + 1 WHERE id = %s AND on_hand - reserved >= 1",
                        [rng.choice(raw_rows).pk],
                    )
                    raw_ok[n] += cursor.rowcount
                    raw_latency.append(time.perf_counter() - began)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"raw: {type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    raw_seconds = _threads(raw_worker, WORKERS)
    raw_rate = WORKERS * attempts / raw_seconds
    raw_reserved = sum(Stock.objects.filter(location=raw_location).values_list("reserved", flat=True))
    raw_oversell = max(0, sum(raw_ok) - total_stock) + abs(raw_reserved - sum(raw_ok))

    # the same SQL work as the service, without Django: guarded UPDATE + ledger INSERT in one transaction
    tx_location, tx_rows = _setup(run_id, "rawtx", stock_per_sku)
    tx_ok = [0] * WORKERS

    def raw_tx_worker(n: int, barrier) -> None:
        rng = random.Random(200 + n)
        raw = connections.create_connection("default")  # a private connection, outside Django's pool
        try:
            raw.ensure_connection()
            pg = raw.connection  # the psycopg connection itself
            barrier.wait()
            for i in range(attempts):
                row = rng.choice(tx_rows)
                with pg.transaction(), pg.cursor() as cursor:
                    cursor.execute(
                        "UPDATE inventory_stock SET reserved = reserved + 1 WHERE location_id = %s AND product_id = %s"
                        " AND on_hand - reserved >= 1",
                        [tx_location.pk, row.product_id],
                    )
                    if cursor.rowcount:
                        cursor.execute(
                            "INSERT INTO inventory_stockmovement (location_id, product_id, kind, reason_code,"
                            " on_hand_delta, reserved_delta, reason, reference, created_at)"
                            " VALUES (%s, %s, 'reserve', 'order', 0, 1, '', %s, now())",
                            [tx_location.pk, row.product_id, f"T{run_id}-{n}-{i}"],
                        )
                        tx_ok[n] += 1
        except Exception as exc:  # noqa: BLE001
            errors.append(f"raw tx: {type(exc).__name__}: {exc}")
        finally:
            raw.close()

    tx_seconds = _threads(raw_tx_worker, WORKERS)
    tx_rate = WORKERS * attempts / tx_seconds
    tx_reserved = sum(Stock.objects.filter(location=tx_location).values_list("reserved", flat=True))
    tx_oversell = max(0, sum(tx_ok) - total_stock) + abs(tx_reserved - sum(tx_ok))

    if errors:
        report.note(f"{len(errors)} worker errors, first: {errors[0]}")
    report.figure(
        "stock_reserve (service, ledger row, 1 tx each), 8 workers",
        svc_rate,
        " attempts/s",
        baseline=("raw guarded UPDATE, autocommit", raw_rate),
        reserved=sum(ok),
        refused=sum(refused),
        raw_reserved=sum(raw_ok),
    )
    report.figure(
        "stock_reserve (service), 8 workers",
        svc_rate,
        " attempts/s",
        baseline=("same SQL without Django: guarded UPDATE + ledger INSERT, 1 tx", tx_rate),
    )
    report.figure(
        "stock_reserve p99 latency (service), 8 workers",
        _p99(svc_latency) * 1000,
        " ms",
        baseline=("raw guarded UPDATE p99", _p99(raw_latency) * 1000),
    )
    report.figure(
        "successful reservations/s (service)",
        sum(ok) / seconds,
        "/s",
        baseline=("successful raw UPDATEs/s", sum(raw_ok) / raw_seconds),
    )
    report.figure(
        "oversell (service): units beyond stock + mismatches", svc_oversell, "", baseline=("raw", raw_oversell)
    )
    report.figure("oversell (raw UPDATE + INSERT, 1 tx)", tx_oversell, "")
    report.note(
        f"service: {sum(ok)} reserved, {sum(refused)} refused (out of stock) of {total_stock} units; "
        f"raw: {sum(raw_ok)} reserved. Oversell must be 0 for both."
    )


def _p99(seconds: list[float]) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0


# ---- (b) forecast accuracy ---------------------------------------------------------------------


def synthetic_series(rng: random.Random, days: int) -> list[int]:
    """A weekly pattern (weekend peak or trough), a level drifting up to +-30 %, Poisson-like noise."""
    base = rng.uniform(3, 60)
    pattern = [rng.uniform(0.6, 1.6) for _ in range(7)]
    drift = rng.uniform(-0.3, 0.3)
    series = []
    for t in range(days):
        mean = base * (1 + drift * t / days) * pattern[t % 7]
        series.append(max(0, round(rng.gauss(mean, mean**0.5))))
    return series


def forecast_accuracy(report: Report, sizes: dict) -> None:
    from inventory import forecast

    rng = random.Random(4)
    history_days, horizon = 26 * 7, 28
    start = date(2026, 1, 5)  # a Monday
    model_abs = naive_abs = demand = 0.0
    started = time.perf_counter()
    for _ in range(sizes["series"]):
        series = synthetic_series(rng, history_days + horizon)
        train, actual = series[:history_days], series[history_days:]
        fitted = forecast.fit_weekly(train, start=start)
        predicted = fitted.predict(start + timedelta(days=history_days), horizon)
        naive = forecast.naive_same_weekday(train, horizon)
        model_abs += sum(abs(a - p) for a, p in zip(actual, predicted, strict=True))
        naive_abs += sum(abs(a - p) for a, p in zip(actual, naive, strict=True))
        demand += sum(actual)
    fit_ms = (time.perf_counter() - started) * 1000 / sizes["series"]
    report.note(
        f"{sizes['series']} synthetic series: {history_days} days of history, the next {horizon} days held back"
    )
    report.figure(
        "forecast WAPE on the held-back month (level x weekday factors)",
        100 * model_abs / demand,
        " %",
        baseline=("naive same weekday last week", 100 * naive_abs / demand),
    )
    report.figure("fit + predict per series", fit_ms, " ms")


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()
    rep = Report(quick="--quick" in sys.argv, out_path=Path(__file__).resolve().parent / "out" / "inventory.json")
    rep.section("inventory")
    began = time.perf_counter()
    run(rep, "--quick" in sys.argv)
    rep.finish_section("ok", time.perf_counter() - began)
    rep.write_json()
