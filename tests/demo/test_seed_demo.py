from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from fulfillment.models import PickList, Shipment
from inventory.models import HandlingClass, Location, Product, StockMovement
from inventory.selectors import ledger_mismatches
from logistics.models import Carrier, Parcel, ServiceLevel, TrackingEvent
from oms.celery import app as celery_app
from orders.care import notifications
from orders.models import Channel, Order, OrderEvent
from orders.status import EventKind, HoldReason, OrderStatus

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", "--orders", "40", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module, in a transaction rolled back at the end (each test runs in a
    savepoint inside it, so what one test changes the next does not see)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


def test_every_order_status_appears(seeded):
    statuses = set(Order.objects.values_list("status", flat=True))

    assert Order.objects.count() == 40
    assert statuses == set(OrderStatus.values) - {OrderStatus.PARTIALLY_SHIPPED}


def test_holds_cover_intake_and_routing_reasons(seeded):
    def held(status, reason):
        return Order.objects.filter(
            status=status, on_hold=True, holds__reason=reason, holds__released_at__isnull=True
        ).exists()

    assert held(OrderStatus.RECEIVED, HoldReason.UNKNOWN_SKU)
    assert held(OrderStatus.RECEIVED, HoldReason.ADDRESS_INVALID)
    assert held(OrderStatus.CONFIRMED, HoldReason.STOCK_SHORT)
    assert (
        Order.objects.filter(status=OrderStatus.CONFIRMED, on_hold=True)
        .exclude(holds__reason=HoldReason.STOCK_SHORT)
        .exists()
    )
    # Only holds stop orders: nothing beyond confirmed is left on hold.
    assert (
        not Order.objects.filter(on_hold=True)
        .exclude(status__in=[OrderStatus.RECEIVED, OrderStatus.CONFIRMED])
        .exists()
    )


def test_shipments_reach_every_stage_through_the_services(seeded):
    shipment_statuses = set(Shipment.objects.values_list("status", flat=True))
    assert {"reserved", "picking", "packed", "in_transit", "out_for_delivery", "delivered"} <= shipment_statuses
    assert PickList.objects.exists()
    assert (
        Parcel.objects.count()
        == Shipment.objects.filter(status__in=["shipped", "in_transit", "out_for_delivery", "delivered"]).count()
    )
    # Every delivered order has a carrier scan history with Chinese place names on its timeline.
    for order in Order.objects.filter(status=OrderStatus.DELIVERED):
        scans = TrackingEvent.objects.filter(parcel__shipment__order=order)
        assert scans.filter(status="delivered").count() == 1
        assert any("转运中心" in s.location or "营业部" in s.location for s in scans)
        assert order.events.filter(kind=EventKind.TRACKING).count() >= scans.count()


def test_four_users_with_their_roles_can_log_in(seeded, client):
    expected = {"admin": "admin", "manager": "manager", "cs": "customer_service", "warehouse": "warehouse"}
    users = get_user_model().objects.filter(username__in=expected)

    assert {u.username: [g.name for g in u.groups.all()] for u in users} == {k: [v] for k, v in expected.items()}
    admin = users.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    for username in expected:
        assert client.login(username=username, password=username), username
        client.logout()
    assert "DEMO CREDENTIALS" in seeded


def test_reference_data(seeded):
    locations = {loc.code: loc for loc in Location.objects.all()}
    assert set(locations) == {"SH-QP", "GZ-BY", "BJ-SLT"}
    assert locations["SH-QP"].cold_chain and not locations["SH-QP"].handles_bulky
    assert locations["GZ-BY"].handles_bulky and not locations["GZ-BY"].cold_chain
    assert all(loc.latitude and loc.longitude and loc.cutoff_time and loc.daily_capacity for loc in locations.values())
    assert Product.objects.count() == 31
    classes = set(Product.objects.values_list("handling_class", flat=True))
    assert classes == set(HandlingClass.values)
    assert Carrier.objects.filter(adapter="local").count() == 3
    assert ServiceLevel.objects.filter(cold_chain=True).exists() and ServiceLevel.objects.filter(freight=True).exists()
    assert all(c.webhook_secret for c in Channel.objects.all()) and Channel.objects.count() == 3


def test_stock_reconciles_with_the_ledger(seeded):
    assert ledger_mismatches() == []
    assert StockMovement.objects.filter(kind="receipt").exists()
    assert StockMovement.objects.filter(kind="shipment").exists()


def test_orders_are_spread_over_the_last_month_with_ordered_timelines(seeded):
    now = timezone.now()
    created = list(Order.objects.values_list("created_at", flat=True))
    assert max(created) <= now
    assert (max(created) - min(created)).days >= 7
    for order in Order.objects.all():
        stamps = list(order.events.order_by("id").values_list("created_at", flat=True))
        assert stamps == sorted(stamps), order.number
        assert stamps[0] >= order.created_at and stamps[-1] <= now
    assert not OrderEvent.objects.filter(created_at__gt=now).exists()


def test_running_twice_changes_nothing(seeded):
    counts = (Order.objects.count(), StockMovement.objects.count(), get_user_model().objects.count())

    out = seed()

    assert "nothing changed" in out
    assert (Order.objects.count(), StockMovement.objects.count(), get_user_model().objects.count()) == counts


def test_reset_seeds_the_same_orders_again_and_puts_celery_back(seeded):
    before = sorted(Order.objects.values_list("channel__slug", "external_id", "status"))
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        out = seed("--reset")
        eager_after = celery_app.conf.task_always_eager
    finally:
        celery_app.conf.task_always_eager = previous

    assert "Deleted the existing orders" in out
    assert eager_after is False
    # Customer notifications were off while seeding, and are on again.
    assert not notifications.is_suppressed()
    assert sorted(Order.objects.values_list("channel__slug", "external_id", "status")) == before
    assert ledger_mismatches() == []
