"""Cancel a partly shipped order: the part that has not left is cancelled, the shipped part becomes an
intercept (or, all delivered, a return request). Every part is decided by the stage rules before anything
changes (orders.services.partial_cancel_plan): all or nothing.

Lock order: the order row → its open shipments by id (workflows.release.open_part_release: fulfillment cancels them,
logistics voids labels) → stock rows by (location, product) → the shipped shipments by id and their parcels
(workflows.intercept) → the return request. One transaction: fulfillment cancels the open part, closes backorders
and moves the order on (shipped or delivered); orders records the partial cancellation and writes the channel's
``channel.lines_cancel`` outbox row (the lines and quantities that will not ship: the platform refunds them);
logistics intercepts or orders opens the return. A failure anywhere rolls everything back."""

from django.db import transaction
from django.db.models import Sum

from fulfillment.models import ShipmentLine
from orders.channel_notices import order_lines_cancel_notice
from orders.models import Order
from orders.services import delivered_lines, order_lock, partial_cancel_plan, partial_cancel_record
from orders.status import ChangeAction, ChangeKind

from .intercept import intercept_request
from .release import open_part_release
from .results import CancelResult
from .returns import return_for_cancel


@transaction.atomic
def cancel_partly_shipped(
    *, order: Order, reason_code: str, note: str = "", user=None, source: str = "back office", tell_channel=True
):
    """Returns a CancelResult with outcome "partial". ``tell_channel``: False when the channel itself cancelled
    (its ``channel.lines_cancel`` row is not written)."""
    order = order_lock(order.pk)
    plan = partial_cancel_plan(order, reason_code=reason_code, note=note, user=user, source=source)
    cancelled: list[str] = []
    if plan.open_rows:
        cancelled = open_part_release(order=order, user=user, reason=f"cancelled: {plan.text}")
        order.refresh_from_db()
        partial_cancel_record(order, plan=plan, cancelled=cancelled, reason_code=reason_code, note=note, user=user)
        if tell_channel:
            lines = _unshipped_lines(order)
            order_lines_cancel_notice(
                order=order,
                lines=lines,
                reason=plan.text,
                reason_code=reason_code,
                # None of the order left here (nothing of it shipped): its shipping is owed back too.
                refund_shipping=sum(x["quantity"] for x in lines) == sum(x.quantity for x in order.lines.all()),
            )
    result = CancelResult(outcome="partial", order=order, shipments_cancelled=cancelled, shipped=plan.shipped)
    if plan.sent_action == ChangeAction.RETURN and plan.delivered:
        # The shipped lines only: what was cancelled never left.
        result.return_request = return_for_cancel(
            order, reason_code=reason_code, text=plan.text, source=source, user=user, only=delivered_lines(order)
        )
        result.shipped_outcome = "return"
    else:
        done = intercept_request(order=order, change=ChangeKind.CANCEL, reason_code=reason_code, note=note, user=user)
        result.intercept = done.handled
        result.shipped_outcome = "intercept"
    return result


def _unshipped_lines(order: Order) -> list[dict]:
    """The order's lines and the quantities that will not ship now that its open part is cancelled: each line's
    quantity less what its remaining (shipped) shipments carry."""
    carried = dict(
        ShipmentLine.objects.filter(shipment__order_id=order.pk)
        .exclude(shipment__status="cancelled")
        .values("order_line_id")
        .annotate(n=Sum("quantity"))
        .values_list("order_line_id", "n")
    )
    return [
        {"line_no": line.line_no, "sku": line.sku, "quantity": line.quantity - carried.get(line.pk, 0)}
        for line in order.lines.order_by("line_no")
        if line.quantity > carried.get(line.pk, 0)
    ]
