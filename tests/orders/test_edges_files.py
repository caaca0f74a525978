"""Issue 13, items 4 and 5: the good rows of a file go in whatever the bad ones do (command and web
job), parsing never invents a value (a decimal comma is an invalid price, one encoding detector that
garbles nothing, lines that do not add up are held for a price check), the channel's own order name
is stored, searchable and de-duplicated, and a big file is read by the worker, never the request."""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DataError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from oms.encoding import detect_encoding
from oms.imports.jobs import sweep_stale_jobs
from oms.models import ImportJob, ImportStatus
from oms.money import InvalidAmount, parse_amount
from orders.intake import bulk
from orders.models import Order
from orders.status import HoldReason, OrderStatus
from tests.factories import ChannelFactory, ProductFactory

from .test_import_orders import HEADER, row

pytestmark = pytest.mark.django_db

SHOPIFY = (
    "Name,Id,Email,Currency,Subtotal,Shipping,Taxes,Total,Discount Amount,Created at,Lineitem quantity,"
    "Lineitem name,Lineitem price,Lineitem sku,Shipping Name,Shipping Address1,Shipping City,Shipping Zip,"
    "Shipping Country,Shipping Phone"
)


def shop_row(
    name, oid, *, qty="1", price="10.00", sku="SKU-A", total="", shipping="", taxes="", discount="", first=True
):
    if not first:
        return f"{name},,,,,,,,,,{qty},Tea,{price},{sku},,,,,,"
    return (
        f"{name},{oid},a@example.com,CNY,,{shipping},{taxes},{total},{discount},2026-11-20 10:00:00 +0800,"
        f"{qty},Tea,{price},{sku},Ann Lee,1 Main St,Paris,75001,FR,+33 1 23 45 67 89"
    )


@pytest.fixture(autouse=True)
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ProductFactory(sku="SKU-A")
    ProductFactory(sku="SKU-B")
    return {
        "web": ChannelFactory(slug="web", name="Web shop"),
        "shop": ChannelFactory(slug="shop", name="Shopify store", platform="shopify"),
    }


def run(tmp_path, data: bytes, fmt="oms-csv", channel="web", name="orders.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command(
            "import_orders", str(path), "--format", fmt, "--channel", channel, "--json", stdout=out, stderr=err
        )
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


BAD_ROWS = "\n".join(
    [
        HEADER,
        row("G1"),
        row("BIG", note="x" * (128 * 1024)),  # a 128 KiB cell
        row("NUL", note="a\x00b"),
        row("LONG", name="N" * 121),  # names past 120
        row("G2", sku="SKU-B"),
        row("PRICE").replace(",10.00,", ",99999999999.00,"),  # beyond the column's digits
        row("G3"),
    ]
).encode("utf-8")


def test_command_imports_the_good_rows_whatever_the_bad_ones_do(tmp_path):
    code, summary = run(tmp_path, BAD_ROWS)
    assert code == 1
    assert (summary["created"], summary["rejected"]) == (3, 4)
    assert set(Order.objects.values_list("external_id", flat=True)) == {"G1", "G2", "G3"}
    by_row = {e["row"]: (e["field"], e["message"]) for e in summary["errors"]}
    assert by_row[3] == ("note", "the cell is 131072 characters long; at most 32767.")
    assert by_row[4] == ("note", "the cell contains a NUL character.")
    assert by_row[5] == ("ship_to.name", "is 121 characters long; at most 120 fit.")
    assert by_row[7][0] == "unit_price" and by_row[7][1].startswith("invalid price:")


def cs_client(client):
    user = get_user_model().objects.create(username="cs")
    user.groups.add(Group.objects.get(name="customer_service"))
    client.force_login(user)
    return user


def upload(client, data: bytes, kind, channel, name):
    return client.post(
        "/imports/new/", {"kind": kind, "opt-channel": channel.pk, "file": SimpleUploadedFile(name, data)}
    )


def test_web_import_job_imports_the_good_rows_and_reports_each_bad_one(
    client, world, django_capture_on_commit_callbacks
):
    cs_client(client)
    assert upload(client, BAD_ROWS, "orders-oms-csv", world["web"], "bad.csv").status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.PREVIEWED and job.preview["bad"] == 4 and job.preview["good"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/confirm/")
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.message
    assert (job.created, job.rejected) == (3, 4)
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["G1", "G2", "G3"]
    assert {(e["row"], e["field"]) for e in job.errors} == {
        (3, "note"),
        (4, "note"),
        (5, "customer.name"),
        (5, "ship_to.name"),
        (7, "unit_price"),
    }


def test_a_batch_the_database_refuses_is_written_order_by_order(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise DataError("value too long for type character varying(120)")

    monkeypatch.setattr(bulk, "_write", refuse)
    code, summary = run(tmp_path, "\n".join([HEADER, row("A1"), row("A2")]).encode())
    assert code == 0 and summary["created"] == 2
    assert set(Order.objects.values_list("external_id", flat=True)) == {"A1", "A2"}


def test_the_job_page_never_shows_the_database_text(client, world, monkeypatch, django_capture_on_commit_callbacks):
    from orders.importers import OrderFileImporter

    cs_client(client)
    upload(client, "\n".join([HEADER, row("A1")]).encode(), "orders-oms-csv", world["web"], "a.csv")
    job = ImportJob.objects.get()

    def broken(self, path, job, progress):
        raise DataError('null value in column "secret_column" violates not-null constraint')

    monkeypatch.setattr(OrderFileImporter, "run", broken)
    with pytest.raises(DataError), django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/confirm/")
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "secret_column" not in job.message and "database error" in job.message
    assert "secret_column" not in client.get(f"/imports/{job.pk}/").content.decode()


# ---- money ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["14,00", "1,234", "1.234,56", "1 234", "1e3", "NaN", "sNaN", "-1", "12.345", "Infinity", "0x10", "1_000"]
)
def test_an_ambiguous_amount_is_rejected_never_reinterpreted(text):
    with pytest.raises(InvalidAmount):
        parse_amount(text)


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        ("1234.56", "1234.56"),
        ("14", "14.00"),
        ("¥12.50", "12.50"),
        ("12.50 USD", "12.50"),
        ("12.340", "12.34"),
        (14.5, "14.50"),
        (16.666666666666668, "16.67"),
        ("", "0"),
    ],
)
def test_plain_amounts_are_read_exactly(value, amount):
    assert parse_amount(value) == Decimal(amount)


def test_a_shopify_decimal_comma_is_an_invalid_price(tmp_path):
    text = "\n".join([SHOPIFY, shop_row("#1001", "1", price='"14,00"'), shop_row("#1002", "2")])
    code, summary = run(tmp_path, text.encode(), fmt="shopify-csv", channel="shop")
    assert code == 1 and (summary["created"], summary["rejected"]) == (1, 1)
    assert [(e["row"], e["field"]) for e in summary["errors"]] == [(2, "Lineitem price")]
    assert summary["errors"][0]["message"].startswith("invalid price: '14,00'")
    assert list(Order.objects.values_list("external_id", flat=True)) == ["2"]


# ---- price check ----------------------------------------------------------------------------------


def test_lines_that_do_not_add_up_to_the_total_hold_the_order_for_a_finance_review(tmp_path):
    text = "\n".join(
        [
            SHOPIFY,
            shop_row("#1001", "1", qty="2", price="14.00", total="1400.00", shipping="5.00"),
            shop_row("#1002", "2", qty="2", price="14.00", total="30.00", shipping="5.00", discount="3.00"),
            shop_row("#1003", "3", qty="1", price="10.00", total="12.00", taxes="2.00"),
            shop_row("#1004", "4", qty="1", price="10.00", total="13.00", taxes="2.00"),
            shop_row("#1004", "", qty="3", price="0.33", sku="SKU-B", first=False),  # 0.01 per line is tolerated
        ]
    )
    code, summary = run(tmp_path, text.encode(), fmt="shopify-csv", channel="shop")
    assert code == 0 and summary["created"] == 4 and summary["held"] == 1
    held = Order.objects.get(external_id="1")
    hold = held.holds.get()
    assert (held.on_hold, hold.reason) == (True, HoldReason.FINANCE_REVIEW)
    assert hold.note == (
        "Lines 28.00 + shipping 5.00 + tax 0.00 - discount 0.00 = 33.00, but the order total "
        "is 1400.00 CNY (difference 1367.00)."
    )
    for oid in ("2", "3"):
        assert Order.objects.get(external_id=oid).status == OrderStatus.CONFIRMED
    order4 = Order.objects.get(external_id="4")
    assert not order4.holds.exists() and order4.total == Decimal("13.00")


def test_the_price_check_hold_is_in_the_finance_review_queue(client, tmp_path):
    text = "\n".join([SHOPIFY, shop_row("#1001", "1", qty="2", price="14.00", total="1400.00")])
    run(tmp_path, text.encode(), fmt="shopify-csv", channel="shop")
    user = get_user_model().objects.create(username="mgr")
    user.groups.add(Group.objects.get(name="manager"))
    client.force_login(user)
    page = client.get("/orders/holds/?hold_reason=finance_review")
    assert page.status_code == 200
    html = page.content.decode()
    assert Order.objects.get().number in html and "Finance review" in html and "1400.00 CNY" in html


# ---- encoding -------------------------------------------------------------------------------------


def test_one_latin1_byte_keeps_the_file_utf8_and_rejects_only_its_row(tmp_path):
    data = "\n".join([HEADER, row("Z1", name="Zoë"), row("Z2", name="ZOE"), row("Z3", name="Zoë")]).encode()
    data = data.replace(b"ZOE", b"Zo\xeb")
    assert detect_encoding(data) == "utf-8"
    code, summary = run(tmp_path, data)
    assert code == 1 and (summary["created"], summary["rejected"]) == (2, 1)
    assert {(e["row"], e["field"]) for e in summary["errors"]} == {(3, "customer_name"), (3, "ship_name")}
    assert sorted(Order.objects.values_list("ship_name", flat=True)) == ["Zoë", "Zoë"]


def test_a_clean_gb18030_file_is_still_read_as_gb18030(tmp_path):
    data = "\r\n".join([HEADER, row("C1", name="王小明"), row("C2", name="陈静")]).encode("gb18030")
    assert detect_encoding(data) == "gb18030"
    code, summary = run(tmp_path, data)
    assert code == 0 and summary["created"] == 2
    assert sorted(Order.objects.values_list("ship_name", flat=True)) == ["王小明", "陈静"]


def test_the_web_import_uses_the_same_detector(client, world, django_capture_on_commit_callbacks):
    cs_client(client)
    data = "\n".join([HEADER, row("Z1", name="Zoë"), row("Z2", name="ZOE")]).encode().replace(b"ZOE", b"Zo\xeb")
    upload(client, data, "orders-oms-csv", world["web"], "z.csv")
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/confirm/")
    job.refresh_from_db()
    assert (job.status, job.created, job.rejected) == (ImportStatus.DONE, 1, 1)
    assert Order.objects.get().ship_name == "Zoë"
    assert {e["row"] for e in job.errors} == {3}


# ---- the channel's order name ---------------------------------------------------------------------


def test_a_second_order_with_the_same_shopify_name_is_a_duplicate(tmp_path):
    text = "\n".join([SHOPIFY, shop_row("#1001", "111"), shop_row("#1002", "112"), shop_row("#1001", "113")])
    code, summary = run(tmp_path, text.encode(), fmt="shopify-csv", channel="shop")
    assert code == 0 and (summary["created"], summary["duplicates"]) == (2, 1)
    assert summary["errors"] == [
        {
            "file": str(tmp_path / "orders.csv"),
            "row": 4,
            "field": "channel_order_name",
            "message": "'#1001' is already the name of order 111; left out as a duplicate.",
        }
    ]
    assert sorted(Order.objects.values_list("external_id", "channel_order_name")) == [
        ("111", "#1001"),
        ("112", "#1002"),
    ]
    # Another file later with the same name under yet another id: a duplicate too.
    code, summary = run(
        tmp_path, "\n".join([SHOPIFY, shop_row("#1001", "114")]).encode(), fmt="shopify-csv", channel="shop"
    )
    assert summary["duplicates"] == 1 and Order.objects.count() == 2


def test_every_format_with_a_name_fills_channel_order_name(tmp_path):
    from pathlib import Path

    fixtures = Path(__file__).parent / "fixtures"
    ChannelFactory(slug="amazon", platform="amazon")
    ChannelFactory(slug="woo", platform="woocommerce")
    run(tmp_path, (fixtures / "shopify_orders_create.json").read_bytes(), "shopify-json", "shop", "s.json")
    run(tmp_path, (fixtures / "woocommerce_order_created.json").read_bytes(), "woocommerce-json", "woo", "w.json")
    run(tmp_path, (fixtures / "amazon_unshipped_orders.txt").read_bytes(), "amazon-tsv", "amazon", "a.txt")
    names = dict(Order.objects.values_list("channel__slug", "channel_order_name").order_by("channel__slug"))
    assert names["shop"].startswith("#") and names["woo"] and names["amazon"]
    assert Order.objects.filter(channel__slug="amazon").first().channel_order_name == (
        Order.objects.filter(channel__slug="amazon").first().external_id
    )


def test_the_order_search_finds_the_channel_order_name(client, tmp_path):
    run(
        tmp_path,
        "\n".join([SHOPIFY, shop_row("#1001", "5550000001"), shop_row("#1002", "5550000002")]).encode(),
        fmt="shopify-csv",
        channel="shop",
    )
    user = get_user_model().objects.create(username="cs2")
    user.groups.add(Group.objects.get(name="customer_service"))
    client.force_login(user)
    wanted = Order.objects.get(external_id="5550000001")
    other = Order.objects.get(external_id="5550000002")
    for query in ("#1001", "1001"):
        html = client.get("/orders/", {"q": query}).content.decode()
        assert wanted.number in html and other.number not in html, query
    page = client.get(f"/orders/{wanted.number}/").content.decode()
    assert "#1001" in page


# ---- big files: the worker reads them, not the request; caps; stuck jobs --------------------------


def xlsx(orders: int) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER.split(","))
    for i in range(orders):
        sheet.append(next(csv.reader(io.StringIO(row(f"X{i}")))))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_big_xlsx_is_read_by_the_worker_not_the_request(client, world, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_PREVIEW_INLINE_BYTES = 1024
    cs_client(client)
    data = xlsx(300)
    assert len(data) > 1024
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(client, data, "orders-oms-xlsx", world["web"], "big.xlsx")
    assert response.status_code == 302
    job = ImportJob.objects.get()
    # The request stored the file and read nothing of it.
    assert (job.status, job.preview, job.total) == (ImportStatus.UPLOADED, {}, 0)
    assert "Reading the file in the background" in client.get(f"/imports/{job.pk}/").content.decode()
    for callback in callbacks:
        callback()  # the worker: the preview
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEWED and job.preview["good"] == 300 and job.total == 300
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/confirm/")
    job.refresh_from_db()
    assert (job.status, job.created, job.processed) == (ImportStatus.DONE, 300, 300)
    assert Order.objects.count() == 300


def test_size_and_row_caps_say_so_clearly(client, world, settings):
    cs_client(client)
    settings.IMPORT_MAX_BYTES = 100
    data = "\n".join([HEADER, row("A1")]).encode()
    response = upload(client, data, "orders-oms-csv", world["web"], "a.csv")
    assert response.status_code == 400
    assert "an import takes at most 0.0 MB" in response.content.decode() and not ImportJob.objects.exists()
    settings.IMPORT_MAX_BYTES = 10_000_000
    settings.IMPORT_MAX_ROWS = 2
    data = "\n".join([HEADER, row("A1"), row("A2"), row("A3")]).encode()
    response = upload(client, data, "orders-oms-csv", world["web"], "b.csv")
    assert response.status_code == 400
    assert "The file has 3 rows; an import takes at most 2. Split it into smaller files." in (response.content.decode())
    assert ImportJob.objects.get().status == ImportStatus.FAILED and not Order.objects.exists()


def test_a_job_whose_worker_died_never_stays_uploaded_or_running(client, world, django_capture_on_commit_callbacks):
    user = cs_client(client)
    data = "\n".join([HEADER, row("A1")]).encode()
    jobs = {}
    for status in (ImportStatus.UPLOADED, ImportStatus.RUNNING, ImportStatus.QUEUED, ImportStatus.PREVIEWED):
        job = ImportJob.objects.create(
            kind="orders-oms-csv",
            file=SimpleUploadedFile("a.csv", data),
            original_filename="a.csv",
            options={"channel": world["web"].pk},
            user=user,
            status=status,
            total=1,
        )
        jobs[status] = job
    ImportJob.objects.update(updated_at=timezone.now() - timedelta(hours=2))
    fresh = ImportJob.objects.create(
        kind="orders-oms-csv",
        file=SimpleUploadedFile("b.csv", data),
        original_filename="b.csv",
        user=user,
        status=ImportStatus.RUNNING,
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = sweep_stale_jobs()
    assert result == {"failed": 2, "requeued": 1}
    for job in jobs.values():
        job.refresh_from_db()
    assert jobs[ImportStatus.UPLOADED].status == ImportStatus.FAILED
    assert "Reading the file did not finish" in jobs[ImportStatus.UPLOADED].message
    assert jobs[ImportStatus.RUNNING].status == ImportStatus.FAILED
    assert "the worker running it stopped" in jobs[ImportStatus.RUNNING].message
    assert jobs[ImportStatus.QUEUED].status == ImportStatus.DONE  # picked up again
    assert jobs[ImportStatus.PREVIEWED].status == ImportStatus.PREVIEWED  # waits for the person
    fresh.refresh_from_db()
    assert fresh.status == ImportStatus.RUNNING
    assert list(Order.objects.values_list("external_id", flat=True)) == ["A1"]


def test_the_oms_template_may_carry_the_channel_order_name(tmp_path):
    text = "\n".join([HEADER + ",channel_order_name", row("T1") + ",#77", row("T2") + ",#77", row("T3") + ","])
    code, summary = run(tmp_path, text.encode())
    assert code == 0 and (summary["created"], summary["duplicates"]) == (2, 1)
    assert sorted(Order.objects.values_list("external_id", "channel_order_name")) == [("T1", "#77"), ("T3", "")]


# ---- properties of the money parser ---------------------------------------------------------------


@given(st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2, allow_nan=False))
def test_every_plain_amount_reads_back_exactly(amount):
    assert parse_amount(f"{amount:f}") == amount


@given(st.text(alphabet="0123456789,. eE+-_", min_size=1, max_size=14))
def test_an_amount_is_either_plain_or_rejected_never_reinterpreted(text):
    plain = (
        text.strip().replace(".", "", 1).isdigit()
        and not text.strip().startswith(".")
        and not (text.strip().endswith("."))
    )
    try:
        amount = parse_amount(text)
    except InvalidAmount:
        return
    if not text.strip():
        assert amount == 0  # a blank cell is "no amount" (the documented default), never a guess
        return
    assert plain and "," not in text and amount == Decimal(text.strip())
