"""An Amazon channel connected to the fake SP-API (LWA and the API on one loopback server)."""

import pytest

from connectors.amazon.client import forget_clients
from connectors.services import connection_save
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory, stock

from ..fake_amazon import MARKETPLACE, SECRET, SELLER_ID, FakeAmazon


@pytest.fixture
def amazon():
    forget_clients()
    with FakeAmazon() as server:
        yield server
    forget_clients()


@pytest.fixture
def amazon_world(amazon, db, settings):
    settings.OMS_NOTIFICATIONS_SUPPRESSED = True
    location = LocationFactory(code="sea", name="Seattle DC")
    for sku in ("SKU-A", "SKU-B"):
        stock(location, ProductFactory(sku=sku), 20, bin="A-01")
    ServiceLevelFactory(code="std")
    channel = ChannelFactory(slug="amazon-us", name="Amazon US", platform="amazon")
    channel.locations.add(location)
    connection = connection_save(
        channel=channel,
        data={
            "base_url": amazon.url,
            "auth_url": f"{amazon.url}/auth/o2/token",
            "marketplace_ids": MARKETPLACE,
            "location_ref": SELLER_ID,
        },
        secret=SECRET,
    )
    return {"location": location, "channel": channel, "connection": connection}
