"""What every case write shares: the event on the order's timeline, the CaseAction row, the case lock and
the open-case check."""

from __future__ import annotations

from oms.errors import DomainError
from orders.services import order_event_record, order_lock
from orders.status import EventKind

from ..models import CaseAction, ExceptionCase
from .types import (
    OPEN_CASE_STATUSES,
)


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
