"""Scheduled detection: each rule looks at the database as of ``now`` and returns findings; `exceptions_scan`
opens one case per finding (a case already open for the order and type is left alone, so a scan is
idempotent). Thresholds are the playbooks' ``threshold_hours`` (editable in the knowledge base).

Rules:

- ``no_scan``: a shipped parcel, not delivered/returned/lost, whose newest scan (or its ship time when it has
  none) is older than the threshold (48 h by default).
- ``late``: a parcel still on its way whose expected date is after the promise (the order's promise date,
  else the first date we gave, `ParcelWatch.promised_delivery`), or is already past.
- carrier statuses: a parcel whose current status is failed attempt, exception, returned or lost; an
  exception is typed by its carrier code or words (`classify_exception`): address problem, damaged, lost,
  returned, or a plain carrier exception.
- stuck stages: an order confirmed and not routed (4 h), a shipment reserved and not on a pick list (24 h),
  a shipment picking or packed and not shipped (48 h), measured from the order's or shipment's creation.
- ``backorder``: an active "stock short" hold older than the threshold (72 h).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.status import ShipmentStatus
from orders.models import Order, OrderHold
from orders.status import HoldReason, OrderStatus

from ..models import Parcel, TrackingEvent
from ..status import TERMINAL, TrackingStatus
from .services import case_open, playbook_for
from .types import CaseType


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
}
DAMAGED_CODES = {"Exception/Exception_012", "kdniao/414", "failure/damaged"}
LOST_CODES = {"Exception/Exception_013", "failure/lost"}
RETURNED_CODES = {
    "Exception/Exception_003",
    "Exception/Exception_010",
    "kdniao/404",
    "kdniao/407",
    "failure/return",
    "failure/refused",
}
ADDRESS_WORDS = ("address", "地址", "moved")
DAMAGED_WORDS = ("damage", "破损", "损坏")
LOST_WORDS = ("lost", "丢失", "遗失")


def _carrier_code(event: TrackingEvent) -> str:
    raw = event.raw or {}
    code = raw.get("carrier_status") or ""
    detail = raw.get("detail") if isinstance(raw.get("detail"), dict) else None
    if not code and detail:  # EasyPost keeps status and status_detail of the scan
        code = f"{detail.get('status')}/{detail.get('status_detail')}" if detail.get("status_detail") else ""
    return code


def classify_exception(event: TrackingEvent) -> str:
    """The case type for a carrier exception scan."""
    if event.status == TrackingStatus.LOST:
        return CaseType.LOST
    if event.status == TrackingStatus.RETURNED_TO_SENDER:
        return CaseType.RETURNED
    if event.status == TrackingStatus.FAILED_ATTEMPT:
        return CaseType.FAILED_ATTEMPT
    code, words = _carrier_code(event), (event.description or "").lower()
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
    return Parcel.objects.exclude(status__in=TERMINAL).select_related(
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
            f"{p.tracking_number}: no carrier scan for {_hours(now - p.last_scan)} h",
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
        why = (
            f"expected {p.expected_delivery:%Y-%m-%d}, promised {promise:%Y-%m-%d}"
            if late_against_promise
            else f"expected {p.expected_delivery:%Y-%m-%d} has passed"
        )
        findings.append(
            Finding(
                p.shipment.order,
                CaseType.LATE,
                f"{p.tracking_number}: {why}",
                {
                    "tracking_number": p.tracking_number,
                    "expected": p.expected_delivery.isoformat(),
                    "promise": promise.isoformat() if promise else None,
                },
                parcel=p,
            )
        )
    return findings


def detect_carrier_status(now: datetime) -> list[Finding]:
    flagged = (
        TrackingStatus.FAILED_ATTEMPT,
        TrackingStatus.EXCEPTION,
        TrackingStatus.RETURNED_TO_SENDER,
        TrackingStatus.LOST,
    )
    findings = []
    parcels = Parcel.objects.filter(status__in=flagged).exclude(shipment__order__status=OrderStatus.CANCELLED)
    for p in parcels.select_related("shipment__order", "shipment__location", "service__carrier"):
        event = p.events.filter(status=p.status).order_by("-occurred_at", "-id").first()
        if event is None:
            continue
        case_type = classify_exception(event)
        findings.append(
            Finding(
                p.shipment.order,
                case_type,
                f"{p.tracking_number}: {TrackingStatus(p.status).label}"
                + (f" — {event.description}" if event.description else ""),
                {
                    "tracking_number": p.tracking_number,
                    "status": p.status,
                    "carrier_status": _carrier_code(event),
                    "occurred_at": event.occurred_at.isoformat(),
                    "location": event.location,
                },
                parcel=p,
            )
        )
    return findings


def detect_stuck(now: datetime) -> list[Finding]:
    findings = []
    cutoff = now - _threshold(CaseType.NOT_ROUTED)
    unrouted = Order.objects.filter(status=OrderStatus.CONFIRMED, on_hold=False, created_at__lt=cutoff).exclude(
        shipments__status__in=[s for s in ShipmentStatus if s != ShipmentStatus.CANCELLED]
    )
    for order in unrouted:
        findings.append(
            Finding(
                order,
                CaseType.NOT_ROUTED,
                f"confirmed {_hours(now - order.created_at)} h ago, not routed",
                {"hours": _hours(now - order.created_at)},
            )
        )
    for case_type, statuses in (
        (CaseType.NOT_PICKED, [ShipmentStatus.RESERVED]),
        (CaseType.NOT_SHIPPED, [ShipmentStatus.PICKING, ShipmentStatus.PACKED]),
    ):
        cutoff = now - _threshold(case_type)
        shipments = Shipment.objects.filter(status__in=statuses, created_at__lt=cutoff, order__on_hold=False)
        for s in shipments.select_related("order", "location"):
            findings.append(
                Finding(
                    s.order,
                    case_type,
                    f"{s.number} at {s.location.code}: {s.get_status_display().lower()} "
                    f"for {_hours(now - s.created_at)} h",
                    {"shipment": s.number, "status": s.status, "hours": _hours(now - s.created_at)},
                    shipment=s,
                )
            )
    return findings


def detect_backorders(now: datetime) -> list[Finding]:
    cutoff = now - _threshold(CaseType.BACKORDER)
    holds = OrderHold.objects.filter(reason=HoldReason.STOCK_SHORT, released_at__isnull=True, created_at__lt=cutoff)
    return [
        Finding(
            h.order,
            CaseType.BACKORDER,
            f"waiting for stock for {_hours(now - h.created_at)} h: {h.note}"[:255],
            {"hold": h.pk, "hours": _hours(now - h.created_at)},
        )
        for h in holds.select_related("order").exclude(order__status=OrderStatus.CANCELLED)
    ]


RULES = (detect_no_scan, detect_late, detect_carrier_status, detect_stuck, detect_backorders)


def exceptions_scan(*, now: datetime | None = None) -> dict:
    """Run every rule and open a case per finding. Returns {"found": n, "opened": {type: n}}."""
    now = now or timezone.now()
    opened: dict[str, int] = {}
    found = 0
    for rule in RULES:
        for finding in rule(now):
            found += 1
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
    return {"found": found, "opened": opened}


__all__ = ["Finding", "classify_exception", "exceptions_scan"]
