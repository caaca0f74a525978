"""自动合单 on PostgreSQL with real threads: two review runs over the same orders make one group; two routing
workers route a group once."""

import threading

import pytest
from django.db import connections

from fulfillment import routing
from fulfillment.models import Shipment
from inventory.selectors import ledger_mismatches
from orders import services as order_services
from orders.models import MergeSettings, OrderMergeGroup, OrderMergeMember
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pair(monkeypatch):
    """Two confirmed orders of one buyer, not merged yet (merge off at intake, on afterwards); different
    quantities, or intake holds the second as a possible duplicate."""
    monkeypatch.setattr("fulfillment.receivers.nudge", lambda task_name: None)
    sha = LocationFactory(code="sha", city="Shanghai", latitude=31.23, longitude=121.47)
    a = ProductFactory(sku="A")
    stock(sha, a, 10)
    web = ChannelFactory(slug="web")
    MergeSettings.objects.create(pk=1, enabled=False)
    ids = [
        order_services.order_create(channel=web, data=canonical(f"K{n}", lines=(("A", n + 1),)), source="test").order.pk
        for n in range(2)
    ]
    MergeSettings.objects.filter(pk=1).update(enabled=True)
    return ids


def _together(*calls):
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(i, call):
        try:
            barrier.wait(10)
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_two_review_runs_at_once_make_one_group(pair):
    results, errors = _together(*[lambda: order_services.orders_auto_merge(order_ids=pair)] * 2)
    assert errors == []
    assert sorted(len(r) for r in results) == [0, 1]
    assert OrderMergeGroup.objects.count() == 1
    assert sorted(OrderMergeMember.objects.filter(active=True).values_list("order_id", flat=True)) == sorted(pair)


def test_two_routing_workers_route_a_group_once(pair):
    order_services.orders_auto_merge(order_ids=pair)
    results, errors = _together(routing.route_window, routing.route_window)
    assert errors == []
    shipments = list(Shipment.objects.order_by("pk"))
    assert len(shipments) == 2 and shipments[1].merged_into_id == shipments[0].pk
    assert ledger_mismatches() == []
