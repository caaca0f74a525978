"""Routing's shipping-cost estimate (logistics/routing_cost.py): priced per zone and weight from the rate cards,
each (zone, destination province, weight) priced once for a routing batch, forgotten when a card changes."""

from decimal import Decimal

import pytest

from fulfillment import routing
from logistics import routing_cost
from logistics.models import RateCardRow
from orders.models import Order
from tests.factories import LocationFactory, ServiceLevelFactory

pytestmark = pytest.mark.django_db


def _to(province: str, city: str) -> Order:
    return Order(ship_country="CN", ship_province=province, ship_city=city)


def test_prices_per_zone_and_weight_once_per_batch_and_a_changed_card_is_seen_at_once():
    sha = LocationFactory(code="sha", city="Shanghai", province="Shanghai", latitude=31.23, longitude=121.47)
    service = ServiceLevelFactory(fuel_surcharge_pct=0, remote_surcharge=0)
    z1 = None
    for zone, price in (("Z0", "5.00"), ("Z1", "8.00"), ("Z2", "11.00")):
        row = RateCardRow.objects.create(
            service=service, zone=zone, max_weight_g=1000, price=Decimal(price), extra_per_kg=Decimal("2"),
            transit_days=2,
        )  # fmt: skip
        z1 = row if zone == "Z1" else z1
    suzhou, nanjing = _to("Jiangsu", "Suzhou"), _to("Jiangsu", "Nanjing")
    with routing.routing_batch():
        assert routing_cost.estimate(sha, _to("Shanghai", "Shanghai"), 500) == Decimal("5.00")  # Z0: same city
        assert routing_cost.estimate(sha, suzhou, 500) == Decimal("8.00")  # Z1: Shanghai-Jiangsu
        assert routing_cost.estimate(sha, nanjing, 500) == Decimal("8.00")
        assert routing_cost.estimate(sha, nanjing, 2500) == Decimal("12.00")  # 8 + 2 started kg x 2
        assert routing_cost.estimate(sha, _to("Anhui", "Hefei"), 500) == Decimal("11.00")  # Z2
        cards = routing_cost._cards()
        assert len(cards.zones) == 4  # one per (location, destination)
        assert len(cards.prices) == 4  # Suzhou and Nanjing at 500 g: one price (same zone, same province)
        z1.price = Decimal("9.50")
        z1.save()  # post_save forgets the cards and what was priced from them, also inside the batch
        assert routing_cost.estimate(sha, nanjing, 500) == Decimal("9.50")
        assert routing_cost.estimate(sha, suzhou, 2500) == Decimal("13.50")
        service.active = False
        service.save()
        assert routing_cost.estimate(sha, suzhou, 500) is None  # no active service: no price


def test_routing_memoizes_a_cost_per_what_the_order_needs_carried_too():
    """Two orders to one address at one weight, one of them cold chain: routing's memo of a batch keeps a cost
    each (the cold one is priced by the cold-chain service only), not the first one's for both."""
    sha = LocationFactory(code="sha", city="Shanghai", province="Shanghai", latitude=31.23, longitude=121.47)
    for cold, price in ((False, "5.00"), (True, "15.00")):
        service = ServiceLevelFactory(fuel_surcharge_pct=0, remote_surcharge=0, cold_chain=cold)
        RateCardRow.objects.create(
            service=service, zone="Z0", max_weight_g=1000, price=Decimal(price), extra_per_kg=Decimal("2"),
            transit_days=2,
        )  # fmt: skip
    plain = _to("Shanghai", "Shanghai")
    cold = _to("Shanghai", "Shanghai")
    cold.required_capabilities = "cold_chain"
    with routing.routing_batch():
        memo = routing.cost_memo()
        assert routing.estimate_cost(sha, plain, 500, memo) == 5.0
        assert routing.estimate_cost(sha, cold, 500, memo) == 15.0
        assert routing.estimate_cost(sha, plain, 500, memo) == 5.0
