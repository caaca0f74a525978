"""The reports bench's database (issue #8): a database of its own beside the default one, created,
migrated in a subprocess, seeded with COPY (orders, lines, shipments, parcels, tracking exceptions,
a stock ledger, pack mismatches, returns, ratings) and dropped. Used by reports_bench.py."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

DAYS = 365
ROOT = Path(__file__).resolve().parent.parent


# ---- the database ----------------------------------------------------------------------------


def bench_db_settings():
    from django.conf import settings

    default = settings.DATABASES["default"]
    conf = dict(default)
    conf["NAME"] = f"{default['NAME']}_reports_bench"
    conf["TEST"] = {}
    return conf


def _seed_dsn(conf) -> str:
    """Seeding connections skip the foreign-key triggers (session_replication_role=replica, the
    bench role is a superuser): the rows are consistent by construction and the parallel COPY
    streams commit one after the other."""
    return dsn(conf) + " options='-c session_replication_role=replica'"


def dsn(conf) -> str:
    return (
        f"host={conf.get('HOST') or 'localhost'} port={conf.get('PORT') or 5432} dbname={conf['NAME']} "
        f"user={conf.get('USER') or ''} password={conf.get('PASSWORD') or ''}"
    )


def create_bench_db(report) -> dict:
    """A fresh database with the project's schema, wired in as the ``reports`` alias."""
    import psycopg
    from django.conf import settings
    from django.db import connections

    conf = bench_db_settings()
    admin = dict(conf, NAME="postgres")
    with psycopg.connect(dsn(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{conf["NAME"]}"')
        conn.execute(f'CREATE DATABASE "{conf["NAME"]}"')
    url = (
        f"postgres://{conf.get('USER')}:{conf.get('PASSWORD')}@{conf.get('HOST') or 'localhost'}:"
        f"{conf.get('PORT') or 5432}/{conf['NAME']}"
    )
    env = dict(os.environ, DATABASE_URL=url)
    env.pop("REPORTS_DATABASE_URL", None)
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    report.note(f"bench database {conf['NAME']} migrated in {time.perf_counter() - started:.1f} s")
    settings.DATABASES["reports"] = conf
    connections.__dict__.pop("settings", None)  # the handler re-reads DATABASES with the new alias
    connections.settings  # noqa: B018 - fills in the defaults of the new alias
    return conf


def drop_bench_db(conf) -> None:
    import psycopg
    from django.conf import settings
    from django.db import connections

    if "reports" in connections:
        connections["reports"].close()
    settings.DATABASES.pop("reports", None)
    connections.__dict__.pop("settings", None)
    with psycopg.connect(dsn(dict(conf, NAME="postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{conf["NAME"]}" WITH (FORCE)')


# ---- seeding with COPY -----------------------------------------------------------------------


class Copier:
    """COPY rows of a Django model: the columns come from the model, values not given get the
    field's default (so fields other apps add later do not break the seed)."""

    def __init__(self, cursor, model, given: list[str]):
        from psycopg.types.json import Jsonb

        self.model = model
        self.fields = [f for f in model._meta.concrete_fields]
        self.given = given
        self.defaults = []
        auto = ("AutoField", "BigAutoField", "SmallAutoField")
        self.fields = [f for f in self.fields if f.attname in given or f.get_internal_type() not in auto]
        for f in self.fields:
            if f.attname in given:
                continue
            if f.has_default():
                value = f.get_default()
                value = Jsonb(value) if f.get_internal_type() == "JSONField" else value
            elif f.null:
                value = None
            elif f.get_internal_type() in ("CharField", "TextField", "SlugField", "EmailField"):
                value = ""
            elif f.get_internal_type() in ("DateTimeField",):
                value = datetime.now().astimezone()
            else:
                raise ValueError(f"{model.__name__}.{f.name} needs a value in the bench seed")
            self.defaults.append(value)
        cols = given + [f.column for f in self.fields if f.attname not in given]
        names = ", ".join(f'"{c}"' for c in cols)
        self.copy = cursor.copy(f'COPY "{model._meta.db_table}" ({names}) FROM STDIN')
        self.rows = 0

    def __enter__(self):
        self.cp = self.copy.__enter__()
        return self

    def write(self, *values):
        self.cp.write_row((*values, *self.defaults))
        self.rows += 1

    def __exit__(self, *exc):
        return self.copy.__exit__(*exc)


PROVINCES = ["上海", "北京", "广东", "浙江", "江苏", "四川", "湖北", "山东", "福建", "河南", "湖南", "安徽"]
WEEKLY = [1.15, 1.0, 1.0, 1.05, 1.2, 0.85, 0.75]  # Monday .. Sunday


def seed(report, conf, n: int, seed_value: int = 8) -> dict:
    import psycopg
    from django.utils import timezone

    from fulfillment.models import Shipment, ShipmentLine
    from inventory.models import Location, Product, Stock, StockMovement
    from logistics.models import Carrier, Parcel, ServiceLevel, TrackingEvent
    from orders.models import Channel, Order, OrderLine

    rng = random.Random(seed_value)
    tz = timezone.get_current_timezone()
    now = timezone.now()
    today = timezone.localdate()
    started = time.perf_counter()
    counts = {}
    with psycopg.connect(_seed_dsn(conf)) as conn, conn.cursor() as cur:
        # Reference data.
        channels = [
            (i + 1, slug, name)
            for i, (slug, name) in enumerate(
                [
                    ("tmall", "Tmall"),
                    ("jd", "JD.com"),
                    ("web", "Web shop"),
                    ("app", "App"),
                    ("douyin", "Douyin"),
                    ("store", "Stores"),
                ]
            )
        ]
        with Copier(cur, Channel, ["id", "slug", "name"]) as c:
            for row in channels:
                c.write(*row)
        from datetime import time as dtime

        locations = [
            (1, "sha", "Shanghai DC", dtime(16)),
            (2, "bjs", "Beijing DC", dtime(16)),
            (3, "can", "Guangzhou DC", dtime(17)),
            (4, "ctu", "Chengdu DC", dtime(15)),
            (5, "wuh", "Wuhan DC", dtime(16, 30)),
        ]
        with Copier(cur, Location, ["id", "code", "name", "cutoff_time", "daily_capacity"]) as c:
            for lid, code, name, cutoff in locations:
                c.write(lid, code, name, cutoff, 900)
        n_products = 300
        prices = [round(rng.uniform(9, 399), 2) for _ in range(n_products)]
        with Copier(cur, Product, ["id", "sku", "name", "weight_g", "price"]) as c:
            for p in range(n_products):
                c.write(p + 1, f"SKU-{p + 1:05d}", f"Product {p + 1}", rng.randint(100, 3000), prices[p])
        with Copier(cur, Carrier, ["id", "code", "name"]) as c:
            for cid, code, name in [(1, "sf", "SF Express"), (2, "zto", "ZTO"), (3, "ems", "EMS")]:
                c.write(cid, code, name)
        services = [
            (1, 1, "exp", "Express", 1, 12, 3),
            (2, 1, "std", "Standard", 2, 9, 2),
            (3, 2, "std", "Standard", 3, 6, 1.5),
            (4, 2, "eco", "Economy", 4, 5, 1),
            (5, 3, "std", "Standard", 3, 8, 2),
            (6, 3, "eco", "Economy", 5, 6, 1.2),
        ]
        with Copier(
            cur, ServiceLevel, ["id", "carrier_id", "code", "name", "transit_days", "base_rate", "per_kg_rate"]
        ) as c:
            for row in services:
                c.write(*row)
        conn.commit()

        # Orders, lines, shipments, shipment lines, parcels, exceptions, shipment movements.
        popularity = [1 / (p + 1) ** 0.8 for p in range(n_products)]
        product_ids = list(range(1, n_products + 1))
        weights = [WEEKLY[(today - timedelta(days=d)).weekday()] for d in range(DAYS)]
        per_day = [int(n * w / sum(weights)) for w in weights]
        per_day[0] += n - sum(per_day)
        order_id = line_id = ship_id = sline_id = parcel_id = event_id = 0
        shipped_by_pair_week = {}
        # One COPY stream per table, each on its own connection (one COPY at a time per connection).
        conn1 = psycopg.connect(_seed_dsn(conf))
        cur1 = conn1.cursor()
        with (
            Copier(
                cur,
                Order,
                [
                    "id",
                    "number",
                    "channel_id",
                    "external_id",
                    "status",
                    "on_hold",
                    "ship_province",
                    "ship_country",
                    "total",
                    "promise_date",
                    "placed_at",
                    "created_at",
                    "updated_at",
                ],
            ) as co,
            Copier(cur1, OrderLine, ["id", "order_id", "line_no", "product_id", "sku", "quantity", "unit_price"]) as cl,
        ):
            # Shipment-side rows are written to a second connection's COPYs in parallel streams.
            with (
                psycopg.connect(_seed_dsn(conf)) as conn2,
                conn2.cursor() as cur2,
                psycopg.connect(_seed_dsn(conf)) as conn3,
                conn3.cursor() as cur3,
            ):
                with (
                    Copier(
                        cur2,
                        Shipment,
                        [
                            "id",
                            "number",
                            "order_id",
                            "location_id",
                            "status",
                            "weight_g",
                            "created_at",
                            "packed_at",
                            "shipped_at",
                            "delivered_at",
                        ],
                    ) as cs,
                    Copier(cur3, ShipmentLine, ["id", "shipment_id", "order_line_id", "product_id", "quantity"]) as csl,
                ):
                    for age in range(DAYS - 1, -1, -1):
                        day = today - timedelta(days=age)
                        base = datetime(day.year, day.month, day.day, tzinfo=tz)
                        for _ in range(per_day[age]):
                            order_id += 1
                            created = base + timedelta(seconds=rng.randint(0, 86399))
                            if created > now:
                                created = now - timedelta(seconds=rng.randint(1, 3600))
                            status, ship = _status(rng, age)
                            nlines = rng.choice((1, 1, 1, 2, 2, 3))
                            lines = []
                            for ln in range(nlines):
                                pid = rng.choices(product_ids, popularity)[0]
                                qty = rng.choice((1, 1, 1, 2, 3))
                                line_id += 1
                                lines.append((line_id, pid, qty))
                                cl.write(line_id, order_id, ln + 1, pid, f"SKU-{pid:05d}", qty, prices[pid - 1])
                            total = round(sum(prices[pid - 1] * q for _, pid, q in lines), 2)
                            province = rng.choice(PROVINCES)
                            promise = (created + timedelta(days=rng.choice((2, 3, 4, 5)))).date()
                            co.write(
                                order_id,
                                f"SO{order_id}",
                                rng.randint(1, 6),
                                str(order_id),
                                status,
                                status in ("received", "confirmed") and rng.random() < 0.2,
                                province,
                                "CN",
                                total,
                                promise,
                                created,
                                created,
                                created,
                            )
                            if ship is None:
                                continue
                            ship_id += 1
                            loc = 1 + (PROVINCES.index(province) % 5 if rng.random() < 0.85 else rng.randint(0, 4))
                            routed = created + timedelta(seconds=rng.randint(5, 600))
                            shipped_at = delivered_at = packed_at = None
                            if ship in ("packed", "shipped", "in_transit", "delivered"):
                                packed_at = routed + timedelta(hours=rng.uniform(0.5, 20))
                            if ship in ("shipped", "in_transit", "delivered"):
                                shipped_at = packed_at + timedelta(hours=rng.uniform(0.2, 10))
                                if rng.random() < 0.08:
                                    shipped_at += timedelta(days=1)
                            if ship == "delivered":
                                delivered_at = shipped_at + timedelta(hours=rng.uniform(18, 110))
                            shipped_at = min(shipped_at, now) if shipped_at else None
                            delivered_at = min(delivered_at, now) if delivered_at else None
                            weight = sum(q * 500 for _, _, q in lines)
                            cs.write(
                                ship_id,
                                f"SH{ship_id}",
                                order_id,
                                loc,
                                ship,
                                weight,
                                routed,
                                packed_at,
                                shipped_at,
                                delivered_at,
                            )
                            for lid, pid, qty in lines:
                                sline_id += 1
                                csl.write(sline_id, ship_id, lid, pid, qty)
                                if shipped_at is not None:
                                    key = (loc, pid, shipped_at)
                                    shipped_by_pair_week[key] = shipped_by_pair_week.get(key, 0) + qty
                conn2.commit()
                conn3.commit()
        conn.commit()
        conn1.commit()
        conn1.close()
        counts.update(orders=order_id, lines=line_id, shipments=ship_id, shipment_lines=sline_id)
        report.note(
            f"seeded {order_id:,} orders, {line_id:,} lines, {ship_id:,} shipments with COPY "
            f"in {time.perf_counter() - started:.0f} s"
        )

        # Parcels and tracking exceptions from the shipped shipments (read back in id order).
        cur.execute(
            "SELECT s.id, s.shipped_at, s.delivered_at, s.weight_g FROM fulfillment_shipment s "
            "WHERE s.shipped_at IS NOT NULL ORDER BY s.id"
        )
        shipped = cur.fetchall()
        with (
            psycopg.connect(_seed_dsn(conf)) as conn2,
            conn2.cursor() as cur2,
            psycopg.connect(_seed_dsn(conf)) as conn3,
            conn3.cursor() as cur3,
        ):
            with (
                Copier(
                    cur2,
                    Parcel,
                    [
                        "id",
                        "shipment_id",
                        "service_id",
                        "tracking_number",
                        "status",
                        "weight_g",
                        "expected_delivery",
                        "created_at",
                        "last_event_at",
                        "delivered_at",
                    ],
                ) as cp,
                Copier(
                    cur3,
                    TrackingEvent,
                    ["id", "parcel_id", "status", "occurred_at", "source", "dedupe_key", "created_at"],
                ) as ce,
            ):
                for sid, shipped_at, delivered_at, weight in shipped:
                    parcel_id += 1
                    svc = rng.choice(services)
                    expected = shipped_at.astimezone(tz).date() + timedelta(days=svc[4])
                    status = "delivered" if delivered_at else "in_transit"
                    cp.write(
                        parcel_id,
                        sid,
                        svc[0],
                        f"BN{parcel_id:010d}CN",
                        status,
                        weight,
                        expected,
                        shipped_at,
                        delivered_at or shipped_at,
                        delivered_at,
                    )
                    if rng.random() < 0.04:
                        event_id += 1
                        kind = rng.choice(("exception", "failed_attempt", "failed_attempt", "lost"))
                        ce.write(
                            event_id,
                            parcel_id,
                            kind,
                            shipped_at + timedelta(hours=20),
                            "bench",
                            f"e{event_id}",
                            shipped_at + timedelta(hours=20),
                        )
            conn2.commit()
            conn3.commit()
        counts.update(parcels=parcel_id, tracking_exceptions=event_id)

        # The stock ledger: weekly receipts per pair, one shipment movement per shipped line, stock rows.
        move_id = 0
        on_hand = {}
        weekly_demand = {}
        for (loc, pid, _ts), qty in shipped_by_pair_week.items():
            weekly_demand[(loc, pid)] = weekly_demand.get((loc, pid), 0) + qty
        with Copier(
            cur,
            StockMovement,
            ["id", "location_id", "product_id", "kind", "on_hand_delta", "reserved_delta", "reference", "created_at"],
        ) as cm:
            for (loc, pid), total in weekly_demand.items():
                per_week = total / (DAYS / 7)
                for week in range(DAYS // 7 + 1):
                    day = today - timedelta(days=DAYS - week * 7)
                    qty = max(0, int(per_week * rng.uniform(0.6, 1.5)))
                    if qty:
                        move_id += 1
                        cm.write(
                            move_id,
                            loc,
                            pid,
                            "receipt",
                            qty,
                            0,
                            f"PO{week}",
                            datetime(day.year, day.month, day.day, 8, tzinfo=tz),
                        )
                        on_hand[(loc, pid)] = on_hand.get((loc, pid), 0) + qty
            for (loc, pid, ts), qty in shipped_by_pair_week.items():
                move_id += 1
                cm.write(move_id, loc, pid, "shipment", -qty, 0, "", ts)
                on_hand[(loc, pid)] = on_hand.get((loc, pid), 0) - qty
            last_monday = today - timedelta(days=today.weekday())
            for key, value in on_hand.items():
                if value < 0:
                    move_id += 1
                    cm.write(
                        move_id,
                        key[0],
                        key[1],
                        "receipt",
                        -value,
                        0,
                        "PO-final",
                        datetime(last_monday.year, last_monday.month, last_monday.day, 8, tzinfo=tz),
                    )
                    on_hand[key] = 0
        with Copier(cur, Stock, ["location_id", "product_id", "on_hand", "reserved", "updated_at"]) as cst:
            for (loc, pid), value in on_hand.items():
                cst.write(loc, pid, value, 0, now)
        conn.commit()
        counts.update(stock_movements=move_id, stock_rows=len(on_hand))
        counts.update(seed_quality(cur))
        conn.commit()
        for table in (
            "orders_channel",
            "inventory_location",
            "inventory_product",
            "logistics_carrier",
            "logistics_servicelevel",
            "orders_order",
            "orders_orderline",
            "fulfillment_shipment",
            "fulfillment_shipmentline",
            "logistics_parcel",
            "logistics_trackingevent",
            "inventory_stockmovement",
            "inventory_stock",
            "fulfillment_packmismatch",
            "orders_returnrequest",
            "orders_returnline",
            "orders_deliveryrating",
        ):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        conn.commit()
    with psycopg.connect(dsn(conf), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    report.note(
        f"seed complete in {time.perf_counter() - started:.0f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )
    return counts


def _insert_select(cur, model, exprs: dict[str, str], from_sql: str) -> int:
    """INSERT INTO model's table SELECT exprs FROM ...; the other columns get the field default
    (as in Copier), so fields other apps add later do not break the seed."""
    from psycopg.types.json import Jsonb

    cols, values, params = [], [], []
    for f in model._meta.concrete_fields:
        if f.column in exprs:
            cols.append(f.column)
            values.append(exprs[f.column])
            continue
        if f.get_internal_type() in ("AutoField", "BigAutoField"):
            continue
        if f.has_default():
            value = f.get_default()
            value = Jsonb(value) if f.get_internal_type() == "JSONField" else value
        elif f.null:
            value = None
        elif f.get_internal_type() in ("CharField", "TextField", "SlugField", "EmailField"):
            value = ""
        elif f.get_internal_type() == "DateTimeField":
            value = datetime.now().astimezone()
        else:
            raise ValueError(f"{model.__name__}.{f.name} needs a value in the bench seed")
        cols.append(f.column)
        values.append("%s")
        params.append(value)
    names = ", ".join(f'"{c}"' for c in cols)
    cur.execute(f'INSERT INTO "{model._meta.db_table}" ({names}) SELECT {", ".join(values)} {from_sql}', params)
    return cur.rowcount


def seed_quality(cur) -> dict:
    """Pack mismatches (~2 % of packed shipments), returns (~3 % of delivered orders, opened 1-20
    days after delivery, one line each) and delivery ratings (~12 % of delivered orders)."""
    from fulfillment.models import PackMismatch
    from orders.models import DeliveryRating, ReturnLine, ReturnRequest

    # Statistics of the freshly copied tables first: with the planner's empty-table estimates a
    # correlated lookup below can walk a whole primary key per row (minutes at 1,000,000 orders).
    cur.execute("ANALYZE orders_order, orders_orderline, fulfillment_shipment, logistics_parcel")
    mismatches = _insert_select(
        cur,
        PackMismatch,
        {
            "shipment_id": "s.id",
            "kind": "(ARRAY['wrong','surplus','short'])[1 + mod(s.id, 3)]",
            "quantity": "1",
            "created_at": "s.packed_at - interval '3 minutes'",
        },
        "FROM fulfillment_shipment s WHERE s.packed_at IS NOT NULL AND mod(s.id, 47) = 0",
    )
    returns = _insert_select(
        cur,
        ReturnRequest,
        {
            "number": "'RT' || o.id",
            "order_id": "o.id",
            "status": "(ARRAY['requested','received','refunded','cancelled'])[1 + mod(o.id, 4)]",
            "reason": "(ARRAY['damaged','wrong_item','size','changed_mind','late'])[1 + mod(o.id, 5)]",
            "source": "'bench'",
            "location_id": "1",
            "created_at": "LEAST(s.delivered_at + (1 + mod(o.id, 20)) * interval '1 day', now())",
        },
        "FROM orders_order o JOIN fulfillment_shipment s ON s.order_id = o.id "
        "WHERE o.status = 'delivered' AND mod(o.id, 33) = 0 AND s.delivered_at IS NOT NULL",
    )
    return_lines = _insert_select(
        cur,
        ReturnLine,
        {
            "ret_id": "r.id",
            "order_line_id": "(SELECT l.id FROM orders_orderline l WHERE l.order_id = r.order_id "
            "ORDER BY l.order_id, l.id LIMIT 1)",
            "quantity": "1",
        },
        "FROM orders_returnrequest r",
    )
    ratings = _insert_select(
        cur,
        DeliveryRating,
        {
            "order_id": "o.id",
            "score": "1 + mod(o.id * 7, 5)",
            "created_at": "o.created_at + interval '5 days'",
        },
        "FROM orders_order o WHERE o.status = 'delivered' AND mod(o.id, 8) = 0",
    )
    return {"pack_mismatches": mismatches, "returns": returns, "return_lines": return_lines, "ratings": ratings}


def _status(rng, age: int) -> tuple[str, str | None]:
    """(order status, shipment status or None) for an order received ``age`` days ago."""
    r = rng.random()
    if age >= 10:
        table = [(0.93, "delivered", "delivered"), (0.96, "cancelled", None), (1.0, "shipped", "in_transit")]
    elif age >= 3:
        table = [
            (0.55, "delivered", "delivered"),
            (0.88, "shipped", "in_transit"),
            (0.91, "cancelled", None),
            (0.95, "packed", "packed"),
            (1.0, "allocated", "reserved"),
        ]
    else:
        table = [
            (0.05, "received", None),
            (0.10, "confirmed", None),
            (0.40, "allocated", "reserved"),
            (0.55, "picking", "picking"),
            (0.65, "packed", "packed"),
            (0.95, "shipped", "shipped"),
            (1.0, "cancelled", None),
        ]
    for limit, order_status, ship in table:
        if r < limit:
            return order_status, ship
    return table[-1][1], table[-1][2]
