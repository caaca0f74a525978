"""A Shopify channel connected to the fake Shopify on loopback, and orders taken to shipped with the real
services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.services import connection_save
from fulfillment import services as fulfillment_services
from logistics import services as logistics_services
from oms import outbox
from oms.models import OutboxMessage
from orders import services as order_services
from orders import tasks as _orders_tasks  # noqa: F401 (orders.apply_inbox, run eagerly when a pull nudges it)
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory, canonical, stock

from .fake_shopify import TOKEN
from .fake_shopify_server import FakeShopify

LOCATION_GID = "gid://shopify/Location/71"


@pytest.fixture
def fake():
    with FakeShopify() as server:
        yield server


@pytest.fixture
def world(fake, db, settings):
    settings.OMS_NOTIFICATIONS_SUPPRESSED = True  # customer e-mails are other outbox rows: kept out of the counts
    location = LocationFactory(code="sha", name="Shanghai DC")
    for sku in ("SKU-A", "SKU-B"):
        stock(location, ProductFactory(sku=sku), 20, bin="A-01")
    ServiceLevelFactory(code="std")
    channel = ChannelFactory(slug="shopify-cn", name="Shopify CN", platform="shopify")
    channel.locations.add(location)
    connection = connection_save(
        channel=channel,
        data={"base_url": fake.base_url, "api_version": "2025-01", "location_ref": LOCATION_GID},
        secret=TOKEN,
    )
    return {"location": location, "channel": channel, "connection": connection}


def make_order(capture, world, external_id="5001", lines=(("SKU-A", 2), ("SKU-B", 1))):
    with capture(execute=True):
        order = order_services.order_create(
            channel=world["channel"], data=canonical(external_id, lines=lines), source="test"
        ).order
    order.refresh_from_db()
    return order


def ship(capture, shipment, *, run_outbox=False):
    """Pick, pack and dispatch one shipment with the real services; the outbox runs only when asked."""
    fulfillment_services.picklist_create(location=shipment.location, shipment_ids=[shipment.pk])
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=800)
    with capture(execute=run_outbox):
        return logistics_services.shipment_dispatch(shipment=shipment)


def dispatch(*, later_seconds: float = 0):
    """Run the outbox consumer once (``later_seconds`` ahead of now: rows waiting that long are due)."""
    return outbox.outbox_dispatch(now=timezone.now() + timedelta(seconds=later_seconds))


def shipment_rows():
    return list(
        OutboxMessage.objects.filter(kind="channel.shipment")
        .order_by("pk")
        .values_list("status", "attempts", "last_error")
    )
