"""Carrier services: choosing a service, labelling and dispatching a shipment (its plan and transaction in
logistics/dispatch.py), recording tracking events. Every change writes an event on the order's timeline."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, transaction
from django.db.models import OuterRef
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from fulfillment.models import Shipment
from fulfillment.shipments import shipments_follow_parcels
from fulfillment.status import ShipmentStatus
from oms import statements
from oms.errors import DomainError
from orders.services import order_event_rows_record, orders_locking
from orders.status import EventKind
from orders.wording import label as choice_label
from orders.wording import msg

from . import dispatch, rating
from .carrier_labels import label_buy
from .cases.rules import parcel_problem_open
from .eta import Route, eta_values, lane_caches_forget, lane_figures_cached
from .models import Parcel, ParcelWatch, ServiceLevel, TrackingEvent
from .providers.base import NormalizedEvent
from .status import PROBLEMS, TrackingStatus, parcel_moves

# Which shipment status a tracking status puts a shipment in. A problem (failed attempt, refusal, not collected,
# returning) after out-for-delivery takes it back to in transit: it is neither delivered nor about to be; what
# happened is the parcel's status, the open case and the timeline.
SHIPMENT_STATUS_FOR = {
    TrackingStatus.IN_TRANSIT: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.FAILED_ATTEMPT: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.EXCEPTION: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.RETURNING_TO_SENDER: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.RETURNED_TO_SENDER: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.LOST: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.AVAILABLE_FOR_PICKUP: ShipmentStatus.OUT_FOR_DELIVERY,
    TrackingStatus.OUT_FOR_DELIVERY: ShipmentStatus.OUT_FOR_DELIVERY,
    TrackingStatus.DELIVERED: ShipmentStatus.DELIVERED,
}


def shipment_needs(shipment: Shipment) -> dict:
    """What the shipment asks of a carrier service; see `logistics.rating.shipment_needs`."""
    return rating.shipment_needs(shipment)


def service_cost(service: ServiceLevel, weight_g: int) -> Decimal:
    kilos = Decimal(max(weight_g, 1)) / Decimal(1000)
    return (service.base_rate + service.per_kg_rate * kilos).quantize(Decimal("0.01"))


def service_choose(shipment: Shipment) -> ServiceLevel:
    """The service rating chooses (`logistics.rating.choose_service`): the cheapest that meets the
    promise date and the shipment's needs, or a person's override."""
    return dispatch.chosen_service(shipment, rating.choose_service(shipment))


def shipment_dispatch(*, shipment: Shipment, service: ServiceLevel | None = None, user=None) -> Parcel:
    """Label a packed shipment with a carrier service and tracking number, then ship it.

    The local carrier issues its number inside the transaction. A real carrier (a remote adapter: EasyPost,
    Kdniao) is asked first, outside any transaction of ours (`logistics.carrier_labels.label_buy`: bought
    once, reused on a retry); then one transaction writes the parcel and ships. A refused or failed buy
    raises `CarrierError` and leaves the shipment packed."""
    plan = dispatch.dispatch_plan(shipment, service)
    if isinstance(plan, Parcel):
        return plan
    purchase = None
    if plan.remote:
        purchase = label_buy(shipment=plan.shipment, service=plan.service, request=plan.request, user=user)
    parcel, problem = dispatch.dispatch_write(plan, purchase=purchase, user=user)
    if problem:
        raise DomainError(problem)
    return parcel


@dataclass
class TrackingBatch:
    """What `tracking_events_record` did: the parcels found (tracking number -> parcel id), the events stored
    now and those already stored, both as (parcel id, dedupe key)."""

    parcels: dict[str, int] = field(default_factory=dict)
    stored: set[tuple[int, str]] = field(default_factory=set)
    known: set[tuple[int, str]] = field(default_factory=set)
    orders: dict[int, int] = field(default_factory=dict)  # parcel id -> its shipment's order id

    def keys_by_number(self) -> dict[str, set[str]]:
        """The stored scans' dedupe keys by tracking number (a parser skips those scans without building them)."""
        number_of = {pk: number for number, pk in self.parcels.items()}
        keys: dict[str, set[str]] = {}
        for pk, key in self.known:
            keys.setdefault(number_of[pk], set()).add(key)
        return keys


def tracking_batch_read(numbers) -> TrackingBatch:
    """The parcels of these tracking numbers and the keys of their stored scans, in ONE query (no lock: the batch
    checks again under its locks); what `tracking_events_record` starts from, read earlier by a caller that
    wants the keys before it parses (`logistics.intake`)."""
    batch = TrackingBatch()
    numbers = set(numbers)
    if not numbers:
        return batch
    rows = Parcel.objects.filter(tracking_number__in=numbers).values_list(
        "pk", "tracking_number", "shipment__order_id", "events__dedupe_key"
    )
    for pk, number, order_id, key in rows:
        batch.parcels[number] = pk
        batch.orders[pk] = order_id
        if key is not None:
            batch.known.add((pk, key))
    return batch


def tracking_event_record(
    *, parcel: Parcel, event: NormalizedEvent, source: str, user=None, now: datetime | None = None
) -> bool:
    """Store a tracking event once; move the parcel and shipment to what the newest event says
    (`logistics.status.parcel_moves`: problems and returns are news, late old scans are not); open the case of a
    problem; refresh the expected date as of ``now`` (default: the clock). Returns False when the same event was
    already stored."""
    if event.status not in TrackingStatus.values:
        raise DomainError(gettext("Unknown tracking status '%(status)s'.") % {"status": event.status})
    order_of = {parcel.pk: parcel.shipment.order_id}
    stored = _record({parcel.pk: [(event, source)]}, order_of, user=user, now=now)
    return bool(stored)


def tracking_events_record(
    *,
    entries: list[tuple[NormalizedEvent, str]],
    user=None,
    now: datetime | None = None,
    finish: Callable[[TrackingBatch], None] | None = None,
    batch: TrackingBatch | None = None,
) -> TrackingBatch:
    """Record many (event, source) pairs of any parcels in one batch: one query for the parcels of their
    tracking numbers and the keys of those parcels' stored scans (`tracking_batch_read`), then one transaction
    that locks the orders and parcels, inserts the new events in one statement and moves each parcel, shipment
    and order once. Events whose
    tracking number matches no parcel are skipped (``batch.parcels`` tells which were found). ``finish(batch)``
    runs inside that transaction once the events are stored (the intake writes the messages' outcome there, so
    a push costs one commit), or on its own when nothing was new. ``batch``: `tracking_batch_read` of (at least)
    these events' tracking numbers, when the caller read it already."""
    if batch is None:  # the parcels and their stored scans' keys (a few each), in one query
        batch = tracking_batch_read(event.tracking_number for event, _ in entries)
    order_of = batch.orders
    if not batch.parcels:
        if finish:
            finish(batch)
        return batch
    todo: dict[int, list[tuple[NormalizedEvent, str]]] = {}
    seen = set(batch.known)
    for event, source in entries:
        pk = batch.parcels.get(event.tracking_number)
        if pk is None or (pk, event.dedupe_key) in seen:
            continue
        seen.add((pk, event.dedupe_key))
        todo.setdefault(pk, []).append((event, source))
    if not todo:
        if finish:
            finish(batch)
        return batch

    def done(stored):
        batch.stored = stored
        if finish:
            finish(batch)

    _record(todo, order_of, user=user, now=now, finish=done)
    return batch


def _record(todo, order_of, *, user, now, finish=None) -> set[tuple[int, str]]:
    """Apply a batch of new scans, set-based, in one transaction (joined when the caller has one: the batch
    consumer): lock the orders (the few columns read), then the parcels, read as tuples with their shipment,
    lane, service and watch (`PARCEL_STATE`, no model built) and, on PostgreSQL, the keys of their stored scans
    (exact under the lock; elsewhere one more query), both locks in one round trip (`oms.statements.
    fetch_together`); work out each parcel's status, shipment steps and expected
    date on those values (`logistics.status.parcel_moves`, `logistics.eta.eta_values`); move the shipments and
    their orders (`fulfillment.shipments.shipments_follow_parcels`, one statement each); then, in one psycopg
    pipeline (`oms.statements.pipeline`: one round trip), insert the new scans with ``ON CONFLICT DO NOTHING`` on
    (parcel, dedupe key), move the parcels, create and update the watches, write every timeline row in one INSERT
    and the customers' notices (one problem, one message: the shared problem key) in one more
    (`orders.services.order_event_rows_record`), and ``finish``'s writes. A scan that leaves a parcel in a
    problem opens its case from the models, read for those parcels only (between the parcels' moves and the
    rest)."""
    with transaction.atomic(savepoint=False):
        return _record_locked(todo, order_of, user=user, now=now or timezone.now(), finish=finish)


# What a tracking batch reads of each parcel, in one query (the parcels locked), as tuples: no model is built.
PARCEL_STATE = (
    "pk",
    "tracking_number",
    "status",
    "last_event_at",
    "delivered_at",
    "expected_delivery",
    "created_at",
    "shipment_id",
    "shipment__status",
    "shipment__shipped_at",
    "shipment__order_id",
    "shipment__location__province",
    "service__carrier_id",
    "service__transit_days",
    "service__name",
    "watch__id",
    "watch__promised_delivery",
    "watch__eta_basis",
    "watch__eta_detail",
)
# What it reads of each order (locked first): its progress, its lane's destination, what a notice needs.
ORDER_STATE = ("status", "updated_at", "ship_province", "ship_email", "ship_phone", "customer")
# Parcel.status is written here only, by `logistics.status.parcel_moves`, with these columns in one statement.
PARCEL_MOVED = ("status", "last_event_at", "delivered_at", "expected_delivery")
WATCH_ETA = ("promised_delivery", "eta_basis", "eta_detail")
WATCH_NEW = ("parcel", *WATCH_ETA, "poll_failures", "poll_error")


def _record_locked(todo, order_of, *, user, now, finish) -> set[tuple[int, str]]:
    locked = Parcel.objects.select_for_update(of=("self",)).filter(pk__in=todo).order_by("pk")
    # The stored scans' keys, exact now (nobody else records scans of these parcels until we commit): on PostgreSQL
    # in the same query as the parcels (an array per parcel), elsewhere in one more.
    keys = ArraySubquery(TrackingEvent.objects.filter(parcel_id=OuterRef("pk")).values("dedupe_key"))
    on_pg = connection.vendor == "postgresql"
    # Lock order: orders, then parcels; both queries in one round trip (sent together, run in this order).
    locked_orders, state = statements.fetch_together(
        orders_locking((order_of[pk] for pk in todo), fields=ORDER_STATE),
        (locked.annotate(keys=keys) if on_pg else locked).values_list(*PARCEL_STATE, *(["keys"] * on_pg)),
    )
    orders = {order.pk: order for order in locked_orders}
    stored_already = (
        {(row[0], key) for row in state for key in row[19]}
        if on_pg
        else set(TrackingEvent.objects.filter(parcel_id__in=todo).values_list("parcel_id", "dedupe_key"))
    )
    lanes = lane_figures_cached(  # for the expected dates below: one cache call for the batch
        {(row[12], row[11], orders[row[10]].ship_province) for row in state}
    )
    labels = {value: choice_label(TrackingStatus(value)) for value in TrackingStatus.values}  # once per batch
    rows: list[tuple] = []  # TRACKING_EVENT_FIELDS
    timeline: list[dict] = []
    eta_rows: list[dict] = []
    parcel_rows: list[tuple] = []  # (pk, *PARCEL_MOVED)
    watch_new: list[tuple] = []  # WATCH_NEW
    watch_rows: list[tuple] = []  # (watch pk, *WATCH_ETA)
    moves: list[tuple[int, list[str]]] = []
    problems: list[tuple[int, tuple]] = []  # (parcel pk, the scan's row)
    delivered_lanes = set()
    for row in state:
        (pk, number, status, last_at, delivered_at, expected, created_at, shipment_id, shipment_status, shipped_at) = (
            row[:10]
        )
        order_id, origin, carrier_id, transit_days, service_name, watch_id = row[10:16]
        items = [(e, s) for e, s in todo.get(pk, ()) if (pk, e.dedupe_key) not in stored_already]
        if not items:
            continue
        order = orders[order_id]
        moved_any = delivered = False
        targets: list[str] = []
        problem = None  # the applied scan that leaves the parcel in a problem status
        carrier_estimate = None
        for event, source in sorted(items, key=lambda item: item[0].occurred_at):
            moved = parcel_moves(status, last_at, event.status, event.occurred_at)
            scan = (
                pk,
                event.status,
                event.description[:255],
                event.location[:120],
                event.occurred_at,
                source,
                event.dedupe_key,
                (event.carrier_status or "")[:64],
                event.code_known,
                event.raw,
                now,
            )
            if moved:
                status, last_at, moved_any = event.status, event.occurred_at, True
                if event.status == TrackingStatus.DELIVERED:
                    delivered_at, delivered = event.occurred_at, True
                if event.status in SHIPMENT_STATUS_FOR:
                    targets.append(SHIPMENT_STATUS_FOR[event.status])
                problem = scan if event.status in PROBLEMS else None
            if event.est_delivery_date:
                carrier_estimate = event.est_delivery_date
            rows.append(scan)
            timeline.append(_timeline_row(order, number, event, source, moved, labels))
        lane = (carrier_id, origin, order.ship_province)
        eta = eta_values(  # once per parcel
            status=status,
            delivered_at=delivered_at,
            last_event_at=last_at,
            expected_delivery=expected,
            route=lambda c=created_at, s=shipped_at, lane=lane, d=transit_days, n=service_name: Route(
                start=timezone.localtime(s or c).date(), lane=lane, transit_days=d, service_name=n
            ),
            watch=None if watch_id is None else row[16:19],
            now=now,
            tracking_number=number,
            order=order,
            carrier_estimate=carrier_estimate,
            lanes=lanes,
        )
        if moved_any or eta.expected_delivery != expected:
            parcel_rows.append((pk, status, last_at, delivered_at, eta.expected_delivery))
        if watch_id is None:
            watch_new.append((pk, *eta.watch, 0, ""))
        elif eta.watch_changed:
            watch_rows.append((watch_id, *eta.watch))
        if eta.event:
            eta_rows.append(eta.event)
        steps = _steps(shipment_status, targets)
        if steps:
            moves.append((shipment_id, steps))
        if problem is not None:
            problems.append((pk, problem))
        if delivered and status == TrackingStatus.DELIVERED:
            delivered_lanes.add(lane)
    if not rows:
        if finish:
            finish(set())
        return set()
    _moved, follow_rows = shipments_follow_parcels(moves=moves, orders=orders, user=user)  # reads no scan or parcel
    lane_caches_forget(delivered_lanes)
    stored = {(row[0], row[6]) for row in rows}

    def the_rest() -> None:
        statements.insert_rows(ParcelWatch, WATCH_NEW, watch_new)
        statements.update_rows(ParcelWatch, WATCH_ETA, watch_rows)
        order_event_rows_record(timeline + follow_rows + eta_rows, user=user)
        if finish:
            finish(stored)

    # The scans (ON CONFLICT DO NOTHING on (parcel, dedupe_key)), the parcels' moves and, with no problem to open,
    # the rest (``finish``'s outcomes too): one round trip (a notice's keys one more).
    with statements.pipeline():
        statements.insert_rows(TrackingEvent, TRACKING_EVENT_FIELDS, rows, ignore_conflicts=True)
        statements.update_rows(Parcel, PARCEL_MOVED, parcel_rows)
        if not problems:
            the_rest()
    if problems:  # rare: the case is opened from the models, read now (after the moves above)
        parcels = Parcel.objects.select_related("shipment__order", "shipment__location", "service__carrier").in_bulk(
            [pk for pk, _ in problems]
        )
        for pk, scan in problems:
            parcel_problem_open(parcel=parcels[pk], event=_event_of(parcels[pk], scan), now=now)
        with statements.pipeline():
            the_rest()
    return stored


# The columns `_record_locked` writes a scan's row with, in the order of its tuples.
TRACKING_EVENT_FIELDS = (
    "parcel",
    "status",
    "description",
    "location",
    "occurred_at",
    "source",
    "dedupe_key",
    "carrier_status",
    "code_known",
    "raw",
    "created_at",
)


def _event_of(parcel: Parcel, row: tuple) -> TrackingEvent:
    """The unsaved model of a scan's row (a problem scan opens its case from it)."""
    event = TrackingEvent(**dict(zip(TRACKING_EVENT_FIELDS[1:], row[1:], strict=True)))
    event.parcel = parcel
    return event


def _steps(status: str, targets: list[str]) -> list[str]:
    """The shipment statuses (it is in ``status``) the parcel's applied scans ask for that could move it (the door
    checks again)."""
    steps = []
    for target in targets:
        if target != status and _shipment_may_follow(status, target):
            steps.append(target)
            status = target
    return steps


def _shipment_may_follow(current: str, target: str) -> bool:
    """Cheap check before locking: forward, or out for delivery back to in transit (`shipment_follow_parcel`)."""
    order = [
        ShipmentStatus.SHIPPED,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    if current not in order:
        return False
    if current == ShipmentStatus.OUT_FOR_DELIVERY and target == ShipmentStatus.IN_TRANSIT:
        return True
    return order.index(target) > order.index(current)


def _timeline_row(order, number: str, event: NormalizedEvent, source: str, applied: bool, labels: dict) -> dict:
    """The order's timeline row of one scan: what the carrier said, when (its own time), whether it was applied;
    an unknown carrier code is said so, with the code. ``labels``: the statuses' labels (shown in the reader's
    language), built once per batch."""
    status = labels[event.status]
    if not event.code_known:
        status = msg(
            gettext_noop("%(status)s (unknown carrier code %(code)s, kept and flagged)"),
            status=status,
            code=event.carrier_status or "?",
        )
    params = {"tracking": number, "status": status}
    if event.location:
        params["where"] = event.location
    if event.description:
        params["description"] = event.description
    text = msg(SCAN_TEXTS[("where" in params, "description" in params)], **params)
    data = {
        "tracking_number": number,
        "status": event.status,
        "source": source,
        "occurred_at": event.occurred_at.isoformat(),
        "applied": applied,
    }
    if event.carrier_status:
        data["carrier_status"] = event.carrier_status
    if not event.code_known:
        data["code_known"] = False
    return {
        "order": order,
        "kind": EventKind.TRACKING,
        "message": text,
        "data": data,
    }


# A scan on the order's timeline: "<tracking number>: <status>[ at <where>].[ <the carrier's description>]".
SCAN_TEXTS = {
    (True, True): gettext_noop("%(tracking)s: %(status)s at %(where)s. %(description)s"),
    (True, False): gettext_noop("%(tracking)s: %(status)s at %(where)s."),
    (False, True): gettext_noop("%(tracking)s: %(status)s. %(description)s"),
    (False, False): gettext_noop("%(tracking)s: %(status)s."),
}


def parcel_by_tracking_number(tracking_number: str) -> Parcel | None:
    return Parcel.objects.filter(tracking_number=tracking_number.strip()).first()
