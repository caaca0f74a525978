"""赠品 reported apart: gift units and cost per rule (KPI gifts-by-rule, page and CSV), and left out of the
units and revenue by product."""

from decimal import Decimal

import pytest
from django.utils import timezone

from oms.roles import MANAGER
from orders import services
from orders.models import GiftRule, Order
from orders.status import OrderStatus
from reports.kpis import REGISTRY, Filters
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, make_user, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def gifts():
    sha = LocationFactory(code="sha")
    stock(sha, ProductFactory(sku="STD", price=Decimal("10.00")), 50)
    cup = ProductFactory(sku="CUP", price=Decimal("8.50"))
    bag = ProductFactory(sku="BAG", price=Decimal("3.00"))
    stock(sha, cup, 50)
    stock(sha, bag, 50)
    channel = ChannelFactory(slug="tmall")
    GiftRule.objects.create(name="送杯", gift_product=cup, gift_quantity=2)
    GiftRule.objects.create(name="满20送袋", min_goods_total=Decimal("20"), gift_product=bag)
    for ext, qty in (("R1", 1), ("R2", 2), ("R3", 3)):
        who = {"email": f"{ext}@example.com", "phone": f"1360000000{qty}"}
        data = canonical(ext, lines=(("STD", qty),), ship_to=who)
        services.order_create(channel=channel, data=data, source="t")
    Order.objects.filter(external_id="R3").update(status=OrderStatus.CANCELLED)
    today = timezone.localdate()
    return Filters(date_from=today, date_to=today)


def test_gift_units_and_cost_per_rule(gifts):
    r = REGISTRY["gifts-by-rule"].result(gifts)
    assert r.value == 5  # R1: 2 cups; R2: 2 cups and a bag; R3 is cancelled
    assert [{k: v for k, v in row.items() if k != "_url"} for row in r.tables[0].rows] == [
        {"rule": "满20送袋", "sku": "BAG", "orders": 1, "units": 1, "cost": Decimal("3.00")},
        {"rule": "送杯", "sku": "CUP", "orders": 2, "units": 4, "cost": Decimal("34.00")},
    ]
    assert [f.value for f in r.facts] == ["5", "37.00", "2"]


def test_gifts_are_left_out_of_units_and_revenue_by_product(gifts):
    r = REGISTRY["orders-by-product"].result(gifts)
    assert [(row["sku"], row["units"]) for row in r.tables[0].rows] == [("STD", 3)]


def test_the_gift_report_page_and_its_csv(client, gifts):
    client.force_login(make_user("boss", MANAGER))
    page = client.get("/reports/kpi/gifts-by-rule/")
    assert page.status_code == 200 and "送杯" in page.content.decode()
    csv = client.get("/reports/kpi/gifts-by-rule/?format=csv").content.decode("utf-8-sig")
    assert "送杯,CUP,2,4,34.00" in csv and "满20送袋,BAG,1,1,3.00" in csv
