"""Exception cases: opening (once per order and type), working and resolving them; the one door to every case
service (the playbook actions live in actions.py, customer contact in contact.py, playbooks in playbooks.py,
the shared lock/event/action helpers and the status door in core.py; all are imported from here).

Every write is keyword-only, one transaction, locks the order first (the project's one lock order), writes a
`CaseAction` row and an event on the order's timeline. Money amounts (refund, compensation, claim) are records;
no payment gateway is called. Customer messages go to the notifications outbox (``notification_enqueue``),
written in the customer's language (``orders.care.notifications.notification_language``: English or Chinese); a
proactive message carries the problem's key (``orders.care.notifications.problem_key``) so a customer already told
of that problem by the automatic tracking notice gets nothing more — one problem, one message.

A case of a type in ``CLEARS_BY_ITSELF`` is closed by ``case_autoclose`` when the detection no longer finds
its problem (root cause "cleared by itself", the time it took, an event on the order's timeline).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from fulfillment.models import Shipment
from oms.errors import DomainError
from orders.models import Order
from orders.services import order_lock
from orders.wording import label, msg

from ..models import CaseAction, ExceptionCase, Parcel
from .actions import (
    case_address_correct,
    case_claim_file,
    case_claim_update,
    case_compensate,
    case_redelivery_request,
    case_refund,
    case_reship,
    refunded_total,
    reshipped_shipments,
)
from .contact import (
    case_contact_customer,
    case_problem_key,
    contact_record,
    message_context,
    playbook_message,
    render_message,
)
from .core import case_action, case_event, case_lock, case_require_open, case_status_set
from .playbooks import PlaybookView, playbook_for, playbook_save
from .types import (
    CLEARS_BY_ITSELF,
    OPEN_CASE_STATUSES,
    ActionKind,
    CaseStatus,
    CaseType,
    ClaimStatus,
    RootCause,
)


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
        raise DomainError(gettext("Unknown case type %(case_type)r.") % {"case_type": case_type})
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
    case_event(
        case,
        msg(gettext_noop("opened — %(type)s: %(summary)s"), type=label(CaseType(case.type)), summary=summary),
        user=user,
        severity=case.severity,
    )
    if book.notify_customer and book.customer_subject:
        subject, body, language = playbook_message(case, book)
        contact_record(
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
    case = case_lock(case)
    case_require_open(case)
    case.owner = owner
    target = CaseStatus.IN_PROGRESS if case.status == CaseStatus.OPEN else case.status
    case_status_set(case, target, fields=["owner"], record=False)
    case_action(case, ActionKind.ASSIGN, f"to {owner}", user=user, owner=getattr(owner, "pk", None))
    case_event(case, msg(gettext_noop("assigned to %(owner)s"), owner=str(owner)), user=user)
    return case


@transaction.atomic
def case_set_status(*, case: ExceptionCase, status: str, note: str = "", user=None) -> ExceptionCase:
    case = case_lock(case)
    case_require_open(case)
    if status not in OPEN_CASE_STATUSES:
        raise DomainError(gettext("Use resolve to close a case."))
    case_status_set(case, status, user=user, note=note)
    return case


@transaction.atomic
def case_resolve(
    *, case: ExceptionCase, root_cause: str, resolution: str, user=None, now: datetime | None = None
) -> ExceptionCase:
    now = now or timezone.now()
    case = case_lock(case)
    case_require_open(case)
    if root_cause not in RootCause.values:
        raise DomainError(gettext("Choose a root cause."))
    if not resolution.strip():
        raise DomainError(gettext("Say how the case was resolved."))
    case.root_cause, case.resolution, case.resolved_at = root_cause, resolution[:500], now
    case_status_set(case, CaseStatus.RESOLVED, fields=["root_cause", "resolution", "resolved_at"], record=False)
    case_action(case, ActionKind.RESOLVE, resolution, user=user, root_cause=root_cause, hours=case.resolution_hours)
    case_event(
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
    case = case_lock(case)
    if case.status not in OPEN_CASE_STATUSES or case.type not in CLEARS_BY_ITSELF:
        return None
    if case.claims.filter(status__in=[ClaimStatus.FILED, ClaimStatus.ACCEPTED]).exists():
        return None
    resolution = f"Cleared by itself: {detail}"[:500]
    case.root_cause, case.resolution, case.resolved_at = RootCause.CLEARED, resolution, now
    case_status_set(case, CaseStatus.RESOLVED, fields=["root_cause", "resolution", "resolved_at"], record=False)
    case_action(
        case, ActionKind.RESOLVE, resolution, root_cause=RootCause.CLEARED, hours=case.resolution_hours, auto=True
    )
    case_event(
        case,
        msg(
            gettext_noop("closed by itself after %(hours)s h — %(detail)s"), hours=case.resolution_hours, detail=detail
        ),
        auto=True,
    )
    return case


@transaction.atomic
def case_note(*, case: ExceptionCase, note: str, user=None) -> CaseAction:
    case = case_lock(case)
    if not note.strip():
        raise DomainError(gettext("Write a note."))
    return case_action(case, ActionKind.NOTE, note, user=user)


# ---- playbook actions ------------------------------------------------------------------------------------


__all__ = [  # the case services, wherever they live (actions.py, contact.py, playbooks.py)
    "PlaybookView",
    "message_context",
    "playbook_message",
    "refunded_total",
    "render_message",
    "reshipped_shipments",
    "case_problem_key",
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
