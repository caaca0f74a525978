"""Waves: pick lists cut from the shipments ready at a location by carrier, cut-off, priority and
pick zone, within limits on orders and lines; single-order pick lists; print records.

A wave is a `PickList` (``kind = wave``) with the criteria it was cut by. The carrier is chosen at
dispatch, which lives in logistics, above this app: to wave by carrier, logistics registers a *service
planner* (`register_service_planner`, done in `logistics.apps`) that names the service rating would
choose today and its pickup cut-off; the plan is stored on the shipment (``planned_service`` as
``"carrier/service"``, ``planned_cutoff``) for display and grouping, and the final choice is made again at
dispatch (the weight may change at packing). Without a planner (fulfillment alone) every shipment's
carrier is unknown ("") and waves ignore the carrier criterion only when it is empty.

Zones come from the inventory: the zone of the `inventory.Bin` that a product's stock row names at the
location, else the bin code's first segment (``A-01-03`` -> ``A``). A shipment whose lines lie in one
zone has that zone; lines in several zones give ``"A+B"``; no bins give ``""``.

Every status change goes through `services.picklist_create` (the one door, events on the timeline).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from inventory.models import Bin, Location, Stock
from oms.errors import DomainError
from orders.services import order_event_record
from orders.status import EventKind
from orders.wording import msg

from . import services
from .models import PickList, Shipment
from .status import PickListKind, ShipmentStatus

Planner = Callable[[Shipment], "tuple[str, time | None] | None"]
_planner: Planner | None = None


def register_service_planner(planner: Planner | None) -> None:
    """Register the function that plans a shipment's carrier service ("carrier/service", cut-off)."""
    global _planner
    _planner = planner


def plan_service(shipment: Shipment) -> tuple[str, time | None]:
    if _planner is None:
        return "", None
    try:
        planned = _planner(shipment)
    except DomainError:
        planned = None
    return planned if planned else ("", None)


# ---- zones -----------------------------------------------------------------------------------


def bin_zones(location: Location, product_ids) -> dict[int, tuple[str, str, int]]:
    """product id -> (bin code, zone, pick sequence) at a location."""
    stock = dict(
        Stock.objects.filter(location=location, product_id__in=list(product_ids)).values_list("product_id", "bin")
    )
    codes = {(code or "").strip() for code in stock.values() if code}
    bins = {b.code: b for b in Bin.objects.filter(location=location, code__in=codes)}
    result = {}
    for product_id, code in stock.items():
        code = (code or "").strip()
        known = bins.get(code)
        if known is not None:
            result[product_id] = (code, known.zone or code.split("-")[0], known.pick_sequence)
        else:
            result[product_id] = (code, code.split("-")[0] if code else "", 0)
    return result


def shipment_zone(shipment: Shipment, zones: dict[int, tuple[str, str, int]]) -> str:
    found = sorted({zones.get(line.product_id, ("", "", 0))[1] for line in shipment.lines.all()} - {""})
    return "+".join(found)


# ---- planning --------------------------------------------------------------------------------


@dataclass
class Candidate:
    shipment: Shipment
    carrier: str
    service: str
    cutoff: time | None
    zone: str
    lines: int
    priority: int


@dataclass
class WaveGroup:
    carrier: str
    zone: str
    cutoff: time | None
    shipments: list[Candidate] = field(default_factory=list)

    @property
    def orders(self) -> int:
        return len({c.shipment.order_id for c in self.shipments})

    @property
    def lines(self) -> int:
        return sum(c.lines for c in self.shipments)


def _sort_key(c: Candidate):
    # selectors.PICK_ORDER (priority, promise date with none last, oldest) with the carrier cut-off
    # after the promise date: the same queue order as pick lists and the queue page.
    promise = c.shipment.order.promise_date
    return (
        c.priority,
        promise is None,
        promise or date.min,
        c.cutoff is None,
        c.cutoff or time(0),
        c.shipment.created_at,
        c.shipment.pk,
    )


def candidates(location: Location, *, shipment_ids=None) -> list[Candidate]:
    """The shipments ready to pick at a location with their planned carrier, cut-off and zone,
    in wave order: priority (1 first), earliest promise date, earliest cut-off, oldest."""
    queryset = (
        Shipment.objects.ready_to_pick()
        .filter(location=location)
        .select_related("order", "location")
        .prefetch_related("lines__product", "lines__order_line")
    )
    if shipment_ids:
        queryset = queryset.filter(pk__in=shipment_ids)
    shipments = list(queryset)
    zones = bin_zones(location, {ln.product_id for s in shipments for ln in s.lines.all()})
    result = []
    for shipment in shipments:
        planned, cutoff = plan_service(shipment)
        carrier, _, service = planned.partition("/")
        result.append(
            Candidate(
                shipment=shipment,
                carrier=carrier,
                service=service,
                cutoff=cutoff,
                zone=shipment_zone(shipment, zones),
                lines=len(shipment.lines.all()),
                priority=shipment.order.priority,
            )
        )
    result.sort(key=_sort_key)
    return result


def _matches(c: Candidate, *, carrier: str, zone: str, cutoff_by: time | None, priority_max: int | None) -> bool:
    if carrier and c.carrier != carrier:
        return False
    if zone and c.zone != zone:
        return False
    if cutoff_by is not None and (c.cutoff is None or c.cutoff > cutoff_by):
        return False
    if priority_max is not None and c.priority > priority_max:
        return False
    return True


def _fill(pool: list[Candidate], *, max_orders: int, max_lines: int) -> list[Candidate]:
    """Take candidates in order while the wave stays within its limits. A shipment bigger than
    ``max_lines`` on its own makes a wave alone (it has to be picked somehow)."""
    chosen: list[Candidate] = []
    orders: set[int] = set()
    lines = 0
    for c in pool:
        new_order = c.shipment.order_id not in orders
        if new_order and len(orders) >= max_orders:
            continue
        if lines + c.lines > max_lines and chosen:
            continue
        chosen.append(c)
        orders.add(c.shipment.order_id)
        lines += c.lines
        if lines >= max_lines:
            break
    return chosen


def wave_plan(location: Location, *, max_orders: int = 50, max_lines: int = 200) -> list[WaveGroup]:
    """What waves the ready shipments would make, grouped by carrier and zone (a preview: no writes)."""
    groups: dict[tuple[str, str], WaveGroup] = {}
    for c in candidates(location):
        group = groups.setdefault((c.carrier, c.zone), WaveGroup(carrier=c.carrier, zone=c.zone, cutoff=c.cutoff))
        group.shipments.append(c)
        if c.cutoff and (group.cutoff is None or c.cutoff < group.cutoff):
            group.cutoff = c.cutoff
    result = []
    for group in sorted(groups.values(), key=lambda g: (g.cutoff is None, g.cutoff or time(0), g.carrier, g.zone)):
        pool = list(group.shipments)
        while pool:
            batch = _fill(pool, max_orders=max_orders, max_lines=max_lines)
            result.append(WaveGroup(carrier=group.carrier, zone=group.zone, cutoff=group.cutoff, shipments=batch))
            taken = {id(c) for c in batch}
            pool = [c for c in pool if id(c) not in taken]
    return result


@transaction.atomic
def wave_create(
    *,
    location: Location,
    user=None,
    carrier: str = "",
    zone: str = "",
    cutoff_by: time | None = None,
    priority_max: int | None = None,
    max_orders: int = 50,
    max_lines: int = 200,
    shipment_ids: list[int] | None = None,
    kind: str = PickListKind.WAVE,
) -> PickList:
    """Cut one wave: the ready shipments that match every criterion given, in wave order, within the
    limits. Raises DomainError when none matches."""
    if max_orders < 1 or max_lines < 1:
        raise DomainError(gettext("A wave needs room for at least one order and one line."))
    pool = [
        c
        for c in candidates(location, shipment_ids=shipment_ids)
        if _matches(c, carrier=carrier, zone=zone, cutoff_by=cutoff_by, priority_max=priority_max)
    ]
    chosen = _fill(pool, max_orders=max_orders, max_lines=max_lines)
    if not chosen:
        wanted = ", ".join(
            part
            for part in [
                gettext("carrier %(carrier)s") % {"carrier": carrier} if carrier else "",
                gettext("zone %(zone)s") % {"zone": zone} if zone else "",
                gettext("cut-off by %(cutoff)s") % {"cutoff": f"{cutoff_by:%H:%M}"} if cutoff_by else "",
                gettext("priority %(priority)s or more urgent") % {"priority": priority_max}
                if priority_max is not None
                else "",
            ]
            if part
        )
        if wanted:
            raise DomainError(
                gettext("No shipments are ready to pick at %(location)s for %(wanted)s.")
                % {"location": location.code, "wanted": wanted}
            )
        raise DomainError(gettext("No shipments are ready to pick at %(location)s.") % {"location": location.code})
    for c in chosen:
        planned = f"{c.carrier}/{c.service}" if c.carrier else ""
        if c.shipment.planned_service != planned or c.shipment.planned_cutoff != c.cutoff:
            Shipment.objects.filter(pk=c.shipment.pk).update(planned_service=planned, planned_cutoff=c.cutoff)
    picklist = services.picklist_create(
        location=location, user=user, shipment_ids=[c.shipment.pk for c in chosen], limit=len(chosen)
    )
    picklist.kind = kind
    picklist.carrier_code = carrier
    picklist.zone = zone
    picklist.line_count = sum(c.lines for c in chosen)
    picklist.criteria = {
        "carrier": carrier,
        "zone": zone,
        "cutoff_by": cutoff_by.strftime("%H:%M") if cutoff_by else "",
        "priority_max": priority_max,
        "max_orders": max_orders,
        "max_lines": max_lines,
        "left_out": len(pool) - len(chosen),
    }
    picklist.save(update_fields=["kind", "carrier_code", "zone", "line_count", "criteria"])
    return picklist


def picklist_for_shipment(*, shipment: Shipment, user=None) -> PickList:
    """A pick list of one shipment (a rush order, a re-pick). A shipment already on an open pick list
    keeps it: reprint that one instead."""
    if shipment.picklist_id and shipment.status == ShipmentStatus.PICKING:
        raise DomainError(
            gettext("Shipment %(number)s is on pick list %(picklist)s; reprint that one.")
            % {"number": shipment.number, "picklist": shipment.picklist}
        )
    return wave_create(
        location=shipment.location,
        user=user,
        shipment_ids=[shipment.pk],
        max_orders=1,
        max_lines=10_000,
        kind=PickListKind.SINGLE,
    )


@transaction.atomic
def picklist_printed(*, picklist: PickList, user=None) -> PickList:
    """Count a print (the first print and every reprint) and note reprints on the orders' timelines."""
    picklist = PickList.objects.select_for_update().get(pk=picklist.pk)
    picklist.printed_count += 1
    picklist.last_printed_at = timezone.now()
    picklist.save(update_fields=["printed_count", "last_printed_at"])
    if picklist.printed_count > 1:
        for order in {s.order for s in picklist.shipments.select_related("order")}:
            order_event_record(
                order=order,
                kind=EventKind.NOTE,
                user=user,
                message=msg(
                    gettext_noop("Pick list %(picklist)s reprinted (print %(count)s)."),
                    picklist=str(picklist),
                    count=picklist.printed_count,
                ),
                data={"picklist": str(picklist), "printed_count": picklist.printed_count},
            )
    return picklist


def wave_summary(picklist: PickList) -> dict:
    """Counts of a wave for its page: shipments, orders, lines, units, by carrier."""
    by_carrier: dict[str, int] = defaultdict(int)
    shipments = list(picklist.shipments.prefetch_related("lines"))
    for s in shipments:
        by_carrier[s.planned_service.split("/")[0] or "—"] += 1
    return {
        "shipments": len(shipments),
        "orders": len({s.order_id for s in shipments}),
        "lines": sum(len(s.lines.all()) for s in shipments),
        "units": sum(line.quantity for s in shipments for line in s.lines.all()),
        "by_carrier": dict(by_carrier),
    }
