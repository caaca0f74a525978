"""Bad order files (issue 13, items 4 and 5): each case is a file that `manage.py import_orders` must
survive. For every case: the command never crashes (exit 0, 1 or 2 as the README says), the good
orders of the file are created exactly, each bad one is reported with its row and field, and no
stored value differs from the file (nothing truncated, reinterpreted or garbled)."""

import io
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from orders.models import Order
from orders.status import HoldReason
from tests.factories import ChannelFactory, ProductFactory

pytestmark = pytest.mark.django_db

HEADER = "external_id,customer_name,ship_name,ship_phone,ship_country,ship_city,ship_address1,sku,quantity,unit_price"


def oms(ext, *, name="Ann Lee", phone="13800138000", city="上海", sku="SKU-A", qty="1", price="10.00",
        address="1 Main St", email=None) -> str:
    return f"{ext},{name},{name},{phone},CN,{city},{address},{sku},{qty},{price}"


def csv_file(*rows: str, header=HEADER) -> bytes:
    return "\n".join([header, *rows]).encode("utf-8")


def good_and(bad: str) -> bytes:
    """A good order before and after the bad row."""
    return csv_file(oms("GOOD-1"), bad, oms("GOOD-2"))


SHOPIFY = ("Name,Id,Email,Currency,Shipping,Taxes,Total,Created at,Lineitem quantity,Lineitem price,Lineitem sku,"
           "Shipping Name,Shipping Address1,Shipping City,Shipping Country,Shipping Phone")


def shop(name, oid, *, price="10.00", total="10.00", qty="1") -> str:
    return f"{name},{oid},a@example.com,CNY,0.00,0.00,{total},2026-11-20 10:00:00 +0800,{qty},{price},SKU-A," \
           "Ann Lee,1 Main St,Paris,FR,+33123456789"


AMAZON = "order-id\torder-item-id\tpurchase-date\tbuyer-email\tbuyer-name\tsku\tquantity-purchased\titem-price\t" \
         "recipient-name\tship-address-1\tship-city\tship-country\tbuyer-phone-number"


def amazon(oid, price="12.50") -> str:
    return f"{oid}\t1\t2026-11-20T10:00:00+08:00\tb@example.com\tBo\tSKU-A\t1\t{price}\tBo\t1 Main St\tParis\tFR\t" \
           "+33123456789"


def woo(oid, *, price=10.0, total="10.00", name="Ann") -> dict:
    return {"id": oid, "number": str(oid), "status": "processing", "currency": "CNY", "total": total,
            "date_created_gmt": "2026-11-20T02:00:00", "billing": {"first_name": name, "email": "w@example.com"},
            "shipping": {"first_name": name, "address_1": "1 Main St", "city": "Paris", "country": "FR"},
            "line_items": [{"sku": "SKU-A", "quantity": 1, "price": price}]}


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# (id, format, file bytes, exit code, external ids created, (row, field) reported or a message fragment)
CASES = [
    ("empty", "oms-csv", b"", 2, set(), "empty"),
    ("only-a-bom-and-blanks", "oms-csv", b"\xef\xbb\xbf\r\n \n", 2, set(), "empty"),
    ("header-only", "oms-csv", csv_file(), 0, set(), None),
    ("wrong-columns", "oms-csv", b"a,b,c\n1,2,3\n", 2, set(), "missing column"),
    ("binary-garbage", "oms-csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\xfd", 2, set(), None),
    ("csv-given-as-xlsx", "oms-xlsx", csv_file(oms("A1")), 2, set(), "not an XLSX workbook"),
    ("truncated-xlsx", "oms-xlsx", xlsx([HEADER.split(","), oms("A1").split(",")])[:200], 2, set(),
     "not an XLSX workbook"),
    ("cell-128-kib", "oms-csv", good_and(oms("BAD", address="x" * 131072)), 1, {"GOOD-1", "GOOD-2"},
     (3, "ship_address1")),
    ("nul-in-a-cell", "oms-csv", good_and(oms("BAD", name="A\x00B")), 1, {"GOOD-1", "GOOD-2"}, (3, "ship_name")),
    ("name-past-120", "oms-csv", good_and(oms("BAD", name="N" * 121)), 1, {"GOOD-1", "GOOD-2"},
     (3, "ship_to.name")),
    ("city-past-64", "oms-csv", good_and(oms("BAD", city="C" * 65)), 1, {"GOOD-1", "GOOD-2"}, (3, "ship_to.city")),
    ("phone-past-32", "oms-csv", good_and(oms("BAD", phone="1" * 33)), 1, {"GOOD-1", "GOOD-2"},
     (3, "ship_to.phone")),
    ("external-id-past-64", "oms-csv", good_and(oms("X" * 65)), 1, {"GOOD-1", "GOOD-2"}, (3, "external_id")),
    ("price-1e30", "oms-csv", good_and(oms("BAD", price="1e30")), 1, {"GOOD-1", "GOOD-2"}, (3, "unit_price")),
    ("price-nan", "oms-csv", good_and(oms("BAD", price="NaN")), 1, {"GOOD-1", "GOOD-2"}, (3, "unit_price")),
    ("price-decimal-comma", "oms-csv", good_and(oms("BAD", price='"14,00"')), 1, {"GOOD-1", "GOOD-2"},
     (3, "unit_price")),
    ("price-thousands", "oms-csv", good_and(oms("BAD", price='"1,234.00"')), 1, {"GOOD-1", "GOOD-2"},
     (3, "unit_price")),
    ("price-beyond-digits", "oms-csv", good_and(oms("BAD", price="99999999999.00")), 1, {"GOOD-1", "GOOD-2"},
     (3, "unit_price")),
    ("total-overflows", "oms-csv", good_and(oms("BAD", price="9999999999.00", qty="5")), 1, {"GOOD-1", "GOOD-2"},
     None),
    ("quantity-beyond-range", "oms-csv", good_and(oms("BAD", qty="1000000000")), 1, {"GOOD-1", "GOOD-2"},
     (3, "quantity")),
    ("quantity-fraction", "oms-csv", good_and(oms("BAD", qty="2.5")), 1, {"GOOD-1", "GOOD-2"}, (3, "quantity")),
    ("unclosed-quote-at-the-end", "oms-csv", csv_file(oms("GOOD-1"), oms("GOOD-2"), 'BAD,"Ann'), 1,
     {"GOOD-1", "GOOD-2"}, (4, "row")),
    ("stray-quote-after-a-quoted-cell", "oms-csv", good_and(oms("BAD", name='"Ann"x')), 1, {"GOOD-1", "GOOD-2"},
     (3, "row")),
    ("latin1-byte-in-utf8", "oms-csv",
     csv_file(oms("GOOD-1", name="Zoë"), oms("BAD", name="ZOE"), oms("GOOD-2", name="Zoë")).replace(b"ZOE",
                                                                                                      b"Zo\xeb"),
     1, {"GOOD-1", "GOOD-2"}, (3, "ship_name")),
    ("gb18030-file", "oms-csv", "\r\n".join([HEADER, oms("GOOD-1", name="王小明"), oms("GOOD-2", name="陈静")]).encode(
        "gb18030"), 0, {"GOOD-1", "GOOD-2"}, None),
    ("utf16-with-bom", "oms-csv", "\n".join([HEADER, oms("GOOD-1", name="Zoë"), oms("GOOD-2")]).encode("utf-16"),
     0, {"GOOD-1", "GOOD-2"}, None),
    ("ragged-rows-and-blank-lines", "oms-csv", csv_file(oms("GOOD-1") + ",extra,cells", "", ",,,", oms("GOOD-2")),
     0, {"GOOD-1", "GOOD-2"}, None),
    ("xlsx-with-a-name-past-120", "oms-xlsx", xlsx([HEADER.split(","), oms("GOOD-1").split(","),
                                                    oms("BAD", name="N" * 121).split(","),
                                                    oms("GOOD-2").split(",")]), 1, {"GOOD-1", "GOOD-2"},
     (3, "ship_to.name")),
    ("sku-past-64-is-not-cut", "oms-csv", good_and(oms("BAD", sku="S" * 65)), 1, {"GOOD-1", "GOOD-2"},
     (3, "lines[1].sku")),
    ("postcode-past-16-is-not-cut", "oms-csv", "\n".join([
        HEADER + ",ship_postcode", oms("GOOD-1") + ",200120", oms("BAD") + ",1234567890123456789",
        oms("GOOD-2") + ",200120"]).encode(), 1,
     {"GOOD-1", "GOOD-2"}, (3, "ship_to.postcode")),
    ("shopify-decimal-comma", "shopify-csv", "\n".join([SHOPIFY, shop("#1", "1"), shop("#2", "2", price='"14,00"'),
                                                         shop("#3", "3")]).encode(), 1, {"1", "3"},
     (3, "Lineitem price")),
    ("shopify-same-name-twice-adjacent", "shopify-csv",
     "\n".join([SHOPIFY, shop("#1001", "1"), shop("#1001", "2")]).encode(), 0, {"1"}, (3, "channel_order_name")),
    ("shopify-same-name-twice-apart", "shopify-csv",
     "\n".join([SHOPIFY, shop("#1001", "1"), shop("#1002", "2"), shop("#1001", "3")]).encode(), 0, {"1", "2"},
     (4, "channel_order_name")),
    ("amazon-decimal-comma", "amazon-tsv", "\n".join([AMAZON, amazon("A-1"), amazon("A-2", "12,50"),
                                                       amazon("A-3")]).encode(), 1, {"A-1", "A-3"},
     (3, "item-price")),
    ("json-not-json", "woocommerce-json", b"{not json", 2, set(), "not JSON"),
    ("json-nested-deep", "woocommerce-json", b"[" * 50000 + b"]" * 50000, 2, set(), None),
    ("json-one-bad-item", "woocommerce-json", json.dumps([woo(1), "oops", woo(3)]).encode(), 1, {"1", "3"},
     (2, "order")),
    ("json-price-as-comma-string", "woocommerce-json", json.dumps([woo(1), woo(2, price="14,00")]).encode(), 1,
     {"1"}, (2, "line_items[1].price")),
    ("json-total-infinite", "woocommerce-json", b'[{"id": 9, "total": 1e400}]', 1, set(), (1, "total")),
    ("json-lone-surrogate-name", "woocommerce-json",
     json.dumps([woo(1), woo(2, name="\ud800x")]).encode(), 1, {"1"}, None),
]


@pytest.fixture(autouse=True)
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ProductFactory(sku="SKU-A")
    for slug, platform in (("web", ""), ("shop", "shopify"), ("amazon", "amazon"), ("woo", "woocommerce")):
        ChannelFactory(slug=slug, platform=platform)


CHANNEL = {"oms-csv": "web", "oms-xlsx": "web", "shopify-csv": "shop", "amazon-tsv": "amazon",
           "woocommerce-json": "woo"}
SUFFIX = {"oms-xlsx": ".xlsx", "amazon-tsv": ".txt", "woocommerce-json": ".json"}


@pytest.mark.parametrize(("case", "fmt", "data", "code", "created", "reported"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_file_never_loses_the_good_orders(tmp_path, case, fmt, data, code, created, reported):
    path = tmp_path / f"{case}{SUFFIX.get(fmt, '.csv')}"
    path.write_bytes(data)
    out, err = StringIO(), StringIO()
    exit_code = 0
    try:
        call_command("import_orders", str(path), "--format", fmt, "--channel", CHANNEL[fmt], "--json",
                     stdout=out, stderr=err)
    except SystemExit as exc:
        exit_code = exc.code
    summary = json.loads(out.getvalue())
    assert exit_code == code, summary
    assert set(Order.objects.values_list("external_id", flat=True)) == created
    assert summary["created"] == len(created)
    if isinstance(reported, tuple):
        assert reported in {(e["row"], e["field"]) for e in summary["errors"]}, summary["errors"]
    elif isinstance(reported, str):
        assert any(reported in e["message"] for e in summary["errors"]), summary["errors"]
    if code == 1:
        assert summary["rejected"] >= 1 and all(e["message"] for e in summary["errors"])
    for order in Order.objects.prefetch_related("lines"):
        # Nothing invented: every created order is one of the file's good ones, as written.
        assert order.ship_name in ("Ann Lee", "Zoë", "王小明", "陈静", "Ann", "Bo"), order.ship_name
        assert [line.unit_price for line in order.lines.all()] in ([Decimal("10.00")], [Decimal("12.50")])


def test_lines_that_do_not_add_up_are_created_on_a_finance_review_hold(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes("\n".join([SHOPIFY, shop("#1", "1", total="1000.00"), shop("#2", "2")]).encode())
    call_command("import_orders", str(path), "--format", "shopify-csv", "--channel", "shop", "--json",
                 stdout=StringIO(), stderr=StringIO())
    assert list(Order.objects.filter(on_hold=True).values_list("external_id", "holds__reason")) == [
        ("1", HoldReason.FINANCE_REVIEW)]
    assert Order.objects.get(external_id="2").on_hold is False
