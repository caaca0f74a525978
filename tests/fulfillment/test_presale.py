"""预售 and routing: a presale order is promised, not routed, until its day; then released and routed first
paid first (fulfillment/presale.py, orders/services/presale.py)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from fulfillment import routing, tasks
from fulfillment.presale import presale_release_and_route
from fulfillment.routing.decide import order_route
from inventory.models import Stock
from oms.errors import DomainError
from orders import services as order_services
from orders.models import Order, OrderEvent
from orders.status import EventKind, OrderStatus
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, stock
from workflows.cancel import order_cancel

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def world():
    sha = LocationFactory(code="sha", name="Shanghai DC", city="Shanghai", latitude=31.23, longitude=121.47)
    ship_from = timezone.localdate() + timedelta(days=10)
    pre = ProductFactory(sku="PRE-1", presale_ship_from=ship_from, presale_batch_qty=1)
    plain = ProductFactory(sku="SKU-A")
    stock(sha, plain, 10)
    stock(sha, pre, 1)  # one unit of the batch: the first payer gets it
    return {"sha": sha, "pre": pre, "plain": plain, "ship_from": ship_from, "web": ChannelFactory(slug="web")}


def _create(world, capture, external_id, lines, placed_at):
    with capture(execute=True):
        order = order_services.order_create(
            channel=world["web"], data=canonical(external_id, lines=lines, placed_at=placed_at), source="test"
        ).order
    order.refresh_from_db()
    return order


def test_a_presale_order_is_confirmed_and_promised_but_not_routed(world, django_capture_on_commit_callbacks):
    order = _create(
        world, django_capture_on_commit_callbacks, "E1", (("PRE-1", 1),), datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)
    )

    assert (order.status, order.on_hold) == (OrderStatus.CONFIRMED, False)
    assert order.presale_until == world["ship_from"]
    assert order.promise_date == world["ship_from"]
    assert order.presale_waiting is True
    assert not order.shipments.exists()
    # Neither single-order routing nor the window touches it; nothing is reserved.
    assert order_route(order_id=order.pk) is None
    assert order.pk not in list(routing.waiting_orders().values_list("pk", flat=True))
    routing.route_window()
    assert not order.shipments.exists()
    assert Stock.objects.get(product=world["pre"]).reserved == 0
    assert not Order.objects.awaiting_allocation().filter(pk=order.pk).exists()


def test_an_order_without_presale_lines_is_routed_at_once(world, django_capture_on_commit_callbacks):
    order = _create(world, django_capture_on_commit_callbacks, "E1", (("SKU-A", 1),), None)

    assert order.presale_until is None
    assert order.status == OrderStatus.ALLOCATED


def test_release_routes_first_paid_first_not_first_created(world, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    # Created first but paid later; the second order was paid an hour earlier.
    late = _create(world, capture, "LATE", (("PRE-1", 1),), datetime(2026, 12, 1, 10, tzinfo=SHANGHAI))
    early = _create(world, capture, "EARLY", (("PRE-1", 1),), datetime(2026, 12, 1, 9, tzinfo=SHANGHAI))
    assert late.pk < early.pk

    # The day before: nothing is released.
    assert presale_release_and_route(today=world["ship_from"] - timedelta(days=1)) == []
    with capture(execute=True):
        ids = presale_release_and_route(today=world["ship_from"])

    assert ids == [early.pk, late.pk]
    early.refresh_from_db()
    late.refresh_from_db()
    assert early.status == OrderStatus.ALLOCATED
    assert early.shipments.get().lines.get().quantity == 1
    assert late.status != OrderStatus.ALLOCATED and not late.shipments.exists()
    assert Stock.objects.get(product=world["pre"]).reserved == 1
    assert early.presale_released_at is not None and late.presale_released_at is not None
    ranks = dict(
        OrderEvent.objects.filter(kind=EventKind.PRESALE, data__released=True).values_list("order_id", "data__rank")
    )
    assert ranks == {early.pk: 1, late.pk: 2}
    # A second run releases nothing more.
    assert presale_release_and_route(today=world["ship_from"]) == []


def test_the_beat_task_releases_what_is_due(world, django_capture_on_commit_callbacks):
    order = _create(
        world, django_capture_on_commit_callbacks, "E1", (("PRE-1", 1),), datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)
    )
    assert tasks.presale_release() == 0  # not yet its day
    Order.objects.filter(pk=order.pk).update(presale_until=timezone.localdate())

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.presale_release() == 1

    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED


def test_a_cancelled_presale_order_is_not_released(world, django_capture_on_commit_callbacks):
    order = _create(
        world, django_capture_on_commit_callbacks, "E1", (("PRE-1", 1),), datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)
    )
    order_cancel(order=order, reason="customer_request")
    assert presale_release_and_route(today=world["ship_from"]) == []
    order.refresh_from_db()
    assert order.presale_released_at is None


def test_a_batch_that_arrives_early_releases_its_orders_first_paid_first(world, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    other = ProductFactory(sku="PRE-2", presale_ship_from=world["ship_from"] + timedelta(days=5))
    late = _create(world, capture, "LATE", (("PRE-1", 1),), datetime(2026, 12, 1, 10, tzinfo=SHANGHAI))
    early = _create(world, capture, "EARLY", (("PRE-1", 1),), datetime(2026, 12, 1, 9, tzinfo=SHANGHAI))
    both = _create(world, capture, "BOTH", (("PRE-1", 1), ("PRE-2", 1)), datetime(2026, 12, 1, 8, tzinfo=SHANGHAI))
    assert both.presale_until == other.presale_ship_from

    with capture(execute=True):
        moved = order_services.presale_batch_arrived(product=world["pre"])

    assert sorted(moved) == sorted([late.pk, early.pk])  # BOTH still waits for PRE-2
    for order in (late, early, both):
        order.refresh_from_db()
    assert early.status == OrderStatus.ALLOCATED  # the one unit: the first payer of the two
    assert late.status != OrderStatus.ALLOCATED and late.presale_released_at is not None
    assert (both.presale_waiting, both.presale_until) == (True, other.presale_ship_from)
    world["pre"].refresh_from_db()
    assert world["pre"].presale_ship_from is None  # sold from stock now
    event = early.events.filter(kind=EventKind.PRESALE, data__batch="PRE-1").get()
    assert event.message == (
        f"The batch of PRE-1 arrived: presale day {world['ship_from'].isoformat()} brought forward to "
        f"{timezone.localdate().isoformat()}."
    )


def test_a_batch_of_a_product_nobody_waits_for_is_a_clear_error(world):
    with pytest.raises(DomainError, match="SKU-A is not presale and no presale order waits for it."):
        order_services.presale_batch_arrived(product=world["plain"])
