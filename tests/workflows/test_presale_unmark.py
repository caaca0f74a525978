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

