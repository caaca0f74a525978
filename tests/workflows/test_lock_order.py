"""The workflow actions take their locks in one order (order row → shipments by id → stock rows by
(location, product)), so concurrent cancels, cancels by stage and changes that re-route the same split
orders never deadlock (PostgreSQL, real threads). Afterwards: every order is cancelled at most once, stock is
never oversold and equals what live shipments hold, and stock equals the ledger."""

import random
import threading
from collections import Counter

import pytest
from django.db import connections

from fulfillment import split
from fulfillment.models import ShipmentLine
from fulfillment.status import ShipmentStatus
from inventory.models import Stock
from inventory.selectors import ledger_mismatches
from oms.errors import DomainError
from orders import services as order_services
from orders.models import Order
from orders.status import EventKind
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory, canonical, stock
from workflows.cancel import order_cancel, order_cancel_request
from workflows.changes import order_change_lines, order_change_service

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ORDERS = 10
WORKERS = 4


def test_concurrent_cancels_and_changes_of_the_same_split_orders_never_deadlock():
    sha = LocationFactory(code="sha", latitude=31.23, longitude=121.47)
    can = LocationFactory(code="can", city="Guangzhou", latitude=23.13, longitude=113.26)
    a, b = ProductFactory(sku="SKU-A"), ProductFactory(sku="SKU-B")
    for loc in (sha, can):
        stock(loc, a, 100)
        stock(loc, b, 100)
    ServiceLevelFactory(code="std")
    channel = ChannelFactory(slug="web")
    numbers = []
    for n in range(ORDERS):
        order = order_services.order_create(
            channel=channel,
            data=canonical(f"L{n}", lines=[("SKU-A", 2), ("SKU-B", 1)], ship_to={"email": f"c{n}@x.cn"}),
            source="test",
        ).order
        shipment = order.shipments.get()  # routed after commit (eager task): one shipment at sha
        split.shipment_split(
            shipment=shipment, quantities={shipment.lines.get(product=b).pk: 1}, location=can, reason_code="capacity"
        )
        numbers.append(order.number)

    errors: list[str] = []
    outcomes: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(WORKERS)

    verbs = ["cancel", "lines", "cancel_request", "service"]

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for round_no, number in enumerate(numbers):
                barrier.wait(timeout=60)  # every worker on the same order at the same time
                order = Order.objects.get(number=number)
                verb = verbs[(seed + round_no) % len(verbs)]
                try:
                    if verb == "cancel":
                        order_cancel(order=order, reason="test")
                    elif verb == "cancel_request":
                        order_cancel_request(order=order, reason_code="customer_request")
                    elif verb == "lines":
                        line = order.lines.get(sku="SKU-A")
                        order_change_lines(
                            order=order, quantities={line.pk: rng.randint(3, 5)}, reason_code="customer_request"
                        )
                    else:
                        order_change_service(
                            order=order, requested_service=rng.choice(["express", "economy"]), reason_code="other"
                        )
                    with lock:
                        outcomes[verb] += 1
                except DomainError:  # refused by the stage rules or the order's state: expected
                    with lock:
                        outcomes[f"{verb} refused"] += 1
        except threading.BrokenBarrierError:
            errors.append(f"worker {seed}: another worker stopped")
        except Exception as exc:  # noqa: BLE001 - a deadlock or any other error fails the test
            errors.append(f"worker {seed}: {type(exc).__name__}: {exc}")
            barrier.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert errors == []
    assert outcomes["cancel"] + outcomes["cancel_request"] == ORDERS  # one of the two cancels each order

    for order in Order.objects.all():
        assert order.events.filter(kind=EventKind.CANCELLED).count() <= 1, order
        if order.status == "cancelled":
            assert not order.shipments.exclude(status=ShipmentStatus.CANCELLED).exists(), order
    live = Counter()
    for loc, prod, qty in ShipmentLine.objects.exclude(shipment__status=ShipmentStatus.CANCELLED).values_list(
        "shipment__location_id", "product_id", "quantity"
    ):
        live[(loc, prod)] += qty
    for s in Stock.objects.all():
        assert 0 <= s.reserved <= s.on_hand, s
        assert s.reserved == live[(s.location_id, s.product_id)], s
    assert ledger_mismatches() == []
