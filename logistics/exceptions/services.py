"""Exception cases: opening (once per order and type), working and resolving them, and the playbook actions.

Every write is keyword-only, one transaction, locks the order first (the project's one lock order), writes a
`CaseAction` row and an event on the order's timeline. Money amounts (refund, compensation, claim) are records;
no payment gateway is called. Customer messages go to the notifications outbox (``notification_enqueue``),
written in the customer's language (``orders.notifications.notification_language``: English or Chinese); a
proactive message carries the problem's key (``orders.notifications.problem_key``) so a customer already told
of that problem by the automatic tracking notice gets nothing more — one problem, one message.

A case of a type in ``CLEARS_BY_ITSELF`` is closed by ``case_autoclose`` when the detection no longer finds
its problem (root cause "cleared by itself", the time it took, an event on the order's timeline).
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
from orders import notifications as _outbox
from orders.intake.canonical import CanonicalAddress
from orders.models import Order
from orders.services import ADDRESS_CHANGEABLE, order_change_address, order_event_record, order_lock
from orders.status import EventKind

from ..models import CarrierClaim, CaseAction, ExceptionCase, Parcel, Playbook
from ..tracking_links import tracking_url_for_order
from .evidence import evidence_check_all, evidence_store
from .types import (
    CLAIM_TRANSITIONS,
    CLEARS_BY_ITSELF,
    OPEN_CASE_STATUSES,
    PLAYBOOK_DEFAULTS,
    ActionKind,
    CaseStatus,
    CaseType,
    ClaimStatus,
    CompensationForm,
    RootCause,
)

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
    customer_subject_zh: str = ""
    customer_body_zh: str = ""


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
            default.customer_subject_zh,
            default.customer_body_zh,
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
        row.customer_subject_zh,
        row.customer_body_zh,
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
    customer_subject_zh: str = "",
    customer_body_zh: str = "",
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
    row.customer_subject_zh, row.customer_body_zh = customer_subject_zh, customer_body_zh
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
        subject, body, language = playbook_message(case, book)
        _contact(
            case,
            subject=subject,
            body=body,
            user=user,
            now=now,
            proactive=True,
            language=language,
            problem=case_problem_key(case),
        )
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
def case_autoclose(*, case: ExceptionCase, detail: str, now: datetime | None = None) -> ExceptionCase | None:
    """Close a case whose problem the detection no longer finds: root cause "cleared by itself", the
    resolution time, a RESOLVE action and an event. Returns None (and changes nothing) when the case is not
    open any more, is not of a type that clears by itself, or waits on a carrier claim still in progress."""
    now = now or timezone.now()
    case = _lock_case(case)
    if case.status not in OPEN_CASE_STATUSES or case.type not in CLEARS_BY_ITSELF:
        return None
    if case.claims.filter(status__in=[ClaimStatus.FILED, ClaimStatus.ACCEPTED]).exists():
        return None
    resolution = f"Cleared by itself: {detail}"[:500]
    case.status, case.root_cause, case.resolution, case.resolved_at = (
        CaseStatus.RESOLVED,
        RootCause.CLEARED,
        resolution,
        now,
    )
    case.save(update_fields=["status", "root_cause", "resolution", "resolved_at"])
    _action(case, ActionKind.RESOLVE, resolution, root_cause=RootCause.CLEARED, hours=case.resolution_hours, auto=True)
    _event(case, f"closed by itself after {case.resolution_hours} h — {detail}", auto=True)
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
    *,
    case: ExceptionCase,
    amount,
    evidence: str,
    carrier_reference: str = "",
    files=(),
    user=None,
    now: datetime | None = None,
) -> CarrierClaim:
    """File a claim; ``files`` (uploaded photos or PDF) are checked first and stored with it, all or none."""
    checked = evidence_check_all(files)
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
    stored = evidence_store(claim, checked, user)
    _action(
        case,
        ActionKind.CLAIM,
        evidence[:200],
        user=user,
        amount=amount,
        currency=claim.currency,
        claim=claim.pk,
        status=claim.status,
        files=[row.pk for row in stored],
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


def message_context(case: ExceptionCase, language: str = "en") -> dict:
    order = case.order
    zh = language == "zh-hans"
    expected = case.parcel.expected_delivery if case.parcel_id and case.parcel.expected_delivery else None
    return defaultdict(
        str,
        first_name=(order.ship_name or "").split(" ")[0] or ("顾客" if zh else "customer"),
        order_number=order.number,
        tracking_url=tracking_url_for_order(order.number),
        expected_date=f"{expected:%Y-%m-%d}" if expected else ("近期" if zh else "soon"),
        tracking_number=case.parcel.tracking_number if case.parcel_id else "",
        case_number=case.number,
    )


def render_message(case: ExceptionCase, text: str, language: str = "en") -> str:
    try:
        return text.format_map(message_context(case, language))
    except (ValueError, IndexError, AttributeError, KeyError):  # a stray brace in a staff-edited template
        return text


def playbook_message(case: ExceptionCase, book: PlaybookView | None = None) -> tuple[str, str, str]:
    """(subject, body, language) of the type's customer message, rendered in the customer's language: the
    Chinese text for a Chinese-speaking customer (the edited one, else the default), else the English one."""
    book = book or playbook_for(case.type)
    language = _outbox.notification_language(case.order)
    subject, body = book.customer_subject, book.customer_body
    if language == "zh-hans":
        default = PLAYBOOK_DEFAULTS[case.type]
        subject = book.customer_subject_zh or default.customer_subject_zh or subject
        body = book.customer_body_zh or default.customer_body_zh or body
    return render_message(case, subject, language), render_message(case, body, language), language


def case_problem_key(case: ExceptionCase) -> str:
    """The key of the case's problem shared with the automatic tracking notices (``orders.notifications``):
    a problem scan of the parcel ('TN:failed_attempt') or its later expected date ('TN:late:2026-11-25').
    Empty for problems no automatic notice tells (no scan, stuck stages, backorders)."""
    parcel = case.parcel if case.parcel_id else None
    tracking_number = case.facts.get("tracking_number") or (parcel.tracking_number if parcel else "")
    if not tracking_number:
        return ""
    if case.type == CaseType.LATE:
        expected = parcel.expected_delivery.isoformat() if parcel and parcel.expected_delivery else ""
        expected = expected or case.facts.get("expected") or ""
        return _outbox.problem_key(tracking_number, f"late:{expected}") if expected else ""
    status = case.facts.get("status") or (parcel.status if parcel else "")
    return _outbox.problem_key(tracking_number, status) if status in _outbox.PROBLEM_STATUSES else ""


def _contact(
    case: ExceptionCase,
    *,
    subject: str,
    body: str,
    user,
    now: datetime,
    proactive: bool,
    language: str = "",
    problem: str = "",
) -> CaseAction:
    """Queue one message to the customer; ``subject`` and ``body`` are placeholders filled here. With a
    ``problem`` key a customer already told of that problem is not told again (the action says by which
    notice)."""
    order = case.order
    language = language or _outbox.notification_language(order)
    subject, body = render_message(case, subject, language), render_message(case, body, language)
    to = order.ship_email or getattr(order.customer, "email", "") or order.ship_phone
    if not to:
        if not proactive:
            raise DomainError(f"Order {order.number} has no e-mail or phone to contact.")
        # A detection run must not stop on an order nobody can be told about: the case says so.
        return _action(case, ActionKind.CONTACT, "not told: no e-mail or phone", proactive=True, queued=False)
    told = _outbox.problem_notice(order, problem) if problem else None
    if told is not None:
        action = _action(
            case,
            ActionKind.CONTACT,
            f"already told: {told.subject}",
            user=user,
            to=told.to or to,
            subject=told.subject,
            body=told.body_text,
            proactive=proactive,
            queued=told.pk,
            already_told=told.pk,
            language=told.language,
            problem=problem,
        )
        _event(case, f"customer already told of this problem by notice {told.pk}: {told.subject}", user=user)
        case.customer_notified_at = told.created_at
        case.save(update_fields=["customer_notified_at"])
        return action
    queued, error = False, ""
    try:
        with transaction.atomic():
            notification = _outbox.notification_enqueue(
                order=order, subject=subject, body=body, reason=f"case {case.number}", user=user, problem=problem
            )
        queued = notification.pk
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
        language=language,
        problem=problem,
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
    "case_autoclose",
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
