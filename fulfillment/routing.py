"""Scored, explainable routing (docs/routing.md).

1. **Policy**: the live ``RoutingPolicy`` of lowest rank naming the order's channel or one of its tags,
   else the live default policy, else ``BUILTIN`` (the model's default weights, ship complete).
2. **Hard constraints** per location: handling classes and classification capabilities (cold chain,
   bulky), coverage (a location ships within its own country: ``Location.country`` must equal the
   order's ship-to country), today's capacity (shipments created at the location today, not cancelled,
   against ``Location.daily_capacity``) and stock.
3. **Score** of a plan (one location, or a set of locations when the order has to split), lower wins:
   ``weight_distance`` x km/100 to the destination (``geo.locate`` + haversine) + ``weight_cost`` x the
   shipping cost from the carriers' rate cards (the estimator logistics registers) + ``weight_split`` x
   extra shipments + ``weight_load`` x percent of today's capacity used. Unknown distance or cost counts
   as the worst known one, so a location never wins by lacking data.
4. **Short stock**: ship complete holds STOCK_SHORT; otherwise (or when the channel's stock policy is
   "force") what can ship is reserved and the rest becomes ``Backorder`` rows, routed again by
   ``backorders_retry`` when stock arrives.

Every decision stores each candidate (location or set) with its terms, eligibility and verdict.
Reads are batched: one query for lines and products, one for availability, one for today's loads;
locations, policies and channels are cached per process for ``ROUTING_CACHE_SECONDS`` (and for the
whole of a ``routing_batch()``).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from inventory.models import Location, Stock
from inventory.selectors import available_by_location
from inventory.services import StockRequest, stock_reserve
from oms.errors import DomainError, InsufficientStock
from orders.models import Channel, Order, StockPolicy
from orders.services import order_event_record, order_hold, order_lock
from orders.status import EventKind, HoldReason, OrderStatus

from . import geo
from .models import Backorder, RoutingDecision, RoutingPolicy, RoutingPolicyStatus, Shipment, ShipmentLine
from .status import NOT_YET_SHIPPED, ShipmentStatus

POLICY_NEAREST = "nearest"  # the policy name of decisions made before scored routing
BACKORDERED = EventKind.BACKORDERED  # units put on backorder (data {"backordered": {sku: units}})

# What a location must have for each capability classification can require (orders.models.Capability).
CAPABILITY_FIELDS = {"cold_chain": "cold_chain", "bulky": "handles_bulky"}
TERMS = ("distance", "cost", "split", "load")
MAX_SET_CANDIDATES = 8  # split sets are enumerated over the best 8 capable locations at most
# Transit days assumed from the distance for the late risk (the bands of logistics.rating.zone_for).
TRANSIT_BANDS = ((300, 1), (800, 2), (1500, 3))
FAR_TRANSIT_DAYS = 4


def _has_capability(location: Location, capability: str) -> bool:
    field_name = CAPABILITY_FIELDS.get(capability)
    return bool(field_name and getattr(location, field_name))


# ---- policies ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyRules:
    """What routing needs of a policy: a ``RoutingPolicy`` row, or the built-in defaults."""

    code: str = "builtin"
    name: str = "Built-in defaults"
    pk: int | None = None
    weight_distance: float = 1.0
    weight_cost: float = 1.0
    weight_split: float = 10.0
    weight_load: float = 0.1
    ship_complete: bool = True
    allow_split: bool = True
    max_locations: int = 3
    is_default: bool = False
    rank: int = 100
    channel_ids: frozenset = frozenset()
    tags: frozenset = frozenset()

    @classmethod
    def from_model(cls, policy: RoutingPolicy, channel_ids=None) -> PolicyRules:
        if channel_ids is None:
            channel_ids = [c.pk for c in policy.channels.all()] if policy.pk else []
        return cls(
            code=policy.code,
            name=policy.name,
            pk=policy.pk,
            weight_distance=float(policy.weight_distance),
            weight_cost=float(policy.weight_cost),
            weight_split=float(policy.weight_split),
            weight_load=float(policy.weight_load),
            ship_complete=policy.ship_complete,
            allow_split=policy.allow_split,
            max_locations=max(1, policy.max_locations or 1),
            is_default=policy.is_default,
            rank=policy.rank,
            channel_ids=frozenset(channel_ids),
            tags=frozenset(t.strip().lower() for t in policy.tags.split(",") if t.strip()),
        )


# The built-in policy: the model's default weights; ship complete (no backorders unless a policy says so).
BUILTIN = PolicyRules()


# ---- caches -----------------------------------------------------------------------------------------

_cache: dict = {}  # process-wide, for ROUTING_CACHE_SECONDS: {key: (monotonic time, value)}
_local = threading.local()  # the current thread's routing_batch() cache, if any


def _cache_seconds() -> float:
    default = 0 if os.environ.get("OMS_TESTING") else 5
    return float(getattr(settings, "ROUTING_CACHE_SECONDS", default))


def _batch() -> dict | None:
    return getattr(_local, "batch", None)


def routing_cache_clear(**kwargs) -> None:
    """Forget cached locations, policies and channels (connected to their post_save / post_delete)."""
    _cache.clear()
    batch = _batch()
    if batch is not None:
        batch.clear()


@contextmanager
def routing_batch() -> Iterator[None]:
    """Keep locations, policies, channels and shipping-cost estimates for the whole block (bench,
    replays, backorder retries): routing many orders then costs no per-order reference reads.
    Per thread: another thread's routing is not affected."""
    if _batch() is not None:
        yield
        return
    _local.batch = {}
    try:
        yield
    finally:
        _local.batch = None


def _cached(key: str, load: Callable):
    batch = _batch()
    if batch is not None:
        if key not in batch:
            batch[key] = load()
        return batch[key]
    ttl = _cache_seconds()
    if ttl <= 0:
        return load()
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    value = load()
    _cache[key] = (now, value)
    return value


def cached(key: str, load: Callable):
    """Reference data other apps keep with routing's cache (logistics' rate cards): same lifetime."""
    return _cached(key, load)


def _active_locations() -> list[Location]:
    return _cached("locations", lambda: list(Location.objects.filter(active=True).order_by("code")))


def _live_policies() -> list[PolicyRules]:
    def load():
        rows = list(
            RoutingPolicy.objects.filter(status=RoutingPolicyStatus.LIVE)
            .prefetch_related("channels")
            .order_by("rank", "code")
        )
        return [PolicyRules.from_model(p) for p in rows]

    return _cached("policies", load)


def _channel_force(channel_id: int) -> bool:
    policies = _cached("channels", lambda: dict(Channel.objects.values_list("pk", "stock_policy")))
    return policies.get(channel_id) == StockPolicy.FORCE


for _model in (Location, RoutingPolicy, Channel):
    post_save.connect(routing_cache_clear, sender=_model, dispatch_uid=f"routing_cache_{_model.__name__}_save")
    post_delete.connect(routing_cache_clear, sender=_model, dispatch_uid=f"routing_cache_{_model.__name__}_del")
m2m_changed.connect(routing_cache_clear, sender=RoutingPolicy.channels.through, dispatch_uid="routing_cache_m2m")


def policy_for(order: Order) -> PolicyRules:
    """The live policy of lowest rank naming the order's channel or one of its tags, else the live
    default, else the built-in defaults."""
    live = _live_policies()
    tags = set(order.tag_list)
    for policy in live:
        if order.channel_id in policy.channel_ids or tags & policy.tags:
            return policy
    return next((p for p in live if p.is_default), BUILTIN)


# ---- shipping cost: the estimator logistics registers --------------------------------------------

_COST_ESTIMATORS: list[Callable] = []


def register_cost_estimator(fn: Callable) -> None:
    """``fn(location, order, weight_g) -> Decimal | None``: the cheapest shipping cost from a location
    to the order's destination (None: no service can carry it). The last one registered is used."""
    if fn not in _COST_ESTIMATORS:
        _COST_ESTIMATORS.append(fn)


def _cost_memo() -> dict:
    """Estimates kept for one evaluation, or for the whole of a ``routing_batch()``."""
    batch = _batch()
    return batch.setdefault("cost_memo", {}) if batch is not None else {}


def _estimate_cost(location: Location, order: Order, weight_g: int, memo: dict) -> float | None:
    if not _COST_ESTIMATORS:
        return None
    key = (
        location.pk,
        order.ship_country,
        order.ship_province,
        order.ship_city,
        order.ship_postcode,
        order.required_service_kind,
        weight_g,
    )
    if key in memo:
        return memo[key]
    value = _COST_ESTIMATORS[-1](location, order, weight_g)
    memo[key] = float(value) if value is not None else None
    return memo[key]


# ---- evaluation ----------------------------------------------------------------------------------


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


@dataclass
class Plan:
    """Where the units go: {location_id: [(need, quantity)]}, its terms and score."""

    locations: list[Single]
    parts: dict[int, list[tuple[Need, int]]]
    missing: list[tuple[Need, int]]
    terms: dict[str, float] = field(default_factory=dict)
    raw: dict[str, float] = field(default_factory=dict)  # km, cost, shipments, load %
    costs: dict[int, float | None] = field(default_factory=dict)
    score: float = 0.0

    @property
    def codes(self) -> list[str]:
        return [s.location.code for s in self.locations]

    @property
    def shipped_units(self) -> int:
        return sum(q for part in self.parts.values() for _, q in part)

    @property
    def missing_units(self) -> int:
        return sum(q for _, q in self.missing)


@dataclass
class Evaluation:
    policy: PolicyRules
    singles: list[Single]
    plans: list[Plan]  # every plan scored, full ones first by score
    best: Plan | None
    complete: bool  # the best plan ships everything
    force: bool
    candidates: list[dict]
    reason: str
    kind: str  # auto, split, backorder

    @property
    def totals(self) -> dict:
        return _totals(self.best)


def _needs_from_lines(lines) -> list[Need]:
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


def _current_loads(locations) -> dict[int, int]:
    """Today's loads; inside a ``routing_batch()`` read once and counted on as the batch creates shipments
    (other processes' shipments of the same minutes are not seen until the next batch)."""
    ids = [loc.pk for loc in locations if loc.daily_capacity is not None]
    batch = _batch()
    if batch is None:
        return today_loads(ids)
    counted = batch.setdefault(("loads", timezone.localdate()), {})
    missing = [i for i in ids if i not in counted]
    if missing:
        fresh = today_loads(missing)
        counted.update({i: fresh.get(i, 0) for i in missing})
    return counted


def _count_shipment(location_id: int) -> None:
    batch = _batch()
    counted = batch.get(("loads", timezone.localdate())) if batch is not None else None
    if counted is not None and location_id in counted:
        counted[location_id] += 1


def transit_days_estimate(distance_km: float | None) -> int:
    """Working days in transit assumed from the distance (for the late risk; see docs/routing.md)."""
    if distance_km is None:
        return TRANSIT_BANDS[-1][1]
    for limit, days in TRANSIT_BANDS:
        if distance_km <= limit:
            return days
    return FAR_TRANSIT_DAYS


def _add_working_days(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def late_risk(order: Order, distance_km: float | None, *, today: date | None = None) -> bool:
    """True when a shipment leaving today would arrive after the promise date (transit from distance)."""
    if not order.promise_date:
        return False
    today = today or timezone.localdate()
    return _add_working_days(today, transit_days_estimate(distance_km)) > order.promise_date


def _money(value: float, currency: str) -> str:
    symbol = "¥" if currency in ("CNY", "RMB", "JPY") else f"{currency} "
    return f"{symbol}{value:,.2f}"


def _singles(order: Order, needs: list[Need], locations, available, loads) -> list[Single]:
    classes = {n.handling_class for n in needs}
    want: dict[int, int] = {}
    for n in needs:
        want[n.product_id] = want.get(n.product_id, 0) + n.quantity
    sku_of = {n.product_id: n.sku for n in needs}
    place = geo.locate(
        country=order.ship_country, province=order.ship_province, city=order.ship_city, postcode=order.ship_postcode
    )
    result = []
    for location in locations:
        s = Single(location)
        missing = sorted(c for c in classes if not location.can_handle(c))
        if missing:
            s.reasons.append("cannot handle " + ", ".join(missing))
        lacking = [c for c in order.capability_list if not _has_capability(location, c)]
        if lacking:
            s.reasons.append("lacks " + ", ".join(lacking) + " (required by classification)")
        origin = (location.country or "CN").upper()
        dest = (order.ship_country or origin).upper()
        if dest != origin:
            s.reasons.append(f"does not ship to {dest} (ships within {origin})")
        s.used_today = loads.get(location.pk, 0)
        if location.daily_capacity is not None:
            if s.used_today >= location.daily_capacity:
                s.reasons.append(f"at capacity ({s.used_today}/{location.daily_capacity} today)")
            if location.daily_capacity:
                s.load_pct = round(100.0 * s.used_today / location.daily_capacity, 1)
            else:
                s.load_pct = 100.0
        s.capable = not s.reasons
        stock = available.get(location.pk, {})
        short = [sku_of[p] for p, q in want.items() if stock.get(p, 0) < q]
        if short:
            s.reasons.append("short of " + ", ".join(sorted(short)))
        if place and location.latitude is not None and location.longitude is not None:
            s.distance_km = round(
                geo.distance_km(location.latitude, location.longitude, place.latitude, place.longitude), 1
            )
        result.append(s)
    return result


def _candidates(order: Order, lines) -> list[dict]:
    """Every active location for ``lines`` (anything with product_id, quantity, product, sku), eligible
    nearest first: the unscored check reship (fulfillment/reship.py) uses."""
    needs = [Need(0, ln.product_id, ln.sku, ln.quantity, 0, ln.product.handling_class) for ln in lines]
    locations = _active_locations()
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
        for s in _singles(order, needs, locations, available, loads)
    ]
    result.sort(key=lambda c: (not c["eligible"], c["distance_km"] is None, c["distance_km"] or 0, c["location"]))
    return result


def _allocate(members: list[Single], needs: list[Need], available) -> tuple[dict, list]:
    """Each line whole at the first member that has all of it, else spread over the members in order."""
    left = {s.location.pk: dict(available.get(s.location.pk, {})) for s in members}
    parts: dict[int, list[tuple[Need, int]]] = {s.location.pk: [] for s in members}
    missing = []
    for need in needs:
        quantity = need.quantity
        whole = next((s for s in members if left[s.location.pk].get(need.product_id, 0) >= quantity), None)
        targets = [whole] if whole else members
        for s in targets:
            have = left[s.location.pk].get(need.product_id, 0)
            take = min(have, quantity)
            if take > 0:
                left[s.location.pk][need.product_id] = have - take
                parts[s.location.pk].append((need, take))
                quantity -= take
            if quantity == 0:
                break
        if quantity:
            missing.append((need, quantity))
    return parts, missing


def _score(plan: Plan, order: Order, policy: PolicyRules, worst_km: float, worst_cost: dict, memo: dict) -> None:
    km = 0.0
    cost = 0.0
    load = 0.0
    for s in plan.locations:
        weight = sum(n.weight_g * q for n, q in plan.parts[s.location.pk])
        estimate = _estimate_cost(s.location, order, weight, memo)
        plan.costs[s.location.pk] = estimate
        cost += estimate if estimate is not None else worst_cost.get(weight, worst_cost.get("order", 0.0))
        km += s.distance_km if s.distance_km is not None else worst_km
        load += s.load_pct
    shipments = len(plan.locations)
    plan.raw = {"distance_km": round(km, 1), "cost": round(cost, 2), "shipments": shipments, "load_pct": round(load, 1)}
    plan.terms = {
        "distance": round(policy.weight_distance * km / 100, 3),
        "cost": round(policy.weight_cost * cost, 3),
        "split": round(policy.weight_split * (shipments - 1), 3),
        "load": round(policy.weight_load * load, 3),
    }
    plan.score = round(sum(plan.terms.values()), 3)


def evaluate(
    order: Order,
    needs: list[Need],
    policy: PolicyRules,
    *,
    available: dict | None = None,
    loads: dict | None = None,
    locations: list[Location] | None = None,
    force: bool | None = None,
    allow_partial: bool | None = None,
) -> Evaluation:
    """Score every location and split set for the units in ``needs`` (pure reads, no writes)."""
    locations = _active_locations() if locations is None else locations
    if available is None:
        available = available_by_location(product_ids={n.product_id for n in needs})
    if loads is None:
        loads = _current_loads(locations)
    force = _channel_force(order.channel_id) if force is None else force
    partial = (not policy.ship_complete or force) if allow_partial is None else allow_partial
    singles = _singles(order, needs, locations, available, loads)
    capable = [s for s in singles if s.capable]
    known_km = [s.distance_km for s in capable if s.distance_km is not None]
    worst_km = max(known_km) if known_km else 0.0
    total_weight = sum(n.weight_g * n.quantity for n in needs)
    memo = _cost_memo()
    known_cost = [c for c in (_estimate_cost(s.location, order, total_weight, memo) for s in capable) if c is not None]
    worst_cost = {"order": max(known_cost) if known_cost else 0.0}

    # Singles first (ranked by their own score for the whole order), then sets of the best capable ones.
    plans: list[Plan] = []
    for s in capable:
        parts, missing = _allocate([s], needs, available)
        plan = Plan([s], parts, missing)
        _score(plan, order, policy, worst_km, worst_cost, memo)
        plans.append(plan)
    ranked = [p.locations[0] for p in sorted(plans, key=lambda p: (p.score, p.codes))]
    best_single = min((p.score for p in plans if not p.missing), default=None)
    weights = (policy.weight_distance, policy.weight_cost, policy.weight_split, policy.weight_load)
    # With no negative weight a set scores at least the split penalty: a whole single at or under it wins.
    hopeless = best_single is not None and min(weights) >= 0 and best_single <= policy.weight_split
    if policy.allow_split and policy.max_locations > 1 and not hopeless:
        pool = [s for s in ranked if any(available.get(s.location.pk, {}).get(n.product_id, 0) for n in needs)]
        pool = pool[:MAX_SET_CANDIDATES]
        for size in range(2, min(policy.max_locations, len(pool)) + 1):
            for members in itertools.combinations(pool, size):
                parts, missing = _allocate(list(members), needs, available)
                if any(not part for part in parts.values()):
                    continue  # a member ships nothing: the smaller set is already counted
                plan = Plan(list(members), parts, missing)
                _score(plan, order, policy, worst_km, worst_cost, memo)
                plans.append(plan)
    total = sum(n.quantity for n in needs)
    full = sorted((p for p in plans if not p.missing), key=lambda p: (p.score, len(p.locations), p.codes))
    best, complete, kind = None, False, "auto"
    if full:
        best, complete = full[0], True
        kind = "split" if len(best.locations) > 1 else "auto"
    elif force and partial:
        # Trust the channel: the best capable single location anyway, what it has now, the rest waits.
        singles_plans = [p for p in plans if len(p.locations) == 1]
        if singles_plans:
            best = min(singles_plans, key=lambda p: (-p.shipped_units, p.score, p.codes))
            kind = "backorder"
    elif partial:
        shipping = [p for p in plans if p.shipped_units > 0]
        if shipping:
            best = min(shipping, key=lambda p: (-p.shipped_units, p.score, len(p.locations), p.codes))
            kind = "backorder"
    others = [p for p in plans if p is not best]
    others.sort(key=lambda p: (bool(p.missing), p.score, len(p.locations), p.codes))
    ordered = ([best] if best else []) + others
    candidates = _explain(order, singles, ordered, best, complete, total)
    reason = _reason(order, policy, best, complete, ordered, force)
    return Evaluation(policy, singles, ordered, best, complete, force, candidates, reason, kind)


def _compare(plan: Plan, other: Plan, currency: str, *, winner: bool) -> str:
    """The term that separates two plans most, in words ("cheaper by ¥3.20", "farther by 120 km")."""
    diffs = {t: other.terms[t] - plan.terms[t] for t in TERMS}  # plan is the better one
    term = max(TERMS, key=lambda t: diffs[t])
    if diffs[term] <= 0:
        return "same score" if winner else "same score, later in order"
    a, b = plan, other
    if term == "cost":
        money = _money(b.raw["cost"] - a.raw["cost"], currency)
        return f"cheaper by {money}" if winner else f"dearer by {money}"
    if term == "distance":
        km = f"{b.raw['distance_km'] - a.raw['distance_km']:,.0f} km"
        return f"nearer by {km}" if winner else f"farther by {km}"
    if term == "split":
        return (
            f"{a.raw['shipments']} shipment(s) instead of {b.raw['shipments']}"
            if winner
            else (f"splits into {b.raw['shipments']} shipments")
        )
    return (
        f"less busy ({a.raw['load_pct']:.0f}% vs {b.raw['load_pct']:.0f}% of today's capacity)"
        if winner
        else (f"busier ({b.raw['load_pct']:.0f}% vs {a.raw['load_pct']:.0f}% of today's capacity)")
    )


def _plan_row(plan: Plan) -> dict:
    return {
        "kind": "set" if len(plan.locations) > 1 else "location",
        "location_id": plan.locations[0].location.pk if len(plan.locations) == 1 else None,
        "location": " + ".join(plan.codes),
        "locations": plan.codes,
        "eligible": not plan.missing,
        "distance_km": plan.raw["distance_km"] if len(plan.locations) > 1 else plan.locations[0].distance_km,
        "cost": plan.raw["cost"],
        "shipments": plan.raw["shipments"],
        "load_pct": plan.raw["load_pct"],
        "terms": plan.terms,
        "score": plan.score,
        "units": plan.shipped_units,
        "missing_units": plan.missing_units,
    }


def _explain(order, singles, ordered: list[Plan], best: Plan | None, complete: bool, total: int) -> list[dict]:
    rows = []
    by_location = {p.locations[0].location.pk: p for p in ordered if len(p.locations) == 1}
    runner_up = next((p for p in ordered if p is not best and not p.missing), None)
    for s in singles:  # every location, eligible or not
        plan = by_location.get(s.location.pk)
        if plan is not None:
            row = _plan_row(plan)
        else:
            row = {
                "kind": "location",
                "location_id": s.location.pk,
                "location": s.location.code,
                "locations": [s.location.code],
                "eligible": False,
                "distance_km": s.distance_km,
                "cost": None,
                "shipments": 1,
                "load_pct": s.load_pct,
                "terms": {},
                "score": None,
                "units": 0,
                "missing_units": total,
            }
        row["eligible"] = not s.reasons
        row["reasons"] = list(s.reasons)
        rows.append((plan, row))
    # Sets: the full ones (and the chosen partial one), best first, ten at most.
    sets = [p for p in ordered if len(p.locations) > 1 and (not p.missing or p is best)][:10]
    for plan in sets:
        row = _plan_row(plan)
        row["reasons"] = [] if not plan.missing else [f"short of {plan.missing_units} unit(s)"]
        rows.append((plan, row))
    result = []
    for plan, row in rows:
        row["chosen"] = plan is not None and plan is best
        if row["chosen"]:
            if not complete:
                row["verdict"] = f"chosen: ships {plan.shipped_units} of {total} unit(s) now, the rest is backordered"
            elif runner_up is None:
                row["verdict"] = (
                    f"chosen: the only {'set' if len(plan.locations) > 1 else 'location'} that can ship all of it"
                )
            else:
                row["verdict"] = (
                    f"chosen: lowest score {plan.score:g}; {_compare(plan, runner_up, order.currency, winner=True)}"
                    f" than {' + '.join(runner_up.codes)}"
                )
        elif row["reasons"]:
            row["verdict"] = "; ".join(row["reasons"])
        elif plan is not None and best is not None:
            row["verdict"] = f"score {plan.score:g}: {_compare(best, plan, order.currency, winner=False)}"
        else:
            row["verdict"] = "not chosen"
        result.append(row)
    result.sort(key=lambda r: (not r["chosen"], not r["eligible"], r["score"] is None, r["score"] or 0, r["location"]))
    return result


def _reason(order, policy: PolicyRules, best: Plan | None, complete: bool, ordered, force: bool) -> str:
    if best is None:
        return (
            "No location can ship the whole order."
            if policy.ship_complete and not force
            else ("No location can ship any of the order.")
        )
    terms = ", ".join(f"{t} {best.terms[t]:g}" for t in TERMS)
    where = " + ".join(best.codes)
    if not complete:
        why = "channel trusts its stock (force)" if force else "policy ships what is available"
        return (
            f"{where} ships {best.shipped_units} unit(s) now, {best.missing_units} backordered ({why}); "
            f"score {best.score:g} ({terms}), policy {policy.code}."
        )[:255]
    what = f"split over {where}" if len(best.locations) > 1 else where
    return f"{what}: lowest score {best.score:g} ({terms}), policy {policy.code}."[:255]


def _totals(plan: Plan | None, order: Order | None = None) -> dict:
    if plan is None:
        return {"cost": None, "distance_km": None, "shipments": 0, "backordered": 0, "late_risk": 0, "score": None}
    risk = 0
    if order is not None:
        risk = sum(1 for s in plan.locations if late_risk(order, s.distance_km))
    return {
        "cost": plan.raw["cost"],
        "distance_km": plan.raw["distance_km"],
        "shipments": plan.raw["shipments"],
        "backordered": plan.missing_units,
        "late_risk": risk,
        "score": plan.score,
    }


def _plan_json(plan: Plan) -> list[dict]:
    return [
        {
            "location_id": s.location.pk,
            "location": s.location.code,
            "lines": [
                {"order_line": n.order_line_id, "product": n.product_id, "sku": n.sku, "quantity": q}
                for n, q in plan.parts[s.location.pk]
            ],
            "cost": plan.costs.get(s.location.pk),
            "distance_km": s.distance_km,
        }
        for s in plan.locations
    ]


# ---- writes ------------------------------------------------------------------------------------


def _reserve(order: Order, plan: Plan, user) -> None:
    stock_reserve(
        requests=[StockRequest(loc_id, need.product_id, q) for loc_id, part in plan.parts.items() for need, q in part],
        reference=order.number,
        user=user,
    )


def _create_shipments(order: Order, plan: Plan) -> list[Shipment]:
    shipments = []
    for s in plan.locations:
        if not plan.parts[s.location.pk]:
            continue  # "force" with nothing on hand: everything is backordered, no empty shipment
        shipment = Shipment.objects.create(order=order, location=s.location)
        shipment.number = f"SH{100000 + shipment.pk}"
        shipment.save(update_fields=["number"])
        ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=shipment, order_line_id=n.order_line_id, product_id=n.product_id, quantity=q)
            for n, q in plan.parts[s.location.pk]
        )
        shipments.append(shipment)
        _count_shipment(s.location.pk)
    return shipments


def _decide(
    order, needs, policy, user, *, exclude: set[int] | None = None, only: int | None = None, allow_partial=None
) -> tuple[Evaluation, list[Shipment]]:
    """Evaluate and reserve the best plan; when stock was taken meanwhile, read again (three tries)."""
    for attempt in range(3):
        locations = [loc for loc in _active_locations() if loc.pk not in (exclude or set())]
        if only is not None:
            locations = [loc for loc in locations if loc.pk == only]
        policy_used = replace(policy, allow_split=False) if only is not None else policy
        evaluation = evaluate(order, needs, policy_used, locations=locations, allow_partial=allow_partial)
        if evaluation.best is None or evaluation.best.shipped_units == 0:
            return evaluation, []
        try:
            _reserve(order, evaluation.best, user)  # atomic itself: a savepoint, rolled back on failure
        except InsufficientStock:
            if attempt == 2:
                evaluation.best = None
                evaluation.reason = "Stock was taken by other orders while routing; try again."
                return evaluation, []
            continue
        return evaluation, _create_shipments(order, evaluation.best)
    raise AssertionError("unreachable")


def _record(order, evaluation: Evaluation, shipments, user, *, kind=None, note="") -> RoutingDecision:
    best = evaluation.best
    return RoutingDecision.objects.create(
        order=order,
        policy=evaluation.policy.code,
        policy_ref_id=evaluation.policy.pk,
        kind=kind or evaluation.kind,
        chosen=best.locations[0].location if best else None,
        candidates=evaluation.candidates,
        plan=_plan_json(best) if best else [],
        score=Decimal(str(best.score)) if best else None,
        totals=_totals(best, order),
        reason=evaluation.reason[:255],
        note=note[:255],
        user=user if getattr(user, "pk", None) else None,
    )


def _backorder(order, evaluation: Evaluation, decision, user) -> list[Backorder]:
    best = evaluation.best
    rows = [
        Backorder(order=order, order_line_id=n.order_line_id, product_id=n.product_id, quantity=q)
        for n, q in best.missing
    ]
    Backorder.objects.bulk_create(rows)
    summary = ", ".join(f"{n.sku} x{q}" for n, q in best.missing)
    order_event_record(
        order=order,
        kind=BACKORDERED,
        user=user,
        message=f"Backordered {summary}: no location has it now; it ships when stock arrives."[:500],
        data={"decision": decision.pk, "backordered": {n.sku: q for n, q in best.missing}},
    )
    return rows


def _sync(order, user):
    from .services import _sync_order  # the one place that derives the order's status from its shipments

    _sync_order(order, user=user)


def _short_note(candidates: list[dict]) -> str:
    parts = [f"{c['location']}: {'; '.join(c['reasons'])}" for c in candidates if c.get("reasons")]
    return (" | ".join(parts) or "no active location")[:255]


def _routed_message(evaluation: Evaluation, shipments: list[Shipment]) -> str:
    names = ", ".join(f"{s.location.name} ({s.number})" for s in shipments)
    head = f"Split over {names}." if len(shipments) > 1 else f"Routed to {shipments[0].location.name}."
    return f"{head} {evaluation.reason}"[:500]


@transaction.atomic
def order_route(*, order_id: int, user=None) -> RoutingDecision | None:
    """Route a confirmed order under its policy and reserve stock (see the module docstring).

    A no-op (returns None) when the order is not waiting for routing: safe to deliver twice.
    """
    order = order_lock(order_id)
    if order.status != OrderStatus.CONFIRMED or order.on_hold:
        return None
    if order.shipments.exclude(status=ShipmentStatus.CANCELLED).exists():
        return None
    if order.backorders.filter(resolved_at__isnull=True).exists():
        return None  # waiting for stock: backorders_retry routes it
    lines = list(order.lines.select_related("product").order_by("line_no", "pk"))
    if any(line.product_id is None for line in lines):
        order_hold(order=order, reason=HoldReason.UNKNOWN_SKU, note="a line has no product", user=user)
        return None
    policy = policy_for(order)
    needs = _needs_from_lines(lines)
    evaluation, shipments = _decide(order, needs, policy, user)
    decision = _record(order, evaluation, shipments, user)
    if evaluation.best is None:
        order_event_record(
            order=order,
            kind=EventKind.ROUTING_FAILED,
            user=user,
            message=evaluation.reason,
            data={"decision": decision.pk},
        )
        order_hold(order=order, reason=HoldReason.STOCK_SHORT, note=_short_note(evaluation.candidates), user=user)
        return decision
    if shipments:
        order_event_record(
            order=order,
            kind=EventKind.ROUTED,
            user=user,
            message=_routed_message(evaluation, shipments),
            data={"decision": decision.pk, "shipment": shipments[0].number, "shipments": [s.number for s in shipments]},
        )
    if evaluation.best.missing:
        _backorder(order, evaluation, decision, user)
    _sync(order, user)
    return decision


# ---- backorders --------------------------------------------------------------------------------


@transaction.atomic
def backorder_route(*, order_id: int, user=None) -> RoutingDecision | None:
    """Route an order's open backorders: what can ship now goes out in new shipments, the rest waits."""
    order = order_lock(order_id)
    if order.on_hold or order.status == OrderStatus.CANCELLED:
        return None
    open_rows = list(
        order.backorders.select_for_update(of=("self",))
        .filter(resolved_at__isnull=True)
        .select_related("order_line", "product")
        .order_by("pk")
    )
    if not open_rows:
        return None
    needs = [
        Need(
            b.order_line_id,
            b.product_id,
            b.order_line.sku,
            b.quantity,
            b.product.weight_g or 0,
            b.product.handling_class,
        )
        for b in open_rows
    ]
    policy = policy_for(order)
    evaluation, shipments = _decide(order, needs, policy, user, allow_partial=True)
    if evaluation.best is None or not shipments:
        return None  # nothing arrived yet: no decision row for every retry
    decision = _record(order, evaluation, shipments, user, kind="backorder")
    now = timezone.now()
    shipped: dict[int, int] = {}
    shipment_of: dict[int, Shipment] = {}
    by_location = {s.location_id: s for s in shipments}
    for loc_id, part in evaluation.best.parts.items():
        for need, q in part:
            shipped[need.order_line_id] = shipped.get(need.order_line_id, 0) + q
            shipment_of.setdefault(need.order_line_id, by_location[loc_id])
    for row in open_rows:
        take = min(row.quantity, shipped.get(row.order_line_id, 0))
        if not take:
            continue
        shipped[row.order_line_id] -= take
        if take < row.quantity:  # part of it ships: the rest stays open as a new row
            Backorder.objects.create(
                order=order, order_line_id=row.order_line_id, product_id=row.product_id, quantity=row.quantity - take
            )
            row.quantity = take
        row.resolved_at = now
        row.shipment = shipment_of[row.order_line_id]
        row.save(update_fields=["quantity", "resolved_at", "shipment"])
    order_event_record(
        order=order,
        kind=EventKind.ROUTED,
        user=user,
        message=f"Backorder: {_routed_message(evaluation, shipments)}"[:500],
        data={"decision": decision.pk, "shipment": shipments[0].number, "shipments": [s.number for s in shipments]},
    )
    _sync(order, user)
    return decision


def backorders_retry(*, user=None, limit: int = 500) -> int:
    """Route open backorders now that stock may have arrived (beat job, button). Returns decisions made."""
    order_ids = list(
        Backorder.objects.filter(resolved_at__isnull=True, order__on_hold=False)
        .exclude(order__status=OrderStatus.CANCELLED)
        .order_by("order__priority", "order_id")
        .values_list("order_id", flat=True)
        .distinct()[: limit * 4]
    )
    seen: list[int] = []
    for order_id in order_ids:
        if order_id not in seen:
            seen.append(order_id)
    routed = 0
    with routing_batch():
        for order_id in seen[:limit]:
            if backorder_route(order_id=order_id, user=user) is not None:
                routed += 1
    return routed


def backorders_cancel(*, order: Order) -> int:
    """An order cancelled: its open backorders are closed (nothing will ship)."""
    return order.backorders.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())


def lock_stock_rows(location_ids, product_ids) -> None:
    """Lock the stock rows of these locations and products in the one lock order ((location_id,
    product_id), docs/architecture.md) before a transaction writes several of them in separate passes
    (a reroute releases at one location and reserves at another): the later guarded UPDATEs then never
    wait, and two such transactions never wait on each other in a cycle."""
    list(
        Stock.objects.select_for_update(of=("self",))
        .filter(location_id__in=set(location_ids), product_id__in=set(product_ids))
        .order_by("location_id", "product_id")
        .values_list("pk", flat=True)
    )


# ---- reroute -----------------------------------------------------------------------------------


@transaction.atomic
def order_reroute(*, order: Order, reason: str, location: Location | None = None, user=None) -> RoutingDecision:
    """Move an order's reserved, not yet picked shipments to ``location`` (or the best other location)
    with a reason: the old reservations are released, the new ones made, all or nothing."""
    from .services import _release_shipment

    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for rerouting.")
    order = order_lock(order.pk)
    shipments = list(
        order.shipments.select_for_update(of=("self",))
        .filter(status__in=NOT_YET_SHIPPED)
        .select_related("location")
        .prefetch_related("lines__product", "lines__order_line")
        .order_by("pk")
    )
    if not shipments:
        raise DomainError(f"Order {order.number} has no open shipment to reroute.")
    for s in shipments:
        if s.status != ShipmentStatus.RESERVED or s.picklist_id:
            raise DomainError(f"Shipment {s.number} is already being picked; it can no longer be rerouted.")
        if s.merged_into_id or s.merged_members.exists():
            raise DomainError(f"Shipment {s.number} is merged with another order's; undo the merge first.")
    old = {s.location_id for s in shipments}
    if location is not None:
        if not location.active:
            raise DomainError(f"{location.code} is not active.")
        if old == {location.pk}:
            raise DomainError(f"Order {order.number} already ships from {location.code}.")
    needs = [
        Need(
            ln.order_line_id,
            ln.product_id,
            ln.order_line.sku,
            ln.quantity,
            ln.product.weight_g or 0,
            ln.product.handling_class,
        )
        for s in shipments
        for ln in s.lines.all()
    ]
    old_codes = ", ".join(sorted({s.location.code for s in shipments}))
    lock_stock_rows(old | {loc.pk for loc in _active_locations()}, {n.product_id for n in needs})
    for s in shipments:
        s.order = order
        _release_shipment(s, user=user, reason=f"rerouted: {reason}")
    policy = policy_for(order)
    evaluation, new_shipments = _decide(
        order,
        needs,
        policy,
        user,
        exclude=None if location is not None else old,
        only=location.pk if location is not None else None,
        allow_partial=False,
    )
    if not new_shipments:
        where = location.code if location is not None else "any other location"
        row = next((c for c in evaluation.candidates if location is not None and c["location_id"] == location.pk), None)
        why = f": {row['verdict']}" if row and row.get("reasons") else ""
        raise DomainError(f"{where} cannot ship all of it{why}.")
    decision = _record(order, evaluation, new_shipments, user, kind="reroute", note=reason)
    new_codes = ", ".join(s.location.code for s in new_shipments)
    order_event_record(
        order=order,
        kind=EventKind.ROUTED,
        user=user,
        message=f"Rerouted from {old_codes} to {new_codes}. Reason: {reason}"[:500],
        data={
            "decision": decision.pk,
            "shipment": new_shipments[0].number,
            "reroute": True,
            "reason": reason,
            "from": old_codes,
            "to": new_codes,
        },
    )
    _sync(order, user)
    return decision


def reroute_blocker(order: Order) -> str | None:
    """Why the order cannot be rerouted now (None: it can)."""
    shipments = [s for s in order.shipments.all() if s.status in NOT_YET_SHIPPED]
    if not shipments:
        return "no open shipment"
    if any(s.status != ShipmentStatus.RESERVED or s.picklist_id for s in shipments):
        return "already being picked"
    return None


# ---- dry run and replay -----------------------------------------------------------------------


def order_dry_run(*, order: Order, policy: RoutingPolicy | PolicyRules | None = None) -> Evaluation:
    """What routing would decide for the whole order now under ``policy`` (default: the order's own).
    Reads only: no lock, no reservation, no decision row."""
    lines = list(order.lines.select_related("product").order_by("line_no", "pk"))
    lines = [ln for ln in lines if ln.product_id is not None]
    if not lines:
        raise DomainError(f"Order {order.number} has no line with a known product.")
    if isinstance(policy, RoutingPolicy):
        policy = PolicyRules.from_model(policy)
    return evaluate(order, _needs_from_lines(lines), policy or policy_for(order))


REPLAY_KEYS = (
    "orders",
    "routed",
    "unroutable",
    "cost",
    "shipments",
    "split_orders",
    "distance_km",
    "late_risk",
    "backordered",
)


def _replay_sums() -> dict:
    return {k: 0 for k in REPLAY_KEYS}


def replay_orders(replay):
    return (
        Order.objects.filter(created_at__date__gte=replay.period_start, created_at__date__lte=replay.period_end)
        .exclude(status=OrderStatus.RECEIVED)
        .prefetch_related("lines__product")
        .order_by("pk")
    )


def replay_compute(*, policy: PolicyRules, baseline: PolicyRules | None, orders, limit: int = 5000) -> dict:
    """Each order evaluated independently against today's stock on hand (not net of reservations) and
    no capacity use, under the policy and under the baseline (None: each order's live policy)."""
    from inventory.models import Stock

    on_hand: dict[int, dict[int, int]] = {}
    for loc, prod, qty in Stock.objects.filter(location__active=True).values_list(
        "location_id", "product_id", "on_hand"
    ):
        on_hand.setdefault(loc, {})[prod] = qty
    sums = {"policy": _replay_sums(), "baseline": _replay_sums()}
    changed = []
    count = 0
    for order in orders[:limit]:
        lines = [ln for ln in order.lines.all() if ln.product_id is not None]
        if not lines:
            continue
        count += 1
        needs = _needs_from_lines(lines)
        row = {"order": order.number}
        for side, rules in (("policy", policy), ("baseline", baseline or policy_for(order))):
            ev = evaluate(order, needs, rules, available=on_hand, loads={})
            total = sums[side]
            total["orders"] += 1
            if ev.best is None:
                total["unroutable"] += 1
                row[side] = "—"
                continue
            t = _totals(ev.best, order)
            total["routed"] += 1
            total["cost"] += t["cost"] or 0
            total["shipments"] += t["shipments"]
            total["split_orders"] += 1 if t["shipments"] > 1 else 0
            total["distance_km"] += t["distance_km"] or 0
            total["late_risk"] += 1 if t["late_risk"] else 0
            total["backordered"] += t["backordered"]
            row[side] = " + ".join(ev.best.codes)
            row[side + "_cost"] = t["cost"]
        if row.get("policy") != row.get("baseline") and len(changed) < 200:
            changed.append(row)
    for total in sums.values():
        total["cost"] = round(total["cost"], 2)
        total["distance_km"] = round(total["distance_km"], 1)
    delta = {k: round(sums["policy"][k] - sums["baseline"][k], 2) for k in REPLAY_KEYS}
    return {"policy": sums["policy"], "baseline": sums["baseline"], "delta": delta, "changed": changed, "orders": count}


def replay_run(*, replay_id: int) -> None:
    """Run a ``RoutingReplay`` (the Celery task's body). Reserves nothing, writes only the replay row."""
    from .models import RoutingReplay

    replay = RoutingReplay.objects.select_related("policy", "baseline").get(pk=replay_id)
    if replay.status not in ("queued", "failed"):
        return
    RoutingReplay.objects.filter(pk=replay.pk).update(status="running")
    try:
        with routing_batch():
            policy = PolicyRules.from_model(replay.policy)
            baseline = PolicyRules.from_model(replay.baseline) if replay.baseline else None
            results = replay_compute(policy=policy, baseline=baseline, orders=replay_orders(replay))
    except Exception as exc:  # recorded on the row for the page; the task does not retry
        RoutingReplay.objects.filter(pk=replay.pk).update(
            status="failed", error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    RoutingReplay.objects.filter(pk=replay.pk).update(
        status="done", results=results, orders=results["orders"], finished_at=timezone.now(), error=""
    )
