"""Intake benchmark: import Shopify-export orders end to end (parse, normalize, validate, persist,
events) next to a raw COPY of the same rows into the same tables, in the same run.

    DATABASE_URL=postgres://... python bench/intake_bench.py [--orders 100000]

Each measurement runs in its own process so its peak RSS is its own; the import is measured at
two file sizes to show that memory stays flat as the file grows. bench/run.py calls
``run(report, quick)`` (quick: 10,000 orders instead of 100,000); ``measure(orders)`` returns
the figures as a dict.

Since 2026-12-08 an order's Subtotal and Total are its lines' sum, as in Shopify's export. Until then every order
said 59.70 whatever its lines, so the finance review (财审, added after this bench) held about 83 % of them and the
import wrote a hold and a held event for each, which no real file asks for and the raw COPY never writes. The figure
names, the baseline and the lines did not change.
"""

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,"
    "Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,"
    "Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,"
    "Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,"
    "Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,"
    "Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,"
    "Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,"
    "Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,Source"
).split(",")
SKUS = [f"BENCH-{i:03d}" for i in range(200)]
CITIES = [("上海", "SH", "200120"), ("北京", "BJ", "100020"), ("广州", "GD", "510000"), ("杭州", "ZJ", "310000")]


def generate(path: Path, orders: int, seed: int = 7) -> int:
    rnd = random.Random(seed)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(orders):
            name = f"#{100000 + n}"
            lines = rnd.choice((1, 2, 2, 3, 4))  # 2.4 lines per order on average
            city, province, zipcode = rnd.choice(CITIES)
            # The same random calls in the same order as before 2026-12-08; the quantities first, for the total.
            picked = [(rnd.randint(1, 3), rnd.choice(SKUS)) for _ in range(lines)]
            total = f"{sum(quantity for quantity, _sku in picked) * Decimal('19.90'):.2f}"
            for i, (quantity, sku) in enumerate(picked):
                row = dict.fromkeys(HEADER, "")
                row.update(
                    {
                        "Name": name,
                        "Lineitem quantity": str(quantity),
                        "Lineitem name": "商品",
                        "Lineitem price": "19.90",
                        "Lineitem sku": sku,
                        "Lineitem requires shipping": "true",
                        "Lineitem taxable": "true",
                        "Lineitem fulfillment status": "pending",
                    }
                )
                if i == 0:
                    row.update(
                        {
                            "Email": f"buyer{n}@example.com",
                            "Financial Status": "paid",
                            "Currency": "CNY",
                            "Subtotal": total,
                            "Total": total,  # the lines add up, as in Shopify's export (else 财审 holds the order)
                            "Created at": f"2026-11-{1 + n % 28:02d} 10:{n % 60:02d}:00 +0800",
                            "Shipping Name": "测试买家",
                            "Shipping Address1": f"世纪大道 {n % 999} 号",
                            "Shipping City": city,
                            "Shipping Zip": f"'{zipcode}",
                            "Shipping Province": province,
                            "Shipping Country": "CN",
                            "Shipping Phone": f"138{n:08d}",
                            "Shipping Method": "Standard",
                            "Id": str(5_000_000_000 + n),
                        }
                    )
                writer.writerow([row[h] for h in HEADER])
                rows += 1
    return rows


def _peak_rss_mb() -> float:
    """This process's own peak (VmHWM). Not getrusage's ru_maxrss: on Linux it survives exec, so a
    child would report the parent's peak from before the fork (the parent's big delete, say)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _setup():
    import django

    django.setup()
    from inventory.models import Product
    from oms.celery import ensure_queue_dirs

    ensure_queue_dirs()
    from orders.models import Channel

    Product.objects.bulk_create([Product(sku=s, name=s) for s in SKUS], ignore_conflicts=True)
    return Channel.objects.get_or_create(slug="bench-shop", defaults={"name": "Bench shop", "platform": "shopify"})[0]


def child_import(path: str) -> dict:
    channel = _setup()
    from orders.intake.importer import ImportReport, import_file
    from orders.models import OrderEvent

    events_before = OrderEvent.objects.count()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report = ImportReport()
    start = time.perf_counter()
    import_file(path=Path(path), fmt="shopify-csv", channel=channel, report=report)
    seconds = time.perf_counter() - start
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": seconds,
        "created": report.created,
        "rejected": report.rejected,
        "events": OrderEvent.objects.count() - events_before,
        "peak_rss_mb": _peak_rss_mb(),
        # The file's reading process (orders/intake/read_ahead.py), forked from this one: its peak counts
        # the pages it still shares with this process (0: no reading process, or none bigger than a child
        # this process had before, e.g. with IMPORT_READ_PROCESS=0).
        "reader_peak_rss_mb": children_after / 1024 if children_after > children_before else 0,
    }


def child_copy(path: str) -> dict:
    """Raw COPY of the same rows into orders_order and orders_orderline (no parsing beyond csv)."""
    channel = _setup()
    from django.db import connection, transaction

    from orders.models import Order, OrderLine

    start = time.perf_counter()
    orders = lines = 0
    with transaction.atomic(), connection.cursor() as cursor, open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        index = {h: i for i, h in enumerate(next(reader))}
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM orders_order")
        next_id = cursor.fetchone()[0] + 1_000_000
        current, line_no = None, 0
        order_cols = (
            "id, channel_id, external_id, status, on_hold, priority, ship_name, ship_phone, ship_email, "
            "ship_country, ship_province, ship_city, ship_district, ship_address1, ship_address2, "
            "ship_postcode, currency, total, requested_service, note, placed_at, created_at, updated_at"
        )
        # Columns added to Order since (tags, billing_country, ...): NOT NULL without a database
        # default, so the baseline fills them with the model's default like an ORM insert would
        # (OrderLine's is_gift likewise, below).
        named = {c.strip() for c in order_cols.split(",")}
        extra = [
            (f.column, f.get_default())
            for f in Order._meta.concrete_fields
            if f.column not in named and not f.null and f.get_default() is not None
        ]
        order_cols += "".join(f", {column}" for column, _ in extra)
        extra_values = tuple(str(value) for _, value in extra)
        pending_lines = []
        with cursor.cursor.copy(f"COPY {Order._meta.db_table} ({order_cols}) FROM STDIN") as copy:
            for row in reader:
                if row[index["Name"]] != current:
                    current, line_no = row[index["Name"]], 0
                    next_id += 1
                    orders += 1
                    copy.write_row(
                        (
                            next_id,
                            channel.pk,
                            "copy-" + row[index["Id"]],
                            "confirmed",
                            False,
                            5,
                            row[index["Shipping Name"]],
                            row[index["Shipping Phone"]],
                            row[index["Email"]],
                            row[index["Shipping Country"]],
                            row[index["Shipping Province"]],
                            row[index["Shipping City"]],
                            "",
                            row[index["Shipping Address1"]],
                            "",
                            row[index["Shipping Zip"]].lstrip("'"),
                            "CNY",
                            row[index["Total"]],
                            "",
                            "",
                            row[index["Created at"]],
                            "now",
                            "now",
                        )
                        + extra_values
                    )
                line_no += 1
                pending_lines.append(
                    (
                        next_id,
                        line_no,
                        row[index["Lineitem sku"]],
                        row[index["Lineitem name"]],
                        row[index["Lineitem quantity"]],
                        row[index["Lineitem price"]],
                    )
                )
        line_cols = "order_id, line_no, sku, name, quantity, unit_price"
        named = {c.strip() for c in line_cols.split(",")}
        line_extra = [
            (f.column, f.get_default())
            for f in OrderLine._meta.concrete_fields
            if f.column not in named and not f.null and f.get_default() is not None
        ]
        line_cols += "".join(f", {column}" for column, _ in line_extra)
        line_tail = tuple(line_extra_value for _, line_extra_value in line_extra)
        with cursor.cursor.copy(f"COPY {OrderLine._meta.db_table} ({line_cols}) FROM STDIN") as copy:
            for values in pending_lines:
                copy.write_row(values + line_tail)
                lines += 1
    seconds = time.perf_counter() - start
    # The baseline's rows have lines only (no events, holds, shipments): two plain DELETEs, not the
    # ORM's cascade collection over every table that points at an order.
    with transaction.atomic(), connection.cursor() as cursor:
        copied = f"SELECT id FROM {Order._meta.db_table} WHERE external_id LIKE %s"
        cursor.execute(f"DELETE FROM {OrderLine._meta.db_table} WHERE order_id IN ({copied})", ["copy-%"])
        cursor.execute(f"DELETE FROM {Order._meta.db_table} WHERE external_id LIKE %s", ["copy-%"])
    return {"seconds": seconds, "orders": orders, "lines": lines, "peak_rss_mb": _peak_rss_mb()}


def _spawn(kind: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, f"--child-{kind}", str(path)], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _reset() -> None:
    import django

    django.setup()
    from orders.models import Channel, Order

    channel = Channel.objects.filter(slug="bench-shop").first()
    if channel is not None:
        Order.objects.filter(channel=channel).delete()


NEEDS = ("postgresql",)


def measure(orders: int = 100_000) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        small, big = Path(tmp) / "small.csv", Path(tmp) / "big.csv"
        small_rows = generate(small, max(orders // 5, 1000))
        big_rows = generate(big, orders, seed=8)
        _reset()
        baseline = _spawn("copy", big)
        small_import = _spawn("import", small)
        _reset()
        big_import = _spawn("import", big)
        _reset()
    import_rate = big_import["created"] / big_import["seconds"]
    copy_rate = baseline["orders"] / baseline["seconds"]
    return {
        "orders": orders,
        "rows": big_rows,
        "import_orders_per_s": round(import_rate),
        "copy_orders_per_s": round(copy_rate),
        "ratio_import_to_copy": round(import_rate / copy_rate, 3),
        "import_events": big_import["events"],
        "reader_peak_rss_mb": round(big_import["reader_peak_rss_mb"]),
        "peak_rss_mb": {
            f"import {small_rows} rows": round(small_import["peak_rss_mb"]),
            f"import {big_rows} rows": round(big_import["peak_rss_mb"]),
            "raw COPY": round(baseline["peak_rss_mb"]),
        },
    }


def run(report, quick: bool) -> None:
    """bench/run.py's entry point: the figures beside the raw COPY baseline of the same run."""
    result = measure(10_000 if quick else 100_000)
    report.note(f"{result['orders']} Shopify-export orders, {result['rows']} rows, batches of 1,000, COPY writes")
    report.figure(
        "file import end to end (parse, normalize, validate, persist, events)",
        result["import_orders_per_s"],
        "orders/s",
        baseline=("raw COPY of the same rows", result["copy_orders_per_s"]),
        events=result["import_events"],
    )
    sizes = list(result["peak_rss_mb"].items())
    report.figure(f"peak RSS, {sizes[1][0]}", sizes[1][1], "MB", baseline=(sizes[0][0], sizes[0][1]))
    report.note(
        f"the file's reading process (forked, shares the importer's pages): peak RSS {result['reader_peak_rss_mb']} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--child-import")
    parser.add_argument("--child-copy")
    args = parser.parse_args()
    if args.child_import:
        print(json.dumps(child_import(args.child_import)))
        return
    if args.child_copy:
        print(json.dumps(child_copy(args.child_copy)))
        return
    result = measure(args.orders)
    print(f"intake: {result['orders']} Shopify-export orders ({result['rows']} rows)")
    print(f"  import end to end  {result['import_orders_per_s']:>8} orders/s  ({result['import_events']} events)")
    print(f"  raw COPY baseline  {result['copy_orders_per_s']:>8} orders/s")
    print(f"  ratio              {result['ratio_import_to_copy']:>8}   (aim: >= 0.25)")
    for label, mb in result["peak_rss_mb"].items():
        print(f"  peak RSS {label}: {mb} MB")


if __name__ == "__main__":
    main()
