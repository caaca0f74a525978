"""Merging shipments: orders of one customer to one address, reserved at one location, travel as one
parcel.

Who may merge: shipments that are RESERVED, on no pick list, whose orders are not on hold, at the same
location, whose orders ship to the same address (normalized ship fields) and belong to the same customer
(the same ``Customer`` row, or the same normalized name and phone). A merge points the members at a
*lead* (``Shipment.merged_into`` / ``merged_at``); from then on the members follow the lead through the
one status door (``shipments.members_follow``): onto the lead's pick list, packed, shipped and tracked
with it, each member's order getting its own events. The label is the lead's and weighs everything.
Unmerging is possible only before picking.

The cost saved is one parcel of the summed weight against separate parcels. fulfillment cannot import
logistics: logistics registers the estimator (``register_parcel_cost_estimator``, logistics/voids.py);
without one a weight-only estimate is used.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from oms.errors import DomainError
from orders.services import order_event_record, order_lock
from orders.status import ChangeReason, EventKind, OrderStatus
from orders.wording import msg

from .models import Shipment
from .status import ShipmentStatus

# ---- the cost estimate -----------------------------------------------------------------------------

Estimator = Callable[[Shipment, int], "Decimal | None"]
_estimator: Estimator | None = None
FALLBACK_BASE = Decimal("10.00")
FALLBACK_PER_KG = Decimal("2.00")


def register_parcel_cost_estimator(estimator: Estimator | None) -> None:
    """Register ``estimator(shipment, weight_g) -> price of one parcel of that weight from the shipment's
    location to its order's address`` (None when no service can take it)."""
    global _estimator
    _estimator = estimator


def has_parcel_cost_estimator() -> bool:
    """Whether logistics registered a parcel cost estimator (the merge page says how merges are rated)."""
    return _estimator is not None


def weight_only_cost(weight_g: int) -> Decimal:
    kilos = -(-max(weight_g, 1) // 1000)  # started kilos
    return FALLBACK_BASE + FALLBACK_PER_KG * kilos


def parcel_cost(shipment: Shipment, weight_g: int) -> tuple[Decimal, str]:
    """(price, basis): the registered estimate, else the weight-only one."""
    if _estimator is not None:
        try:
            price = _estimator(shipment, weight_g)
        except DomainError:
            price = None
        if price is not None:
            return Decimal(price), "rated"
    return weight_only_cost(weight_g), "weight only"


def shipment_weight_g(shipment: Shipment) -> int:
    return sum(line.product.weight_g * line.quantity for line in shipment.lines.all())


def merged_weight_g(lead: Shipment) -> int:
    """The lead's goods plus every member's: the weight of the one parcel."""
    members = Shipment.objects.members_of(lead).prefetch_related("lines__product")
    return shipment_weight_g(lead) + sum(shipment_weight_g(m) for m in members)


# ---- who may travel together -----------------------------------------------------------------------

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


def _norm(text: str) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def _phone(text: str) -> str:
    digits = re.sub(r"\D", "", text or "")
    return digits[-11:]  # +86 138 0013 8000 and 13800138000 are the same phone


def address_key(order) -> tuple:
    return tuple(
        _norm(getattr(order, f"ship_{name}"))
        for name in ("country", "province", "city", "district", "address1", "address2", "postcode")
    )


def same_customer(a, b) -> bool:
    if a.customer_id and a.customer_id == b.customer_id:
        return True
    name_a, name_b = _norm(a.ship_name), _norm(b.ship_name)
    return (
        bool(name_a)
        and name_a == name_b
        and bool(_phone(a.ship_phone))
        and _phone(a.ship_phone) == _phone(b.ship_phone)
    )


def _why_not(shipment: Shipment) -> str:
    if shipment.status != ShipmentStatus.RESERVED:
        return gettext("is %(status)s") % {"status": shipment.get_status_display()}
    if shipment.picklist_id:
        return gettext("is on pick list %(picklist)s") % {"picklist": shipment.picklist}
    if shipment.order.on_hold:
        return gettext("belongs to order %(order)s, which is on hold") % {"order": shipment.order.number}
    if shipment.order.status == OrderStatus.CANCELLED:
        return gettext("belongs to a cancelled order")
    return ""


def eligible_shipments(location=None):
    queryset = (
        Shipment.objects.filter(
            status=ShipmentStatus.RESERVED, picklist__isnull=True, order__on_hold=False, merged_into__isnull=True
        )
        .exclude(order__status=OrderStatus.CANCELLED)
        .select_related("order", "location")
        .prefetch_related("lines__product")
        .order_by("pk")
    )
    return queryset.filter(location=location) if location is not None else queryset


@dataclass
class Unit:
    """A shipment that is not a member, with the members already merged into it."""

    shipment: Shipment
    members: list[Shipment] = field(default_factory=list)
    weight_g: int = 0
    cost: Decimal = Decimal("0")


@dataclass
class Suggestion:
    units: list[Unit]
    location: object
    weight_g: int
    separate_cost: Decimal
    merged_cost: Decimal
    basis: str

    @property
    def saved(self) -> Decimal:
        return self.separate_cost - self.merged_cost

    @property
    def lead(self) -> Shipment:
        return self.units[0].shipment

    @property
    def shipment_ids(self) -> list[int]:
        return [u.shipment.pk for u in self.units]

    @property
    def orders(self) -> list:
        return [u.shipment.order for u in self.units] + [m.order for u in self.units for m in u.members]


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _groups(shipments: list[Shipment]) -> list[list[Shipment]]:
    """Same location and address, connected by "same customer" (union-find: a customer row or name+phone)."""
    buckets: dict[tuple, list[Shipment]] = {}
    for s in shipments:
        buckets.setdefault((s.location_id, address_key(s.order)), []).append(s)
    groups = []
    for bucket in buckets.values():
        parent = list(range(len(bucket)))
        for i in range(len(bucket)):
            for j in range(i + 1, len(bucket)):
                if same_customer(bucket[i].order, bucket[j].order):
                    parent[_find(parent, i)] = _find(parent, j)
        by_root: dict[int, list[Shipment]] = {}
        for i, s in enumerate(bucket):
            by_root.setdefault(_find(parent, i), []).append(s)
        groups += [sorted(g, key=lambda s: s.pk) for g in by_root.values() if len(g) > 1]
    return groups


def _unit(shipment: Shipment) -> Unit:
    members = list(Shipment.objects.members_of(shipment).select_related("order").prefetch_related("lines__product"))
    weight = shipment_weight_g(shipment) + sum(shipment_weight_g(m) for m in members)
    return Unit(shipment=shipment, members=members, weight_g=weight, cost=parcel_cost(shipment, weight)[0])


def suggestion_for(units: list[Unit]) -> Suggestion:
    lead = units[0].shipment
    weight = sum(u.weight_g for u in units)
    merged_cost, basis = parcel_cost(lead, weight)
    return Suggestion(
        units=units,
        location=lead.location,
        weight_g=weight,
        separate_cost=sum((u.cost for u in units), Decimal("0")),
        merged_cost=merged_cost,
        basis=basis,
    )


def merge_suggestions(location=None) -> list[Suggestion]:
    """Groups of shipments that could travel as one parcel, most saved first."""
    suggestions = [suggestion_for([_unit(s) for s in group]) for group in _groups(list(eligible_shipments(location)))]
    suggestions.sort(key=lambda s: (-s.saved, s.lead.pk))
    return suggestions


def merge_partners(shipment: Shipment) -> list[Shipment]:
    """Other shipments this one could merge with now (for the shipment page)."""
    if _why_not(shipment) or shipment.merged_into_id:
        return []
    for group in _groups(list(eligible_shipments(shipment.location))):
        if any(s.pk == shipment.pk for s in group):
            return [s for s in group if s.pk != shipment.pk]
    return []


# ---- merge and unmerge -----------------------------------------------------------------------------


def _lock_all(shipment_ids) -> list[Shipment]:
    """Lock the orders (by id) and then the shipments: the project's lock order."""
    order_ids = sorted(set(Shipment.objects.filter(pk__in=shipment_ids).values_list("order_id", flat=True)))
    for order_id in order_ids:
        order_lock(order_id)
    return list(
        Shipment.objects.select_for_update(of=("self",))
        .filter(pk__in=shipment_ids)
        .select_related("order", "location", "picklist")
        .order_by("pk")
    )


def _event(on: Shipment, kind: str, message: str, *, user, **data) -> None:
    order_event_record(order=on.order, kind=kind, user=user, message=message, data=data)


def _record_on_all(head: Shipment, others: list[Shipment], kind: str, head_message: str, other_message, *, user, data):
    """One event on the lead's (``head``) order and one on each member's (``other_message(member)``)."""
    _event(head, kind, head_message, user=user, shipment=head.number, **data)
    for m in others:
        _event(m, kind, other_message(m), user=user, shipment=m.number, **data)


@transaction.atomic
def shipments_merge(
    *, shipment_ids: list[int], user=None, reason_code: str = ChangeReason.CONSOLIDATION, note: str = ""
) -> Shipment:
    """Merge the shipments (and whatever is already merged into them) into one lead: the oldest."""
    if reason_code not in ChangeReason.values:
        raise DomainError(gettext("Choose a reason code for the merge."))
    ids = sorted({int(pk) for pk in shipment_ids})
    leads = dict(Shipment.objects.filter(pk__in=ids).values_list("pk", "merged_into_id"))
    ids = sorted({lead or pk for pk, lead in leads.items()} | set(ids))
    shipments = _lock_all(ids)
    if len(shipments) != len(ids):
        raise DomainError(gettext("A shipment to merge no longer exists."))
    units = [s for s in shipments if not s.merged_into_id]
    if len(units) < 2:
        raise DomainError(gettext("Choose at least two shipments to merge."))
    lead = units[0]
    for s in units:
        why = _why_not(s)
        if why:
            raise DomainError(
                gettext("Shipment %(number)s cannot be merged: it %(why)s.") % {"number": s.number, "why": why}
            )
        if s.location_id != lead.location_id:
            raise DomainError(
                gettext("Shipment %(number)s is at %(location)s, not %(lead_location)s.")
                % {"number": s.number, "location": s.location.code, "lead_location": lead.location.code}
            )
        if address_key(s.order) != address_key(lead.order):
            raise DomainError(
                gettext("Shipment %(number)s goes to another address than %(lead)s.")
                % {"number": s.number, "lead": lead.number}
            )
    if len(_groups(units)) != 1 or len(_groups(units)[0]) != len(units):
        raise DomainError(gettext("These shipments are not for the same customer."))
    estimate = suggestion_for([_unit(s) for s in units])
    now = timezone.now()
    members = []
    for s in units[1:]:
        members += [s, *Shipment.objects.filter(merged_into=s).select_related("order")]
    Shipment.objects.filter(pk__in=[m.pk for m in members]).update(merged_into=lead, merged_at=now)
    numbers = [m.number for m in members]
    text = ChangeReason.describe(reason_code, note)
    _record_on_all(
        lead,
        members,
        EventKind.MERGED,
        msg(
            gettext_noop("Shipment %(lead)s leads a parcel with %(members)s (saves about %(saved)s). %(reason)s"),
            lead=lead.number,
            members=", ".join(numbers),
            saved=str(estimate.saved),
            reason=text,
        ),
        lambda m: msg(
            gettext_noop("Shipment %(shipment)s travels with %(lead)s in one parcel. %(reason)s"),
            shipment=m.number,
            lead=lead.number,
            reason=text,
        ),
        user=user,
        data=dict(lead=lead.number, members=numbers, reason_code=reason_code, saved=str(estimate.saved)),
    )
    lead.refresh_from_db()
    return lead


@transaction.atomic
def shipment_unmerge(
    *, shipment: Shipment, user=None, reason_code: str = ChangeReason.OTHER, note: str = ""
) -> list[Shipment]:
    """Undo a merge before picking: a member leaves its lead; a lead lets every member go."""
    if reason_code not in ChangeReason.values:
        raise DomainError(gettext("Choose a reason code for the unmerge."))
    shipment = Shipment.objects.select_related("merged_into").get(pk=shipment.pk)
    lead_id = shipment.merged_into_id or shipment.pk
    member_ids = (
        [shipment.pk]
        if shipment.merged_into_id
        else list(Shipment.objects.filter(merged_into=shipment).values_list("pk", flat=True))
    )
    if not member_ids:
        raise DomainError(gettext("Shipment %(number)s is not merged.") % {"number": shipment.number})
    locked = {s.pk: s for s in _lock_all([lead_id, *member_ids])}
    lead = locked[lead_id]
    for s in locked.values():
        if s.status != ShipmentStatus.RESERVED or s.picklist_id:
            raise DomainError(
                (
                    gettext(
                        "Shipment %(number)s is %(status)s on pick list %(picklist)s: "
                        "a merge can only be undone before picking."
                    )
                    if s.picklist_id
                    else gettext("Shipment %(number)s is %(status)s: a merge can only be undone before picking.")
                )
                % {"number": s.number, "status": s.get_status_display(), "picklist": s.picklist}
            )
    members = [locked[pk] for pk in member_ids if locked[pk].merged_into_id == lead.pk]
    Shipment.objects.filter(pk__in=[m.pk for m in members]).update(merged_into=None, merged_at=None)
    text = ChangeReason.describe(reason_code, note)
    numbers = [m.number for m in members]
    _record_on_all(
        lead,
        members,
        EventKind.UNMERGED,
        msg(
            gettext_noop("Shipment %(lead)s no longer carries %(members)s. %(reason)s"),
            lead=lead.number,
            members=", ".join(numbers),
            reason=text,
        ),
        lambda m: msg(
            gettext_noop("Shipment %(shipment)s no longer travels with %(lead)s. %(reason)s"),
            shipment=m.number,
            lead=lead.number,
            reason=text,
        ),
        user=user,
        data=dict(lead=lead.number, members=numbers, reason_code=reason_code),
    )
    return members
