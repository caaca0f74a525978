"""A 抖店 channel connected to the fake 抖店 on loopback, shipping with ZTO (中通, Kdniao shipper code ZTO)."""

import pytest

from connectors.services import connection_save
from tests.factories import CarrierFactory, ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory, stock

from ..fake_doudian import TOKEN, FakeDoudian

ORDER_ID = "6920000000000000001"


@pytest.fixture
def dd():
    with FakeDoudian() as server:
        yield server


@pytest.fixture
def dd_world(dd, db, settings):
    settings.OMS_NOTIFICATIONS_SUPPRESSED = True
    location = LocationFactory(code="sha", name="Shanghai DC")
    for sku in ("SKU-A", "SKU-B"):
        stock(location, ProductFactory(sku=sku), 20, bin="A-01")
    carrier = CarrierFactory(code="zto", name="ZTO Express", adapter="local", shipper_code="ZTO")
    ServiceLevelFactory(code="std", carrier=carrier)
    channel = ChannelFactory(slug="doudian-cn", name="抖店旗舰店", platform="doudian")
    channel.locations.add(location)
    connection = connection_save(channel=channel, data={"base_url": dd.base_url}, secret=TOKEN)
    return {"location": location, "channel": channel, "connection": connection}
