"""The shipment's status door and what moves with it: the order's progress, merged members, the pick list.

``shipment_set_status`` is the one door for ``Shipment.status`` and ``_set_picklist_status`` the one door for
``PickList.status`` (open → picking → done, driven by its shipments through ``picklist_follow``). A parcel's
scans move shipments here too: one at a time (``shipment_follow_parcel``) or a tracking batch set-based
(``shipments_follow_parcels``, by the door's rules). Every other fulfillment module (services, routing, split,
changes) calls these; this module imports none of them.
"""

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from inventory.models import Stock
from inventory.services import StockRequest, stock_release, stock_ship
from oms import statements
from oms.errors import DomainError, TransitionNotAllowed
from orders.models import Order
from orders.services import order_event_record, order_lock, order_set_progress, orders_set_progress
from orders.status import EventKind
from orders.status import can_transition as can_order_transition
from orders.wording import label, msg

from .models import PickList, Shipment
from .status import (
    PICKLIST_WAITING,
    PROGRESS,
    PickListStatus,
    ShipmentStatus,
    can_picklist_transition,
    can_transition,
    derive_order_status,
    derive_picklist_status,
)

# ---- status door and order progress --------------------------------------------------------


def shipment_status_message(number: str, current: str, target: str, note="") -> str:
    """The timeline's text of a shipment's step (a ``Msg``: shown in the reader's language)."""
    statuses = {"shipment": number, "from": label(ShipmentStatus(current)), "to": label(ShipmentStatus(target))}
    if note:
        return msg(gettext_noop("Shipment %(shipment)s: %(from)s → %(to)s (%(note)s)"), **statuses, note=note)
    return msg(gettext_noop("Shipment %(shipment)s: %(from)s → %(to)s"), **statuses)


def tracking_note(target: str) -> str:
    return msg(gettext_noop("tracking: %(status)s"), status=label(ShipmentStatus(target)))


def shipment_set_status(shipment: Shipment, target: str, *, user=None, note: str = "") -> None:
    """The one door for ``Shipment.status`` (``SHIPMENT_TRANSITIONS``): sets the packed/shipped/delivered time,
    writes the event on the order's timeline and moves the shipment's pick list along. The caller holds the
    order and shipment locks (``shipment_lock``)."""
    current = shipment.status
    if current == target:
        return
    if not can_transition(current, target):
        raise TransitionNotAllowed(
            gettext("Shipment %(shipment_number)s cannot go from %(current)s to %(target)s.")
            % {
                "shipment_number": shipment.number,
                "current": ShipmentStatus(current).label,
                "target": ShipmentStatus(target).label,
            }
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
    message = shipment_status_message(shipment.number, current, target, note)
    order_event_record(
        order=shipment.order,
        kind=kind,
        message=message,
        user=user,
        data={"shipment": shipment.number, "from": current, "to": target},
    )
    if shipment.picklist_id and (current in PICKLIST_WAITING) != (target in PICKLIST_WAITING):
        picklist_follow(shipment.picklist_id)  # only a step into or out of "still to pick" can move the list


def order_sync_progress(order: Order, *, user=None) -> None:
    """Set the order's progress from its shipments (``derive_order_status``, the one function for it)."""
    statuses = list(order.shipments.values_list("status", flat=True))
    target = derive_order_status(statuses)
    # A reship after shipping or delivery does not pull the order back to an earlier stage:
    # the order keeps its status while the new shipment's own status shows its progress.
    if order.status != target and can_order_transition(order.status, target):
        order_set_progress(order=order, target=target, user=user)


def shipment_lock(shipment: Shipment) -> Shipment:
    """Lock the order, then the shipment (the one lock order); returns the fresh, locked shipment."""
    order_lock(shipment.order_id)  # always order first, then shipment: one lock order everywhere
    return Shipment.objects.select_for_update(of=("self",)).select_related("order", "location").get(pk=shipment.pk)


def shipment_stock_requests(shipment: Shipment) -> list[StockRequest]:
    """The stock the shipment holds, as inventory requests (release, ship)."""
    return [StockRequest(shipment.location_id, line.product_id, line.quantity) for line in shipment.lines.all()]


def shipment_release(shipment: Shipment, *, user=None, reason: str) -> None:
    """Cancel a not yet shipped shipment: its stock back, off its pick list and merge, the event. The caller
    holds the locks; its labels are the caller's (workflows.release voids them)."""
    stock_release(requests=shipment_stock_requests(shipment), reference=shipment.order.number, user=user, reason=reason)
    note = reason
    fields = ["picklist"]
    if shipment.picklist_id and shipment.status == ShipmentStatus.PICKING:
        # Taken off the pick list: the list shows it as removed, a reprint leaves it out.
        shipment.removed_from_picklist_id = shipment.picklist_id
        fields.append("removed_from_picklist")
        note = f"{reason}; taken off pick list {shipment.picklist}"
    old_picklist = shipment.picklist_id
    shipment.picklist = None
    shipment.save(update_fields=fields)
    merge_detach(shipment, user=user, why=f"{shipment.number} cancelled")
    shipment_set_status(shipment, ShipmentStatus.CANCELLED, user=user, note=note)
    if old_picklist:
        picklist_follow(old_picklist)


# ---- following the parcel: one shipment, or a tracking batch set-based ------------------------------


@transaction.atomic
def shipment_follow_parcel(*, shipment: Shipment, target: str, user=None, note: str = "") -> bool:
    """Put a shipped shipment where its parcel is: forward as `shipment_advance` does, and also from out for
    delivery back to in transit when the delivery did not happen (a failed attempt, a refusal, a problem at the
    pickup point). Never out of delivered or cancelled. Returns whether it moved."""
    shipment = shipment_lock(shipment)
    if not parcel_step_allowed(shipment.status, target):
        return False
    shipment_set_status(shipment, target, user=user, note=note)
    order_sync_progress(shipment.order, user=user)
    members_follow(shipment, target, user=user, note=note)
    return True


def parcel_step_allowed(current: str, target: str) -> bool:
    """Whether a parcel's scan may take a shipment from ``current`` to ``target``: forward along PROGRESS, or
    out for delivery back to in transit; never out of delivered or cancelled."""
    if current == target or current not in PROGRESS or target not in PROGRESS:
        return False
    back = current == ShipmentStatus.OUT_FOR_DELIVERY and target == ShipmentStatus.IN_TRANSIT
    if not back and PROGRESS.index(target) <= PROGRESS.index(current):
        return False
    return can_transition(current, target)


# Timeline kinds of the steps a parcel's scans take a shipment through (as `shipment_set_status` writes them).
_FOLLOW_KIND = {ShipmentStatus.DELIVERED: EventKind.DELIVERED}


def shipments_follow_parcels(
    *, moves: list[tuple[Shipment | int, list[str]]], orders: dict[int, Order], user=None
) -> tuple[set[int], list[dict]]:
    """`shipment_follow_parcel` for a batch of tracking scans, set-based. ``moves`` holds each shipment (or its id)
    with the statuses its parcel's applied scans ask for, oldest first; ``orders`` their orders, locked by the caller
    (one lock order everywhere: orders, then shipments). The shipments are locked in one query and taken
    through each step in memory by the door's rules (`parcel_step_allowed`, the transition table); those that
    moved are saved with ONE statement and their orders' progress with one more
    (`orders.services.orders_set_progress`). No step here moves a pick list: a shipment that follows its parcel
    has left the pick list's "still to pick" statuses.

    Returns (ids of the shipments that moved, timeline rows of every step and order change) — the caller
    writes the rows with its own in one INSERT (`orders.services.order_events_record`). A shipment with merged
    members goes through `shipment_follow_parcel` (its members follow it one by one, writing their own rows).
    """
    wanted: dict[int, list[str]] = {}
    for shipment, targets in moves:
        wanted.setdefault(getattr(shipment, "pk", shipment), []).extend(targets)
    if not wanted:
        return set(), []
    members = Shipment.objects.filter(merged_into_id=OuterRef("pk")).exclude(status=ShipmentStatus.CANCELLED)
    rows_read = list(  # (pk, number, status, delivered_at, order id, has members): read as values, no model built
        Shipment.objects.select_for_update(of=("self",))
        .filter(pk__in=wanted)
        .annotate(lead=Exists(members))  # a lead of merged members: read in the same query
        .order_by("pk")
        .values_list("pk", "number", "status", "delivered_at", "order_id", "lead")
    )
    locked = {row[0]: list(row[1:5]) for row in rows_read}
    leads = {row[0] for row in rows_read if row[5]}
    now = timezone.now()
    moved: set[int] = set()
    rows: list[dict] = []
    for pk, state in locked.items():
        number, order = state[0], orders[state[3]]
        for target in wanted[pk]:
            if pk in leads:  # rare: members travel with it, each through the door
                shipment = Shipment.objects.get(pk=pk)
                shipment.order = order
                if shipment_follow_parcel(shipment=shipment, target=target, user=user, note=tracking_note(target)):
                    state[1] = target
                    moved.add(pk)
                continue
            current = state[1]
            if not parcel_step_allowed(current, target):
                continue
            state[1] = target
            if target == ShipmentStatus.DELIVERED and state[2] is None:
                state[2] = now
            moved.add(pk)
            rows.append(
                {
                    "order": order,
                    "kind": _FOLLOW_KIND.get(target, EventKind.STATUS),
                    "message": shipment_status_message(number, current, target, tracking_note(target)),
                    "data": {"shipment": number, "from": current, "to": target},
                }
            )
    order_ids = {locked[pk][3] for pk in moved - leads}
    statuses: dict[int, list[str]] = {}
    with statements.pipeline():  # the update and the read of the orders' shipments after it: one round trip
        statements.update_rows(  # one prepared statement, the rows as arrays
            Shipment, ("status", "delivered_at"), [(pk, locked[pk][1], locked[pk][2]) for pk in moved - leads]
        )
        if order_ids:
            for order_id, status in Shipment.objects.filter(order_id__in=order_ids).values_list("order_id", "status"):
                statuses.setdefault(order_id, []).append(status)
    if order_ids:
        targets = []
        for order_id in sorted(order_ids):
            order, target = orders[order_id], derive_order_status(statuses.get(order_id, []))
            # as `order_sync_progress`: a reship does not pull the order back to an earlier stage
            if order.status != target and can_order_transition(order.status, target):
                targets.append((order, target))
        rows += orders_set_progress(targets=targets)
    return moved, rows


# ---- merged shipments follow their lead (fulfillment/merge.py) ------------------------------------


def merge_detach(shipment: Shipment, *, user=None, why: str) -> None:
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
            message=msg(
                gettext_noop("Shipment %(shipment)s no longer travels with %(lead)s: %(why)s."),
                shipment=member.number,
                lead=lead_number,
                why=why,
            ),
            data={"shipment": member.number, "lead": lead_number, "reason_code": "other"},
        )


def members_follow(lead: Shipment, target: str, *, user=None, note: str = "", picklist=None) -> None:
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
                merge_detach(member, user=user, why=msg(gettext_noop("order %(order)s is on hold"), order=order.number))
                continue
            raise DomainError(
                gettext("Order %(order_number)s (merged into %(lead_number)s) is on hold; release it first.")
                % {"order_number": order.number, "lead_number": lead.number}
            )
        if target == ShipmentStatus.SHIPPED:
            stock_ship(requests=shipment_stock_requests(member), reference=member.number, user=user)
        if picklist is not None:
            member.picklist = picklist
            member.save(update_fields=["picklist"])
        with_lead = (
            msg(gettext_noop("with %(lead)s, %(note)s"), lead=lead.number, note=note)
            if note
            else msg(gettext_noop("with %(lead)s"), lead=lead.number)
        )
        shipment_set_status(member, target, user=user, note=with_lead)
        if tracking:
            order_event_record(
                order=order,
                kind=EventKind.SHIPPED,
                user=user,
                message=msg(
                    gettext_noop("Travels in parcel %(tracking)s with shipment %(lead)s."),
                    tracking=tracking,
                    lead=lead.number,
                ),
                data={"shipment": member.number, "tracking_number": tracking, "merged_into": lead.number},
            )
        order_sync_progress(order, user=user)


# ---- pick lists: open → picking → done, following their shipments ---------------------------------


def _set_picklist_status(picklist: PickList, target: str) -> None:
    """The one door for ``PickList.status`` (``PICKLIST_TRANSITIONS``). A pick list has no event table: its
    shipments' events on each order's timeline say what happened."""
    current = picklist.status
    if current == target:
        return
    if not can_picklist_transition(current, target):
        raise TransitionNotAllowed(
            gettext("Pick list %(picklist_number)s cannot go from %(current)s to %(target)s.")
            % {
                "picklist_number": picklist.number,
                "current": PickListStatus(current).label,
                "target": PickListStatus(target).label,
            }
        )
    picklist.status = target
    picklist.save(update_fields=["status"])


def picklist_follow(picklist_id: int) -> None:
    """Put the pick list where its shipments are (``derive_picklist_status``), in the caller's transaction."""
    with transaction.atomic():
        picklist = PickList.objects.select_for_update().get(pk=picklist_id)
        statuses = list(picklist.shipments.values_list("status", flat=True))
        _set_picklist_status(picklist, derive_picklist_status(picklist.status, statuses))


# ---- stock rows ------------------------------------------------------------------------------------


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
