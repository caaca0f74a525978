"""What every case write shares: the event on the order's timeline, the CaseAction row, the case lock, the
open-case check and the one door for ``ExceptionCase.status`` (``case_status_set``).

These helpers are public to the case modules (actions, contact, evidence, services); each expects its caller
to run inside the service's transaction.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

from oms.errors import DomainError, TransitionNotAllowed
from orders.services import order_event_record, order_lock
from orders.status import EventKind
from orders.wording import label, msg

from ..models import CaseAction, ExceptionCase
from .types import OPEN_CASE_STATUSES, ActionKind, CaseStatus, can_transition


def case_event(case: ExceptionCase, message: str, *, user=None, **data) -> None:
    """An event on the case's order timeline, prefixed with the case number."""
    order_event_record(
        order=case.order,
        kind=EventKind.NOTE,
        user=user,
        message=msg(gettext_noop("Case %(case)s: %(what)s"), case=case.number, what=message),
        data={"case": case.number, "case_type": case.type, **data},
    )


def case_action(
    case: ExceptionCase, kind: str, note: str = "", *, user=None, amount=None, currency="", **data
) -> CaseAction:
    """A row in the case's own history (what was done, by whom, with which amounts)."""
    return CaseAction.objects.create(
        case=case, kind=kind, note=note[:500], amount=amount, currency=currency, data=data, user=user
    )


def case_lock(case: ExceptionCase) -> ExceptionCase:
    """Lock the order, then the case (the project's one lock order); returns the fresh, locked case."""
    order_lock(case.order_id)
    return (
        ExceptionCase.objects.select_for_update(of=("self",))
        .select_related("order", "parcel__service__carrier")
        .get(pk=case.pk)
    )


def case_require_open(case: ExceptionCase) -> None:
    """Refuse to work on a resolved case."""
    if case.status not in OPEN_CASE_STATUSES:
        raise DomainError(
            gettext("Case %(number)s is resolved; reopen it by detecting again or open a new one.")
            % {"number": case.number}
        )


def case_status_set(
    case: ExceptionCase, target: str, *, fields=(), user=None, note: str = "", record: bool = True
) -> str:
    """The one door for ``ExceptionCase.status``: checks ``CASE_TRANSITIONS``, assigns and saves the status with
    ``fields`` (other attributes the caller changed with it). With ``record`` it writes a STATUS action and an
    event on the order's timeline; a caller whose own action already says what happened (assign, claim,
    contact, redelivery, resolve) passes ``record=False``. The caller holds the lock (``case_lock``). Returns the
    status the case had before; a move to the status it has changes nothing."""
    current = case.status
    if current == target:
        if fields:
            case.save(update_fields=list(fields))
        return current
    if not can_transition(current, target):
        raise TransitionNotAllowed(
            gettext("Case %(case_number)s cannot go from %(current)s to %(target)s.")
            % {"case_number": case.number, "current": CaseStatus(current).label, "target": CaseStatus(target).label}
        )
    case.status = target
    case.save(update_fields=["status", *fields])
    if record:
        case_action(case, ActionKind.STATUS, note, user=user, **{"from": current, "to": target})
        statuses = {"from": label(CaseStatus(current)), "to": label(CaseStatus(target))}
        if note:
            case_event(case, msg(gettext_noop("%(from)s → %(to)s. %(note)s"), **statuses, note=note), user=user)
        else:
            case_event(case, msg(gettext_noop("%(from)s → %(to)s."), **statuses), user=user)
    return current
