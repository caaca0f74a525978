"""预售 ends with its batch (issue 17): a stock receipt that brings a presale product's whole expected batch
(``presale_batch_qty``) unmarks the product and its channel listings (new orders are routed from stock), with an
event on each order the receipt did not cover; a smaller receipt, or a product without an expected batch, stays
presale."""

import pytest
from django.utils import translation

from orders import services
from orders.models import ChannelSku, Order, OrderEvent
from orders.status import EventKind
from orders.wording import event_text
from tests.factories import canonical, presale_order, presale_world
from tests.factories import presale_day as day
from tests.orders.branch_catalogue import branch_chinese
from workflows.receipts import stock_receipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return presale_world(batch=3, listing="WEB-PRE-1")


def waiting_order(world, external_id, hour, quantity=1):
    return presale_order(world, external_id, hour, lines=(("PRE-1", quantity),))


def test_the_whole_batch_unmarks_the_product_and_its_listings(world, tmp_path, django_capture_on_commit_callbacks):
    first = waiting_order(world, "FIRST", 8, quantity=2)
    late = waiting_order(world, "LATE", 9, quantity=2)

    with django_capture_on_commit_callbacks(execute=True):
        stock = stock_receipt(location=world["sha"], product=world["pre"], quantity=3, reference="PO-9")

    assert stock.presale_released == [first.pk] and stock.presale_unmarked is True
    world["pre"].refresh_from_db()
    assert (world["pre"].presale_ship_from, world["pre"].presale_batch_qty) == (None, None)
    assert ChannelSku.objects.get(external_sku="WEB-PRE-1").presale_ship_from is None
    late = Order.objects.get(pk=late.pk)
    assert late.presale_waiting  # the receipt did not cover it: it keeps its day, a person may release it
    (event,) = OrderEvent.objects.filter(order=late, kind=EventKind.PRESALE, data__has_key="unmarked")
    assert event.message == (
        f"The batch of PRE-1 arrived in full (3 at sha): PRE-1 is no longer presale; this order still waits for "
        f"{late.presale_until.isoformat()}."
    )
    assert not OrderEvent.objects.filter(order=first, data__has_key="unmarked").exists()
    with branch_chinese(tmp_path, "china-rest2.json"), translation.override("zh-hans"):
        assert event_text(event) == (
            f"PRE-1 的整批货已到（sha 入库 3 件）：PRE-1 不再预售；本订单仍等待至 {late.presale_until.isoformat()}。"
        )
    new = services.order_create(channel=world["web"], data=canonical("NEW", lines=(("PRE-1", 1),)), source="test")
    assert not new.order.presale_waiting  # sold from stock now


def test_a_receipt_smaller_than_the_batch_keeps_the_product_presale(world):
    waiting_order(world, "ONE", 8)

    stock = stock_receipt(location=world["sha"], product=world["pre"], quantity=2, reference="PO-1")

    assert stock.presale_unmarked is False
    world["pre"].refresh_from_db()
    assert (world["pre"].presale_ship_from, world["pre"].presale_batch_qty) == (day(10), 3)
    assert ChannelSku.objects.get(external_sku="WEB-PRE-1").presale_ship_from == day(12)
    assert not OrderEvent.objects.filter(data__has_key="unmarked").exists()


def test_a_product_without_an_expected_batch_stays_presale(world):
    world["pre"].presale_batch_qty = None
    world["pre"].save()

    stock = stock_receipt(location=world["sha"], product=world["pre"], quantity=50, reference="PO-2")

    assert stock.presale_unmarked is False
    world["pre"].refresh_from_db()
    assert world["pre"].presale_ship_from == day(10)


# ---- several receipts that together bring the batch ------------------------------------------------------


def test_receipts_that_together_bring_the_batch_end_the_presale(world, tmp_path):
    waiting = waiting_order(world, "W", 8, quantity=5)  # more than the batch: no receipt covers it

    first = stock_receipt(location=world["sha"], product=world["pre"], quantity=2, reference="PO-1")

    assert first.presale_unmarked is False
    assert (first.presale_batch.received, first.presale_batch.batch, first.presale_batch.still_expected) == (2, 3, 1)
    world["pre"].refresh_from_db()
    assert world["pre"].presale_ship_from == day(10) and world["pre"].presale_batch_received == {"sha/PO-1": 2}
    assert not OrderEvent.objects.filter(data__has_key="unmarked").exists()

    second = stock_receipt(location=world["sha"], product=world["pre"], quantity=1, reference="PO-2")

    assert second.presale_unmarked is True and second.presale_batch.still_expected is None
    world["pre"].refresh_from_db()
    assert (world["pre"].presale_ship_from, world["pre"].presale_batch_qty) == (None, None)
    assert world["pre"].presale_batch_received == {}
    assert ChannelSku.objects.get(external_sku="WEB-PRE-1").presale_ship_from is None
    (event,) = OrderEvent.objects.filter(order=waiting, kind=EventKind.PRESALE, data__has_key="unmarked")
    until = Order.objects.get(pk=waiting.pk).presale_until.isoformat()
    assert event.message == (
        f"The batch of PRE-1 arrived in full (3 in 2 receipts): PRE-1 is no longer presale; this order still waits "
        f"for {until}."
    )
    assert event.data["batch_receipts"] == {"sha/PO-1": 2, "sha/PO-2": 1}
    with branch_chinese(tmp_path, "china-rest3.json"), translation.override("zh-hans"):
        shown = event_text(event)
    assert shown == f"PRE-1 的整批货已到（分 2 次入库，共 3 件）：PRE-1 不再预售；本订单仍等待至 {until}。"


def test_a_receipt_posted_again_counts_once_toward_the_batch(world):
    waiting_order(world, "W", 8, quantity=5)
    stock_receipt(location=world["sha"], product=world["pre"], quantity=2, reference="PO-1")

    again = stock_receipt(location=world["sha"], product=world["pre"], quantity=2, reference="PO-1")

    assert again.presale_unmarked is False  # 2 + 2 would be past the batch of 3: counted once, it is 2
    assert (again.presale_batch.received, again.presale_batch.still_expected, again.presale_batch.counted) == (
        2,
        1,
        False,
    )
    world["pre"].refresh_from_db()
    assert world["pre"].presale_ship_from == day(10) and world["pre"].presale_batch_received == {"sha/PO-1": 2}
    assert not OrderEvent.objects.filter(data__has_key="unmarked").exists()

    done = stock_receipt(location=world["sha"], product=world["pre"], quantity=1, reference="PO-3")
    assert done.presale_unmarked is True
    again_after = stock_receipt(location=world["sha"], product=world["pre"], quantity=1, reference="PO-3")
    assert again_after.presale_unmarked is False and again_after.presale_batch.batch is None  # ended once
    assert OrderEvent.objects.filter(data__has_key="unmarked").count() == 1


def test_receipts_without_a_reference_each_count(world):
    stock_receipt(location=world["sha"], product=world["pre"], quantity=2)

    second = stock_receipt(location=world["sha"], product=world["pre"], quantity=2)

    assert second.presale_unmarked is True  # two receipts that cannot be told apart from new ones: 4 of 3


def test_the_receive_page_says_in_chinese_how_much_is_still_expected(world, client, tmp_path):
    from oms.roles import MANAGER
    from tests.factories import make_user

    client.force_login(make_user("boss", MANAGER))
    client.cookies["django_language"] = "zh-hans"
    with branch_chinese(tmp_path, "china-rest3.json"):
        response = client.post(
            "/inventory/stock/receive/",
            {"location": "sha", "sku": "PRE-1", "quantity": "2", "reference": "PO-5", "reason_code": "purchase"},
            follow=True,
        )
        shown = [str(m) for m in response.context["messages"]]
        product_page = client.get("/inventory/products/PRE-1/").content.decode()

    assert "PRE-1 仍为预售：预计整批 3 件，已入库 2 件，尚待 1 件。" in shown
    assert "已入库 2 件" in product_page
    world["pre"].refresh_from_db()
    assert world["pre"].presale_ship_from == day(10)


def test_a_receipts_import_row_says_how_much_is_still_expected(world):
    import tablib

    from inventory.resources import run_import

    data = tablib.Dataset(headers=["location", "sku", "quantity", "reference"])
    data.append(["sha", "PRE-1", 1, "PO-11"])

    result = run_import("receipts", data, dry_run=False)

    assert result.rows[0].outcome == "on hand 1; presale: 2 of the expected batch of 3 still expected"
