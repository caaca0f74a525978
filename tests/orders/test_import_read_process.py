"""The file's reading process (orders/intake/read_ahead.py): what it reads comes back in order, what it
raises is raised at its place, and it never outlives the import."""

import os
import signal
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from oms.imports import FileUnusable as JobFileUnusable
from orders.intake import importer, read_ahead
from orders.intake.canonical import FieldError, OrderRejected
from orders.intake.files import FileUnusable
from orders.intake.words import say
from orders.models import Order
from tests.factories import ChannelFactory, ProductFactory


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def test_the_reader_is_another_process_and_its_items_come_back_in_order(monkeypatch):
    monkeypatch.setattr(read_ahead, "READ_AHEAD_CHUNK", 3)

    def items():
        yield os.getpid()
        yield from range(10)

    got = list(read_ahead.read_ahead(items, process=True))
    assert got[0] != os.getpid()
    assert got[1:] == list(range(10))
    assert not _alive(got[0])  # ended and reaped


@pytest.mark.parametrize("process", [True, False], ids=["process", "thread"])
def test_what_the_reader_raises_is_raised_after_what_it_read_before(monkeypatch, process):
    """Everything before the failure first, as a plain loop would, in a reading process or thread alike."""
    monkeypatch.setattr(read_ahead, "READ_AHEAD_CHUNK", 3)
    monkeypatch.setattr(read_ahead, "READ_AHEAD_CHUNKS", 2)

    def failing():
        yield from range(7)
        raise ValueError("row 8 cannot be read")

    got = []
    with pytest.raises(ValueError, match="row 8 cannot be read"):
        for item in read_ahead.read_ahead(failing, process=process):
            got.append(item)
    assert got == list(range(7))


@pytest.mark.parametrize(
    "exc",
    [FileUnusable("orders.csv: the file is empty."), JobFileUnusable("The file has no header row.")],
)
def test_a_file_that_cannot_be_used_is_said_so_with_the_same_error(exc):
    def failing():
        raise exc
        yield

    with pytest.raises(type(exc), match=str(exc)):
        list(read_ahead.read_ahead(failing, process=True))


def test_a_rejection_crosses_with_its_fields_rows_and_words():
    rejection = OrderRejected(
        [FieldError("lines[1].quantity", say("%(n)s is not a quantity", n="x"), row=4), FieldError("sku", "empty")]
    )
    [(row, got)] = list(read_ahead.read_ahead(lambda: iter([(4, rejection)]), process=True))
    assert row == 4
    assert [(e.field, e.message, e.row) for e in got.errors] == [
        ("lines[1].quantity", "x is not a quantity", 4),
        ("sku", "empty", None),
    ]
    assert str(got) == str(rejection)
    assert got.english() == "lines[1].quantity: x is not a quantity; sku: empty"


def test_an_error_that_cannot_be_handed_over_is_raised_with_its_words():
    class Odd(Exception):
        def __init__(self, a, b):
            super().__init__(f"{a}/{b}")

    def failing():
        yield 1
        raise Odd("x", "y")

    with pytest.raises(RuntimeError, match="Odd: x/y"):
        list(read_ahead.read_ahead(failing, process=True))


def test_closing_ends_the_reader_that_runs_ahead():
    def endless():
        yield os.getpid()
        n = 0
        while True:
            yield n
            n += 1

    items = read_ahead.read_ahead(endless, process=True)
    pid = next(items)
    assert [next(items) for _ in range(5)] == [0, 1, 2, 3, 4]
    assert _alive(pid)
    items.close()
    assert not _alive(pid)


def _ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # ended, waiting for init to reap it


def test_the_reader_ends_when_the_import_dies():
    """A worker killed mid-import (a cancelled task, SIGKILL) leaves no reader behind: its pipe breaks."""
    report_r, report_w = os.pipe()
    worker = os.fork()
    if worker == 0:  # the "worker": starts an endless read, says the reader's pid, waits to be killed
        try:
            os.close(report_r)

            def endless():
                yield os.getpid()
                while True:
                    yield "x" * 100

            items = read_ahead.read_ahead(endless, process=True)
            os.write(report_w, str(next(items)).encode() + b"\n")
            signal.pause()
        finally:
            os._exit(1)
    os.close(report_w)
    with os.fdopen(report_r) as report:
        reader = int(report.readline())
    assert not _ended(reader)
    os.kill(worker, signal.SIGKILL)
    os.waitpid(worker, 0)
    for _ in range(300):  # a bound, not a measure: the reader ends at its next write
        if _ended(reader):
            break
        time.sleep(0.1)
    assert _ended(reader)


def test_a_reader_that_dies_stops_the_import_with_a_reason(monkeypatch):
    monkeypatch.setattr(read_ahead, "READ_AHEAD_CHUNK", 1)

    def dying():
        yield 1
        os.kill(os.getpid(), signal.SIGKILL)
        yield 2

    got = []
    with pytest.raises(read_ahead.ReaderStopped, match="stopped before the end of the file"):
        for item in read_ahead.read_ahead(dying, process=True):
            got.append(item)
    assert got == [1]


def test_the_reader_is_a_thread_when_forking_is_switched_off_or_other_threads_run(settings, monkeypatch):
    monkeypatch.setattr(read_ahead.threading, "active_count", lambda: 1)  # a test runner may have threads of its own
    assert read_ahead.use_process() is True
    settings.IMPORT_READ_PROCESS = False
    assert read_ahead.use_process() is False
    settings.IMPORT_READ_PROCESS = True
    monkeypatch.setattr(read_ahead.threading, "active_count", lambda: 2)
    assert read_ahead.use_process() is False


@pytest.mark.django_db
def test_a_file_is_checked_in_the_reading_process_and_every_row_gets_its_outcome(tmp_path, monkeypatch):
    ChannelFactory(slug="web")
    ProductFactory(sku="SKU-A")
    header = (
        "external_id,placed_at,customer_name,customer_email,customer_phone,ship_name,ship_phone,ship_email,"
        "ship_country,ship_province,ship_city,ship_district,ship_address1,ship_address2,ship_postcode,currency,"
        "requested_service,promise_date,note,sku,quantity,unit_price,line_name"
    )
    rows = [
        f"E-{n},2026-11-20 10:00,张三,zs@example.com,13800138000,张三,13800138000,zs@example.com,CN,上海,上海,"
        f"浦东新区,世纪大道{n}号,,200120,CNY,,,,SKU-A,1,10.00,"
        for n in range(1, 6)
    ]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join([header, *rows]), encoding="utf-8")
    checked = importer.check

    def check_here_or_refuse(order):
        checked(order)
        if order.external_id == "E-3":  # says where the check ran
            raise OrderRejected([FieldError("pid", str(os.getpid()))])

    monkeypatch.setattr(importer, "check", check_here_or_refuse)
    monkeypatch.setattr(read_ahead.threading, "active_count", lambda: 1)  # xdist's worker has threads of its own
    out = StringIO()
    with pytest.raises(SystemExit):  # one rejected order: exit code 1
        call_command("import_orders", str(path), "--format", "oms-csv", "--channel", "web", "--json", stdout=out)
    summary = __import__("json").loads(out.getvalue())
    assert summary["created"] == 4 and summary["rejected"] == 1
    [error] = summary["errors"]
    assert error["row"] == 4 and error["field"] == "pid"
    assert error["message"] != str(os.getpid())  # checked in the reading process
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["E-1", "E-2", "E-4", "E-5"]
