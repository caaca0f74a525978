"""Hard constraints per location: what can ship the order at all.

A location is capable when it handles every line's handling class and has each classification
capability the order requires (cold chain, bulky), ships to the order's country (``Location.country``
must equal the ship-to country) and is under today's capacity (shipments created at the location today,
not cancelled, against ``Location.daily_capacity``); it is short when it lacks stock. Each location's
distance to the destination (``geo.locate`` + haversine) is measured here for the score.

Today's loads are read in one query; inside a ``routing_batch()`` they are read once and counted on as
the batch creates shipments. ``unscored_candidates`` is the unscored check reship uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count
from django.utils import timezone

from inventory.models import Location
from inventory.selectors import available_by_location
from orders.models import Order

from .. import geo
from ..models import Shipment
from ..status import ShipmentStatus
from .policies import active_batch, routing_locations
from .words import AT_CAPACITY, CANNOT_HANDLE, LACKS, NOT_TO, SHORT_OF_SKUS

# What a location must have for each capability classification can require (orders.models.Capability).
CAPABILITY_FIELDS = {"cold_chain": "cold_chain", "bulky": "handles_bulky"}


def has_capability(location: Location, capability: str) -> bool:
    """Whether the location has a handling capability (cold chain, hazmat ...) by its flag."""
    field_name = CAPABILITY_FIELDS.get(capability)
    return bool(field_name and getattr(location, field_name))


@dataclass
class Need:
    """Units of one order line to route (all of it, or what a backorder or reroute moves)."""

    order_line_id: int
    product_id: int
    sku: str
    quantity: int
    weight_g: int
    handling_class: str


@dataclass
class Single:
    location: Location
    reasons: list[str] = field(default_factory=list)
    capable: bool = True  # meets every hard constraint but stock
    distance_km: float | None = None
    used_today: int = 0
    load_pct: float = 0.0


def needs_from_lines(lines) -> list[Need]:
    """What routing needs from order lines (or anything shaped like them), one ``Need`` per line."""
    return [
        Need(ln.pk, ln.product_id, ln.sku, ln.quantity, ln.product.weight_g or 0, ln.product.handling_class)
        for ln in lines
    ]


def _today_start(now: datetime) -> datetime:
    local = timezone.localtime(now) if timezone.is_aware(now) else now
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def today_loads(location_ids, *, now: datetime | None = None) -> dict[int, int]:
    """Shipments created today (not cancelled) per location: one query."""
    if not location_ids:
        return {}
    rows = (
        Shipment.objects.filter(location_id__in=location_ids, created_at__gte=_today_start(now or timezone.now()))
        .exclude(status=ShipmentStatus.CANCELLED)
        .values("location_id")
        .annotate(n=Count("id"))
        .values_list("location_id", "n")
        .order_by()
    )
    return dict(rows)


def current_loads(locations) -> dict[int, int]:
    """Today's loads; inside a ``routing_batch()`` read once and counted on as the batch creates shipments
    (other processes' shipments of the same minutes are not seen until the next batch)."""
    ids = [loc.pk for loc in locations if loc.daily_capacity is not None]
    batch = active_batch()
    if batch is None:
        return today_loads(ids)
    counted = batch.setdefault(("loads", timezone.localdate()), {})
    missing = [i for i in ids if i not in counted]
    if missing:
        fresh = today_loads(missing)
        counted.update({i: fresh.get(i, 0) for i in missing})
    return counted


def count_shipment(location_id: int) -> None:
    """Count a shipment just created at a location in the batch's loads of today."""
    batch = active_batch()
    counted = batch.get(("loads", timezone.localdate())) if batch is not None else None
    if counted is not None and location_id in counted:
        counted[location_id] += 1


def single_options(order: Order, needs: list[Need], locations, available, loads) -> list[Single]:
    """Each location on its own for the order: the hard constraints it fails (its reasons), its load today, what it
    has of each need."""
    classes = frozenset(n.handling_class for n in needs)
    want: dict[int, int] = {}
    for n in needs:
        want[n.product_id] = want.get(n.product_id, 0) + n.quantity
    sku_of = {n.product_id: n.sku for n in needs}
    distances = _distances(order, locations)
    batch = active_batch()
    fixed = batch.setdefault("constraints", {}) if batch is not None else {}
    capabilities, country = order.required_capabilities, order.ship_country
    result = []
    for location in locations:
        key = (location.pk, classes, capabilities, country)
        reasons = fixed.get(key)
        if reasons is None:
            reasons = fixed[key] = _fixed_reasons(location, classes, order)
        s = Single(location, list(reasons))
        s.used_today = loads.get(location.pk, 0)
        if location.daily_capacity is not None:
            if s.used_today >= location.daily_capacity:
                s.reasons.append(AT_CAPACITY % {"used": s.used_today, "capacity": location.daily_capacity})
            if location.daily_capacity:
                s.load_pct = round(100.0 * s.used_today / location.daily_capacity, 1)
            else:
                s.load_pct = 100.0
        s.capable = not s.reasons
        stock = available.get(location.pk, {})
        short = [sku_of[p] for p, q in want.items() if stock.get(p, 0) < q]
        if short:
            s.reasons.append(SHORT_OF_SKUS % {"skus": ", ".join(sorted(short))})
        s.distance_km = distances.get(location.pk)
        result.append(s)
    return result


def _fixed_reasons(location: Location, classes, order: Order) -> tuple[str, ...]:
    """The hard constraints a location fails for an order that do not change within a batch: handling classes,
    the capabilities classification requires, the ship-to country (inside a ``routing_batch()`` worked out once
    per location, classes, capabilities and country)."""
    reasons = []
    missing = sorted(c for c in classes if not location.can_handle(c))
    if missing:
        reasons.append(CANNOT_HANDLE % {"classes": ", ".join(missing)})
    lacking = [c for c in order.capability_list if not has_capability(location, c)]
    if lacking:
        reasons.append(LACKS % {"capabilities": ", ".join(lacking)})
    origin = (location.country or "CN").upper()
    dest = (order.ship_country or origin).upper()
    if dest != origin:
        reasons.append(NOT_TO % {"dest": dest, "origin": origin})
    return tuple(reasons)


def _distances(order: Order, locations) -> dict[int, float]:
    """Each location's distance (km, one decimal) to the order's destination; locations or destinations
    without coordinates are left out. Inside a ``routing_batch()`` worked out once per destination."""
    where = (order.ship_country, order.ship_province, order.ship_city, order.ship_postcode)
    batch = active_batch()
    memo = batch.setdefault("distances", {}) if batch is not None else {}
    key = (where, tuple(loc.pk for loc in locations))
    known = memo.get(key)
    if known is not None:
        return known
    place = geo.locate(country=where[0], province=where[1], city=where[2], postcode=where[3])
    known = memo[key] = {
        location.pk: round(geo.distance_km(location.latitude, location.longitude, place.latitude, place.longitude), 1)
        for location in locations
        if place and location.latitude is not None and location.longitude is not None
    }
    return known


def unscored_candidates(order: Order, lines) -> list[dict]:
    """Every active location for ``lines`` (anything with product_id, quantity, product, sku), eligible
    nearest first: the unscored check reship (fulfillment/reship.py) uses."""
    needs = [Need(0, ln.product_id, ln.sku, ln.quantity, 0, ln.product.handling_class) for ln in lines]
    locations = routing_locations()
    loads = today_loads([loc.pk for loc in locations if loc.daily_capacity is not None])
    available = available_by_location(product_ids={n.product_id for n in needs})
    result = [
        {
            "location_id": s.location.pk,
            "location": s.location.code,
            "eligible": not s.reasons,
            "distance_km": s.distance_km,
            "score": s.distance_km,
            "reasons": s.reasons,
        }
        for s in single_options(order, needs, locations, available, loads)
    ]
    result.sort(key=lambda c: (not c["eligible"], c["distance_km"] is None, c["distance_km"] or 0, c["location"]))
    return result
