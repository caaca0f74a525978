"""Changing and trying routing: reroute, dry run and replay.

``order_reroute`` moves an order's reserved, not yet picked shipments to another location with a
reason (all or nothing); ``reroute_blocker`` says why it cannot. ``order_dry_run`` shows what routing
would decide now under a policy (reads only). A ``RoutingReplay`` evaluates a period's orders under a
policy and a baseline against today's stock on hand and compares the totals (``replay_run``, the
Celery task's body).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from inventory.models import Location, Stock
from oms.errors import DomainError
from orders.models import Order
from orders.services import order_event_record, order_lock
from orders.status import EventKind, OrderStatus
from orders.wording import msg

from ..models import RoutingDecision, RoutingPolicy, RoutingReplay
from ..shipments import lock_stock_rows, order_sync_progress, shipment_release
from ..status import NOT_YET_SHIPPED, ReplayStatus, ShipmentStatus, can_replay_transition
from .candidates import Need, needs_from_lines
from .decide import decision_record, route_decide
from .policies import PolicyRules, policy_for, routing_batch, routing_locations
from .scoring import Evaluation, evaluate, plan_totals
from .solver import greedy, objective, problem_from_plans, solve
from .window import unrouted_penalty
from .words import BEING_PICKED, NO_OPEN_SHIPMENT, routing_reason

# ---- reroute -----------------------------------------------------------------------------------


@transaction.atomic
def order_reroute(*, order: Order, reason: str, location: Location | None = None, user=None) -> RoutingDecision:
    """Move an order's reserved, not yet picked shipments to ``location`` (or the best other location)
    with a reason: the old reservations are released, the new ones made, all or nothing."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(gettext("Give a reason for rerouting."))
    order = order_lock(order.pk)
    shipments = list(
        order.shipments.select_for_update(of=("self",))
        .filter(status__in=NOT_YET_SHIPPED)
        .select_related("location")
        .prefetch_related("lines__product", "lines__order_line")
        .order_by("pk")
    )
    if not shipments:
        raise DomainError(
            gettext("Order %(order_number)s has no open shipment to reroute.") % {"order_number": order.number}
        )
    for s in shipments:
        if s.status != ShipmentStatus.RESERVED or s.picklist_id:
            raise DomainError(
                gettext("Shipment %(s_number)s is already being picked; it can no longer be rerouted.")
                % {"s_number": s.number}
            )
        if s.merged_into_id or s.merged_members.exists():
            raise DomainError(
                gettext("Shipment %(s_number)s is merged with another order's; undo the merge first.")
                % {"s_number": s.number}
            )
    old = {s.location_id for s in shipments}
    if location is not None:
        if not location.active:
            raise DomainError(gettext("%(location_code)s is not active.") % {"location_code": location.code})
        if old == {location.pk}:
            raise DomainError(
                gettext("Order %(order_number)s already ships from %(location_code)s.")
                % {"order_number": order.number, "location_code": location.code}
            )
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
    lock_stock_rows(old | {loc.pk for loc in routing_locations()}, {n.product_id for n in needs})
    for s in shipments:
        s.order = order
        shipment_release(s, user=user, reason=f"rerouted: {reason}")
    policy = policy_for(order)
    evaluation, new_shipments = route_decide(
        order,
        needs,
        policy,
        user,
        exclude=None if location is not None else old,
        only=location.pk if location is not None else None,
        allow_partial=False,
    )
    if not new_shipments:
        if location is None:
            raise DomainError(gettext("any other location cannot ship all of it."))
        row = next((c for c in evaluation.candidates if c["location_id"] == location.pk), None)
        if row and row.get("reasons"):
            raise DomainError(
                gettext("%(location_code)s cannot ship all of it: %(verdict)s.")
                % {"location_code": location.code, "verdict": row["verdict"]}
            )
        raise DomainError(gettext("%(location_code)s cannot ship all of it.") % {"location_code": location.code})
    decision = decision_record(order, evaluation, new_shipments, user, kind="reroute", note=reason)
    new_codes = ", ".join(s.location.code for s in new_shipments)
    order_event_record(
        order=order,
        kind=EventKind.ROUTED,
        user=user,
        message=msg(
            gettext_noop("Rerouted from %(old)s to %(new)s. Reason: %(reason)s"),
            old=old_codes,
            new=new_codes,
            reason=routing_reason(reason),
        ),
        data={
            "decision": decision.pk,
            "shipment": new_shipments[0].number,
            "reroute": True,
            "reason": reason,
            "from": old_codes,
            "to": new_codes,
        },
    )
    order_sync_progress(order, user=user)
    return decision


def reroute_blocker(order: Order) -> str | None:
    """Why the order cannot be rerouted now (None: it can)."""
    shipments = [s for s in order.shipments.all() if s.status in NOT_YET_SHIPPED]
    if not shipments:
        return NO_OPEN_SHIPMENT
    if any(s.status != ShipmentStatus.RESERVED or s.picklist_id for s in shipments):
        return BEING_PICKED
    return None


# ---- dry run and replay -----------------------------------------------------------------------


def order_dry_run(*, order: Order, policy: RoutingPolicy | PolicyRules | None = None) -> Evaluation:
    """What routing would decide for the whole order now under ``policy`` (default: the order's own).
    Reads only: no lock, no reservation, no decision row."""
    lines = list(order.lines.select_related("product").order_by("line_no", "pk"))
    lines = [ln for ln in lines if ln.product_id is not None]
    if not lines:
        raise DomainError(
            gettext("Order %(order_number)s has no line with a known product.") % {"order_number": order.number}
        )
    if isinstance(policy, RoutingPolicy):
        policy = PolicyRules.from_model(policy)
    return evaluate(order, needs_from_lines(lines), policy or policy_for(order))


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
    on_hand: dict[int, dict[int, int]] = {}
    for loc, prod, qty in Stock.objects.filter(location__active=True).values_list(
        "location_id", "product_id", "on_hand"
    ):
        on_hand.setdefault(loc, {})[prod] = qty
    sums = {"policy": _replay_sums(), "baseline": _replay_sums()}
    options: list[list] = []  # the policy's plans that ship each order whole, best first: the period's optimum
    changed = []
    count = 0
    for order in orders[:limit]:
        lines = [ln for ln in order.lines.all() if ln.product_id is not None]
        if not lines:
            continue
        count += 1
        needs = needs_from_lines(lines)
        row = {"order": order.number}
        for side, rules in (("policy", policy), ("baseline", baseline or policy_for(order))):
            ev = evaluate(order, needs, rules, available=on_hand, loads={})
            if side == "policy":
                options.append(sorted((p for p in ev.plans if not p.missing), key=lambda p: (p.score, p.codes)))
            total = sums[side]
            total["orders"] += 1
            if ev.best is None:
                total["unroutable"] += 1
                row[side] = "—"
                continue
            t = plan_totals(ev.best, order)
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
    return {
        "policy": sums["policy"],
        "baseline": sums["baseline"],
        "delta": delta,
        "changed": changed,
        "orders": count,
        "optimum": period_gap(options, on_hand),
    }


def period_gap(options: list[list], on_hand: dict, *, time_limit: float | None = None) -> dict:
    """The period's orders under the policy sharing today's stock on hand: routed one by one in order (each
    takes its best plan that still has stock: what routing an order at a time does) against the optimum of
    the whole period chosen jointly (HiGHS, as a routing window does; ``ROUTING_REPLAY_TIME_LIMIT``). Score
    points, plus ``ROUTING_WINDOW_UNROUTED_PENALTY`` per order left unrouted; ``proven``: solved to
    optimality, else the gap is measured against HiGHS's proven bound (an upper bound of the true gap)."""
    limit = float(getattr(settings, "ROUTING_REPLAY_TIME_LIMIT", 30.0)) if time_limit is None else time_limit
    base = unrouted_penalty()
    penalty = [max(base, max((p.score for p in plans), default=0.0) + 1.0) for plans in options]
    problem, plans = problem_from_plans(options, on_hand, {}, penalty)
    one_by_one = greedy(problem)
    solution = solve(problem, time_limit=limit)
    first = objective(problem, one_by_one)
    bound = solution.bound if solution.bound is not None else solution.objective
    proven = solution.method == "highs" or (solution.bound is not None and solution.bound >= solution.objective - 1e-6)

    def totals(choice) -> dict:
        chosen = [plans[k] for k in choice if k is not None]
        return {
            "score": round(objective(problem, choice), 2),
            "cost": round(sum(p.raw["cost"] for p in chosen), 2),
            "unrouted": sum(1 for k in choice if k is None),
        }

    return {
        "one_by_one": totals(one_by_one),
        "optimum": totals(solution.choice),
        "bound": round(bound, 2),
        "gap_percent": round(100.0 * (first - bound) / bound, 2) if bound else 0.0,
        "proven": proven,
        "method": solution.method,
        "seconds": round(solution.seconds, 2),
        "penalty": base,
    }


def _set_replay_status(replay_id: int, target: str, **values) -> bool:
    """The one door for ``RoutingReplay.status`` (``REPLAY_TRANSITIONS``): one guarded UPDATE that moves the
    replay only from a status allowed to reach ``target`` and writes ``values`` with it. Returns whether it
    moved (a replay claimed by another worker, or finished, stays as it is). A replay has no event table."""
    sources = [s for s in ReplayStatus.values if can_replay_transition(s, target)]
    return bool(RoutingReplay.objects.filter(pk=replay_id, status__in=sources).update(status=target, **values))


def replay_run(*, replay_id: int) -> None:
    """Run a ``RoutingReplay`` (the Celery task's body). Reserves nothing, writes only the replay row."""
    replay = RoutingReplay.objects.select_related("policy", "baseline").get(pk=replay_id)
    if not _set_replay_status(replay.pk, ReplayStatus.RUNNING):  # queued or failed: claimed by this run only
        return
    try:
        with routing_batch():
            policy = PolicyRules.from_model(replay.policy)
            baseline = PolicyRules.from_model(replay.baseline) if replay.baseline else None
            results = replay_compute(policy=policy, baseline=baseline, orders=replay_orders(replay))
    except Exception as exc:  # recorded on the row for the page; the task does not retry
        _set_replay_status(replay.pk, ReplayStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now())
        raise
    _set_replay_status(
        replay.pk,
        ReplayStatus.DONE,
        results=results,
        orders=results["orders"],
        finished_at=timezone.now(),
        error="",
    )
