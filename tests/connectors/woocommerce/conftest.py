"""A WooCommerce channel connected to the fake WooCommerce on loopback."""

import pytest

from connectors.services import connection_save
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory, stock

from ..fake_woocommerce import TOKEN, FakeWooCommerce


@pytest.fixture
def woo():
    with FakeWooCommerce() as server:
        yield server


@pytest.fixture
def woo_world(woo, db, settings):
    settings.OMS_NOTIFICATIONS_SUPPRESSED = True
    location = LocationFactory(code="sha", name="Shanghai DC")
    for sku in ("SKU-A", "SKU-B"):
        stock(location, ProductFactory(sku=sku), 20, bin="A-01")
    ServiceLevelFactory(code="std")
    channel = ChannelFactory(slug="woo-cn", name="Woo CN", platform="woocommerce")
    channel.locations.add(location)
    connection = connection_save(
        channel=channel, data={"base_url": woo.base_url, "tracking_extension": True}, secret=TOKEN
    )
    return {"location": location, "channel": channel, "connection": connection}
