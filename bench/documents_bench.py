"""Document benchmarks: a 500-label batch PDF and a 1,000-line pick list, each next to bare WeasyPrint
rendering of the same page size and page count in the same run, printed as a ratio (ours / bare), so
the figure survives a noisy machine.

    DEBUG=1 python bench/documents_bench.py [--labels 500] [--lines 1000] [--json]

Runs on a throwaway test database (created and migrated here, dropped at the end), so it never touches
the configured one. `run(labels=..., lines=...)` returns the figures as a dict for a future bench/run.py.
The rows are written in bulk (this measures documents, not intake); documents are rendered by the same
functions the pages use (`logistics.documents.label_pdf`, `fulfillment.documents.picklist_pdf`).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")


def _timed(fn, repeat: int = 1) -> float:
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best


def _bare(page_size: str, pages_html: str) -> bytes:
    """Bare WeasyPrint: the same page size and page count, plain text, no templates, no database."""
    from weasyprint import HTML

    from oms.pdf import font_config

    html = (
        f"<html><head><style>@page {{ size: {page_size}; margin: 2.5mm; }} body {{ font-family: 'Noto Sans CJK SC',"
        f" 'DejaVu Sans', sans-serif; font-size: 9pt; }} .p {{ break-after: page; }} td {{ padding: 1mm; }}</style>"
        f"</head><body>{pages_html}</body></html>"
    )
    return HTML(string=html).write_pdf(font_config=font_config())


def _world(labels: int, lines: int):
    from django.utils import timezone

    from fulfillment.models import PickList, Shipment, ShipmentLine
    from fulfillment.status import ShipmentStatus
    from inventory.models import Location, Product, Stock
    from logistics.models import Carrier, Parcel, ServiceLevel
    from orders.models import Channel, Order, OrderLine

    location = Location.objects.create(
        code="bench",
        name="上海中心仓",
        city="上海",
        province="上海",
        address="浦东新区 张江路 1 号",
        phone="021-5555 0000",
    )
    channel = Channel.objects.create(slug="bench", name="Bench")
    carrier = Carrier.objects.create(
        code="local", name="Local Express", tracking_url_template="https://t.example/{tracking_number}"
    )
    service = ServiceLevel.objects.create(carrier=carrier, code="std", name="Standard")
    skus = max(1, lines // 4)
    products = Product.objects.bulk_create(
        Product(sku=f"B-{i:05d}", name=f"云南咖啡豆 {i} 号 1kg", weight_g=500) for i in range(skus)
    )
    Stock.objects.bulk_create(
        Stock(location=location, product=p, bin=f"{'ABCD'[i % 4]}-{i // 40:02d}-{i % 40:02d}", on_hand=10_000)
        for i, p in enumerate(products)
    )
    count = max(labels, lines // 5)
    now = timezone.now()
    orders = Order.objects.bulk_create(
        Order(
            number=f"SO9{i:06d}",
            channel=channel,
            external_id=f"b{i}",
            status="picking",
            ship_name="欧阳娜娜",
            ship_phone="13812345678",
            ship_country="CN",
            ship_province="浙江省",
            ship_city="杭州市",
            ship_district="西湖区",
            ship_address1=f"文三路 {i} 号 东部软件园 3 号楼",
            ship_postcode="310012",
            placed_at=now,
        )
        for i in range(count)
    )
    picklist = PickList.objects.create(number="PL-BENCH", location=location)
    shipments = Shipment.objects.bulk_create(
        Shipment(
            number=f"SH9{i:06d}",
            order=o,
            location=location,
            status=ShipmentStatus.PICKING,
            picklist=picklist if i < lines // 5 else None,
            weight_g=800,
        )
        for i, o in enumerate(orders)
    )
    order_lines = []
    for i, order in enumerate(orders):
        for j in range(5 if i < lines // 5 else 1):
            product = products[(i * 5 + j) % len(products)]
            order_lines.append(
                OrderLine(
                    order=order, line_no=j + 1, product=product, sku=product.sku, quantity=1, unit_price=Decimal("10")
                )
            )
    OrderLine.objects.bulk_create(order_lines)
    by_order = {o.pk: s for o, s in zip(orders, shipments, strict=True)}
    ship_lines = [
        ShipmentLine(shipment=by_order[ol.order_id], order_line=ol, product=ol.product, quantity=1)
        for ol in order_lines
    ]
    ShipmentLine.objects.bulk_create(ship_lines)
    parcels = Parcel.objects.bulk_create(
        Parcel(shipment=s, service=service, tracking_number=f"LC{i:08d}0CN", weight_g=800)
        for i, s in enumerate(shipments[:labels])
    )
    return picklist, list(Parcel.objects.filter(pk__in=[p.pk for p in parcels]).order_by("id"))


def measure(*, labels: int = 500, lines: int = 1000) -> dict:
    import django

    django.setup()
    from django.db import connection

    from fulfillment.documents import picklist_pdf
    from logistics.documents import label_pdf

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        picklist, parcels = _world(labels, lines)
        url = lambda p: f"https://oms.example/track/{p.tracking_number}"  # noqa: E731
        label_pdf(parcels[:2], tracking_url_for=url)  # warm fonts and templates
        result: dict = {}

        out: dict = {}
        ours = _timed(lambda: out.setdefault("labels", label_pdf(parcels, tracking_url_for=url)))
        pages = "".join(
            f'<div class="p"><h1>{p.tracking_number}</h1><p>欧阳娜娜 13812345678</p>'
            "<p>浙江省 杭州市 西湖区 文三路</p></div>"
            for p in parcels
        )
        bare = _timed(lambda: out.setdefault("bare_labels", _bare("4in 6in", pages)))
        result["labels"] = {
            "count": len(parcels),
            "pages": _pages(out["labels"]),
            "bare_pages": _pages(out["bare_labels"]),
            "seconds": round(ours, 2),
            "bare_seconds": round(bare, 2),
            "ratio": round(ours / bare, 2),
            "ms_per_label": round(ours * 1000 / max(1, len(parcels)), 1),
        }

        ours = _timed(lambda: out.setdefault("picklist", picklist_pdf(picklist)))
        pl_pages = _pages(out["picklist"])
        per_page = max(1, (lines * 2) // max(1, pl_pages))
        rows = "".join(
            f"<tr><td>A-{i:04d}</td><td>B-{i:05d}</td><td>云南咖啡豆 {i} 号 1kg</td><td>1</td></tr>"
            for i in range(lines * 2)
        )  # consolidated rows + per-order breakdown rows
        bare = _timed(lambda: out.setdefault("bare_picklist", _bare("A4", f"<table>{rows}</table>")))
        result["picklist"] = {
            "lines": lines,
            "pages": pl_pages,
            "bare_pages": _pages(out["bare_picklist"]),
            "seconds": round(ours, 2),
            "bare_seconds": round(bare, 2),
            "ratio": round(ours / bare, 2),
            "rows_per_page": per_page,
        }
        return result
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(report, quick: bool) -> None:
    """bench/run.py's contract: a label batch and a pick list, each next to bare WeasyPrint."""
    labels, lines = (50, 100) if quick else (500, 1000)
    result = measure(labels=labels, lines=lines)
    lab, pl = result["labels"], result["picklist"]
    report.note(f"{lab['count']} labels ({lab['pages']} pages), pick list of {pl['lines']} lines ({pl['pages']} pages)")
    report.figure(
        f"{lab['count']}-label batch PDF",
        lab["seconds"],
        "s",
        baseline=("bare WeasyPrint 4x6 pages", lab["bare_seconds"]),
        ms_per_label=lab["ms_per_label"],
    )
    report.figure(
        f"{pl['lines']}-line pick list PDF",
        pl["seconds"],
        "s",
        baseline=("bare WeasyPrint A4 table", pl["bare_seconds"]),
        pages=pl["pages"],
    )


def _pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=500)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(labels=args.labels, lines=args.lines)
    if args.json:
        print(json.dumps(result))
        return 0
    lab, pl = result["labels"], result["picklist"]
    print(
        f"{lab['count']}-label batch PDF ({lab['pages']} pages): {lab['seconds']} s, {lab['ms_per_label']} ms/label; "
        f"bare WeasyPrint 4x6 x {lab['bare_pages']} pages: {lab['bare_seconds']} s; ratio {lab['ratio']}"
    )
    print(
        f"{pl['lines']}-line pick list ({pl['pages']} pages A4): {pl['seconds']} s; "
        f"bare WeasyPrint A4 table ({pl['bare_pages']} pages): {pl['bare_seconds']} s; ratio {pl['ratio']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
