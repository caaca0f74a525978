"""Updates a channel sends for an order we already have (a webhook's "update" topic): cancelled, paid, a new
address. The intake (orders/intake/pipeline.py) stores and parses the message; because these updates may
cancel or re-route the order (cross-app work) it hands the message to the task ``workflows.apply_channel_update``
by name, which runs the intake again with ``order_apply_channel_update`` below as the way to apply the update
and records the outcome on the message. Until then the message stays "received", so the sweep sends it again
if the task is lost.

Lock order and transaction: each step is a workflow action (workflows.cancel, workflows.changes) or an orders
service with its own transaction and the order row locked first; replaying the same update changes nothing.
"""

from oms.errors import DomainError, TransitionNotAllowed
from orders.intake.canonical import CanonicalOrder, check
from orders.models import Order
from orders.services import channel_update_refused, order_memo_from_channel, order_release
from orders.status import CANCELLABLE, ChangeReason, EventKind, HoldReason, OrderStatus

from .cancel import order_cancel, order_cancel_request
from .changes import order_change_address


def order_apply_channel_update(*, order: Order, data: CanonicalOrder, source: str) -> dict:
    """Apply what a channel says changed (cancelled, address) through the same actions a person uses, within
    the rules of the order's stage. Replaying the same update changes nothing.

    Returns {"changed": [...], "attention": "..."}; ``attention`` says what a person must do when the
    channel's change can no longer be applied here (e.g. cancelled after shipping).
    """
    check(data)
    outcome: dict = {"changed": [], "attention": ""}
    order.refresh_from_db()
    if order.status == OrderStatus.CANCELLED:
        return outcome
    if data.cancelled_reason:
        if order.status in CANCELLABLE:
            reason = f"{data.cancelled_reason} at {order.channel.name} ({source})"
            order_cancel(order=order, reason=reason, tell_channel=False)  # the channel knows: nothing goes back
            outcome["changed"].append("cancelled")
            return outcome
        # Past the point of a plain cancellation: the stage rules decide, as for a person's cancellation
        # (an intercept request after shipping, a return request after delivery), once per order.
        already = order.events.filter(kind=EventKind.INTERCEPT).exists() or order.returns.exists()
        what = f"{order.channel.name} says the order is {data.cancelled_reason}"
        if already:  # a retry of the same news: asked for once already, nothing more to do
            outcome["attention"] = f"{what}: an intercept or return was already requested."
            return outcome
        try:
            kind = order_cancel_request(
                order=order, reason_code=ChangeReason.CHANNEL_UPDATE, note=what, source=source, tell_channel=False
            ).outcome
        except (TransitionNotAllowed, DomainError):
            pass
        else:
            outcome["changed"].append(
                {"intercept": "intercept requested", "return": "return requested"}.get(kind, kind)
            )
            outcome["attention"] = channel_update_refused(
                order,
                f"{what} after it left: {kind} requested here; follow it up with the carrier or the customer.",
                source,
            )
            return outcome
        outcome["attention"] = channel_update_refused(
            order,
            f"{what}, but it is already {order.get_status_display()}: not cancelled here. "
            "Handle it as a return or refund.",
            source,
        )
        return outcome
    # 买家留言 / 卖家备注 as the channel has them now (an event when they changed).
    texts = order_memo_from_channel(
        order=order,
        buyer_message=data.buyer_message,
        seller_memo=data.seller_memo,
        seller_flag=data.seller_flag,
        source=source,
    )
    if texts:
        outcome["changed"].append("memo")
    paid = not any(reason == HoldReason.PAYMENT for reason, _note in data.holds)
    if paid and order.holds.filter(reason=HoldReason.PAYMENT, released_at__isnull=True).exists():
        order_release(order=order, reason=HoldReason.PAYMENT, note=f"paid at {order.channel.name}")
        outcome["changed"].append("paid")
    try:
        changes = order_change_address(
            order=order, address=data.ship_to, source=source, reason="update from the channel"
        )
    except TransitionNotAllowed:
        outcome["attention"] = channel_update_refused(
            order,
            f"{order.channel.name} changed the ship-to address, but the order is already "
            f"{order.get_status_display()}: not changed here. Contact the carrier or the customer.",
            source,
        )
        return outcome
    if changes:
        outcome["changed"].append("address")
    return outcome
