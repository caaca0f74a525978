"""File formats, each written to its owner's documentation (see tests/orders/fixtures/ and the
adapters' docstrings): Shopify's orders export, Amazon's unshipped-orders report, the OMS
template as XLSX, Shopify / WooCommerce order JSON; bad input never creates half an order."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from orders.models import InboundMessage, Order, OrderEvent, OrderLine
from orders.status import EventKind, HoldReason, OrderStatus
from tests.factories import ChannelFactory, ProductFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ChannelFactory(slug="shop", name="Shopify store", platform="shopify")
    ChannelFactory(slug="amazon", name="Amazon US", platform="amazon")
    ProductFactory(sku="SKU-A", name="Coffee")
    ProductFactory(sku="SKU-B", name="Dripper")


def run(path, fmt, channel, *args):
    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command(
            "import_orders", str(path), "--format", fmt, "--channel", channel, "--json", *args, stdout=out, stderr=err
        )
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def test_shopify_export_one_order_per_name_with_order_columns_from_the_first_row():
    code, summary = run(FIXTURES / "shopify_orders_export.csv", "shopify-csv", "shop")
    assert code == 0
    unused = summary.pop("unused_columns")[str(FIXTURES / "shopify_orders_export.csv")]
    assert summary == {"created": 3, "duplicates": 0, "held": 0, "rejected": 0, "errors": []}
    assert "Accepts Marketing" in unused and "Lineitem sku" not in unused  # the columns the reader skips, named
    order = Order.objects.get(external_id="5550000001")
    assert order.status == OrderStatus.CONFIRMED and order.on_hold is False
    assert list(order.lines.values_list("sku", "quantity", "unit_price", "name")) == [
        ("SKU-A", 2, Decimal("88.00"), "云南咖啡豆 1kg"),
        ("SKU-B", 1, Decimal("20.00"), "滤杯"),
    ]
    assert (order.ship_name, order.ship_city, order.ship_province, order.ship_country) == (
        "陈静",
        "上海",
        "Shanghai",
        "CN",
    )
    assert (order.ship_address1, order.ship_address2, order.ship_postcode) == ("漕溪北路 18 号", "3 楼", "200030")
    assert order.ship_phone == "+8613912345678"
    assert order.total == Decimal("196.00") and order.currency == "CNY"
    assert order.placed_at == datetime(2026, 11, 20, 2, 14, 33, tzinfo=UTC)
    assert order.requested_service == "express"
    assert order.note == "Shopify #1001"
    assert order.buyer_message == "请工作日送货"


def test_shopify_orders_that_arrive_cancelled_or_refunded_are_kept_and_reserve_nothing():
    run(FIXTURES / "shopify_orders_export.csv", "shopify-csv", "shop")
    cancelled = Order.objects.get(external_id="5550000002")
    refunded = Order.objects.get(external_id="5550000003")
    for order, reason in ((cancelled, "cancelled"), (refunded, "refunded")):
        assert order.status == OrderStatus.CANCELLED and order.on_hold is False
        assert list(order.events.values_list("kind", flat=True)) == [
            EventKind.CREATED,
            EventKind.STATUS,
            EventKind.CANCELLED,
        ]
        assert order.events.get(kind=EventKind.CANCELLED).data == {"on_arrival": True, "reason": reason}
        assert not order.shipments.exists()
    assert cancelled.ship_postcode == "02134" and cancelled.currency == "USD"


def test_shopify_reimport_changes_nothing():
    run(FIXTURES / "shopify_orders_export.csv", "shopify-csv", "shop")
    before = (Order.objects.count(), OrderLine.objects.count(), OrderEvent.objects.count())
    code, summary = run(FIXTURES / "shopify_orders_export.csv", "shopify-csv", "shop")
    assert code == 0 and summary["created"] == 0 and summary["duplicates"] == 3
    assert (Order.objects.count(), OrderLine.objects.count(), OrderEvent.objects.count()) == before


def _shopify_text(tmp_path, replace: dict[str, str]) -> Path:
    text = (FIXTURES / "shopify_orders_export.csv").read_text(encoding="utf-8")
    for old, new in replace.items():
        text = text.replace(old, new)
    path = tmp_path / "shopify.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_shopify_bad_rows_are_reported_by_row_and_column_and_the_good_orders_go_in(tmp_path):
    path = _shopify_text(
        tmp_path,
        {
            "2026-11-20 10:14:33 +0800": "20/11/2026 25:00",  # #1001: malformed date
            ",1,Speckled Mug,25.00,,SKU-B,": ",0,Speckled Mug,25.00,,SKU-B,",  # #1002: zero quantity
            ",1,云南咖啡豆 1kg,88.00,,SKU-A,,": ",1,云南咖啡豆 1kg,88.00,,,,",  # #1003: missing SKU
        },
    )
    code, summary = run(path, "shopify-csv", "shop")
    assert code == 1
    assert summary["created"] == 0 and summary["rejected"] == 3
    assert {(e["row"], e["field"]) for e in summary["errors"]} == {
        (2, "Created at"),
        (4, "Lineitem quantity"),
        (5, "Lineitem sku"),
    }
    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0


def test_shopify_export_without_its_columns_cannot_be_used(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Name,Email\n#1,a@example.com\n", encoding="utf-8")
    code, summary = run(path, "shopify-csv", "shop")
    assert code == 2 and "missing column(s): lineitem quantity, lineitem sku" in summary["errors"][0]["message"]


def test_amazon_unshipped_report_groups_items_by_order_id():
    code, summary = run(FIXTURES / "amazon_unshipped_orders.txt", "amazon-tsv", "amazon")
    assert code == 0
    unused = summary.pop("unused_columns")[str(FIXTURES / "amazon_unshipped_orders.txt")]
    assert summary == {"created": 2, "duplicates": 0, "held": 1, "rejected": 0, "errors": []}
    assert "order-item-id" in unused and "sku" not in unused
    us = Order.objects.get(external_id="114-0149180-7966659")
    assert list(us.lines.values_list("sku", "quantity", "name")) == [
        ("AMZ-COF-1KG", 2, "Yunnan Coffee Beans 1kg"),
        ("SKU-B", 1, "Pour-over dripper"),
    ]
    assert us.on_hold and us.holds.get().reason == HoldReason.UNKNOWN_SKU
    assert us.holds.get().note == "Unknown SKU: AMZ-COF-1KG"
    assert us.lines.get(sku="AMZ-COF-1KG").product is None
    assert (us.ship_name, us.ship_city, us.ship_province, us.ship_postcode, us.ship_country) == (
        "Roger Willoughby",
        "Owensboro",
        "KY",
        "42303",
        "US",
    )
    assert us.ship_phone == "2709293817" and us.requested_service == "express"
    assert us.promise_date == date(2026, 11, 25)
    uk = Order.objects.get(external_id="408-4870009-9733125")
    assert uk.status == OrderStatus.CONFIRMED
    assert (uk.ship_address2, uk.ship_postcode, uk.ship_country, uk.requested_service) == (
        "Flat 2",
        "SW1A 2AA",
        "GB",
        "standard",
    )


def test_amazon_report_in_gb18030_with_a_bom_free_header(tmp_path):
    text = (FIXTURES / "amazon_unshipped_orders.txt").read_text(encoding="utf-8").replace("Roger Willoughby", "王小明")
    path = tmp_path / "report.txt"
    path.write_bytes(text.encode("gb18030"))
    code, summary = run(path, "amazon-tsv", "amazon")
    assert code == 0 and summary["created"] == 2
    assert Order.objects.get(external_id="114-0149180-7966659").ship_name == "王小明"


OMS_HEADER = [
    "external_id",
    "placed_at",
    "customer_name",
    "customer_email",
    "customer_phone",
    "ship_name",
    "ship_phone",
    "ship_country",
    "ship_province",
    "ship_city",
    "ship_address1",
    "ship_postcode",
    "sku",
    "quantity",
    "unit_price",
]


def _xlsx(tmp_path, rows) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(OMS_HEADER)
    for row in rows:
        sheet.append(row)
    path = tmp_path / "orders.xlsx"
    book.save(path)
    return path


def test_oms_template_as_xlsx_with_numbers_and_dates_as_excel_stores_them(tmp_path):
    path = _xlsx(
        tmp_path,
        [
            [
                "X1",
                datetime(2026, 11, 20, 10, 0),
                "张三",
                "zs@example.com",
                13800138000,
                "张三",
                13800138000,
                "中国",
                "上海",
                "上海",
                "世纪大道88号",
                200120,
                "SKU-A",
                2,
                10.5,
            ],
            ["X1", None, None, None, None, None, None, None, None, None, None, None, "SKU-B", 1, 3],
            ["X2", "not a date", "李四", "", "", "李四", "139", "CN", "", "上海", "x", "", "SKU-A", -1, 1],
            [
                "X3",
                "2026-11-21",
                "@SUM(1+1)*cmd",
                "",
                "13900000000",
                "王五",
                "13900000000",
                "CN",
                "",
                "上海",
                "y",
                "",
                "SKU-A",
                1,
                1,
            ],
        ],
    )
    code, summary = run(path, "oms-xlsx", "shop")
    assert code == 1
    assert summary["created"] == 2 and summary["rejected"] == 1
    assert {(e["row"], e["field"]) for e in summary["errors"]} == {(4, "quantity"), (4, "placed_at")}
    order = Order.objects.get(external_id="X1")
    assert order.ship_phone == "13800138000" and order.ship_postcode == "200120" and order.ship_country == "CN"
    assert list(order.lines.values_list("sku", "quantity", "unit_price")) == [
        ("SKU-A", 2, Decimal("10.50")),
        ("SKU-B", 1, Decimal("3.00")),
    ]
    assert Order.objects.get(external_id="X3").customer.name == "@SUM(1+1)*cmd"


def test_a_file_that_is_not_a_workbook_cannot_be_used(tmp_path):
    path = tmp_path / "orders.xlsx"
    path.write_bytes(b"external_id,sku\n")
    code, summary = run(path, "oms-xlsx", "shop")
    assert code == 2 and "not an XLSX workbook" in summary["errors"][0]["message"]
    assert Order.objects.count() == 0
    assert InboundMessage.objects.get().status == "failed"


def test_json_files_of_shopify_and_woocommerce_orders(tmp_path):
    shopify = tmp_path / "shopify.json"
    shopify.write_text(json.dumps({"orders": [json.loads((FIXTURES / "shopify_orders_create.json").read_text())]}))
    code, summary = run(shopify, "shopify-json", "shop")
    assert code == 0 and summary["created"] == 1
    woo_channel = ChannelFactory(slug="woo", platform="woocommerce")
    woo = tmp_path / "woo.json"
    woo.write_text("[" + (FIXTURES / "woocommerce_order_created.json").read_text() + "]")
    code, summary = run(woo, "woocommerce-json", "woo")
    assert code == 0 and summary["created"] == 1
    assert Order.objects.get(channel=woo_channel).external_id == "727"


def test_an_empty_file_cannot_be_used_in_any_format(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    for fmt in ("shopify-csv", "amazon-tsv", "oms-xlsx", "shopify-json"):
        code, summary = run(path, fmt, "shop")
        assert code == 2 and "empty" in summary["errors"][0]["message"]
    assert Order.objects.count() == 0


def test_duplicate_rows_of_one_order_further_down_are_rejected_not_merged(tmp_path):
    text = (FIXTURES / "shopify_orders_export.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    path = tmp_path / "dup.csv"
    path.write_text("\n".join(lines + [lines[1]]) + "\n", encoding="utf-8")
    code, summary = run(path, "shopify-csv", "shop")
    assert code == 1 and summary["created"] == 3 and summary["rejected"] == 1
    assert summary["errors"][0]["row"] == 6 and "appears again" in summary["errors"][0]["message"]
    assert Order.objects.get(external_id="5550000001").lines.count() == 2
