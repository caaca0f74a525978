"""The playbook actions on a case: reship, refund, carrier claim, compensation, address correction, redelivery.

Each is keyword-only, one transaction, locks the order first, writes a CaseAction row and an event on the
order's timeline. Money amounts are records; no payment gateway is called."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from fulfillment.models import Shipment
from fulfillment.reship import shipment_reship
from oms.errors import DomainError, TransitionNotAllowed
from orders.intake.canonical import CanonicalAddress
from orders.models import Order
from orders.services import ADDRESS_CHANGEABLE
from orders.wording import label, msg

from ..models import CarrierClaim, CaseAction, ExceptionCase
from .core import case_action, case_event, case_lock, case_require_open, case_status_set
from .evidence import evidence_check_all, evidence_store
from .types import (
    CLAIM_TRANSITIONS,
    ActionKind,
    CaseStatus,
    ClaimStatus,
    CompensationForm,
)


def _amount(value, what: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(gettext("%(what)s must be an amount, not %(value)r.") % {"what": what, "value": value})
    if amount <= 0:
        raise DomainError(gettext("%(what)s must be more than 0.") % {"what": what})
    return amount


@transaction.atomic
def case_reship(*, case: ExceptionCase, reason: str, lines: list[tuple[int, int]] | None = None, user=None) -> Shipment:
    """Reship the case's shipment (all its lines) or the given [(order line id, quantity)]."""
    case = case_lock(case)
    case_require_open(case)
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
            raise DomainError(gettext("A chosen line is not on this order."))
    shipment = shipment_reship(order=order, lines=chosen, reason=f"case {case.number}: {reason}", user=user)
    case_action(
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
    case = case_lock(case)
    case_require_open(case)
    amount = _amount(amount, gettext("The refund"))
    already = refunded_total(case.order)
    if already + amount > case.order.total:
        raise DomainError(
            gettext("Refunds would reach %(sum)s %(currency)s, more than the order's total %(total)s.")
            % {"sum": already + amount, "currency": case.order.currency, "total": case.order.total}
        )
    action = case_action(case, ActionKind.REFUND, reason, user=user, amount=amount, currency=case.order.currency)
    money = {"amount": amount, "currency": case.order.currency}
    text = (
        msg(gettext_noop("refund of %(amount)s %(currency)s recorded. %(reason)s"), **money, reason=reason)
        if reason.strip()
        else msg(gettext_noop("refund of %(amount)s %(currency)s recorded."), **money)
    )
    case_event(case, text, user=user, amount=str(amount))
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
    case = case_lock(case)
    case_require_open(case)
    if case.carrier_id is None:
        raise DomainError(gettext("This case has no carrier to claim from."))
    if not evidence.strip():
        raise DomainError(gettext("A claim needs evidence (photos, the carrier's scans, what was lost or damaged)."))
    amount = _amount(amount, gettext("The claim"))
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
    case_action(
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
    case_event(
        case,
        msg(
            gettext_noop("claim of %(amount)s %(currency)s filed with %(carrier)s"),
            amount=amount,
            currency=claim.currency,
            carrier=str(case.carrier),
        ),
        user=user,
        claim=claim.pk,
    )
    if case.status == CaseStatus.OPEN or case.status == CaseStatus.IN_PROGRESS:
        case_status_set(case, CaseStatus.WAITING_CARRIER, record=False)
    return claim


@transaction.atomic
def case_claim_update(
    *, claim: CarrierClaim, status: str, settled_amount=None, note: str = "", user=None
) -> CarrierClaim:
    case = case_lock(claim.case)
    claim = CarrierClaim.objects.select_for_update().get(pk=claim.pk)
    if status not in CLAIM_TRANSITIONS.get(claim.status, frozenset()):
        raise TransitionNotAllowed(
            gettext("A claim that is %(current)s cannot become %(target)s.")
            % {"current": ClaimStatus(claim.status).label, "target": ClaimStatus(status).label}
        )
    if status == ClaimStatus.PAID:
        claim.settled_amount = _amount(settled_amount, gettext("The settled amount"))
    old = claim.status
    claim.status = status
    claim.save(update_fields=["status", "settled_amount", "updated_at"])
    case_action(
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
    states = {"claim": claim.pk, "from": label(ClaimStatus(old)), "to": label(ClaimStatus(status))}
    text = (
        msg(gettext_noop("claim %(claim)s: %(from)s → %(to)s. %(note)s"), **states, note=note)
        if note.strip()
        else msg(gettext_noop("claim %(claim)s: %(from)s → %(to)s."), **states)
    )
    case_event(case, text, user=user)
    return claim


@transaction.atomic
def case_compensate(*, case: ExceptionCase, amount, form: str, note: str = "", user=None) -> CaseAction:
    case = case_lock(case)
    case_require_open(case)
    if form not in CompensationForm.values:
        raise DomainError(gettext("Choose credit or voucher."))
    amount = _amount(amount, gettext("The compensation"))
    code = f"VC-{secrets.token_hex(4).upper()}" if form == CompensationForm.VOUCHER else ""
    action = case_action(
        case,
        ActionKind.COMPENSATION,
        note,
        user=user,
        amount=amount,
        currency=case.order.currency,
        form=form,
        code=code,
    )
    given = {"form": label(CompensationForm(form)), "amount": amount, "currency": case.order.currency}
    case_event(
        case,
        msg(gettext_noop("%(form)s of %(amount)s %(currency)s (%(code)s) given."), **given, code=code)
        if code
        else msg(gettext_noop("%(form)s of %(amount)s %(currency)s given."), **given),
        user=user,
        amount=str(amount),
        form=form,
        code=code,
    )
    return action


@transaction.atomic
def case_address_correct(
    *, case: ExceptionCase, address: CanonicalAddress, change_address, note: str = "", user=None
) -> CaseAction:
    """Correct the address: on the order while it can still change (through ``change_address``, the workflow
    action workflows.changes.order_change_address, which may route the order again: use
    workflows.cases.case_address_correct), else as the address for the carrier's redelivery (recorded on the
    case and the timeline)."""
    case = case_lock(case)
    case_require_open(case)
    order = case.order
    # Blank fields keep the order's value: a correction names what changes.
    merged = CanonicalAddress(
        **{k: (getattr(address, k) or "").strip() or getattr(order, f"ship_{k}", "") for k in vars(address)}
    )
    if order.status in ADDRESS_CHANGEABLE:
        changes = change_address(order=order, address=merged, user=user, source=f"case {case.number}", reason=note)
        applied = "order"
    else:
        changes = {
            k: [getattr(order, f"ship_{k}", ""), v]
            for k, v in vars(merged).items()
            if v != getattr(order, f"ship_{k}", "")
        }
        applied = "carrier"
        if changes:
            case_event(
                case,
                msg(
                    gettext_noop("corrected address for the carrier's redelivery: %(address)s"),
                    address=", ".join(v for v in (merged.address1, merged.district, merged.city, merged.province) if v),
                ),
                user=user,
                changes=changes,
            )
    if not changes:
        raise DomainError(gettext("The address is the same as before."))
    return case_action(case, ActionKind.ADDRESS_CORRECTION, note, user=user, applied_to=applied, changes=changes)


@transaction.atomic
def case_redelivery_request(*, case: ExceptionCase, note: str = "", date=None, user=None) -> CaseAction:
    case = case_lock(case)
    case_require_open(case)
    action = case_action(case, ActionKind.REDELIVERY, note, user=user, date=date.isoformat() if date else None)
    if date:
        text = (
            msg(gettext_noop("redelivery requested for %(date)s: %(note)s"), date=f"{date:%Y-%m-%d}", note=note)
            if note
            else msg(gettext_noop("redelivery requested for %(date)s"), date=f"{date:%Y-%m-%d}")
        )
    else:
        text = (
            msg(gettext_noop("redelivery requested: %(note)s"), note=note)
            if note
            else msg(gettext_noop("redelivery requested"))
        )
    case_event(case, text, user=user)
    case_status_set(case, CaseStatus.WAITING_CARRIER, record=False)
    return action


# ---- talking to the customer -----------------------------------------------------------------------------


def reshipped_shipments(case: ExceptionCase) -> list[str]:
    return [a.data.get("shipment") for a in case.actions.filter(kind=ActionKind.RESHIP)]
