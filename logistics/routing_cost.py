"""Shipping cost for routing's score (registered with ``fulfillment.routing.register_cost_estimator``).

``estimate(location, order, weight_g)`` is the price of the cheapest active service that can carry
``weight_g`` from the location to the order's destination, priced like ``logistics.rating`` does (zone by
``zone_for``, the rate card row by ``rate_from_card`` or base + per started kg, fuel and remote-area
surcharges). Hard constraints checked here: coverage (countries, provinces), maximum weight, cold chain
and freight when the order's classification requires them (``Order.capability_list`` /
``required_service_kind``). Size, signature and insurance are left to rating at dispatch. None when no
service can carry it. Services and rate cards are read once and kept with routing's cache.

Kept with them (same lifetime: a routing window's ``routing_batch()``, else ``ROUTING_CACHE_SECONDS`` per
process, forgotten when a carrier, service or rate card row is saved or deleted): the zone of each
(location, destination) and the price of each (zone, destination province and country, remote, cold chain,
freight, weight). The price depends on the location only through the zone, so a window of thousands of
orders to a few hundred cities prices each combination once.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models.signals import post_delete, post_save

from fulfillment import routing

from .models import Carrier, RateCardRow, ServiceLevel
from .rating import CENT, is_remote, province_key, rate_from_card, started_kg, zone_for
from .status import ServiceKind


class _Cards:
    """The active services with their rate cards, and the zones and prices worked out from them so far."""

    __slots__ = ("services", "zones", "prices")

    def __init__(self, services: list) -> None:
        self.services = services
        self.zones: dict[tuple, tuple[str, bool, str, str]] = {}
        self.prices: dict[tuple, Decimal | None] = {}


def _load() -> _Cards:
    services = list(ServiceLevel.objects.filter(active=True, carrier__active=True).order_by("pk"))
    rows: dict[int, dict[str, list[RateCardRow]]] = {}
    for row in RateCardRow.objects.filter(service__in=services).order_by("max_weight_g"):
        rows.setdefault(row.service_id, {}).setdefault(row.zone, []).append(row)
    result = []
    for service in services:
        countries = [c.strip().upper() for c in service.coverage_countries.split(",") if c.strip()]
        provinces = {province_key(p) for p in service.coverage_provinces.replace("，", ",").split(",") if p.strip()}
        result.append((service, rows.get(service.pk, {}), countries, provinces))
    return _Cards(result)


def _cards() -> _Cards:
    return routing.cached("logistics_rate_cards", _load)


def _price(service: ServiceLevel, zone_rows: dict, zone: str, weight_g: int, remote: bool) -> Decimal | None:
    if zone_rows:
        rows = zone_rows.get(zone)
        if not rows:
            return None
        priced = rate_from_card(rows, weight_g)
        if priced is None:
            return None
        freight = priced[0]
    else:
        freight = service.base_rate + service.per_kg_rate * started_kg(weight_g)
    fuel = (freight * service.fuel_surcharge_pct / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    remote_fee = service.remote_surcharge if remote else Decimal("0")
    return (freight + fuel + remote_fee).quantize(CENT, rounding=ROUND_HALF_UP)


def estimate(location, order, weight_g: int) -> Decimal | None:
    """The cheapest price from ``location`` to ``order``'s destination for ``weight_g`` (None: no service)."""
    cards = _cards()
    if not cards.services:
        return None
    where = (location.pk, order.ship_country, order.ship_province, order.ship_city, order.ship_postcode)
    dest = cards.zones.get(where)
    if dest is None:
        dest = cards.zones[where] = (
            zone_for(location, order),
            is_remote(order.ship_province),
            (order.ship_country or "CN").upper(),
            province_key(order.ship_province),
        )
    capabilities = order.capability_list
    kind = order.required_service_kind
    cold = "cold_chain" in capabilities or kind == ServiceKind.COLD_CHAIN
    freight = "bulky" in capabilities or kind == ServiceKind.FREIGHT
    key = (*dest, cold, freight, weight_g)
    if key in cards.prices:
        return cards.prices[key]
    price = cards.prices[key] = _cheapest(cards.services, *key)
    return price


def _cheapest(services, zone: str, remote: bool, country: str, province: str, cold: bool, freight: bool, weight_g: int):
    best = None
    for service, zone_rows, countries, provinces in services:
        if countries and country not in countries:
            continue
        if provinces and province not in provinces:
            continue
        if service.max_weight_g is not None and weight_g > service.max_weight_g:
            continue
        if cold and not service.cold_chain:
            continue
        if freight and not service.freight:
            continue
        price = _price(service, zone_rows, zone, weight_g, remote)
        if price is not None and (best is None or price < best):
            best = price
    return best


def connect() -> None:
    """Register with routing and forget the cached cards when services or rate cards change."""
    routing.register_cost_estimator(estimate)
    for model in (Carrier, ServiceLevel, RateCardRow):
        post_save.connect(routing.routing_cache_clear, sender=model, dispatch_uid=f"routing_cost_{model.__name__}_s")
        post_delete.connect(routing.routing_cache_clear, sender=model, dispatch_uid=f"routing_cost_{model.__name__}_d")
