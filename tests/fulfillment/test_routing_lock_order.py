"""Single-order routing takes its stock rows in the one lock order before it reserves (PostgreSQL).

A refused try (a guarded UPDATE that waited for a row and found it short) may keep that row locked; the next try
at another location would then lock a row out of the (location, product) order, and a routing window that locks
in order could deadlock with it. So ``route_decide`` locks every routing location's rows of the order's products
in one ordered statement first (as the window and a reroute do)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment import routing
from orders import services as order_services
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_order_route_locks_the_stock_rows_in_order_before_its_first_reservation():
    sha = LocationFactory(code="sha", city="Shanghai", latitude=31.23, longitude=121.47)
    can = LocationFactory(code="can", city="Guangzhou", latitude=23.13, longitude=113.26)
    a, b = ProductFactory(sku="LK-A"), ProductFactory(sku="LK-B")
    for loc in (sha, can):
        stock(loc, a, 5)
        stock(loc, b, 5)
    order = order_services.order_create(
        channel=ChannelFactory(slug="web"), data=canonical("LK-1", lines=[("LK-A", 1), ("LK-B", 2)]), source="test"
    ).order
    with CaptureQueriesContext(connection) as ctx:
        decision = routing.order_route(order_id=order.pk)
    assert decision is not None and decision.chosen is not None
    sql = [q["sql"] for q in ctx.captured_queries]
    first_reserve = next(i for i, s in enumerate(sql) if "inventory_stock_apply" in s)
    locks = [
        i
        for i, s in enumerate(sql[:first_reserve])
        if 'FROM "inventory_stock"' in s and "FOR UPDATE" in s and 'ORDER BY "inventory_stock"."location_id"' in s
    ]
    assert len(locks) == 1
