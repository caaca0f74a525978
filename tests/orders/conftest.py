"""Fixtures of the stage-rule tests: two locations with stock of two SKUs and a web channel
(``world``), a customer-service user (``cs``) and a manager (``boss``). A test module defining its
own fixture of the same name uses its own."""

import pytest

from oms.roles import CUSTOMER_SERVICE, MANAGER
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory, make_user
from tests.factories import stock as receive


@pytest.fixture
def world():
    sha = LocationFactory(code="sha", latitude=31.23, longitude=121.47)
    can = LocationFactory(code="can", city="Guangzhou", latitude=23.13, longitude=113.26)
    a = ProductFactory(sku="SKU-A")
    b = ProductFactory(sku="SKU-B")
    for loc in (sha, can):
        receive(loc, a, 10)
        receive(loc, b, 10)
    ServiceLevelFactory(code="std")
    return {"sha": sha, "can": can, "a": a, "b": b, "channel": ChannelFactory(slug="web")}


@pytest.fixture
def cs(db):
    return make_user("cs", CUSTOMER_SERVICE)


@pytest.fixture
def boss(db):
    return make_user("boss", MANAGER)
