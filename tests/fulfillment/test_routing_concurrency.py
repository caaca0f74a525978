"""Routing, reroutes and backorder retries at once never oversell (PostgreSQL, real threads).

Order workers create orders (routed by the real service: splits, backorders under a ship-what-is-available
policy and a "force" channel) while reroute workers move reserved orders between locations and a retry
worker routes open backorders. Afterwards: 0 <= reserved <= on hand, reserved equals what live
shipments hold, stock equals the ledger, and no order line is promised more than ordered."""

import random
import threading
from collections import Counter

import pytest
from django.db import connections
from django.db.models import Sum

from fulfillment import routing
from fulfillment.models import Backorder, RoutingPolicy, ShipmentLine
from fulfillment.status import ShipmentStatus
from inventory.models import Stock
from inventory.selectors import ledger_mismatches
from oms.errors import DomainError
from orders import services as order_services
from orders.models import Order, OrderLine, StockPolicy
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_routing_reroute_and_backorders_never_oversell():
    locations = [
        LocationFactory(code="sha", city="Shanghai", latitude=31.23, longitude=121.47),
        LocationFactory(code="can", city="Guangzhou", latitude=23.13, longitude=113.26),
        LocationFactory(code="ctu", city="Chengdu", latitude=30.57, longitude=104.07),
    ]
    products = [ProductFactory(sku=f"HOT-{i}") for i in range(3)]
    for loc in locations:
        for p in products:
            stock(loc, p, 12)
    web = ChannelFactory(slug="web")
    force = ChannelFactory(slug="force", stock_policy=StockPolicy.FORCE)
    RoutingPolicy.objects.create(
        code="partial", name="Partial", status="live", is_default=True, ship_complete=False, max_locations=2
    )
    errors: list[str] = []
    outcomes: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(6)
    done = threading.Event()

    def order_worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            barrier.wait()
            for n in range(12):
                lines = [(sku, rng.randint(1, 4)) for sku in rng.sample([p.sku for p in products], rng.randint(1, 2))]
                order_services.order_create(
                    channel=rng.choice([web, force]),
                    data=canonical(f"O{seed}-{n}", lines=lines, ship_to={"email": f"c{seed}-{n}@x.cn"}),
                    source="test",
                )
                with lock:
                    outcomes["created"] += 1
        except Exception as exc:  # noqa: BLE001
            errors.append(f"order worker {seed}: {type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    def reroute_worker(seed: int) -> None:
        rng = random.Random(100 + seed)
        try:
            barrier.wait()
            while not done.is_set():
                order = Order.objects.filter(status="allocated").order_by("?").first()
                if order is None:
                    continue
                try:
                    routing.order_reroute(order=order, location=rng.choice(locations + [None]), reason="test")
                    with lock:
                        outcomes["rerouted"] += 1
                except DomainError:
                    with lock:
                        outcomes["reroute refused"] += 1
        except Exception as exc:  # noqa: BLE001
            errors.append(f"reroute worker {seed}: {type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    def retry_worker() -> None:
        try:
            barrier.wait()
            while not done.is_set():
                routing.backorders_retry()
        except Exception as exc:  # noqa: BLE001
            errors.append(f"retry worker: {type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    creators = [threading.Thread(target=order_worker, args=(i,)) for i in range(3)]
    others = [threading.Thread(target=reroute_worker, args=(i,)) for i in range(2)]
    others.append(threading.Thread(target=retry_worker))
    for t in creators + others:
        t.start()
    for t in creators:
        t.join(timeout=180)
    done.set()
    for t in others:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in creators + others), "a worker hung"
    assert errors == []
    assert outcomes["created"] == 36 and outcomes["rerouted"] > 0

    live = Counter()
    for loc, prod, qty in ShipmentLine.objects.exclude(shipment__status=ShipmentStatus.CANCELLED).values_list(
        "shipment__location_id", "product_id", "quantity"
    ):
        live[(loc, prod)] += qty
    for s in Stock.objects.all():
        assert 0 <= s.reserved <= s.on_hand, s
        assert s.reserved == live[(s.location_id, s.product_id)], s
    assert ledger_mismatches() == []
    # Every unit of a routed line is in a live shipment or an open backorder, never twice.
    for line in OrderLine.objects.all():
        shipped = (
            ShipmentLine.objects.filter(order_line=line)
            .exclude(shipment__status=ShipmentStatus.CANCELLED)
            .aggregate(n=Sum("quantity"))["n"]
            or 0
        )
        waiting = (
            Backorder.objects.filter(order_line=line, resolved_at__isnull=True).aggregate(n=Sum("quantity"))["n"] or 0
        )
        assert shipped + waiting in (0, line.quantity), line  # all of it placed somewhere, or none (held)
