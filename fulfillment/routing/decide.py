"""Deciding and writing: route an order, reserve its stock, record the decision; backorders.

``order_route`` routes a confirmed order under its policy: the best plan's stock is reserved (read
again, up to three tries, when other orders took it meanwhile), its shipments created and a
``RoutingDecision`` stored with every candidate. **Short stock**: ship complete holds STOCK_SHORT;
otherwise (or when the channel's stock policy is "force") what can ship is reserved and the rest becomes
``Backorder`` rows, routed again by ``backorders_retry`` when stock arrives.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from inventory.services import StockRequest, stock_reserve
from oms.background import failure_record, failure_resolve
from oms.errors import DomainError, InsufficientStock
from oms.transient import is_transient
from orders.models import Order
from orders.selectors import merge_group_ids
from orders.services import order_event_record, order_hold, order_lock
from orders.status import EventKind, HoldReason, OrderStatus
from orders.wording import msg, msg_list

from ..models import Backorder, RoutingDecision, Shipment, ShipmentLine
from ..shipments import lock_stock_rows, order_sync_progress
from ..status import ShipmentStatus
from .candidates import Need, count_shipment, needs_from_lines
from .group import group_route
from .policies import policy_for, routing_batch, routing_locations
from .scoring import Evaluation, Plan, evaluate, plan_json, plan_totals
from .words import NO_ACTIVE_LOCATION, STOCK_TAKEN, routing_reason

ROUTE_TASK = "fulfillment.route_order"  # the task's name: a failure here is shown as that task's

POLICY_NEAREST = "nearest"  # the policy name of decisions made before scored routing
BACKORDERED = EventKind.BACKORDERED  # units put on backorder (data {"backordered": {sku: units}})


# ---- writes ------------------------------------------------------------------------------------


def plan_reserve(order: Order, plan: Plan, user) -> None:
    """Reserve the plan's stock for the order, all or nothing (raises InsufficientStock)."""
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
        count_shipment(s.location.pk)
    return shipments


def route_decide(
    order, needs, policy, user, *, exclude: set[int] | None = None, only: int | None = None, allow_partial=None
) -> tuple[Evaluation, list[Shipment]]:
    """Evaluate and reserve the best plan; when stock was taken meanwhile, read again (three tries).

    First the stock rows of the needs' products at every routing location are locked in one statement, in the
    one lock order ((location, product)): a try that another location serves must never take a row out of that
    order after a refused try left one locked (a guarded UPDATE that waited for a row and then found it short
    keeps its lock), which is how a backorder retry could deadlock a window that locks in order."""
    lock_stock_rows({loc.pk for loc in routing_locations()}, {n.product_id for n in needs})
    for attempt in range(3):
        locations = [loc for loc in routing_locations() if loc.pk not in (exclude or set())]
        if only is not None:
            locations = [loc for loc in locations if loc.pk == only]
        policy_used = replace(policy, allow_split=False) if only is not None else policy
        evaluation = evaluate(order, needs, policy_used, locations=locations, allow_partial=allow_partial)
        if evaluation.best is None or evaluation.best.shipped_units == 0:
            return evaluation, []
        try:
            plan_reserve(order, evaluation.best, user)  # atomic itself: a savepoint, rolled back on failure
        except InsufficientStock:
            if attempt == 2:
                evaluation.best = None
                evaluation.reason = STOCK_TAKEN
                return evaluation, []
            continue
        return evaluation, _create_shipments(order, evaluation.best)
    raise AssertionError("unreachable")


def decision_record(order, evaluation: Evaluation, shipments, user, *, kind=None, note="") -> RoutingDecision:
    """Store the decision with every candidate's score and the reason it won or lost."""
    best = evaluation.best
    return RoutingDecision.objects.create(
        order=order,
        policy=evaluation.policy.code,
        policy_ref_id=evaluation.policy.pk,
        kind=kind or evaluation.kind,
        chosen=best.locations[0].location if best else None,
        candidates=evaluation.explanation,
        plan=plan_json(best) if best else [],
        score=Decimal(str(best.score)) if best else None,
        totals=plan_totals(best, order),
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
        message=msg(
            gettext_noop("Backordered %(summary)s: no location has it now; it ships when stock arrives."),
            summary=summary,
        ),
        data={"decision": decision.pk, "backordered": {n.sku: q for n, q in best.missing}},
    )
    return rows


def short_note(candidates: list[dict]) -> str:
    """Why no location could take the order, in one line for the stock-short hold: every location's reasons,
    whole (the hold keeps a note of any length), each a routing phrase shown in the reader's language."""
    parts = [
        msg(
            gettext_noop("%(location)s: %(reasons)s"),
            location=c["location"],
            reasons=msg_list([routing_reason(r) for r in c["reasons"]], "; "),
        )
        for c in candidates
        if c.get("reasons")
    ]
    if not parts:
        return msg(NO_ACTIVE_LOCATION)
    return parts[0] if len(parts) == 1 else msg("%(locations)s", locations=msg_list(parts, " | "))


def routed_message(evaluation: Evaluation, shipments: list[Shipment]) -> str:
    names = ", ".join(f"{s.location.name} ({s.number})" for s in shipments)
    reason = routing_reason(evaluation.reason)
    if len(shipments) > 1:
        return msg(gettext_noop("Split over %(names)s. %(reason)s"), names=names, reason=reason)
    return msg(gettext_noop("Routed to %(location)s. %(reason)s"), location=shipments[0].location.name, reason=reason)


@transaction.atomic
def order_route(*, order_id: int, user=None) -> RoutingDecision | None:
    """Route a confirmed order under its policy and reserve stock (see the module docstring).

    A no-op (returns None) when the order is not waiting for routing: safe to deliver twice. An order in a
    merge group is routed with its group (``group.group_route``: one location, one parcel).
    """
    group_id = merge_group_ids([order_id]).get(order_id)
    if group_id is not None:
        outcome = group_route(group_id=group_id, record=decision_record, user=user)
        for pk in outcome.single:  # the group was undone: each order on its own
            outcome.decisions[pk] = order_route(order_id=pk, user=user)
        if order_id in outcome.decisions:
            return outcome.decisions[order_id]
    order = order_lock(order_id)
    if order.status != OrderStatus.CONFIRMED or order.on_hold:
        return None
    if order.presale_waiting:
        return None  # 预售: promised, routed when its day comes (orders/services/presale.py)
    if order.shipments.exclude(status=ShipmentStatus.CANCELLED).exists():
        return None
    if order.backorders.filter(resolved_at__isnull=True).exists():
        return None  # waiting for stock: backorders_retry routes it
    lines = list(order.lines.select_related("product").order_by("line_no", "pk"))
    if any(line.product_id is None for line in lines):
        order_hold(
            order=order, reason=HoldReason.UNKNOWN_SKU, note=msg(gettext_noop("a line has no product")), user=user
        )
        return None
    policy = policy_for(order)
    needs = needs_from_lines(lines)
    evaluation, shipments = route_decide(order, needs, policy, user)
    decision = decision_record(order, evaluation, shipments, user)
    if evaluation.best is None:
        order_event_record(
            order=order,
            kind=EventKind.ROUTING_FAILED,
            user=user,
            message=routing_reason(evaluation.reason),
            data={"decision": decision.pk},
        )
        order_hold(
            order=order,
            reason=HoldReason.STOCK_SHORT,
            note=short_note(evaluation.candidates),
            user=user,
        )
        return decision
    if shipments:
        order_event_record(
            order=order,
            kind=EventKind.ROUTED,
            user=user,
            message=routed_message(evaluation, shipments),
            data={"decision": decision.pk, "shipment": shipments[0].number, "shipments": [s.number for s in shipments]},
        )
    if evaluation.best.missing:
        _backorder(order, evaluation, decision, user)
    order_sync_progress(order, user=user)
    return decision


def order_route_now(*, order: Order, user=None) -> RoutingDecision | None:
    """A person routes a confirmed order that routing never placed (its task was lost or failed). A
    failure is recorded as the task's would be (the order page and Background work show it) and
    answered as a ``DomainError`` with its reason; success closes an open failure."""
    try:
        decision = order_route(order_id=order.pk, user=user)
    except DomainError:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise DomainError(gettext("The database is busy; try again in a moment.")) from exc
        failure_record(task_name=ROUTE_TASK, args=[order.pk], subject=f"order:{order.pk}", exc=exc)
        raise DomainError(gettext("Routing failed: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}) from exc
    failure_resolve(task_name=ROUTE_TASK, args=[order.pk], resolution="succeeded")
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
    evaluation, shipments = route_decide(order, needs, policy, user, allow_partial=True)
    if evaluation.best is None or not shipments:
        return None  # nothing arrived yet: no decision row for every retry
    decision = decision_record(order, evaluation, shipments, user, kind="backorder")
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
        message=msg(gettext_noop("Backorder: %(routed)s"), routed=routed_message(evaluation, shipments)),
        data={"decision": decision.pk, "shipment": shipments[0].number, "shipments": [s.number for s in shipments]},
    )
    order_sync_progress(order, user=user)
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
