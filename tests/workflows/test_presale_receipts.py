"""预售 tied to receipts (workflows/receipts.py): a stock receipt of a presale SKU, on the receive page or by a
receipts import, releases the orders waiting for it first paid first up to the quantity received, each through
the presale release door with one event naming the receipt; the presale queue shows which receipt released them.
A receipt of a SKU that is not presale releases nothing."""

import pytest
import tablib

from inventory.models import MovementKind, Stock, StockMovement
from inventory.resources import run_import
from oms.roles import CUSTOMER_SERVICE, MANAGER
from orders.models import Order, OrderEvent
from orders.status import EventKind, OrderStatus
from tests.factories import make_user, presale_order, presale_world
from tests.factories import presale_day as day
from workflows.receipts import stock_receipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return presale_world()


def waiting_order(world, external_id, hour, lines=(("PRE-1", 1),)):
    return presale_order(world, external_id, hour, lines=lines)


def released(*orders) -> list[bool]:
    return [Order.objects.get(pk=o.pk).presale_released_at is not None for o in orders]


def test_a_receipt_smaller_than_the_demand_releases_only_the_first_paid(world, django_capture_on_commit_callbacks):
    late = waiting_order(world, "LATE", 11)
    first = waiting_order(world, "FIRST", 8, lines=(("PRE-1", 2),))
    second = waiting_order(world, "SECOND", 9)
    third = waiting_order(world, "THIRD", 10)

    with django_capture_on_commit_callbacks(execute=True):
        stock_receipt(location=world["sha"], product=world["pre"], quantity=3, reference="PO-77")

    assert released(first, second, third, late) == [True, True, False, False]
    movement = StockMovement.objects.get(kind=MovementKind.RECEIPT, product=world["pre"])
    (event,) = OrderEvent.objects.filter(order=first, kind=EventKind.PRESALE, data__has_key="receipt")
    assert event.message == (
        f"Presale released by the receipt of 3 × PRE-1 at sha (PO-77), first paid first (was until {day(10)})."
    )
    assert event.data["receipt"] == {
        "movement": movement.pk,
        "location": "sha",
        "sku": "PRE-1",
        "quantity": 3,
        "reference": "PO-77",
    }
    assert OrderEvent.objects.filter(kind=EventKind.PRESALE, data__has_key="receipt").count() == 2  # one each
    for order in (first, second):
        order.refresh_from_db()
        assert order.status == OrderStatus.ALLOCATED  # routed from the receipt's stock
    assert Stock.objects.get(product=world["pre"]).reserved == 3


def test_a_receipt_of_a_sku_that_is_not_presale_releases_nothing(world):
    waiting = waiting_order(world, "W1", 8)
    before = OrderEvent.objects.count()

    stock = stock_receipt(location=world["sha"], product=world["std"], quantity=50)

    assert stock.on_hand == 50 and stock.presale_released == []
    assert released(waiting) == [False]
    assert OrderEvent.objects.count() == before


def test_an_order_with_another_line_still_presale_waits_and_takes_nothing(world):
    both = waiting_order(world, "BOTH", 8, lines=(("PRE-1", 1), ("PRE-2", 1)))
    only = waiting_order(world, "ONLY", 9)

    stock = stock_receipt(location=world["sha"], product=world["pre"], quantity=1)

    assert released(both, only) == [False, True]
    assert stock.presale_released == [only.pk]


def test_the_receive_page_releases_and_the_queue_shows_the_receipt(client, world):
    first = waiting_order(world, "FIRST", 8)
    second = waiting_order(world, "SECOND", 9)
    client.force_login(make_user("boss", MANAGER))

    response = client.post(
        "/inventory/stock/receive/",
        {"location": "sha", "sku": "PRE-1", "quantity": "1", "reference": "PO-9", "reason_code": "purchase"},
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert "1 presale order waiting for PRE-1 was released to routing, first paid first." in shown
    assert released(first, second) == [True, False]
    client.force_login(make_user("cs", CUSTOMER_SERVICE))
    queue = client.get("/orders/presale/")
    (row,) = queue.context["receipts"]
    assert (row["sku"], row["location"], row["quantity"], row["reference"], row["orders"]) == (
        "PRE-1",
        "sha",
        1,
        "PO-9",
        [first.number],
    )
    html = queue.content.decode()
    assert "Released by stock receipts" in html and f'href="/orders/{first.number}/"' in html


def test_a_receipts_import_releases_and_its_dry_run_releases_nothing(world):
    first = waiting_order(world, "FIRST", 8)
    second = waiting_order(world, "SECOND", 9)
    data = tablib.Dataset(headers=["location", "sku", "quantity", "reference"])
    data.append(["sha", "PRE-1", 5, "PO-10"])

    preview = run_import("receipts", data, dry_run=True)
    assert preview.file_error in (None, "") and released(first, second) == [False, False]
    assert not StockMovement.objects.exists()

    run_import("receipts", data, dry_run=False)
    assert released(first, second) == [True, True]
    assert OrderEvent.objects.filter(kind=EventKind.PRESALE, data__receipt__reference="PO-10").count() == 2
