"""Cancel an order: by itself (``order_cancel``) or by the stage rules (``order_cancel_request``).

Lock order: the order row (orders.services.order_lock) → the order's open shipments by id (workflows.release:
fulfillment.services.cancel_open_shipments) → the stock rows of a split order by (location, product)
(fulfillment.routing.lock_stock_rows), then the guarded stock UPDATEs → parcels (their labels voided by
logistics.voids.shipments_labels_void).

One transaction, in this order: orders checks the cancellation (status, reason) before anything changes; fulfillment
cancels the shipments that have not shipped (stock released, off the pick list, merges undone); logistics voids
their labels; fulfillment closes open backorders; orders sets the status, releases open holds and writes the
CANCELLED event (the customer notice follows that event); orders cancels the invoice requests not yet
issued. A failure in any step rolls back every step.

``order_cancel_request`` asks the stage rules (orders/rules/stages.py): before shipping a cancellation, after
shipping an intercept (workflows.intercept), after delivery a return request (workflows.returns); a partly
shipped order goes to workflows.partial_cancel.
"""

from django.db import transaction
from django.utils.translation import gettext

from fulfillment.routing import backorders_cancel
from oms.errors import TransitionNotAllowed
from orders.channel_notices import order_cancel_notice
from orders.models import Order
from orders.services import (
    cancel_text,
    change_decide,
    finance_reject_check,
    invoices_cancel_for_order,
    order_cancel_check,
    order_lock,
    order_mark_cancelled,
)
from orders.status import ChangeAction, ChangeKind, OrderStatus

from .intercept import intercept_request
from .partial_cancel import cancel_partly_shipped
from .release import shipments_release
from .results import CancelResult
from .returns import return_for_cancel


@transaction.atomic
def order_cancel(
    *, order: Order, reason: str, user=None, reason_code: str = "", tell_channel: bool = True
) -> CancelResult:
    """Cancel an order that has not shipped: its shipments and stock released, labels voided, backorders
    closed, holds released, one CANCELLED event, and (``tell_channel``: not when the channel itself cancelled)
    the channel's cancellation notice as an outbox row. Raises (and changes nothing) when it cannot."""
    order = order_lock(order.pk)
    order_cancel_check(order, reason=reason)
    numbers = shipments_release(order=order, user=user, reason=reason)
    closed = backorders_cancel(order=order)
    order = order_mark_cancelled(order=order, reason=reason, user=user, reason_code=reason_code)
    if tell_channel:
        order_cancel_notice(order=order, reason=reason, reason_code=reason_code)
    invoices_cancel_for_order(order=order, reason=reason, user=user)  # requested, not issued: cancelled too
    return CancelResult(outcome="cancelled", order=order, shipments_cancelled=numbers, backorders_closed=closed)


@transaction.atomic
def order_finance_reject(*, order: Order, reason: str, user=None) -> CancelResult:
    """财审 rejection (the finance review page's and the API's): the order, held for finance review, cancelled
    with ``finance review rejected: <reason>``. Raises DomainError (nothing changed) without a reason or when the
    order is not held for finance review."""
    order = order_lock(order.pk)
    text = finance_reject_check(order=order, reason=reason)
    return order_cancel(order=order, reason=text, user=user)


@transaction.atomic
def order_cancel_request(
    *,
    order: Order,
    reason_code: str,
    note: str = "",
    user=None,
    source: str = "back office",
    tell_channel: bool = True,
) -> CancelResult:
    """Cancel by stage: before shipping the order is cancelled (off the pick list, stock released, labels
    voided); after shipping it becomes an intercept request; after delivery a return request; partly shipped,
    each part by its own stage (workflows.partial_cancel). ``tell_channel``: False when the channel itself
    cancelled (nothing goes back to it)."""
    order = order_lock(order.pk)
    if order.status == OrderStatus.PARTIALLY_SHIPPED:
        return cancel_partly_shipped(
            order=order, reason_code=reason_code, note=note, user=user, source=source, tell_channel=tell_channel
        )
    action = change_decide(order, ChangeKind.CANCEL, user, reason_code)
    text = cancel_text(reason_code=reason_code, note=note, source=source)
    if action in (ChangeAction.ALLOWED, ChangeAction.APPROVAL, ChangeAction.REROUTE):
        if action == ChangeAction.APPROVAL:
            text += f", approved by {user}"
        return order_cancel(order=order, reason=text, user=user, reason_code=reason_code, tell_channel=tell_channel)
    if action == ChangeAction.INTERCEPT:
        done = intercept_request(order=order, change=ChangeKind.CANCEL, reason_code=reason_code, note=note, user=user)
        return CancelResult(outcome="intercept", order=order, intercept=done.handled)
    if action == ChangeAction.RETURN:
        ret = return_for_cancel(order, reason_code=reason_code, text=text, source=source, user=user)
        return CancelResult(outcome="return", order=order, return_request=ret)
    raise TransitionNotAllowed(
        gettext("Order %(order_number)s: cannot be cancelled now.") % {"order_number": order.number}
    )
