"""Routing, shipments, pick lists and packing. ``_set_shipment_status`` is the one door for
``Shipment.status``; every change writes an event on the order's timeline."""

from django.db import connection, transaction
from django.utils import timezone

from inventory.models import Location
from inventory.services import StockRequest, stock_release, stock_ship
from oms.bulk import rows_update
from oms.errors import DomainError, TransitionNotAllowed
from orders.models import Order
from orders.services import order_event_record, order_lock, order_set_progress, orders_set_progress
from orders.status import EventKind
from orders.status import can_transition as can_order_transition

from .models import PickList, Shipment
from .selectors import PICK_ORDER
from .status import NOT_YET_SHIPPED, PROGRESS, ShipmentStatus, can_transition, derive_order_status

# ---- status door and order progress --------------------------------------------------------


def _set_shipment_status(shipment: Shipment, target: str, *, user=None, note: str = "") -> None:
    current = shipment.status
    if current == target:
        return
    if not can_transition(current, target):
        raise TransitionNotAllowed(
            f"Shipment {shipment.number} cannot go from {ShipmentStatus(current).label} "
            f"to {ShipmentStatus(target).label}."
        )
    shipment.status = target
    now = timezone.now()
    fields = ["status"]
    for status, attr in (
        (ShipmentStatus.PACKED, "packed_at"),
        (ShipmentStatus.SHIPPED, "shipped_at"),
        (ShipmentStatus.DELIVERED, "delivered_at"),
    ):
        if target == status and getattr(shipment, attr) is None:
            setattr(shipment, attr, now)
            fields.append(attr)
    shipment.save(update_fields=fields)
    kind = {
        ShipmentStatus.PICKING: EventKind.PICKING,
        ShipmentStatus.PACKED: EventKind.PACKED,
        ShipmentStatus.SHIPPED: EventKind.SHIPPED,
        ShipmentStatus.DELIVERED: EventKind.DELIVERED,
    }.get(target, EventKind.STATUS)
    message = f"Shipment {shipment.number}: {ShipmentStatus(current).label} → {ShipmentStatus(target).label}"
    if note:
        message += f" ({note})"
    order_event_record(
        order=shipment.order,
        kind=kind,
        message=message,
        user=user,
        data={"shipment": shipment.number, "from": current, "to": target},
    )


def _sync_order(order: Order, *, user=None) -> None:
    statuses = list(order.shipments.values_list("status", flat=True))
    target = derive_order_status(statuses)
    # A reship after shipping or delivery does not pull the order back to an earlier stage:
    # the order keeps its status while the new shipment's own status shows its progress.
    if order.status != target and can_order_transition(order.status, target):
        order_set_progress(order=order, target=target, user=user)


def _lock_shipment(shipment: Shipment) -> Shipment:
    order_lock(shipment.order_id)  # always order first, then shipment: one lock order everywhere
    return Shipment.objects.select_for_update(of=("self",)).select_related("order", "location").get(pk=shipment.pk)


def _requests(shipment: Shipment) -> list[StockRequest]:
    return [StockRequest(shipment.location_id, line.product_id, line.quantity) for line in shipment.lines.all()]


# ---- routing: fulfillment/routing/ (re-exported here for existing callers) ---------------------

from .routing import (  # noqa: E402, F401
    CAPABILITY_FIELDS,
    POLICY_NEAREST,
    _candidates,
    _has_capability,
    _short_note,
    lock_stock_rows,
    order_route,
)


def _release_shipment(shipment: Shipment, *, user=None, reason: str) -> None:
    stock_release(requests=_requests(shipment), reference=shipment.order.number, user=user, reason=reason)
    note = reason
    fields = ["picklist"]
    if shipment.picklist_id and shipment.status == ShipmentStatus.PICKING:
        # Taken off the pick list: the list shows it as removed, a reprint leaves it out.
        shipment.removed_from_picklist_id = shipment.picklist_id
        fields.append("removed_from_picklist")
        note = f"{reason}; taken off pick list {shipment.picklist}"
    shipment.picklist = None
    shipment.save(update_fields=fields)
    _merge_detach(shipment, user=user, why=f"{shipment.number} cancelled")
    _set_shipment_status(shipment, ShipmentStatus.CANCELLED, user=user, note=note)


def cancel_open_shipments(*, order: Order, user=None, reason: str) -> int:
    """Cancel the shipments of an order that have not shipped and give their stock back. The caller holds the
    order's lock; shipments are locked by id, then stock rows by (location, product)."""
    shipments = list(order.shipments.select_for_update().filter(status__in=NOT_YET_SHIPPED).order_by("pk"))
    if len({s.location_id for s in shipments}) > 1:  # a split order: its stock rows first, in lock order
        lock_stock_rows({s.location_id for s in shipments}, {ln.product_id for s in shipments for ln in s.lines.all()})
    for shipment in shipments:
        shipment.order = order
        _release_shipment(shipment, user=user, reason=reason)
    return len(shipments)


# ---- pick lists and packing ----------------------------------------------------------------


@transaction.atomic
def picklist_create(
    *, location: Location, user=None, shipment_ids: list[int] | None = None, limit: int = 50
) -> PickList:
    """Put shipments that are ready at a location on one pick list (selectors.PICK_ORDER)."""
    queryset = Shipment.objects.ready_to_pick().filter(location=location)
    if shipment_ids:
        queryset = queryset.filter(pk__in=shipment_ids)
    queryset = queryset.order_by(*PICK_ORDER)  # priority, promise date (none last), oldest
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    shipments = list(queryset[:limit])
    if not shipments:
        raise DomainError(f"No shipments are ready to pick at {location.code}.")
    picklist = PickList.objects.create(location=location, created_by=user)
    picklist.number = f"PL{100000 + picklist.pk}"
    picklist.save(update_fields=["number"])
    for shipment in shipments:
        order = order_lock(shipment.order_id)
        shipment.refresh_from_db()
        shipment.order = order
        shipment.picklist = picklist
        shipment.save(update_fields=["picklist"])
        _set_shipment_status(shipment, ShipmentStatus.PICKING, user=user, note=f"pick list {picklist.number}")
        _sync_order(order, user=user)
        _members_follow(
            shipment, ShipmentStatus.PICKING, user=user, note=f"pick list {picklist.number}", picklist=picklist
        )
    return picklist


# ---- merged shipments follow their lead (fulfillment/merge.py) ------------------------------------


def _merge_detach(shipment: Shipment, *, user=None, why: str) -> None:
    """A cancelled shipment leaves its merge: as a member it is unlinked, as a lead its members are."""
    now_single = []
    if shipment.merged_into_id:
        now_single.append(shipment)
    now_single += list(Shipment.objects.filter(merged_into=shipment).select_related("order"))
    for member in now_single:
        lead_number = member.merged_into.number if member.merged_into_id else ""
        Shipment.objects.filter(pk=member.pk).update(merged_into=None, merged_at=None)
        member.merged_into, member.merged_at = None, None
        order_event_record(
            order=member.order,
            kind=EventKind.UNMERGED,
            user=user,
            message=f"Shipment {member.number} no longer travels with {lead_number}: {why}.",
            data={"shipment": member.number, "lead": lead_number, "reason_code": "other"},
        )


def _members_follow(lead: Shipment, target: str, *, user=None, note: str = "", picklist=None) -> None:
    """Members merged into ``lead`` take the lead's step through the one door; each member's order gets
    its event and its progress synced. On a pick list, a member whose order is on hold stays behind."""
    members = list(Shipment.objects.members_of(lead).values_list("pk", flat=True))
    tracking = ""
    if target == ShipmentStatus.SHIPPED and members:
        # The parcel is the lead's (a query through the reverse relation, not an import of logistics).
        tracking = lead.parcels.filter(voided_at__isnull=True).values_list("tracking_number", flat=True).first() or ""
    for pk in members:
        order = order_lock(Shipment.objects.values_list("order_id", flat=True).get(pk=pk))
        member = Shipment.objects.select_for_update(of=("self",)).select_related("location").get(pk=pk)
        member.order = order
        if member.status == target or not can_transition(member.status, target):
            continue
        if order.on_hold:
            if target == ShipmentStatus.PICKING:
                _merge_detach(member, user=user, why=f"order {order.number} is on hold")
                continue
            raise DomainError(f"Order {order.number} (merged into {lead.number}) is on hold; release it first.")
        if target == ShipmentStatus.SHIPPED:
            stock_ship(requests=_requests(member), reference=member.number, user=user)
        if picklist is not None:
            member.picklist = picklist
            member.save(update_fields=["picklist"])
        _set_shipment_status(member, target, user=user, note=f"with {lead.number}" + (f", {note}" if note else ""))
        if tracking:
            order_event_record(
                order=order,
                kind=EventKind.SHIPPED,
                user=user,
                message=f"Travels in parcel {tracking} with shipment {lead.number}.",
                data={"shipment": member.number, "tracking_number": tracking, "merged_into": lead.number},
            )
        _sync_order(order, user=user)


def _refuse_member(shipment: Shipment) -> None:
    if shipment.merged_into_id:
        lead = Shipment.objects.values_list("number", flat=True).get(pk=shipment.merged_into_id)
        raise DomainError(f"Shipment {shipment.number} travels with {lead}: pack and ship {lead}.")


@transaction.atomic
def shipment_pack(*, shipment: Shipment, weight_g: int | None = None, user=None) -> Shipment:
    shipment = _lock_shipment(shipment)
    _refuse_member(shipment)
    if shipment.order.on_hold:
        raise DomainError(f"Order {shipment.order.number} is on hold; release it before packing.")
    if weight_g is not None:
        if weight_g <= 0:
            raise DomainError("Weight must be more than 0 g.")
        shipment.weight_g = weight_g
        shipment.save(update_fields=["weight_g"])
    elif shipment.weight_g is None and shipment.merged_members.exists():
        # One parcel: the lead's weight is the weight of everything in it (the label is the lead's).
        from .merge import merged_weight_g  # merge imports this module

        shipment.weight_g = merged_weight_g(shipment)
        shipment.save(update_fields=["weight_g"])
    _set_shipment_status(shipment, ShipmentStatus.PACKED, user=user)
    _sync_order(shipment.order, user=user)
    _members_follow(shipment, ShipmentStatus.PACKED, user=user)
    return shipment


@transaction.atomic
def shipment_ship(*, shipment: Shipment, user=None, note: str = "") -> Shipment:
    """Hand a packed shipment to the carrier: stock leaves on hand and the reservation."""
    shipment = _lock_shipment(shipment)
    if shipment.status != ShipmentStatus.PACKED:
        raise TransitionNotAllowed(f"Shipment {shipment.number} is {shipment.get_status_display()}, not packed.")
    _refuse_member(shipment)
    if shipment.order.on_hold:
        raise DomainError(f"Order {shipment.order.number} is on hold; release it before shipping.")
    stock_ship(requests=_requests(shipment), reference=shipment.number, user=user)
    _set_shipment_status(shipment, ShipmentStatus.SHIPPED, user=user, note=note)
    _sync_order(shipment.order, user=user)
    _members_follow(shipment, ShipmentStatus.SHIPPED, user=user, note=note)
    return shipment


@transaction.atomic
def shipment_follow_parcel(*, shipment: Shipment, target: str, user=None, note: str = "") -> bool:
    """Put a shipped shipment where its parcel is: forward as `shipment_advance` does, and also from out for
    delivery back to in transit when the delivery did not happen (a failed attempt, a refusal, a problem at the
    pickup point). Never out of delivered or cancelled. Returns whether it moved."""
    shipment = _lock_shipment(shipment)
    if shipment.status == target or shipment.status not in PROGRESS or target not in PROGRESS:
        return False
    back = shipment.status == ShipmentStatus.OUT_FOR_DELIVERY and target == ShipmentStatus.IN_TRANSIT
    if not back and PROGRESS.index(target) <= PROGRESS.index(shipment.status):
        return False
    if not can_transition(shipment.status, target):
        return False
    _set_shipment_status(shipment, target, user=user, note=note)
    _sync_order(shipment.order, user=user)
    _members_follow(shipment, target, user=user, note=note)
    return True


# Timeline kinds of the steps a parcel's scans take a shipment through (as `_set_shipment_status` writes them).
_FOLLOW_KIND = {ShipmentStatus.DELIVERED: EventKind.DELIVERED}


def shipments_follow_parcels(
    *, moves: list[tuple[Shipment, list[str]]], orders: dict[int, Order], user=None
) -> tuple[set[int], list[dict]]:
    """`shipment_follow_parcel` for a batch of tracking scans, set-based. ``moves`` holds each shipment with the
    statuses its parcel's applied scans ask for, oldest first; ``orders`` their orders, locked by the caller
    (one lock order everywhere: orders, then shipments). The shipments are locked in one query and taken
    through each step in memory by the rules of `shipment_follow_parcel`; those that moved are saved with ONE
    statement and their orders' progress with one more (`orders.services.orders_set_progress`).

    Returns (ids of the shipments that moved, timeline rows of every step and order change) — the caller
    writes the rows with its own in one INSERT (`orders.services.order_events_record`). A shipment with merged
    members goes through `shipment_follow_parcel` (its members follow it one by one, writing their own rows).
    """
    wanted: dict[int, list[str]] = {}
    for shipment, targets in moves:
        wanted.setdefault(shipment.pk, []).extend(targets)
    if not wanted:
        return set(), []
    locked = {
        s.pk: s
        for s in Shipment.objects.select_for_update(of=("self",))
        .only("pk", "number", "status", "delivered_at", "order_id")
        .filter(pk__in=wanted)
        .order_by("pk")
    }
    leads = set(
        Shipment.objects.filter(merged_into_id__in=locked)
        .exclude(status=ShipmentStatus.CANCELLED)
        .values_list("merged_into_id", flat=True)
    )
    now = timezone.now()
    moved: set[int] = set()
    rows: list[dict] = []
    for pk, shipment in locked.items():
        shipment.order = orders[shipment.order_id]
        for target in wanted[pk]:
            if pk in leads:  # rare: members travel with it, each through the door
                if shipment_follow_parcel(shipment=shipment, target=target, user=user, note=f"tracking: {target}"):
                    shipment.status = target
                    moved.add(pk)
                continue
            current = shipment.status
            if current == target or current not in PROGRESS or target not in PROGRESS:
                continue
            back = current == ShipmentStatus.OUT_FOR_DELIVERY and target == ShipmentStatus.IN_TRANSIT
            if not back and PROGRESS.index(target) <= PROGRESS.index(current):
                continue
            if not can_transition(current, target):
                continue
            shipment.status = target
            if target == ShipmentStatus.DELIVERED and shipment.delivered_at is None:
                shipment.delivered_at = now
            moved.add(pk)
            rows.append(
                {
                    "order": shipment.order,
                    "kind": _FOLLOW_KIND.get(target, EventKind.STATUS),
                    "message": f"Shipment {shipment.number}: {ShipmentStatus(current).label} → "
                    f"{ShipmentStatus(target).label} (tracking: {target})",
                    "data": {"shipment": shipment.number, "from": current, "to": target},
                }
            )
    rows_update(Shipment, [locked[pk] for pk in moved - leads], ["status", "delivered_at"])
    order_ids = {locked[pk].order_id for pk in moved - leads}
    if order_ids:
        statuses: dict[int, list[str]] = {}
        for order_id, status in Shipment.objects.filter(order_id__in=order_ids).values_list("order_id", "status"):
            statuses.setdefault(order_id, []).append(status)
        targets = []
        for order_id in sorted(order_ids):
            order, target = orders[order_id], derive_order_status(statuses.get(order_id, []))
            # as `_sync_order`: a reship does not pull the order back to an earlier stage
            if order.status != target and can_order_transition(order.status, target):
                targets.append((order, target))
        rows += orders_set_progress(targets=targets)
    return moved, rows


@transaction.atomic
def shipment_advance(*, shipment: Shipment, target: str, user=None, note: str = "") -> bool:
    """Move a shipped shipment forward (in transit, out for delivery, delivered); never back."""
    shipment = _lock_shipment(shipment)
    if shipment.status not in PROGRESS or target not in PROGRESS:
        return False
    if PROGRESS.index(target) <= PROGRESS.index(shipment.status):
        return False
    if not can_transition(shipment.status, target):
        return False
    _set_shipment_status(shipment, target, user=user, note=note)
    _sync_order(shipment.order, user=user)
    _members_follow(shipment, target, user=user, note=note)
    return True
