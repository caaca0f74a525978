"""Order files on the generic import pages (orders/importers.py): preview writes nothing, confirm
imports through the bulk path with exact counts, a rejected order's rows come back whole with the
reasons, each format, bad files, and a large OMS-CSV file imported with flat memory."""

import csv
import io
import os
import time
import tracemalloc
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import File
from django.core.files.uploadedfile import SimpleUploadedFile

from oms.imports.jobs import run_job
from oms.models import ImportJob, ImportStatus
from orders.models import InboundMessage, Order, OrderLine
from tests.factories import ChannelFactory, ProductFactory

from .test_import_orders import HEADER, row

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ProductFactory(sku="SKU-A")
    ProductFactory(sku="SKU-B")
    return {
        "web": ChannelFactory(slug="web", name="Web shop"),
        "shop": ChannelFactory(slug="shop", name="Shopify store", platform="shopify"),
        "amazon": ChannelFactory(slug="amazon", name="Amazon US", platform="amazon"),
    }


@pytest.fixture
def cs(client):
    user = get_user_model().objects.create(username="cs")
    user.groups.add(Group.objects.get(name="customer_service"))
    client.force_login(user)
    return user


def upload(client, content, kind, channel, name):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(
        "/imports/new/", {"kind": kind, "opt-channel": channel.pk, "file": SimpleUploadedFile(name, data)}
    )


def confirm(client, job, capture):
    with capture(execute=True):
        client.post(f"/imports/{job.pk}/confirm/")
    job.refresh_from_db()
    return job


OMS = "\n".join(
    [
        HEADER,
        row("G1"),
        row("G1", sku="SKU-B", qty="2"),
        row("B1", qty="0"),  # rejected: its second row must come back with it
        row("B1", sku="SKU-B"),
        row("H1", sku="NEW-SKU"),  # held: unknown SKU
        row("D1"),  # a duplicate of an existing order
        row("F1", note="=HYPERLINK(\"http://x\")", qty="x"),
    ]
)


def test_oms_csv_preview_writes_nothing_then_confirm_imports_with_exact_counts(
    client, cs, world, django_capture_on_commit_callbacks
):
    response = upload(client, row("D1").join([HEADER + "\n", ""]), "orders-oms-csv", world["web"], "d.csv")
    confirm(client, ImportJob.objects.get(), django_capture_on_commit_callbacks)
    assert Order.objects.count() == 1
    messages_before = InboundMessage.objects.count()

    response = upload(client, OMS, "orders-oms-csv", world["web"], "orders.csv")
    assert response.status_code == 302
    job = ImportJob.objects.latest("pk")
    assert job.status == ImportStatus.PREVIEWED and job.options["channel"] == world["web"].pk
    assert Order.objects.count() == 1 and InboundMessage.objects.count() == messages_before
    preview = job.preview
    assert (preview["checked"], preview["good"], preview["bad"], preview["total"]) == (5, 3, 2, 7)
    assert preview["outcomes"] == {"created": 1, "held": 1, "duplicate": 1}
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "3 good orders, 2 with errors" in page and "SKU-A×1, SKU-B×2" in page

    job = confirm(client, job, django_capture_on_commit_callbacks)
    assert job.status == ImportStatus.DONE, job.message
    assert (job.created, job.held, job.duplicates, job.rejected, job.processed) == (2, 1, 1, 2, 7)
    assert set(Order.objects.values_list("external_id", flat=True)) == {"D1", "G1", "H1"}
    assert Order.objects.get(external_id="H1").on_hold
    assert list(Order.objects.get(external_id="G1").lines.values_list("sku", "quantity")) == [
        ("SKU-A", 1), ("SKU-B", 2)]
    message = InboundMessage.objects.latest("pk")
    assert message.status == "partial" and message.source == "file:oms-csv"

    text = b"".join(client.get(f"/imports/{job.pk}/rejected.csv").streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["external_id"] for r in rows] == ["B1", "B1", "F1"]  # both rows of B1
    assert "quantity" in rows[0]["reason"] and "rejected with row 4" in rows[1]["reason"]
    assert rows[2]["note"] == "'=HYPERLINK(\"http://x\")"


def test_reimport_through_the_page_changes_nothing(client, cs, world, django_capture_on_commit_callbacks):
    text = "\n".join([HEADER, row("A1"), row("A2")])
    for _ in range(2):
        upload(client, text, "orders-oms-csv", world["web"], "a.csv")
        job = confirm(client, ImportJob.objects.latest("pk"), django_capture_on_commit_callbacks)
    assert (job.created, job.duplicates) == (0, 2)
    assert Order.objects.count() == 2 and OrderLine.objects.count() == 2


def confirm_columns(client, job):
    """The mapping page, confirmed as proposed (a channel export has columns the OMS does not use)."""
    mapping = job.options["column_mapping"]
    data = {f"field-{c['index']}": c["field"] for c in mapping["columns"]}
    data |= {f"unit-{c['index']}": c["unit"] for c in mapping["columns"]}
    assert client.post(f"/imports/{job.pk}/columns/", data).status_code == 302
    job.refresh_from_db()
    return job


def test_shopify_and_amazon_files(client, cs, world, django_capture_on_commit_callbacks):
    upload(client, (FIXTURES / "shopify_orders_export.csv").read_bytes(), "orders-shopify-csv", world["shop"], "s.csv")
    job = ImportJob.objects.latest("pk")
    assert job.status == "uploaded" and "Accepts Marketing" in client.get(f"/imports/{job.pk}/").content.decode()
    job = confirm(client, confirm_columns(client, job), django_capture_on_commit_callbacks)
    assert (job.status, job.created, job.rejected) == ("done", 3, 0)
    upload(client, (FIXTURES / "amazon_unshipped_orders.txt").read_bytes(), "orders-amazon-tsv", world["amazon"],
           "unshipped.txt")
    job = ImportJob.objects.latest("pk")
    if job.status == "uploaded":
        job = confirm_columns(client, job)
    job = confirm(client, job, django_capture_on_commit_callbacks)
    assert (job.status, job.created, job.held, job.rejected) == ("done", 2, 1, 0)


def test_oms_xlsx(client, cs, world, django_capture_on_commit_callbacks):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for line in [HEADER, row("X1"), row("X1", sku="SKU-B"), row("X2", qty="-1")]:
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload(client, buffer.getvalue(), "orders-oms-xlsx", world["web"], "orders.xlsx")
    job = confirm(client, ImportJob.objects.latest("pk"), django_capture_on_commit_callbacks)
    assert (job.status, job.created, job.rejected) == ("done", 1, 1)
    text = b"".join(client.get(f"/imports/{job.pk}/rejected.csv").streaming_content).decode("utf-8-sig")
    assert "X2" in text and "quantity" in text


@pytest.mark.parametrize(
    ("kind", "name", "content", "message"),
    [
        ("orders-oms-csv", "o.xlsx", "x", "takes a CSV file"),
        ("orders-oms-xlsx", "o.xlsx", "not a zip", "Not an XLSX workbook"),
    ],
)
def test_bad_files_are_messages(client, cs, world, kind, name, content, message):
    response = upload(client, content, kind, world["web"], name)
    assert response.status_code == 400
    assert message.lower() in response.content.decode().lower()
    assert not Order.objects.exists()


def test_the_channel_is_required(client, cs):
    response = client.post("/imports/new/", {"kind": "orders-oms-csv", "file": SimpleUploadedFile("a.csv", b"x")})
    assert response.status_code == 400 and not ImportJob.objects.exists()


def test_warehouse_cannot_import_orders(client, world):
    user = get_user_model().objects.create(username="wh")
    user.groups.add(Group.objects.get(name="warehouse"))
    client.force_login(user)
    page = client.get("/imports/new/").content.decode()
    assert "Orders: OMS template" not in page and "Stock: receipts" in page


# ---- a big file --------------------------------------------------------------------------------

BIG_MB = float(os.environ.get("OMS_BIG_IMPORT_MB", "3"))


def _write_big_file(path: Path, megabytes: float, start: int = 0) -> int:
    """An OMS-CSV file of about ``megabytes``; two lines per order. Returns the data rows."""
    target = int(megabytes * 1024 * 1024)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER + "\n")
        n = start
        while handle.tell() < target:
            n += 1
            handle.write(row(f"BIG{n:08d}", address=f"世纪大道{n}号") + "\n")
            handle.write(row(f"BIG{n:08d}", sku="SKU-B", qty="2", address=f"世纪大道{n}号") + "\n")
            rows += 2
    return rows


def _import_measured(tmp_path, channel, megabytes: float, start: int) -> tuple[ImportJob, int, int, float]:
    path = tmp_path / f"big-{start}.csv"
    rows = _write_big_file(path, megabytes, start)
    job = ImportJob(kind="orders-oms-csv", original_filename=path.name, options={"channel": channel.pk},
                    status=ImportStatus.QUEUED, total=rows)
    with path.open("rb") as handle:
        job.file.save(path.name, File(handle), save=False)
    job.save()
    path.unlink()
    tracemalloc.start()
    started = time.monotonic()
    try:
        run_job(job.pk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    job.refresh_from_db()
    return job, rows, peak, time.monotonic() - started


@pytest.mark.slow
@pytest.mark.parametrize("read_process", [False, True], ids=["reading-thread", "reading-process"])
def test_a_large_oms_csv_imports_with_flat_memory(tmp_path, world, settings, read_process):
    """A file of OMS_BIG_IMPORT_MB megabytes (default 3, ~30 s under tracemalloc on SQLite; 100 MB
    takes about 15 minutes: OMS_BIG_IMPORT_MB=100 pytest -m slow tests/orders/test_importers.py)
    and one of a quarter of that: the peak memory of the big one is no more than the small one's
    plus a margin — memory is a batch of orders, not the file. With a reading thread tracemalloc sees
    the reading and the writing; with a reading process (the default), the worker's side only."""
    settings.IMPORT_READ_PROCESS = read_process
    small, small_rows, small_peak, _ = _import_measured(tmp_path, world["web"], BIG_MB / 4, 0)
    job, rows, peak, elapsed = _import_measured(tmp_path, world["web"], BIG_MB, 10**7)
    for j, n in ((small, small_rows), (job, rows)):
        assert j.status == ImportStatus.DONE, j.message
        assert j.created == n // 2 and j.rejected == 0 and j.processed == n
    assert OrderLine.objects.count() == rows + small_rows
    info = f"peak {peak / 1e6:.1f} MB for {BIG_MB} MB ({elapsed:.0f} s), {small_peak / 1e6:.1f} MB for a quarter"
    assert peak < small_peak * 1.5 + 4 * 1024 * 1024, info
    assert peak < 40 * 1024 * 1024, info
    print(info)
