"""Intercept: ask the carrier to stop (a cancellation) or redirect (an address change) parcels that left.

Lock order: the order row (held by the caller, or taken here) → its shipments by id (logistics.voids
``shipments_intercept``) → their parcels and the intercept case. One transaction: logistics flags the
shipments, voids labels still at the dock and opens a case for what a person must ask the carrier; orders
writes the INTERCEPT event with what was done.
"""

from dataclasses import dataclass, field

from django.db import transaction

from logistics.voids import shipments_intercept
from orders.models import Order
from orders.services import intercept_record, order_lock


@dataclass
class InterceptResult:
    order: Order
    change: str
    handled: list[str] = field(default_factory=list)  # what logistics did; empty: ask the carrier by hand


@transaction.atomic
def intercept_request(
    *, order: Order, change: str, reason_code: str, note: str = "", user=None, data=None
) -> InterceptResult:
    """Intercept the order's shipped parcels (``change``: "cancel" or "address") and record it."""
    order = order_lock(order.pk)
    text = shipments_intercept(order=order, user=user, reason=note, change=change)
    done = [text] if text else []
    intercept_record(order, change=change, reason_code=reason_code, note=note, done=done, user=user, data=data)
    return InterceptResult(order=order, change=change, handled=done)
