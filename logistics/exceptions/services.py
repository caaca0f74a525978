"""Exception cases: opening (once per order and type), working and resolving them, and the playbook actions.

Every write is keyword-only, one transaction, locks the order first (the project's one lock order), writes a
`CaseAction` row and an event on the order's timeline. Money amounts (refund, compensation, claim) are records;
no payment gateway is called. Customer messages go to the notifications outbox when `orders.notifications`
offers ``notification_enqueue``; otherwise the message is recorded on the case and the order's timeline.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.reship import shipment_reship
from oms.errors import DomainError, TransitionNotAllowed
from orders.intake.canonical import CanonicalAddress
from orders.models import Order
from orders.services import ADDRESS_CHANGEABLE, order_change_address, order_event_record, order_lock
from orders.status import EventKind

from ..models import CarrierClaim, CaseAction, ExceptionCase, Parcel, Playbook
from ..tracking_links import tracking_url_for_order
from .types import (
    CLAIM_TRANSITIONS,
    OPEN_CASE_STATUSES,
    PLAYBOOK_DEFAULTS,
    ActionKind,
    CaseStatus,
    CaseType,
    ClaimStatus,
    CompensationForm,
    RootCause,
)

try:  # the notifications outbox, when the notifications work has landed
    from orders import notifications as _outbox
except ImportError:  # pragma: no cover - depends on the tree
    _outbox = None

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlaybookView:
    """A type's playbook: the staff-edited row when there is one, else the default from `types`."""

    type: str
    severity: str
    due_hours: int
    threshold_hours: int
    steps: str
    actions: tuple[str, ...]
    notify_customer: bool
    customer_subject: str
    customer_body: str
    edited: bool


def playbook_for(case_type: str) -> PlaybookView:
    default = PLAYBOOK_DEFAULTS[case_type]
    row = Playbook.objects.filter(type=case_type).first()
    if row is None:
        return PlaybookView(
            case_type,
            default.severity,
            default.due_hours,
            default.threshold_hours,
            default.steps,
            default.actions,
            default.notify_customer,
            default.customer_subject,
            default.customer_body,
            False,
        )
    return PlaybookView(
        case_type,
        row.severity,
        row.due_hours,
        row.threshold_hours,
        row.steps,
        default.actions,
        row.notify_customer,
        row.customer_subject,
        row.customer_body,
        True,
    )


@transaction.atomic
def playbook_save(
    *,
    case_type: str,
    severity: str,
    due_hours: int,
    threshold_hours: int,
    steps: str,
    notify_customer: bool,
    customer_subject: str,
    customer_body: str,
    user=None,
) -> Playbook:
    if case_type not in CaseType.values:
        raise DomainError(f"Unknown case type {case_type!r}.")
    if due_hours <= 0:
        raise DomainError("Due hours must be more than 0.")
    row, _ = Playbook.objects.select_for_update().get_or_create(
        type=case_type,
        defaults={"severity": severity, "due_hours": due_hours, "steps": steps},
    )
    row.severity, row.due_hours, row.threshold_hours, row.steps = severity, due_hours, threshold_hours, steps
    row.notify_customer, row.customer_subject, row.customer_body = notify_customer, customer_subject, customer_body
    row.updated_by = user
    row.save()
    return row


# ---- opening and working a case --------------------------------------------------------------------------


def _event(case: ExceptionCase, message: str, *, user=None, **data) -> None:
    order_event_record(
        order=case.order,
        kind=EventKind.NOTE,
        user=user,
        message=f"Case {case.number}: {message}",
        data={"case": case.number, "case_type": case.type, **data},
    )


def _action(
    case: ExceptionCase, kind: str, note: str = "", *, user=None, amount=None, currency="", **data
) -> CaseAction:
    return CaseAction.objects.create(
        case=case, kind=kind, note=note[:500], amount=amount, currency=currency, data=data, user=user
    )


def _lock_case(case: ExceptionCase) -> ExceptionCase:
    order_lock(case.order_id)
    return (
        ExceptionCase.objects.select_for_update(of=("self",))
        .select_related("order", "parcel__service__carrier")
        .get(pk=case.pk)
    )


def _require_open(case: ExceptionCase) -> None:
    if case.status not in OPEN_CASE_STATUSES:
        raise DomainError(f"Case {case.number} is resolved; reopen it by detecting again or open a new one.")


@transaction.atomic
def case_open(
    *,
    order: Order,
    case_type: str,
    summary: str,
    now: datetime | None = None,
    facts: dict | None = None,
    parcel: Parcel | None = None,
    shipment: Shipment | None = None,
    detected_by: str = "rule",
    user=None,
) -> tuple[ExceptionCase, bool]:
    """Open a case unless one of this type is already open for the order. Returns (case, created)."""
    now = now or timezone.now()
    if case_type not in CaseType.values:
        raise DomainError(f"Unknown case type {case_type!r}.")
    order = order_lock(order.pk)
    existing = ExceptionCase.objects.filter(order=order, type=case_type, status__in=OPEN_CASE_STATUSES).first()
    if existing is not None:
        return existing, False
    book = playbook_for(case_type)
    shipment = shipment or (parcel.shipment if parcel else None)
    try:
        with transaction.atomic():
            case = ExceptionCase.objects.create(
                order=order,
                shipment=shipment,
                parcel=parcel,
                carrier=parcel.service.carrier if parcel else None,
                location=shipment.location if shipment else None,
                type=case_type,
                severity=book.severity,
                summary=summary[:255],
                facts=facts or {},
                detected_by=detected_by,
                opened_at=now,
                due_at=now + timedelta(hours=book.due_hours),
            )
    except IntegrityError:  # opened meanwhile by another scan
        return ExceptionCase.objects.get(order=order, type=case_type, status__in=OPEN_CASE_STATUSES), False
    case.number = f"EC{100000 + case.pk}"
    case.save(update_fields=["number"])
    _event(case, f"opened — {case.get_type_display()}: {summary}", user=user, severity=case.severity)
    if book.notify_customer and book.customer_subject:
        _contact(case, subject=book.customer_subject, body=book.customer_body, user=user, now=now, proactive=True)
    return case, True


@transaction.atomic
def case_assign(*, case: ExceptionCase, owner, user=None) -> ExceptionCase:
    case = _lock_case(case)
    _require_open(case)
    case.owner = owner
    fields = ["owner"]
    if case.status == CaseStatus.OPEN:
        case.status = CaseStatus.IN_PROGRESS
        fields.append("status")
    case.save(update_fields=fields)
    _action(case, ActionKind.ASSIGN, f"to {owner}", user=user, owner=getattr(owner, "pk", None))
    _event(case, f"assigned to {owner}", user=user)
    return case


@transaction.atomic
def case_set_status(*, case: ExceptionCase, status: str, note: str = "", user=None) -> ExceptionCase:
    case = _lock_case(case)
    _require_open(case)
    if status not in OPEN_CASE_STATUSES:
        raise DomainError("Use resolve to close a case.")
    if status != case.status:
        old = case.status
        case.status = status
        case.save(update_fields=["status"])
        _action(case, ActionKind.STATUS, note, user=user, **{"from": old, "to": status})
        _event(case, f"{CaseStatus(old).label} → {CaseStatus(status).label}. {note}".strip(), user=user)
    return case


@transaction.atomic
def case_resolve(
    *, case: ExceptionCase, root_cause: str, resolution: str, user=None, now: datetime | None = None
) -> ExceptionCase:
    now = now or timezone.now()
    case = _lock_case(case)
    _require_open(case)
    if root_cause not in RootCause.values:
        raise DomainError("Choose a root cause.")
    if not resolution.strip():
        raise DomainError("Say how the case was resolved.")
    case.status, case.root_cause, case.resolution, case.resolved_at = (
        CaseStatus.RESOLVED,
        root_cause,
        resolution[:500],
        now,
    )
    case.save(update_fields=["status", "root_cause", "resolution", "resolved_at"])
    _action(case, ActionKind.RESOLVE, resolution, user=user, root_cause=root_cause, hours=case.resolution_hours)
    _event(
        case,
        f"resolved in {case.resolution_hours} h — root cause {RootCause(root_cause).label}: {resolution}",
        user=user,
    )
    return case


@transaction.atomic
def case_note(*, case: ExceptionCase, note: str, user=None) -> CaseAction:
    case = _lock_case(case)
    if not note.strip():
        raise DomainError("Write a note.")
    return _action(case, ActionKind.NOTE, note, user=user)


# ---- playbook actions ------------------------------------------------------------------------------------


def _amount(value, what: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(f"{what} must be an amount, not {value!r}.")
    if amount <= 0:
        raise DomainError(f"{what} must be more than 0.")
    return amount


@transaction.atomic
def case_reship(*, case: ExceptionCase, reason: str, lines: list[tuple[int, int]] | None = None, user=None) -> Shipment:
    """Reship the case's shipment (all its lines) or the given [(order line id, quantity)]."""
    case = _lock_case(case)
    _require_open(case)
    order = case.order
    by_id = {line.pk: line for line in order.lines.select_related("product")}
    if lines is None:
        if case.shipment_id is None:
            chosen = [(line, line.quantity) for line in by_id.values()]
        else:
            chosen = [(by_id[sl.order_line_id], sl.quantity) for sl in case.shipment.lines.all()]
    else:
        try:
            chosen = [(by_id[line_id], qty) for line_id, qty in lines]
        except KeyError:
            raise DomainError("A chosen line is not on this order.")
    shipment = shipment_reship(order=order, lines=chosen, reason=f"case {case.number}: {reason}", user=user)
    _action(
        case,
        ActionKind.RESHIP,
        reason,
        user=user,
        shipment=shipment.number,
        lines=[{"line": line.line_no, "quantity": qty} for line, qty in chosen],
    )
    return shipment


def refunded_total(order: Order) -> Decimal:
    return CaseAction.objects.filter(case__order=order, kind=ActionKind.REFUND).aggregate(t=Sum("amount"))[
        "t"
    ] or Decimal(0)


@transaction.atomic
def case_refund(*, case: ExceptionCase, amount, reason: str, user=None) -> CaseAction:
    """Record a refund (no payment gateway). The refunds of an order never exceed its total."""
    case = _lock_case(case)
    _require_open(case)
    amount = _amount(amount, "The refund")
    already = refunded_total(case.order)
    if already + amount > case.order.total:
        raise DomainError(
            f"Refunds would reach {already + amount} {case.order.currency}, more than the order's total "
            f"{case.order.total}."
        )
    action = _action(case, ActionKind.REFUND, reason, user=user, amount=amount, currency=case.order.currency)
    _event(case, f"refund of {amount} {case.order.currency} recorded. {reason}".strip(), user=user, amount=str(amount))
    return action


@transaction.atomic
def case_claim_file(
    *, case: ExceptionCase, amount, evidence: str, carrier_reference: str = "", user=None, now: datetime | None = None
) -> CarrierClaim:
    case = _lock_case(case)
    _require_open(case)
    if case.carrier_id is None:
        raise DomainError("This case has no carrier to claim from.")
    if not evidence.strip():
        raise DomainError("A claim needs evidence (photos, the carrier's scans, what was lost or damaged).")
    amount = _amount(amount, "The claim")
    claim = CarrierClaim.objects.create(
        case=case,
        carrier_id=case.carrier_id,
        parcel=case.parcel,
        amount=amount,
        currency=case.order.currency,
        evidence=evidence,
        carrier_reference=carrier_reference[:64],
        filed_at=now or timezone.now(),
    )
    _action(
        case,
        ActionKind.CLAIM,
        evidence[:200],
        user=user,
        amount=amount,
        currency=claim.currency,
        claim=claim.pk,
        status=claim.status,
    )
    _event(case, f"claim of {amount} {claim.currency} filed with {case.carrier}", user=user, claim=claim.pk)
    if case.status == CaseStatus.OPEN or case.status == CaseStatus.IN_PROGRESS:
        case.status = CaseStatus.WAITING_CARRIER
        case.save(update_fields=["status"])
    return claim


@transaction.atomic
def case_claim_update(
    *, claim: CarrierClaim, status: str, settled_amount=None, note: str = "", user=None
) -> CarrierClaim:
    case = _lock_case(claim.case)
    claim = CarrierClaim.objects.select_for_update().get(pk=claim.pk)
    if status not in CLAIM_TRANSITIONS.get(claim.status, frozenset()):
        raise TransitionNotAllowed(
            f"A claim that is {ClaimStatus(claim.status).label} cannot become {ClaimStatus(status).label}."
        )
    if status == ClaimStatus.PAID:
        claim.settled_amount = _amount(settled_amount, "The settled amount")
    old = claim.status
    claim.status = status
    claim.save(update_fields=["status", "settled_amount", "updated_at"])
    _action(
        case,
        ActionKind.CLAIM,
        note,
        user=user,
        amount=claim.settled_amount,
        currency=claim.currency,
        claim=claim.pk,
        status=status,
        **{"from": old},
    )
    _event(case, f"claim {claim.pk}: {ClaimStatus(old).label} → {ClaimStatus(status).label}. {note}".strip(), user=user)
    return claim


@transaction.atomic
def case_compensate(*, case: ExceptionCase, amount, form: str, note: str = "", user=None) -> CaseAction:
    case = _lock_case(case)
    _require_open(case)
    if form not in CompensationForm.values:
        raise DomainError("Choose credit or voucher.")
    amount = _amount(amount, "The compensation")
    code = f"VC-{secrets.token_hex(4).upper()}" if form == CompensationForm.VOUCHER else ""
    action = _action(
        case,
        ActionKind.COMPENSATION,
        note,
        user=user,
        amount=amount,
        currency=case.order.currency,
        form=form,
        code=code,
    )
    label = CompensationForm(form).label.lower()
    _event(
        case,
        f"{label} of {amount} {case.order.currency}" + (f" ({code})" if code else "") + " given.",
        user=user,
        amount=str(amount),
        form=form,
        code=code,
    )
    return action


@transaction.atomic
def case_address_correct(*, case: ExceptionCase, address: CanonicalAddress, note: str = "", user=None) -> CaseAction:
    """Correct the address: on the order while it can still change, else as the address for the carrier's
    redelivery (recorded on the case and the timeline)."""
    case = _lock_case(case)
    _require_open(case)
    order = case.order
    # Blank fields keep the order's value: a correction names what changes.
    merged = CanonicalAddress(
        **{k: (getattr(address, k) or "").strip() or getattr(order, f"ship_{k}", "") for k in vars(address)}
    )
    if order.status in ADDRESS_CHANGEABLE:
        changes = order_change_address(
            order=order, address=merged, user=user, source=f"case {case.number}", reason=note
        )
        applied = "order"
    else:
        changes = {
            k: [getattr(order, f"ship_{k}", ""), v]
            for k, v in vars(merged).items()
            if v != getattr(order, f"ship_{k}", "")
        }
        applied = "carrier"
        if changes:
            _event(
                case,
                "corrected address for the carrier's redelivery: "
                + ", ".join(v for v in (merged.address1, merged.district, merged.city, merged.province) if v),
                user=user,
                changes=changes,
            )
    if not changes:
        raise DomainError("The address is the same as before.")
    return _action(case, ActionKind.ADDRESS_CORRECTION, note, user=user, applied_to=applied, changes=changes)


@transaction.atomic
def case_redelivery_request(*, case: ExceptionCase, note: str = "", date=None, user=None) -> CaseAction:
    case = _lock_case(case)
    _require_open(case)
    action = _action(case, ActionKind.REDELIVERY, note, user=user, date=date.isoformat() if date else None)
    when = f" for {date:%Y-%m-%d}" if date else ""
    _event(case, f"redelivery requested{when}" + (f": {note}" if note else ""), user=user)
    case.status = CaseStatus.WAITING_CARRIER
    case.save(update_fields=["status"])
    return action


# ---- talking to the customer -----------------------------------------------------------------------------


def message_context(case: ExceptionCase) -> dict:
    order = case.order
    expected = case.parcel.expected_delivery if case.parcel_id and case.parcel.expected_delivery else None
    return defaultdict(
        str,
        first_name=(order.ship_name or "").split(" ")[0] or "customer",
        order_number=order.number,
        tracking_url=tracking_url_for_order(order.number),
        expected_date=f"{expected:%Y-%m-%d}" if expected else "soon",
        tracking_number=case.parcel.tracking_number if case.parcel_id else "",
        case_number=case.number,
    )


def render_message(case: ExceptionCase, text: str) -> str:
    try:
        return text.format_map(message_context(case))
    except (ValueError, IndexError, AttributeError):  # a stray brace in a staff-edited template
        return text


def _contact(case: ExceptionCase, *, subject: str, body: str, user, now: datetime, proactive: bool) -> CaseAction:
    order = case.order
    subject, body = render_message(case, subject), render_message(case, body)
    to = order.ship_email or getattr(order.customer, "email", "") or order.ship_phone
    if not to:
        raise DomainError(f"Order {order.number} has no e-mail or phone to contact.")
    queued, error = False, ""
    enqueue = getattr(_outbox, "notification_enqueue", None) if _outbox else None
    if enqueue is not None:
        try:
            with transaction.atomic():
                notification = enqueue(order=order, subject=subject, body=body, reason=f"case {case.number}", user=user)
            queued = getattr(notification, "pk", None) or True
        except Exception as exc:  # the outbox must never stop the case work; the message stays on the case
            log.exception("could not queue the message of case %s", case.number)
            error = f"{type(exc).__name__}: {exc}"[:200]
    action = _action(
        case,
        ActionKind.CONTACT,
        subject,
        user=user,
        to=to,
        subject=subject,
        body=body,
        proactive=proactive,
        queued=queued,
        error=error,
    )
    _event(
        case,
        ("customer told" if proactive else "customer contacted") + f" ({to}): {subject}",
        user=user,
        to=to,
        queued=queued,
    )
    case.customer_notified_at = now
    case.save(update_fields=["customer_notified_at"])
    return action


@transaction.atomic
def case_contact_customer(
    *, case: ExceptionCase, subject: str, body: str, user=None, now: datetime | None = None
) -> CaseAction:
    case = _lock_case(case)
    _require_open(case)
    if not subject.strip() or not body.strip():
        raise DomainError("Write a subject and a message.")
    action = _contact(case, subject=subject, body=body, user=user, now=now or timezone.now(), proactive=False)
    if case.status in (CaseStatus.OPEN, CaseStatus.IN_PROGRESS):
        case.status = CaseStatus.WAITING_CUSTOMER
        case.save(update_fields=["status"])
    return action


def reshipped_shipments(case: ExceptionCase) -> list[str]:
    return [a.data.get("shipment") for a in case.actions.filter(kind=ActionKind.RESHIP)]


__all__ = [
    "case_address_correct",
    "case_assign",
    "case_claim_file",
    "case_claim_update",
    "case_compensate",
    "case_contact_customer",
    "case_note",
    "case_open",
    "case_redelivery_request",
    "case_refund",
    "case_reship",
    "case_resolve",
    "case_set_status",
    "playbook_for",
    "playbook_save",
]
