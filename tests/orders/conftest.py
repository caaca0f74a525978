"""Fixtures of the stage-rule tests: two locations with stock of two SKUs and a web channel
(``world``), a customer-service user (``cs``) and a manager (``boss``); of the Chinese pages' tests: the
module's branch Chinese active (``chinese``, from the module's ``LIST``) and the admin's client reading in
Chinese (``zh_admin_client``). A test module defining its own fixture of the same name uses its own."""

import pytest
from django.utils import translation

from oms.roles import CUSTOMER_SERVICE, MANAGER
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory, make_user
from tests.factories import stock as receive
from tests.orders.branch_catalogue import branch_chinese


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


@pytest.fixture
def chinese(request, tmp_path):
    """The branch's Chinese of the module's ``LIST`` (scripts/i18n/zh/) over the catalogues, in Chinese."""
    with branch_chinese(tmp_path, request.module.LIST), translation.override("zh-hans"):
        yield


@pytest.fixture
def zh_admin_client(client):
    """``client`` logged in as the journey's admin (staff, superuser), reading pages in Chinese."""
    from tests import journey

    admin = journey.users()["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    client.cookies["django_language"] = "zh-hans"
    return client
