"""Routing a merge group (自动合单, orders/services/merge.py) as one demand at one location.

A group's orders are routed together: their lines are one set of needs, scored under the first order's
policy with splitting off and nothing left behind (the whole group at ONE location), against the union of
the orders' required capabilities. Then, in one transaction, each order gets its own reservation (its own
ledger reference), its own shipment at that location, its own decision and ROUTED event, and the shipments
are merged into one parcel through the shipment merge (``fulfillment.merge.shipments_merge``: the lead is
the first order's shipment; members follow it onto the pick list, the pack station and the label).

When the group cannot go out as one (an order was held, cancelled or routed meanwhile, a line has no
product, no single location has everything, or stock was taken while reserving) the group is undone with
an event on each order, and each order is routed on its own by ``order_route`` (``decide``, which hands a
grouped order to ``group_route``).

Locks: the group's orders in primary-key order (``orders_lock``), then stock rows (``stock_reserve``),
then shipments: the project's lock order. The window router never claims a grouped order
(``window._claim``); it routes the waiting groups after its own transaction (``window.route_groups``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.db import transaction
from django.utils.translation import gettext_noop

from inventory.services import StockRequest, stock_reserve
from oms.errors import InsufficientStock
from orders.models import OrderLine, OrderMergeGroup, join_tags
from orders.selectors import merge_group_ids, merge_group_orders
from orders.services import merge_group_dissolve, order_event_record, orders_lock
from orders.status import ChangeReason, EventKind, OrderStatus
from orders.wording import msg

from ..merge import shipments_merge
from ..models import Backorder, RoutingDecision, Shipment, ShipmentLine
from ..shipments import lock_stock_rows, order_sync_progress
from ..status import ShipmentStatus
from .candidates import count_shipment, needs_from_lines
from .policies import policy_for, routing_locations
from .scoring import evaluate
from .words import routing_reason

GROUP_KIND = "merge"  # RoutingDecision.kind of an order routed with its merge group


@dataclass
class GroupOutcome:
    decisions: dict[int, RoutingDecision] = field(default_factory=dict)  # routed with the group
    single: list[int] = field(default_factory=list)  # the group was undone: route these on their own
    why: str = ""


def _dissolve(group, orders, why: str, user) -> GroupOutcome:
    merge_group_dissolve(group=group, user=user, note=msg(gettext_noop("Routing: %(why)s"), why=routing_reason(why)))
    return GroupOutcome(single=[o.pk for o in orders], why=why)


def _demand_view(orders):
    """The first order, as routing reads it, with every order's required capabilities."""
    lead = copy.copy(orders[0])
    lead.required_capabilities = join_tags(c for o in orders for c in o.capability_list)
    lead.required_service_kind = next((o.required_service_kind for o in orders if o.required_service_kind), "")
    return lead


@transaction.atomic
def group_route(*, group_id: int, record: Callable, user=None) -> GroupOutcome:
    """Route a merge group as one (see the module docstring); ``record`` stores a decision
    (``decide.decision_record``, which calls this). Nothing in the outcome when the group is no longer live
    or has nothing waiting: safe to deliver twice. The caller routes ``single`` on its own."""
    group = OrderMergeGroup.objects.filter(pk=group_id).first()
    if group is None or group.undone_at is not None:
        return GroupOutcome()
    locked = orders_lock([o.pk for o in merge_group_orders(group)])
    group.refresh_from_db()
    if group.undone_at is not None:
        return GroupOutcome()
    orders = [locked[pk] for pk in sorted(locked)]
    ids = [o.pk for o in orders]
    if merge_group_ids(ids) != dict.fromkeys(ids, group.pk):
        return GroupOutcome()
    live = set(
        Shipment.objects.filter(order_id__in=ids)
        .exclude(status=ShipmentStatus.CANCELLED)
        .values_list("order_id", flat=True)
    )
    open_backorders = set(
        Backorder.objects.filter(order_id__in=ids, resolved_at__isnull=True).values_list("order_id", flat=True)
    )
    if all(o.pk in live for o in orders):
        return GroupOutcome()  # routed already (a second delivery)
    lines = list(
        OrderLine.objects.filter(order_id__in=ids).select_related("product").order_by("order_id", "line_no", "pk")
    )
    # The group's stock rows at every routing location, in the one lock order, before any reservation: the
    # orders' reservations below (and, should the group dissolve, each order's own routing in the caller's
    # transaction) then take no stock row out of that order.
    lock_stock_rows({loc.pk for loc in routing_locations()}, {ln.product_id for ln in lines if ln.product_id})
    waiting = [
        o for o in orders if o.status == OrderStatus.CONFIRMED and not o.on_hold and o.pk not in live | open_backorders
    ]
    if len(waiting) != len(orders):
        late = next(o for o in orders if o not in waiting)
        why = "on hold" if late.on_hold else ("already routed" if late.pk in live else late.get_status_display())
        return _dissolve(group, waiting, f"order {late.number} is {why}", user)
    if any(line.product_id is None for line in lines):
        return _dissolve(group, orders, "a line has no product", user)
    owner = {line.pk: line.order_id for line in lines}
    lead = _demand_view(orders)
    policy = replace(policy_for(orders[0]), allow_split=False, ship_complete=True)
    evaluation = evaluate(lead, needs_from_lines(lines), policy, locations=routing_locations(), allow_partial=False)
    best = evaluation.best
    if best is None or best.missing or len(best.locations) != 1:
        return _dissolve(group, orders, "no single location can ship all of its orders", user)
    location = best.locations[0].location
    parts: dict[int, list] = {pk: [] for pk in ids}
    for need, quantity in best.parts[location.pk]:
        parts[owner[need.order_line_id]].append((need, quantity))
    try:
        with transaction.atomic():
            for order in orders:
                stock_reserve(
                    requests=[StockRequest(location.pk, n.product_id, q) for n, q in parts[order.pk]],
                    reference=order.number,
                    user=user,
                )
    except InsufficientStock:
        return _dissolve(group, orders, "stock was taken by other orders while routing", user)
    return _write(group, orders, parts, evaluation, location, user, record)


def _write(group, orders, parts, evaluation, location, user, record) -> GroupOutcome:
    shipments, decisions = [], {}
    numbers = [o.number for o in orders]
    for order in orders:
        shipment = Shipment.objects.create(order=order, location=location)
        shipment.number = f"SH{100000 + shipment.pk}"
        shipment.save(update_fields=["number"])
        ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=shipment, order_line_id=n.order_line_id, product_id=n.product_id, quantity=q)
            for n, q in parts[order.pk]
        )
        count_shipment(location.pk)
        shipments.append(shipment)
        decision = record(order, evaluation, [shipment], user, kind=GROUP_KIND)
        decisions[order.pk] = decision
        order_event_record(
            order=order,
            kind=EventKind.ROUTED,
            user=user,
            message=msg(
                gettext_noop("Routed to %(location)s with merge group %(group)s (%(orders)s): one parcel. %(reason)s"),
                location=location.name,
                group=group.number,
                orders=", ".join(numbers),
                reason=routing_reason(evaluation.reason),
            ),
            data={
                "decision": decision.pk,
                "shipment": shipment.number,
                "shipments": [shipment.number],
                "group": group.number,
            },
        )
        order_sync_progress(order, user=user)
    shipments_merge(
        shipment_ids=[s.pk for s in shipments],
        user=user,
        reason_code=ChangeReason.CONSOLIDATION,
        note=msg(gettext_noop("merge group %(group)s"), group=group.number),
    )
    return GroupOutcome(decisions=decisions)
