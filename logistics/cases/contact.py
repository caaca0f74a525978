"""Customer contact on a case: the playbook's message in the customer's language, sent once per problem
(``orders.care.notifications.problem_key``) through the notifications outbox."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from oms.errors import DomainError
from orders.care import notifications as _outbox
from orders.care.tracking_links import tracking_url_for_order
from orders.wording import msg

from ..models import CaseAction, ExceptionCase
from .core import case_action, case_event, case_lock, case_require_open, case_status_set
from .playbooks import PlaybookView, playbook_for
from .types import (
    PLAYBOOK_DEFAULTS,
    ActionKind,
    CaseStatus,
    CaseType,
)

log = logging.getLogger(__name__)


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
    """The key of the case's problem shared with the automatic tracking notices (``orders.care.notifications``):
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


def contact_record(
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
            raise DomainError(gettext("Order %(number)s has no e-mail or phone to contact.") % {"number": order.number})
        # A detection run must not stop on an order nobody can be told about: the case says so.
        return case_action(case, ActionKind.CONTACT, "not told: no e-mail or phone", proactive=True, queued=False)
    told = _outbox.problem_notice(order, problem) if problem else None
    if told is not None:
        action = case_action(
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
        case_event(
            case,
            msg(
                gettext_noop("customer already told of this problem by notice %(notice)s: %(subject)s"),
                notice=told.pk,
                subject=told.subject,
            ),
            user=user,
        )
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
    action = case_action(
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
    case_event(
        case,
        msg(gettext_noop("customer told (%(to)s): %(subject)s"), to=to, subject=subject)
        if proactive
        else msg(gettext_noop("customer contacted (%(to)s): %(subject)s"), to=to, subject=subject),
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
    case = case_lock(case)
    case_require_open(case)
    if not subject.strip() or not body.strip():
        raise DomainError(gettext("Write a subject and a message."))
    action = contact_record(case, subject=subject, body=body, user=user, now=now or timezone.now(), proactive=False)
    if case.status in (CaseStatus.OPEN, CaseStatus.IN_PROGRESS):
        case_status_set(case, CaseStatus.WAITING_CUSTOMER, record=False)
    return action
