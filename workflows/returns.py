"""Returns started by a workflow (a cancellation after delivery): a return request for what is left to return.

The return request itself is orders' (orders.care.returns.return_create, which locks the order and writes the
event); a customer or staff return without a cancellation goes straight there. Lock order: the order row
(held by the caller) → the return request.
"""

from django.utils.translation import gettext

from oms.errors import DomainError
from orders.care.returns import return_create, returnable_quantities
from orders.models import Order, ReturnReason
from orders.status import ChangeReason


def return_for_cancel(order: Order, *, reason_code: str, text: str, source: str, user, only=None):
    """A return request for what is left to return (``only``: {order line id: quantity} caps it)."""
    lines = {pk: q for pk, q in returnable_quantities(order).items() if q > 0}
    if only is not None:
        lines = {pk: min(q, only.get(pk, 0)) for pk, q in lines.items() if only.get(pk, 0) > 0}
    if not lines:
        raise DomainError(
            gettext("Order %(order_number)s: everything is already being returned.") % {"order_number": order.number}
        )
    reason = ReturnReason.CHANGED_MIND if reason_code == ChangeReason.CUSTOMER_REQUEST else ReturnReason.OTHER
    return return_create(
        order=order,
        lines=lines,
        reason=reason,
        note=f"Cancellation after delivery: {text}"[:500],
        source=source,
        user=user,
    )
