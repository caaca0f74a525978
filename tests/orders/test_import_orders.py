import json
from io import StringIO

import pytest
from django.core.management import call_command

from orders.intake.files import detect_encoding, escape_formula
from orders.models import InboundMessage, Order, OrderLine
from orders.status import HoldReason
from tests.factories import ChannelFactory, ProductFactory

pytestmark = pytest.mark.django_db

HEADER = ("external_id,placed_at,customer_name,customer_email,customer_phone,ship_name,ship_phone,ship_email,"
          "ship_country,ship_province,ship_city,ship_district,ship_address1,ship_address2,ship_postcode,currency,"
          "requested_service,promise_date,note,sku,quantity,unit_price,line_name")


def row(ext, sku="SKU-A", qty="1", placed="2026-11-20 10:00", name="张三", city="上海", address="世纪大道88号",
        note=""):
    return (f"{ext},{placed},{name},zs@example.com,13800138000,{name},13800138000,zs@example.com,CN,上海,{city},"
            f"浦东新区,{address},,200120,CNY,,,{note},{sku},{qty},10.00,")


@pytest.fixture(autouse=True)
def world():
    ChannelFactory(slug="web")
    ProductFactory(sku="SKU-A")
    ProductFactory(sku="SKU-B")


def run(tmp_path, text, *args, encoding="utf-8", raw: bytes | None = None):
    path = tmp_path / "orders.csv"
    path.write_bytes(raw if raw is not None else text.encode(encoding))
    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command("import_orders", str(path), "--format", "oms-csv", "--channel", "web", "--json", *args,
                     stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def test_rows_of_one_order_become_one_order_with_lines(tmp_path):
    code, summary = run(tmp_path, "\n".join([HEADER, row("A1"), row("A1", sku="SKU-B", qty="2"), row("A2")]))
    assert code == 0
    assert summary == {"created": 2, "duplicates": 0, "held": 0, "rejected": 0, "errors": []}
    order = Order.objects.get(external_id="A1")
    assert list(order.lines.values_list("sku", "quantity")) == [("SKU-A", 1), ("SKU-B", 2)]
    assert order.ship_city == "上海"


def test_reimport_changes_nothing(tmp_path):
    text = "\n".join([HEADER, row("A1"), row("A2")])
    run(tmp_path, text)
    lines_before = OrderLine.objects.count()
    code, summary = run(tmp_path, text)
    assert code == 0
    assert summary["created"] == 0 and summary["duplicates"] == 2
    assert Order.objects.count() == 2 and OrderLine.objects.count() == lines_before


def test_bad_orders_do_not_hold_good_ones_hostage(tmp_path):
    text = "\n".join([HEADER, row("G1"), row("B1", qty="0"), row("B2", placed="2026-13-45"), row("B3", sku=""),
                      row("B4", qty="-2"), row("G2")])
    code, summary = run(tmp_path, text)
    assert code == 1
    assert summary["created"] == 2 and summary["rejected"] == 4
    assert set(Order.objects.values_list("external_id", flat=True)) == {"G1", "G2"}
    by_row = {(e["row"], e["field"]) for e in summary["errors"]}
    assert (3, "quantity") in by_row
    assert (4, "placed_at") in by_row
    assert (5, "sku") in by_row
    assert (6, "quantity") in by_row


def test_unknown_sku_and_missing_address_are_created_on_hold(tmp_path):
    text = "\n".join([HEADER, row("H1", sku="NEW-SKU"), row("H2", city="", address="")])
    code, summary = run(tmp_path, text)
    assert code == 0
    assert summary["created"] == 2 and summary["held"] == 2
    assert Order.objects.get(external_id="H1").holds.get().reason == HoldReason.UNKNOWN_SKU
    assert Order.objects.get(external_id="H2").holds.get().reason == HoldReason.ADDRESS_INVALID


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_files_as_chinese_excel_writes_them(tmp_path, encoding):
    code, summary = run(tmp_path, "\r\n".join([HEADER, row("E1", name="王小明")]), encoding=encoding)
    assert code == 0 and summary["created"] == 1
    order = Order.objects.get(external_id="E1")
    assert order.ship_name == "王小明" and order.ship_city == "上海"


def test_a_stray_byte_rejects_its_row_and_garbles_nothing(tmp_path):
    raw = "\n".join([HEADER, row("S1", name="李四", note="bad"), row("S2", name="Zoë")]).encode("utf-8")
    code, summary = run(tmp_path, "", raw=raw.replace(b"bad", b"b\xffd"))
    assert code == 1 and summary["created"] == 1 and summary["rejected"] == 1
    assert [(e["row"], e["field"]) for e in summary["errors"]] == [(2, "note")]
    assert "not valid UTF-8" in summary["errors"][0]["message"]
    assert not Order.objects.filter(external_id="S1").exists()
    assert Order.objects.get(external_id="S2").ship_name == "Zoë"


def test_empty_file_and_wrong_columns_cannot_be_used(tmp_path):
    code, summary = run(tmp_path, "")
    assert code == 2 and "empty" in summary["errors"][0]["message"]
    code, summary = run(tmp_path, "a,b,c\n1,2,3\n")
    assert code == 2 and "missing column" in summary["errors"][0]["message"]
    assert Order.objects.count() == 0


def test_dry_run_writes_nothing(tmp_path):
    code, summary = run(tmp_path, "\n".join([HEADER, row("D1"), row("D2", sku="NEW")]), "--dry-run")
    assert code == 0
    assert summary["created"] == 2 and summary["held"] == 1
    assert Order.objects.count() == 0
    assert InboundMessage.objects.count() == 0


def test_each_file_is_stored_with_its_outcome(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    run(tmp_path, "\n".join([HEADER, row("F1"), row("F2", qty="x")]))
    message = InboundMessage.objects.get()
    assert message.source == "file:oms-csv"
    assert message.status == "partial"
    assert message.result["created"] == 1 and message.result["rejected"] == 1
    assert (tmp_path / "media" / "inbound").exists()


def test_formula_cells_are_kept_as_text_and_escaped_on_export(tmp_path):
    run(tmp_path, "\n".join([HEADER, row("X1", note="=HYPERLINK(\"http://evil\")", name="@admin")]))
    order = Order.objects.get(external_id="X1")
    assert order.ship_name == "@admin"
    assert escape_formula(order.ship_name) == "'@admin"
    assert escape_formula("+1") == "'+1" and escape_formula("plain") == "plain"


def test_encoding_detection():
    assert detect_encoding("订单".encode("gbk") * 50) == "gb18030"
    assert detect_encoding("订单".encode()) == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbfabc") == "utf-8-sig"


def test_order_list_export_never_exports_a_formula(tmp_path, client, django_user_model):
    from django.contrib.auth.models import Group

    run(tmp_path, "\n".join([HEADER, row("X2", name="=cmd|' /C calc'!A0")]))
    user = django_user_model.objects.create_user("cs9", password="pw")
    user.groups.add(Group.objects.get(name="customer_service"))
    client.force_login(user)
    response = client.get("/orders/?_export=csv")
    assert response.status_code == 200
    body = response.content.decode()
    assert "'=cmd|' /C calc'!A0" in body
    assert ",=cmd" not in body


def test_billing_country_and_payment_method_columns_reach_the_order_and_its_review(tmp_path):
    header = HEADER.replace("promise_date,note", "promise_date,billing_country,payment_method,note")

    def with_billing(ext, billing, payment):
        parts = row(ext).split(",")
        parts[18:18] = [billing, payment]  # after promise_date (index 17)
        return ",".join(parts)

    code, summary = run(tmp_path, "\n".join([header, with_billing("B1", "US", "cod"), with_billing("B2", "", "")]))
    assert code == 0 and summary["created"] == 2
    mismatch = Order.objects.get(external_id="B1")
    assert (mismatch.billing_country, mismatch.payment_method) == ("US", "cod")
    assert mismatch.holds.filter(reason=HoldReason.FRAUD_REVIEW, released_at__isnull=True).exists()
    plain = Order.objects.get(external_id="B2")
    assert (plain.billing_country, plain.payment_method) == ("", "prepaid")
    assert not plain.holds.filter(reason=HoldReason.FRAUD_REVIEW).exists()


def test_a_bad_payment_method_rejects_the_order_with_its_row(tmp_path):
    header = HEADER.replace("promise_date,note", "promise_date,billing_country,payment_method,note")
    parts = row("B3").split(",")
    parts[18:18] = ["CN", "bitcoin"]
    code, summary = run(tmp_path, "\n".join([header, ",".join(parts)]))
    assert summary["rejected"] == 1 and summary["created"] == 0
    assert "payment_method" in json.dumps(summary["errors"])


def test_read_ahead_yields_in_order_and_stops_when_closed(monkeypatch):
    """In a thread; what it raises: tests/orders/test_import_read_process.py."""
    import threading

    from orders.intake import read_ahead

    monkeypatch.setattr(read_ahead, "READ_AHEAD_CHUNK", 3)
    monkeypatch.setattr(read_ahead, "READ_AHEAD_CHUNKS", 2)
    assert list(read_ahead.read_ahead(lambda: iter(range(10)), process=False)) == list(range(10))

    def endless():
        n = 0
        while True:
            yield n
            n += 1

    items = read_ahead.read_ahead(endless, process=False)
    assert [next(items) for _ in range(5)] == [0, 1, 2, 3, 4]
    items.close()  # the reading thread ends (it waits at most for its queue to have room)
    assert not [t for t in threading.enumerate() if t.name == "intake-read-ahead"]
