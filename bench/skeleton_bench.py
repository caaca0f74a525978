"""The walking skeleton's benchmarks (issue #2), each beside a baseline from the same run:

(a) orders accepted per second through the API, POST /api/v1/orders/ with a token, against a
    real gunicorn (sync workers, as many as the production image starts by default: the
    Dockerfile's WEB_CONCURRENCY of 4) on loopback, next to a raw INSERT of
    the same rows (orders + lines, from the same parsed payloads) into the same tables: batched
    executemany, COPY, and one commit per order.
    Accepted = answered 202: the body checked in memory and stored in the order inbox with one
    INSERT (the API's contract since issue 14). No Celery worker runs during the load; the
    inbox is applied afterwards by the consumer (orders.apply_inbox) and timed on its own
    ("API orders applied from the inbox": customer, order, lines, events, status, in batches).
(b) GET /track/<signed token>/ per second under the same gunicorn for existing orders (most
    with shipments, parcels and carrier scans), next to the bare Django view /bare/, with p50
    and p99 latency from a bounded load generator (8 client threads, keep-alive where the
    server allows it; sync workers close each connection).

Preconditions come from the real services: `manage.py seed_demo` (orders in every status) on
an empty database, else the demo reference data is upserted and the existing orders are used.
PostgreSQL only. About a minute; --quick about 25 s.
"""

from __future__ import annotations

import io
import json
import secrets
from decimal import Decimal

from bench.common import Gunicorn, Report, http_load, merge_load, peak_rss_mb, require_postgresql, timed

NEEDS = ("postgresql",)

FULL = {"seed_orders": 16, "api_orders": 1000, "page_requests": 2000, "raw_rounds": 3, "commit_orders": 300}
QUICK = {"seed_orders": 8, "api_orders": 200, "page_requests": 400, "raw_rounds": 2, "commit_orders": 100}
CONCURRENCY = 8
WORKERS = 4  # the production image's default (Dockerfile: --workers ${WEB_CONCURRENCY:-4})
TIME_LIMIT = 15.0  # seconds per load run: the run stops there even if requests remain
WARM_UP = 5.0  # seconds at most per warm-up
ROUNDS = 4  # tracking page and bare view alternate in this many rounds


def run(report: Report, quick: bool) -> None:
    require_postgresql()
    sizes = QUICK if quick else FULL
    world = prepare(report, sizes["seed_orders"])
    run_id = secrets.token_hex(3)
    report.note(
        f"gunicorn: {WORKERS} sync workers on loopback; load: {CONCURRENCY} client threads in this process; "
        f"run id {run_id}"
    )
    server = Gunicorn(workers=WORKERS, env={"CELERY_TASK_ALWAYS_EAGER": "0"})
    with server:
        # Warm up every worker (imports, URL resolver, templates, database connection).
        http_load(server.port, ("GET", "/bare/", None, None), total=200, concurrency=CONCURRENCY, time_limit=WARM_UP)
        rss_bare = max(server.worker_peak_rss_mb(), default=0.0)
        pages(report, server, world, sizes)
        api = api_orders(report, server, world, sizes, run_id)
        rss_end = max(server.worker_peak_rss_mb(), default=0.0)
    raw_inserts(report, world, sizes, run_id, api)
    if rss_bare and rss_end:
        report.figure(
            "gunicorn worker peak RSS after the run", rss_end, " MB", baseline=("after /bare/ only", rss_bare)
        )
    report.note(f"bench process peak RSS {peak_rss_mb():.0f} MB")


# ---- preconditions ------------------------------------------------------------------------------


def prepare(report: Report, seed_orders: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from demo.reference import ensure_world
    from inventory.models import Product
    from oms.models import ApiToken
    from oms.roles import CUSTOMER_SERVICE
    from orders.models import Channel, Order

    if not Order.objects.exists():
        seconds, _ = timed(call_command, "seed_demo", orders=seed_orders, stdout=io.StringIO())
        report.note(f"preconditions: seed_demo --orders {seed_orders} ({seconds:.1f} s, not timed)")
    else:
        with transaction.atomic():
            ensure_world(seed=42, started=timezone.now())
        report.note(f"preconditions: {Order.objects.count()} orders exist already; demo reference data upserted")

    channel = Channel.objects.filter(active=True).order_by("pk").first()
    skus = list(
        Product.objects.filter(active=True, handling_class="standard").order_by("sku").values_list("sku", flat=True)[:2]
    )
    if channel is None or len(skus) < 2:
        raise RuntimeError("the demo world has no active channel or fewer than two standard products")
    user, _ = get_user_model().objects.get_or_create(username="bench-api", defaults={"is_active": True})
    user.groups.add(Group.objects.get(name=CUSTOMER_SERVICE))
    _token, key = ApiToken.issue(user)
    return {"channel": channel, "skus": skus, "key": key}


def order_payload(channel_slug: str, external_id: str, i: int, skus: list[str]) -> dict:
    return {
        "channel": channel_slug,
        "external_id": external_id,
        "customer": {"name": "王芳", "email": f"buyer{i}@bench.example.com", "phone": f"139{i % 10**8:08d}"},
        "ship_to": {
            "name": "王芳",
            "phone": f"139{i % 10**8:08d}",
            "email": f"buyer{i}@bench.example.com",
            "country": "CN",
            "province": "上海",
            "city": "上海",
            "district": "浦东新区",
            "address1": f"世纪大道 {i % 999 + 1} 号",
            "postcode": "200120",
        },
        "currency": "CNY",
        "total": "39.70",
        "lines": [
            {"sku": skus[0], "quantity": 1, "unit_price": "19.90"},
            {"sku": skus[1], "quantity": 2, "unit_price": "9.90"},
        ],
    }


# ---- (b) tracking page vs bare view -------------------------------------------------------------


def pages(report: Report, server: Gunicorn, world: dict, sizes: dict) -> None:
    from orders.care.tracking_links import tracking_token
    from orders.models import Order

    numbers = list(
        Order.objects.filter(shipments__isnull=False).order_by("pk").values_list("number", flat=True).distinct()[:200]
    )
    if not numbers:
        numbers = list(Order.objects.order_by("pk").values_list("number", flat=True)[:200])
    paths = [f"/track/{tracking_token(n)}/" for n in numbers]
    total = sizes["page_requests"]

    def track(i: int):
        return ("GET", paths[i % len(paths)], None, None)

    bare = ("GET", "/bare/", None, None)
    http_load(server.port, track, total=min(200, total), concurrency=CONCURRENCY, time_limit=WARM_UP)  # not counted
    # Interleaved rounds, so a change in the machine's background load hits page and baseline alike.
    chunk, limit = max(1, total // ROUNDS), TIME_LIMIT / ROUNDS
    bare_runs, track_runs = [], []
    for r in range(ROUNDS):
        bare_runs.append(http_load(server.port, bare, total=chunk, concurrency=CONCURRENCY, time_limit=limit))
        track_runs.append(
            http_load(
                server.port, lambda i, r=r: track(r * chunk + i), total=chunk, concurrency=CONCURRENCY, time_limit=limit
            )
        )
    bare_result, track_result = merge_load(bare_runs), merge_load(track_runs)
    report.note(
        f"tracking pages: {len(paths)} orders; {ROUNDS} interleaved rounds of {chunk} requests each for /bare/ and "
        f"/track/<token>/, at most {limit:.1f} s a round: {bare_result.requests} and {track_result.requests} answered"
    )
    for result, name in ((bare_result, "/bare/"), (track_result, "/track/")):
        if result.errors or result.stopped_by_time:
            report.note(
                f"{name}: {result.errors} errors, stopped by time limit: {result.stopped_by_time}, "
                f"statuses {result.statuses} {result.first_error}"
            )
    extra = {"requests": chunk * ROUNDS, "concurrency": CONCURRENCY, "workers": WORKERS}
    report.figure(
        "tracking page requests", track_result.rps, "/s", baseline=("bare Django view", bare_result.rps),
        track=track_result.summary(), bare=bare_result.summary(), **extra,
    )  # fmt: skip
    report.figure("tracking page p50", track_result.p50_ms, " ms", baseline=("bare view p50", bare_result.p50_ms))
    report.figure("tracking page p99", track_result.p99_ms, " ms", baseline=("bare view p99", bare_result.p99_ms))


# ---- (a) orders through the API -----------------------------------------------------------------


def api_orders(report: Report, server: Gunicorn, world: dict, sizes: dict, run_id: str) -> dict:
    from orders.models import Order

    channel, skus, key = world["channel"], world["skus"], world["key"]
    headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
    prefix = f"bench-api-{run_id}-"

    def post(i: int, prefix: str = prefix):
        body = json.dumps(order_payload(channel.slug, f"{prefix}{i}", i, skus)).encode()
        return ("POST", "/api/v1/orders/", body, headers)

    warm = f"bench-warm-{run_id}-"
    http_load(
        server.port, lambda i: post(i, warm), total=20, concurrency=CONCURRENCY, time_limit=WARM_UP, ok_statuses=(202,)
    )
    total = sizes["api_orders"]
    result = http_load(
        server.port, post, total=total, concurrency=CONCURRENCY, time_limit=TIME_LIMIT, ok_statuses=(202,)
    )
    # Accepted = stored in the inbox (202). No worker runs during the load: the inbox is then applied
    # here, in batches, by the consumer a worker runs (orders.apply_inbox), and timed on its own.
    from orders.intake import inbox

    applied_seconds, applied = timed(inbox.apply_all)
    created = Order.objects.filter(channel=channel, external_id__startswith=prefix)
    held = created.filter(on_hold=True).count()
    report.note(
        f"API: {result.requests} of {total} POSTs of 2-line orders answered (202) within {TIME_LIMIT:.0f} s; "
        f"then the inbox consumer applied {applied} message(s) in {applied_seconds:.2f} s: "
        f"{created.count()} orders created in channel {channel.slug!r} ({held} on hold); "
        "routing queued on the broker, no worker running"
    )
    report.figure(
        "API orders applied from the inbox", applied / applied_seconds if applied_seconds else 0.0, "/s", orders=applied
    )
    if result.errors or result.stopped_by_time:
        report.note(
            f"API: {result.errors} errors, stopped by time limit: {result.stopped_by_time}, "
            f"statuses {result.statuses} {result.first_error}"
        )
    return {"result": result, "orders": result.ok}


def raw_rows(world: dict, prefix: str, count: int) -> tuple[list[str], list[tuple], list[str], list[list[tuple]]]:
    """The rows the API would write for `count` orders, from the same payloads through the same
    parser: (order columns, order values without id/number, line columns, line values per order
    without order_id). Built before timing starts."""
    from django.db import connection
    from django.utils import timezone

    from inventory.models import Product
    from orders.intake import oms_json
    from orders.models import Order, OrderLine
    from orders.status import OrderStatus

    channel, skus = world["channel"], world["skus"]
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    order_fields = [f for f in Order._meta.concrete_fields if f.attname not in ("id", "number")]
    line_fields = [f for f in OrderLine._meta.concrete_fields if f.attname not in ("id", "order_id")]
    now = timezone.now()
    orders, lines = [], []
    for i in range(count):
        _slug, data = oms_json.parse(order_payload(channel.slug, f"{prefix}{i}", i, skus))
        addr = data.ship_to
        total = data.total
        if total is None:
            total = sum((ln.unit_price * ln.quantity for ln in data.lines), Decimal(0))
        order = Order(
            channel=channel, external_id=data.external_id, status=OrderStatus.CONFIRMED,
            priority=data.priority or channel.default_priority, ship_name=addr.name, ship_phone=addr.phone,
            ship_email=addr.email, ship_country=addr.country, ship_province=addr.province, ship_city=addr.city,
            ship_district=addr.district, ship_address1=addr.address1, ship_address2=addr.address2,
            ship_postcode=addr.postcode, currency=data.currency,
            total=total,
            requested_service=data.requested_service, promise_date=data.promise_date,
            placed_at=data.placed_at or now, note=data.note, created_at=now, updated_at=now,
        )  # fmt: skip
        orders.append(tuple(f.get_db_prep_save(getattr(order, f.attname), connection) for f in order_fields))
        order_lines = []
        for no, ln in enumerate(data.lines, start=1):
            line = OrderLine(
                line_no=no, product=products.get(ln.sku), sku=ln.sku,
                name=ln.name or getattr(products.get(ln.sku), "name", ""), quantity=ln.quantity,
                unit_price=ln.unit_price,
            )  # fmt: skip
            order_lines.append(tuple(f.get_db_prep_save(getattr(line, f.attname), connection) for f in line_fields))
        lines.append(order_lines)
    return [f.column for f in order_fields], orders, [f.column for f in line_fields], lines


def _next_ids(cursor, table: str, count: int) -> list[int]:
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
    return [row[0] for row in cursor.fetchall()]


def raw_insert(world: dict, prefix: str, count: int, how: str) -> int:
    """Insert `count` orders and their lines with plain SQL; returns the seconds the SQL took
    (the rows are built from the payloads first, untimed).
    how: "batch" (executemany, one transaction), "copy" (COPY, one transaction) or "commit"
    (one INSERT of the order and one executemany of its lines per transaction)."""
    from django.db import connection

    from orders.models import Order, OrderLine

    order_cols, orders, line_cols, lines = raw_rows(world, prefix, count)
    order_table, line_table = Order._meta.db_table, OrderLine._meta.db_table
    order_sql = (
        f"INSERT INTO {order_table} (id, number, {', '.join(order_cols)}) "
        f"VALUES ({', '.join(['%s'] * (len(order_cols) + 2))})"
    )
    line_sql = (
        f"INSERT INTO {line_table} (order_id, {', '.join(line_cols)}) "
        f"VALUES ({', '.join(['%s'] * (len(line_cols) + 1))})"
    )
    connection.ensure_connection()
    pg = connection.connection  # the psycopg connection itself: no Django in the timed part

    def go() -> None:
        with pg.cursor() as cur:
            if how == "commit":
                for values, order_lines in zip(orders, lines, strict=True):
                    with pg.transaction():
                        (pk,) = _next_ids(cur, order_table, 1)
                        cur.execute(order_sql, (pk, f"SO{100000 + pk}", *values))
                        cur.executemany(line_sql, [(pk, *line) for line in order_lines])
                return
            with pg.transaction():
                ids = _next_ids(cur, order_table, count)
                order_rows = [(pk, f"SO{100000 + pk}", *values) for pk, values in zip(ids, orders, strict=True)]
                line_rows = [(pk, *line) for pk, order_lines in zip(ids, lines, strict=True) for line in order_lines]
                if how == "copy":
                    with cur.copy(f"COPY {order_table} (id, number, {', '.join(order_cols)}) FROM STDIN") as copy:
                        for row in order_rows:
                            copy.write_row(row)
                    with cur.copy(f"COPY {line_table} (order_id, {', '.join(line_cols)}) FROM STDIN") as copy:
                        for row in line_rows:
                            copy.write_row(row)
                else:
                    cur.executemany(order_sql, order_rows)
                    cur.executemany(line_sql, line_rows)

    return timed(go)[0]


def delete_raw(prefix: str) -> None:
    """The raw rows have no events, customers or inbound messages: remove them again."""
    from django.db import connection

    from orders.models import Order, OrderLine

    with connection.cursor() as cur:
        cur.execute(
            f"DELETE FROM {OrderLine._meta.db_table} WHERE order_id IN "
            f"(SELECT id FROM {Order._meta.db_table} WHERE external_id LIKE %s)",
            [prefix + "%"],
        )
        cur.execute(f"DELETE FROM {Order._meta.db_table} WHERE external_id LIKE %s", [prefix + "%"])


def raw_inserts(report: Report, world: dict, sizes: dict, run_id: str, api: dict) -> None:
    from django.db import connection

    result = api["result"]
    count = sizes["api_orders"]
    rates = {}
    prefix = f"bench-raw-{run_id}-"
    try:
        for how in ("batch", "copy"):
            # Best of N rounds, each with fresh external ids; only the SQL is timed (see raw_insert).
            seconds = min(raw_insert(world, f"{prefix}{how}{r}-", count, how) for r in range(sizes["raw_rounds"]))
            rates[how] = count / seconds
        commits = min(count, sizes["commit_orders"])
        rates["commit"] = commits / raw_insert(world, f"{prefix}commit-", commits, "commit")
    finally:
        delete_raw(prefix)
        connection.close()
    report.note(
        f"raw baselines: {count} orders (batched INSERT and COPY, best of {sizes['raw_rounds']}) and {commits} "
        "(one commit each), from the same payloads, only the SQL timed; deleted afterwards"
    )
    extra = {"orders": count, "commit_orders": commits, "lines_per_order": 2, "api": result.summary()}
    name = "orders accepted via API"
    report.figure(name, result.rps, "/s", baseline=("raw INSERT orders+lines, batched", rates["batch"]), **extra)
    report.figure(name, result.rps, "/s", baseline=("raw COPY orders+lines", rates["copy"]))
    report.figure(name, result.rps, "/s", baseline=("raw INSERT, one commit per order", rates["commit"]))
    report.figure("API order p99", result.p99_ms, " ms", baseline=("API order p50", result.p50_ms))


if __name__ == "__main__":
    import sys

    sys.exit("Run it through bench/run.py: python bench/run.py --only skeleton (make bench does)")
