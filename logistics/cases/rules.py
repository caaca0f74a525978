"""Scheduled detection: each rule looks at the database as of ``now`` and returns findings; `exceptions_scan`
opens one case per finding (a case already open for the order and type is left alone, so a scan is
idempotent). Thresholds are the playbooks' ``threshold_hours`` (editable in the knowledge base).

Rules:

- ``no_scan``: a shipped parcel, not delivered/returned/lost, whose newest scan (or its ship time when it has
  none) is older than the threshold (48 h by default).
- ``late``: a parcel still on its way whose expected date is after the promise (the order's promise date,
  else the first date we gave, `ParcelWatch.promised_delivery`), or is already past.
- carrier statuses: a parcel whose current status is failed attempt, exception, returning or returned to the
  sender, or lost; an exception is typed by its carrier code or words (`classify_exception`): address problem,
  damaged, lost, not collected from the pickup point, returned, or a plain carrier exception. The same finding
  opens the case at once when the scan arrives (`parcel_problem_open`, called by `logistics.services`), so the
  schedule only catches what that missed. One problem, one case: a parcel not collected that then goes back
  to the sender stays in its "not collected" case.
- stuck stages: an order confirmed and not routed (4 h), a shipment reserved and not on a pick list (24 h),
  a shipment picking or packed and not shipped (48 h), measured from when it entered the stage: the time of
  the status event (`OrderEvent`) that moved it there (for an order also the release of its last hold,
  since a held order cannot be routed), else its creation.
- ``backorder``: an open `fulfillment.Backorder` (``resolved_at`` empty) or an active "stock short" hold
  older than the threshold (72 h), one finding per order.

Auto-close: after the rules ran, every open case of a type in ``CLEARS_BY_ITSELF`` that a rule opened and
that no rule found this time is closed by `case_autoclose` (root cause "cleared by itself", resolved at
``now``): a scan arrived, the parcel was delivered, the shipment was picked, the backorder was resolved.
Cases opened by a person and cases waiting on a carrier claim stay open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_noop

from fulfillment.models import Backorder, Shipment
from fulfillment.status import ShipmentStatus
from oms.wording import DAY, NUMBER, TRACKING_NUMBER, known_shape, labels_of
from orders.models import Order, OrderEvent, OrderHold
from orders.status import HoldReason, OrderStatus
from orders.wording import known, known_choices, known_param, label, msg

from ..models import ExceptionCase, Parcel, TrackingEvent
from ..status import NOT_COLLECTED_CODES, NOT_ON_ITS_WAY, PROBLEMS, TrackingStatus
from .services import case_autoclose, case_open, playbook_for
from .types import CLEARS_BY_ITSELF, OPEN_CASE_STATUSES, CaseType

# The summaries the detection writes (ExceptionCase.summary, stored in English): shown in the reader's language
# through oms.wording's known phrases (the summary column has no room for its template).
NO_SCAN = gettext_noop("%(tracking)s: no carrier scan for %(hours)s h")
LATE_PROMISED = gettext_noop("%(tracking)s: expected %(expected)s, promised %(promise)s")
LATE_PASSED = gettext_noop("%(tracking)s: expected %(expected)s has passed")
PROBLEM = gettext_noop("%(tracking)s: %(status)s")
PROBLEM_SAID = gettext_noop("%(tracking)s: %(status)s — %(description)s")
NOT_ROUTED = gettext_noop("confirmed %(hours)s h ago, not routed")
STUCK = gettext_noop("%(shipment)s at %(location)s: %(status)s for %(hours)s h")
BACKORDERED = gettext_noop("backordered for %(hours)s h: %(skus)s")
WAITING = gettext_noop("waiting for stock for %(hours)s h: %(note)s")
known(NO_SCAN, LATE_PROMISED, LATE_PASSED, PROBLEM, PROBLEM_SAID, NOT_ROUTED, STUCK, BACKORDERED, WAITING)
known_choices(TrackingStatus, ShipmentStatus)
# Each phrase takes only what the detection writes (a tracking number, a status's label, hours, a day): a text that
# is not ours ("Customer: called twice", a carrier's own words) stays as it came.
_TRACKING, _TRACKING_LABEL = TRACKING_NUMBER, labels_of(TrackingStatus)
known_shape(NO_SCAN, tracking=_TRACKING, hours=NUMBER)
known_shape(LATE_PROMISED, tracking=_TRACKING, expected=DAY, promise=DAY)
known_shape(LATE_PASSED, tracking=_TRACKING, expected=DAY)
known_shape(PROBLEM, tracking=_TRACKING, status=_TRACKING_LABEL)
known_shape(PROBLEM_SAID, tracking=_TRACKING, status=_TRACKING_LABEL)
known_shape(NOT_ROUTED, hours=NUMBER)
known_shape(STUCK, shipment=r"\S+", location=r"\S+", status=labels_of(ShipmentStatus), hours=NUMBER)
known_shape(BACKORDERED, hours=NUMBER)
known_shape(WAITING, hours=NUMBER)
# The stock-short hold's note inside a backorder case's summary: routing's own phrases ("sha: short of SKU-A | …").
known_param(WAITING, "note", "fulfillment.routing.words.short_note_words")


@dataclass
class Finding:
    order: Order
    case_type: str
    summary: str
    facts: dict = field(default_factory=dict)
    parcel: Parcel | None = None
    shipment: Shipment | None = None


def _threshold(case_type: str) -> timedelta:
    return timedelta(hours=playbook_for(case_type).threshold_hours)


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 1)


ADDRESS_CODES = {
    "Exception/Exception_002",
    "Exception/Exception_007",
    "kdniao/420",
    "kdniao/421",
    "kdniao/423",
    "failure/address_correction",
    "in_transit/address_correction",
    "out_for_delivery/address_correction",
    "failure/address_not_found",
}
DAMAGED_CODES = {"Exception/Exception_012", "kdniao/414", "failure/damaged", "in_transit/damaged"}
LOST_CODES = {"Exception/Exception_013", "failure/lost"}
RETURNED_CODES = {
    "Exception/Exception_003",
    "Exception/Exception_010",
    "kdniao/404",
    "kdniao/407",
    "failure/return",
    "failure/refused",
    "Exception/Exception_011",
    "kdniao/406",
}
ADDRESS_WORDS = ("address", "地址", "moved")
DAMAGED_WORDS = ("damage", "破损", "损坏")
LOST_WORDS = ("lost", "丢失", "遗失")


def _carrier_code(event: TrackingEvent) -> str:
    if event.carrier_status:
        return event.carrier_status
    raw = event.raw or {}
    code = raw.get("carrier_status") or ""
    detail = raw.get("detail") if isinstance(raw.get("detail"), dict) else None
    if not code and detail:  # EasyPost keeps status and status_detail of the scan
        code = f"{detail.get('status')}/{detail.get('status_detail')}" if detail.get("status_detail") else ""
    return code


def classify_exception(event: TrackingEvent) -> str:
    """The case type for a carrier exception scan."""
    code, words = _carrier_code(event), (event.description or "").lower()
    if code in NOT_COLLECTED_CODES:
        return CaseType.NOT_COLLECTED
    if event.status == TrackingStatus.LOST:
        return CaseType.LOST
    if event.status in (TrackingStatus.RETURNED_TO_SENDER, TrackingStatus.RETURNING_TO_SENDER):
        return CaseType.RETURNED
    if event.status == TrackingStatus.FAILED_ATTEMPT:
        return CaseType.FAILED_ATTEMPT
    if code in ADDRESS_CODES or any(w in words for w in ADDRESS_WORDS):
        return CaseType.ADDRESS_PROBLEM
    if code in DAMAGED_CODES or any(w in words for w in DAMAGED_WORDS):
        return CaseType.DAMAGED
    if code in LOST_CODES or any(w in words for w in LOST_WORDS):
        return CaseType.LOST
    if code in RETURNED_CODES:
        return CaseType.RETURNED
    return CaseType.CARRIER_EXCEPTION


def _moving_parcels():
    return Parcel.objects.exclude(status__in=sorted(NOT_ON_ITS_WAY)).select_related(
        "shipment__order", "shipment__location", "service__carrier"
    )


def detect_no_scan(now: datetime) -> list[Finding]:
    cutoff = now - _threshold(CaseType.NO_SCAN)
    parcels = (
        _moving_parcels()
        .filter(shipment__shipped_at__isnull=False)
        .annotate(last_scan=Coalesce(Max("events__occurred_at"), "shipment__shipped_at"))
        .filter(last_scan__lt=cutoff)
    )
    return [
        Finding(
            p.shipment.order,
            CaseType.NO_SCAN,
            msg(NO_SCAN, tracking=p.tracking_number, hours=_hours(now - p.last_scan)),
            {
                "tracking_number": p.tracking_number,
                "last_scan": p.last_scan.isoformat(),
                "hours": _hours(now - p.last_scan),
            },
            parcel=p,
        )
        for p in parcels
    ]


def detect_late(now: datetime) -> list[Finding]:
    today = timezone.localtime(now).date()
    findings = []
    for p in _moving_parcels().filter(expected_delivery__isnull=False).select_related("watch"):
        watch = getattr(p, "watch", None)
        promise = p.shipment.order.promise_date or (watch.promised_delivery if watch else None)
        late_against_promise = promise is not None and p.expected_delivery > promise
        overdue = p.expected_delivery < today
        if not (late_against_promise or overdue):
            continue
        dates = {"tracking": p.tracking_number, "expected": f"{p.expected_delivery:%Y-%m-%d}"}
        summary = (
            msg(LATE_PROMISED, **dates, promise=f"{promise:%Y-%m-%d}")
            if late_against_promise
            else msg(LATE_PASSED, **dates)
        )
        findings.append(
            Finding(
                p.shipment.order,
                CaseType.LATE,
                summary,
                {
                    "tracking_number": p.tracking_number,
                    "expected": p.expected_delivery.isoformat(),
                    "promise": promise.isoformat() if promise else None,
                },
                parcel=p,
            )
        )
    return findings


# A parcel's later problem that continues an open case of another type (one problem, one case).
CONTINUES = {CaseType.RETURNED: frozenset({CaseType.NOT_COLLECTED})}


def parcel_problem_finding(parcel: Parcel, event: TrackingEvent) -> Finding:
    """The finding for a parcel whose status is a problem (``event``: the scan that set it)."""
    case_type = classify_exception(event)
    continued = CONTINUES.get(case_type)
    if continued:
        open_type = (
            ExceptionCase.objects.filter(parcel=parcel, type__in=sorted(continued), status__in=OPEN_CASE_STATUSES)
            .values_list("type", flat=True)
            .first()
        )
        case_type = open_type or case_type
    return Finding(
        parcel.shipment.order,
        case_type,
        msg(
            PROBLEM_SAID,
            tracking=parcel.tracking_number,
            status=label(TrackingStatus(parcel.status)),
            description=event.description,
        )
        if event.description
        else msg(PROBLEM, tracking=parcel.tracking_number, status=label(TrackingStatus(parcel.status))),
        {
            "tracking_number": parcel.tracking_number,
            "status": parcel.status,
            "carrier_status": _carrier_code(event),
            "occurred_at": event.occurred_at.isoformat(),
            "location": event.location,
        },
        parcel=parcel,
    )


def parcel_problem_open(*, parcel: Parcel, event: TrackingEvent, now: datetime):
    """Open (or find) the case for a parcel that a scan just put in a problem status; None for a cancelled order.
    Runs inside the caller's transaction (the order is already locked)."""
    if parcel.shipment.order.status == OrderStatus.CANCELLED:
        return None
    finding = parcel_problem_finding(parcel, event)
    case, _created = case_open(
        order=finding.order,
        case_type=finding.case_type,
        summary=finding.summary,
        facts=finding.facts,
        parcel=parcel,
        now=now,
    )
    return case


def detect_carrier_status(now: datetime) -> list[Finding]:
    findings = []
    parcels = Parcel.objects.filter(status__in=sorted(PROBLEMS)).exclude(shipment__order__status=OrderStatus.CANCELLED)
    for p in parcels.select_related("shipment__order", "shipment__location", "service__carrier"):
        event = p.events.filter(status=p.status).order_by("-occurred_at", "-id").first()
        if event is None:
            continue
        findings.append(parcel_problem_finding(p, event))
    return findings


def _status_events(order_ids) -> list[tuple[int, dict, datetime]]:
    """(order id, data, time) of the orders' status changes (order and shipment), oldest first."""
    if not order_ids:
        return []
    return list(
        OrderEvent.objects.filter(order_id__in=order_ids, data__has_key="to")
        .order_by("created_at", "id")
        .values_list("order_id", "data", "created_at")
    )


def order_confirmed_since(orders: list[Order]) -> dict[int, datetime]:
    """When each order became routable: the last event that moved it to confirmed, or the release of its last
    hold if later; its creation when neither is recorded."""
    since = {o.pk: o.created_at for o in orders}
    for order_id, data, at in _status_events(list(since)):
        if "shipment" not in data and data.get("to") == OrderStatus.CONFIRMED and data.get("from") != data.get("to"):
            since[order_id] = at
    released = (
        OrderHold.objects.filter(order_id__in=list(since), released_at__isnull=False)
        .values("order_id")
        .annotate(last=Max("released_at"))
    )
    for row in released:
        since[row["order_id"]] = max(since[row["order_id"]], row["last"])
    return since


def shipment_stage_since(shipments: list[Shipment], stage: frozenset[str]) -> dict[int, datetime]:
    """When each shipment entered the stage (a set of statuses): the last event that moved it into the set
    from outside it; its creation when none is recorded (a shipment is born reserved)."""
    by_number = {s.number: s for s in shipments}
    since = {s.pk: s.created_at for s in shipments}
    for _order_id, data, at in _status_events({s.order_id for s in shipments}):
        shipment = by_number.get(data.get("shipment"))
        if shipment is not None and data.get("to") in stage and data.get("from") not in stage:
            since[shipment.pk] = at
    return since


STAGES = (
    (CaseType.NOT_PICKED, frozenset({ShipmentStatus.RESERVED})),
    (CaseType.NOT_SHIPPED, frozenset({ShipmentStatus.PICKING, ShipmentStatus.PACKED})),
)


def detect_stuck(now: datetime) -> list[Finding]:
    findings = []
    cutoff = now - _threshold(CaseType.NOT_ROUTED)
    # The stage starts after creation, so creation before the cutoff is a cheap first filter.
    unrouted = list(
        Order.objects.filter(status=OrderStatus.CONFIRMED, on_hold=False, created_at__lt=cutoff).exclude(
            shipments__status__in=[s for s in ShipmentStatus if s != ShipmentStatus.CANCELLED]
        )
    )
    since = order_confirmed_since(unrouted)
    for order in unrouted:
        if since[order.pk] >= cutoff:
            continue
        hours = _hours(now - since[order.pk])
        findings.append(
            Finding(
                order,
                CaseType.NOT_ROUTED,
                msg(NOT_ROUTED, hours=hours),
                {"hours": hours, "since": since[order.pk].isoformat()},
            )
        )
    for case_type, stage in STAGES:
        cutoff = now - _threshold(case_type)
        shipments = list(
            Shipment.objects.filter(
                status__in=sorted(stage), created_at__lt=cutoff, order__on_hold=False
            ).select_related("order", "location")
        )
        since = shipment_stage_since(shipments, stage)
        for s in shipments:
            if since[s.pk] >= cutoff:
                continue
            hours = _hours(now - since[s.pk])
            findings.append(
                Finding(
                    s.order,
                    case_type,
                    msg(
                        STUCK,
                        shipment=s.number,
                        location=s.location.code,
                        status=label(ShipmentStatus(s.status)),
                        hours=hours,
                    ),
                    {"shipment": s.number, "status": s.status, "hours": hours, "since": since[s.pk].isoformat()},
                    shipment=s,
                )
            )
    return findings


def detect_backorders(now: datetime) -> list[Finding]:
    """Open backorders (and active stock-short holds) older than the threshold: one finding per order."""
    cutoff = now - _threshold(CaseType.BACKORDER)
    findings: dict[int, Finding] = {}
    backorders = (
        Backorder.objects.filter(resolved_at__isnull=True, created_at__lt=cutoff)
        .exclude(order__status=OrderStatus.CANCELLED)
        .select_related("order", "product")
        .order_by("created_at", "id")
    )
    for b in backorders:
        finding = findings.get(b.order_id)
        if finding is None:
            hours = _hours(now - b.created_at)  # the oldest comes first
            finding = findings[b.order_id] = Finding(
                b.order, CaseType.BACKORDER, "", {"backorders": [], "skus": [], "hours": hours}
            )
        finding.facts["backorders"].append(b.pk)
        finding.facts["skus"].append(f"{b.product.sku} x{b.quantity}")
    for finding in findings.values():
        finding.summary = msg(BACKORDERED, hours=finding.facts["hours"], skus=", ".join(finding.facts["skus"]))
    holds = OrderHold.objects.filter(reason=HoldReason.STOCK_SHORT, released_at__isnull=True, created_at__lt=cutoff)
    for h in holds.select_related("order").exclude(order__status=OrderStatus.CANCELLED).order_by("created_at", "id"):
        if h.order_id in findings:
            continue
        findings[h.order_id] = Finding(
            h.order,
            CaseType.BACKORDER,
            msg(WAITING, hours=_hours(now - h.created_at), note=h.note),
            {"hold": h.pk, "hours": _hours(now - h.created_at)},
        )
    return list(findings.values())


RULES = (detect_no_scan, detect_late, detect_carrier_status, detect_stuck, detect_backorders)


# What the world looks like when a case clears by itself (``cleared_detail``, kept in the case's resolution and
# the closing event in English), read in the reader's language as known phrases.
CLEARED_CANCELLED = gettext_noop("the order was cancelled")
CLEARED_BACKORDER = gettext_noop("no open backorder or stock-short hold is left on the order")
CLEARED_ORDER = gettext_noop("the order is %(status)s")
CLEARED_ORDER_ROUTED = gettext_noop("the order is %(status)s and routed")
CLEARED_PARCEL = gettext_noop("parcel %(tracking)s is %(status)s")
CLEARED_PARCEL_SCAN = gettext_noop("parcel %(tracking)s is %(status)s, last scan %(at)s")
CLEARED_SHIPMENT = gettext_noop("shipment %(shipment)s is %(status)s")
CLEARED_GONE = gettext_noop("the detection no longer finds the problem")
CLEARED_BY_ITSELF = gettext_noop("Cleared by itself: %(detail)s")
known(
    CLEARED_CANCELLED, CLEARED_BACKORDER, CLEARED_ORDER, CLEARED_ORDER_ROUTED, CLEARED_PARCEL, CLEARED_PARCEL_SCAN,
    CLEARED_SHIPMENT, CLEARED_GONE, CLEARED_BY_ITSELF,
)  # fmt: skip
_STATUS_WORDS = labels_of(OrderStatus, TrackingStatus, ShipmentStatus, lower=True)  # a status's label in a sentence
known_shape(CLEARED_ORDER, status=_STATUS_WORDS)
known_shape(CLEARED_ORDER_ROUTED, status=_STATUS_WORDS)
known_shape(CLEARED_PARCEL, tracking=_TRACKING, status=_STATUS_WORDS)
known_shape(CLEARED_PARCEL_SCAN, tracking=_TRACKING, status=_STATUS_WORDS, at=DAY + r" \d{2}:\d{2}")
known_shape(CLEARED_SHIPMENT, shipment=r"\S+", status=_STATUS_WORDS)
# The closing event of a case written before the detail kept its template (services.py ``case_autoclose``).
known_param("closed by itself after %(hours)s h — %(detail)s", "detail", "oms.wording.in_words")


def cleared_detail(case: ExceptionCase) -> str:
    """What the world looks like now that the rule no longer finds the case's problem (for the resolution)."""
    order = case.order
    if order.status == OrderStatus.CANCELLED:
        return msg(CLEARED_CANCELLED)
    if case.type == CaseType.BACKORDER:
        return msg(CLEARED_BACKORDER)
    if case.type == CaseType.NOT_ROUTED:
        routed = order.shipments.exclude(status=ShipmentStatus.CANCELLED).exists()
        return msg(CLEARED_ORDER_ROUTED if routed else CLEARED_ORDER, status=OrderStatus(order.status).label.lower())
    if case.parcel_id is not None:
        parcel = case.parcel
        status = TrackingStatus(parcel.status).label.lower()
        if parcel.last_event_at:
            at = f"{timezone.localtime(parcel.last_event_at):%Y-%m-%d %H:%M}"
            return msg(CLEARED_PARCEL_SCAN, tracking=parcel.tracking_number, status=status, at=at)
        return msg(CLEARED_PARCEL, tracking=parcel.tracking_number, status=status)
    if case.shipment_id is not None:
        shipment = case.shipment
        return msg(CLEARED_SHIPMENT, shipment=shipment.number, status=ShipmentStatus(shipment.status).label.lower())
    return msg(CLEARED_GONE)


def exceptions_scan(*, now: datetime | None = None) -> dict:
    """Run every rule, open a case per finding and close the cases whose problem cleared.

    Returns {"found": n, "opened": {type: n}, "closed": {type: n}}."""
    now = now or timezone.now()
    opened: dict[str, int] = {}
    closed: dict[str, int] = {}
    found = 0
    seen: set[tuple[int, str]] = set()
    for rule in RULES:
        for finding in rule(now):
            found += 1
            seen.add((finding.order.pk, finding.case_type))
            _case, created = case_open(
                order=finding.order,
                case_type=finding.case_type,
                summary=finding.summary,
                facts=finding.facts,
                parcel=finding.parcel,
                shipment=finding.shipment,
                now=now,
            )
            if created:
                opened[finding.case_type] = opened.get(finding.case_type, 0) + 1
    candidates = ExceptionCase.objects.filter(
        status__in=sorted(OPEN_CASE_STATUSES),
        type__in=sorted(CLEARS_BY_ITSELF),
        detected_by="rule",
        opened_at__lte=now,
    ).select_related("order", "parcel", "shipment")
    for case in candidates:
        if (case.order_id, case.type) in seen:
            continue
        if case_autoclose(case=case, detail=cleared_detail(case), now=now) is not None:
            closed[case.type] = closed.get(case.type, 0) + 1
    return {"found": found, "opened": opened, "closed": closed}


__all__ = ["Finding", "classify_exception", "exceptions_scan", "parcel_problem_finding", "parcel_problem_open"]
