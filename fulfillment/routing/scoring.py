"""Scoring: plans (one location, or a split set), their score terms, and the explanation stored.

The score of a plan, lower wins: ``weight_distance`` x km/100 to the destination + ``weight_cost`` x the
shipping cost from the carriers' rate cards (the estimator logistics registers with
``register_cost_estimator``) + ``weight_split`` x extra shipments + ``weight_load`` x percent of today's
capacity used + ``weight_balance`` x percent of the location's available stock the order takes
(averaged over its lines; 0 by default: it keeps scarce stock for orders only that location can serve).
Unknown distance or cost counts as the worst known one, so a location never wins by lacking data.
Split sets are enumerated over the best ``MAX_SET_CANDIDATES`` capable locations, up to the policy's
``max_locations``.

``evaluate`` is pure reads: every candidate (location or set) with its terms, eligibility and verdict,
the reason in words, and the totals (cost, distance, shipments, backordered units, late risk).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from django.utils import timezone

from inventory.models import Location
from inventory.selectors import available_by_location
from oms.dates import add_business_days
from orders.models import Order

from .candidates import Need, Single, current_loads, single_options
from .explanation import TERMS, compact, rows
from .policies import PolicyRules, active_batch, channel_force, routing_locations
from .words import (
    NONE_ANY,
    NONE_WHOLE,
    PARTIAL_REASON,
    SINGLE_REASON,
    SPLIT_REASON,
    WHY_FORCE,
    WHY_POLICY,
)

MAX_SET_CANDIDATES = 8  # split sets are enumerated over the best 8 capable locations at most
# Transit days assumed from the distance for the late risk (the bands of logistics.rating.zone_for).
TRANSIT_BANDS = ((300, 1), (800, 2), (1500, 3))
FAR_TRANSIT_DAYS = 4


# ---- shipping cost: the estimator logistics registers --------------------------------------------

_COST_ESTIMATORS: list[Callable] = []


def register_cost_estimator(fn: Callable) -> None:
    """``fn(location, order, weight_g) -> Decimal | None``: the cheapest shipping cost from a location
    to the order's destination (None: no service can carry it). The last one registered is used."""
    if fn not in _COST_ESTIMATORS:
        _COST_ESTIMATORS.append(fn)


def cost_memo() -> dict:
    """Estimates kept for one evaluation, or for the whole of a ``routing_batch()``."""
    batch = active_batch()
    return batch.setdefault("cost_memo", {}) if batch is not None else {}


def destination_key(order: Order) -> tuple:
    """What a shipping-cost estimate depends on of the order: where it goes and what it needs carried (the
    service kind and the capabilities, e.g. cold chain, pick the services that may carry it)."""
    return (
        order.ship_country,
        order.ship_province,
        order.ship_city,
        order.ship_postcode,
        order.required_service_kind,
        order.required_capabilities,
    )


def estimate_cost(location: Location, order: Order, weight_g: int, memo: dict) -> float | None:
    """The registered estimators' shipping cost for the order from ``location`` (memoized in ``memo`` by the
    location, the order's ``destination_key`` and the weight). None: no estimate."""
    if not _COST_ESTIMATORS:
        return None
    key = (location.pk, destination_key(order), weight_g)
    try:
        return memo[key]
    except KeyError:
        value = _COST_ESTIMATORS[-1](location, order, weight_g)
        memo[key] = value = float(value) if value is not None else None
        return value


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

    # Worked out once (a window reads them for every candidate): a plan's locations and parts are not changed
    # after it is made.
    @cached_property
    def codes(self) -> list[str]:
        return [s.location.code for s in self.locations]

    @cached_property
    def shipped_units(self) -> int:
        return sum(q for part in self.parts.values() for _, q in part)

    @cached_property
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
    explanation: dict  # what the decision stores: compact values (``explanation.compact``)
    reason: str
    kind: str  # auto, split, backorder
    _rows: list[dict] | None = None

    @property
    def candidates(self) -> list[dict]:
        """Every candidate as a row in words (``explanation.rows``), made when asked."""
        if self._rows is None:
            self._rows = rows(self.explanation)
        return self._rows

    @property
    def totals(self) -> dict:
        return plan_totals(self.best)


def transit_days_estimate(distance_km: float | None) -> int:
    """Working days in transit assumed from the distance (for the late risk; see docs/routing.md)."""
    if distance_km is None:
        return TRANSIT_BANDS[-1][1]
    for limit, days in TRANSIT_BANDS:
        if distance_km <= limit:
            return days
    return FAR_TRANSIT_DAYS


def late_risk(order: Order, distance_km: float | None, *, today: date | None = None) -> bool:
    """True when a shipment leaving today would arrive after the promise date (transit from distance)."""
    if not order.promise_date:
        return False
    today = today or timezone.localdate()
    return add_business_days(today, transit_days_estimate(distance_km)) > order.promise_date


def _allocate_one(pk: int, needs: list[Need], available) -> tuple[dict, list]:
    """``_allocate`` for one location: each line takes what the location has of it, the rest is missing."""
    stock = available.get(pk, {})
    left: dict[int, int] = {}
    part, missing = [], []
    for need in needs:
        product = need.product_id
        have = left[product] if product in left else stock.get(product, 0)
        take = have if have < need.quantity else need.quantity
        quantity = need.quantity
        if take > 0:
            left[product] = have - take
            part.append((need, take))
            quantity -= take
        if quantity:
            missing.append((need, quantity))
    return {pk: part}, missing


def _allocate(members: list[Single], needs: list[Need], available) -> tuple[dict, list]:
    """Each line whole at the first member that has all of it, else spread over the members in order."""
    if len(members) == 1:
        return _allocate_one(members[0].location.pk, needs, available)
    wanted = {n.product_id for n in needs}
    left = {}
    for s in members:  # only the needed products (a location's stock of a large window holds hundreds)
        stock = available.get(s.location.pk, {})
        left[s.location.pk] = {p: stock[p] for p in wanted if p in stock}
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


def _stock_taken_pct(plan: Plan, available) -> float:
    """How much of the locations' available stock the plan takes, in percent, averaged over its lines:
    the balance term prefers a location that keeps stock for the orders only it can serve."""
    shares = []
    for pk, part in plan.parts.items():
        on_hand = available.get(pk, {})
        shares += [take / max(on_hand.get(need.product_id, 0), take) for need, take in part if take]
    return 100.0 * sum(shares) / len(shares) if shares else 0.0


def _score(
    plan: Plan,
    order: Order,
    policy: PolicyRules,
    worst_km: float,
    worst_cost: dict,
    memo: dict,
    available=None,
) -> None:
    km = 0.0
    cost = 0.0
    load = 0.0
    taken = _stock_taken_pct(plan, available) if available is not None and policy.weight_balance else 0.0
    for s in plan.locations:
        weight = sum(n.weight_g * q for n, q in plan.parts[s.location.pk])
        estimate = estimate_cost(s.location, order, weight, memo)
        plan.costs[s.location.pk] = estimate
        cost += estimate if estimate is not None else worst_cost.get(weight, worst_cost.get("order", 0.0))
        km += s.distance_km if s.distance_km is not None else worst_km
        load += s.load_pct
    shipments = len(plan.locations)
    plan.raw = {
        "distance_km": round(km, 1),
        "cost": round(cost, 2),
        "shipments": shipments,
        "load_pct": round(load, 1),
        "stock_taken_pct": round(taken, 1),
    }
    plan.terms = {
        "distance": round(policy.weight_distance * km / 100, 3),
        "cost": round(policy.weight_cost * cost, 3),
        "split": round(policy.weight_split * (shipments - 1), 3),
        "load": round(policy.weight_load * load, 3),
        "balance": round(policy.weight_balance * taken, 3),
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
    locations = routing_locations() if locations is None else locations
    if available is None:
        available = available_by_location(product_ids={n.product_id for n in needs})
    if loads is None:
        loads = current_loads(locations)
    force = channel_force(order.channel_id) if force is None else force
    partial = (not policy.ship_complete or force) if allow_partial is None else allow_partial
    singles = single_options(order, needs, locations, available, loads)
    capable = [s for s in singles if s.capable]
    known_km = [s.distance_km for s in capable if s.distance_km is not None]
    worst_km = max(known_km) if known_km else 0.0
    total_weight = sum(n.weight_g * n.quantity for n in needs)
    memo = cost_memo()
    known_cost = [c for c in (estimate_cost(s.location, order, total_weight, memo) for s in capable) if c is not None]
    worst_cost = {"order": max(known_cost) if known_cost else 0.0}

    # Singles first (ranked by their own score for the whole order), then sets of the best capable ones.
    plans: list[Plan] = []
    for s in capable:
        parts, missing = _allocate([s], needs, available)
        plan = Plan([s], parts, missing)
        _score(plan, order, policy, worst_km, worst_cost, memo, available)
        plans.append(plan)
    ranked = [p.locations[0] for p in sorted(plans, key=lambda p: (p.score, p.codes))]
    best_single = min((p.score for p in plans if not p.missing), default=None)
    weights = (
        policy.weight_distance,
        policy.weight_cost,
        policy.weight_split,
        policy.weight_load,
        policy.weight_balance,
    )
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
                _score(plan, order, policy, worst_km, worst_cost, memo, available)
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
    explanation = compact(singles, ordered, best, complete, total, order.currency)
    reason = decision_reason(order, policy, best, complete, ordered, force)
    return Evaluation(policy, singles, ordered, best, complete, force, explanation, reason, kind)


def decision_reason(order, policy: PolicyRules, best: Plan | None, complete: bool, ordered, force: bool) -> str:
    """The decision's reason in one line: where, the score and its terms, the policy."""
    if best is None:
        return NONE_WHOLE if policy.ship_complete and not force else NONE_ANY
    terms = ", ".join(f"{t} {best.terms[t]:g}" for t in TERMS)
    where = " + ".join(best.codes)
    if not complete:
        why = WHY_FORCE if force else WHY_POLICY
        return (
            PARTIAL_REASON
            % {
                "where": where,
                "shipped": best.shipped_units,
                "missing": best.missing_units,
                "why": why,
                "score": f"{best.score:g}",
                "terms": terms,
                "policy": policy.code,
            }
        )[:255]
    template = SPLIT_REASON if len(best.locations) > 1 else SINGLE_REASON
    return (template % {"where": where, "score": f"{best.score:g}", "terms": terms, "policy": policy.code})[:255]


def plan_totals(plan: Plan | None, order: Order | None = None) -> dict:
    """A plan's cost, distance, shipments, backordered units, late risk and score (empty for no plan)."""
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


def plan_json(plan: Plan) -> list[dict]:
    """A plan as JSON rows for the decision record and the dry-run page."""
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
