"""Routing windows on PostgreSQL with real threads: SKIP LOCKED claiming, two workers at once."""

import threading

import pytest
from django.db import connections, transaction
from django.db.models import F, Sum

from fulfillment import routing
from fulfillment.models import RoutingDecision, ShipmentLine
from fulfillment.routing import window
from fulfillment.status import ShipmentStatus
from inventory.models import Stock
from inventory.selectors import ledger_mismatches
from orders import services as order_services
from orders.models import Order
from orders.status import OrderStatus
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def backlog(monkeypatch):
    """Orders waiting for routing (the nudge after intake is switched off), most urgent first."""
    monkeypatch.setattr("fulfillment.receivers.nudge", lambda task_name: None)
    sha = LocationFactory(code="sha", city="Shanghai", latitude=31.23, longitude=121.47)
    can = LocationFactory(code="can", city="Guangzhou", latitude=23.13, longitude=113.26)
    hot = ProductFactory(sku="HOT")
    stock(sha, hot, 5)
    stock(can, hot, 5)
    web = ChannelFactory(slug="web")
    orders = []
    for n in range(12):
        order = order_services.order_create(
            channel=web, data=canonical(f"W{n}", lines=(("HOT", 1),), ship_to={"email": f"w{n}@x.cn"}), source="test"
        ).order
        Order.objects.filter(pk=order.pk).update(priority=1 + n % 9)
        orders.append(order.pk)
    assert Order.objects.filter(pk__in=orders, status=OrderStatus.CONFIRMED).count() == 12
    return orders


def test_a_window_skips_the_orders_another_worker_holds(backlog):
    held = threading.Event()
    done = threading.Event()
    taken: list[int] = []

    def other_worker():
        try:
            with transaction.atomic():
                taken.extend(o.pk for o in window._claim(4))  # locked until this transaction ends
                held.set()
                done.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert held.wait(30)
    try:
        result = routing.route_window()
    finally:
        done.set()
        thread.join(30)
    assert len(taken) == 4
    assert result.claimed == 8
    routed = set(RoutingDecision.objects.values_list("order_id", flat=True))
    assert routed.isdisjoint(taken)
    assert len(routed) == 8
    assert not Order.objects.filter(pk__in=taken).exclude(status=OrderStatus.CONFIRMED).exists()
    # The other worker let go without routing: the next window takes its orders.
    assert routing.route_window().claimed == 4


def test_two_workers_route_every_order_once_and_never_oversell(backlog):
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(30)
            while True:
                result = routing.route_window(limit=3)
                results.append(result)
                if not result.claimed:
                    break
        except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    # Each order is routed by one worker, once; an order whose reservation lost the race with the other
    # worker's (its snapshot was older) is left waiting and claimed again by a later window.
    assert sum(r.claimed - r.left for r in results) == 12
    assert RoutingDecision.objects.count() == 12
    assert sorted(RoutingDecision.objects.values_list("order_id", flat=True)) == sorted(backlog)
    assert Order.objects.filter(pk__in=backlog, status=OrderStatus.ALLOCATED).count() == 10
    assert Order.objects.filter(pk__in=backlog, on_hold=True).count() == 2
    assert not Stock.objects.filter(reserved__gt=F("on_hand")).exists()
    live = ShipmentLine.objects.exclude(shipment__status=ShipmentStatus.CANCELLED)
    assert live.aggregate(n=Sum("quantity"))["n"] == Stock.objects.aggregate(n=Sum("reserved"))["n"] == 10
    assert ledger_mismatches() == []
