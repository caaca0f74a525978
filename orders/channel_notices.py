"""Tell the sales channel an order was cancelled here (issue 16, "cancel / refund notice").

When a person (or a stage rule) cancels an order that came from a platform channel (Shopify, WooCommerce,
Amazon ...: not the OMS's own), ``order_cancel_notice`` writes one ``channel.cancel`` outbox row in the SAME
transaction: destination ``channel:<slug>``, key ``<order id>:cancel`` (an order is cancelled once), the
order's channel ids and the reason. The connectors app registers the handler that tells the platform (when
the channel's connection has "cancellation notices" on); a cancellation that came FROM the channel is not
sent back to it (the caller says so)."""

from __future__ import annotations

import hashlib
import json

from oms.outbox import outbox_put

from .models import ChannelPlatform, Order

CHANNEL_CANCEL = "channel.cancel"  # the outbox kind (connectors registers its handler)
CHANNEL_LINES_CANCEL = "channel.lines_cancel"  # a partial cancellation: which lines and how many


def _channel_notice_put(*, order: Order, kind: str, key: str, reason: str, reason_code: str, **fields) -> bool:
    """The one builder of an order's notice to its channel: an outbox row of ``kind`` to ``channel:<slug>`` with
    the order's numbers and ids, the reason, and ``fields``; False (nothing written) when the order's channel is
    not a platform."""
    channel = order.channel
    if channel is None or channel.platform == ChannelPlatform.OMS:
        return False
    outbox_put(
        kind=kind,
        destination=f"channel:{channel.slug}",
        key=key,
        payload={
            "order": order.number,
            "order_id": order.pk,
            "order_external_id": order.external_id,
            "channel": channel.pk,
            **fields,
            "reason": reason[:500],
            "reason_code": reason_code,
        },
        subject=f"order:{order.pk}",
    )
    return True


def order_cancel_notice(*, order: Order, reason: str, reason_code: str = "") -> bool:
    """Write the ``channel.cancel`` row of a cancelled order; False when its channel is not a platform."""
    return _channel_notice_put(
        order=order, kind=CHANNEL_CANCEL, key=f"{order.pk}:cancel", reason=reason, reason_code=reason_code
    )


def order_lines_cancel_notice(
    *, order: Order, lines: list[dict], reason: str, reason_code: str = "", refund_shipping: bool = False
) -> bool:
    """Write the ``channel.lines_cancel`` row of a partial cancellation (``lines``: ``[{line_no, sku, quantity}]``,
    the quantities cancelled here) in the cancelling transaction; the same lines twice are one row. False when
    the channel is not a platform or nothing was cancelled. ``refund_shipping``: the cancelled lines are the
    whole order and nothing of it shipped, so its shipping is owed back too (the row says so only then)."""
    lines = [dict(line) for line in lines if int(line.get("quantity") or 0) > 0]
    if not lines:
        return False
    digest = hashlib.sha256(json.dumps(lines, sort_keys=True).encode()).hexdigest()[:16]
    return _channel_notice_put(
        order=order,
        kind=CHANNEL_LINES_CANCEL,
        key=f"{order.pk}:lines:{digest}",
        reason=reason,
        reason_code=reason_code,
        lines=lines,
        **({"refund_shipping": True} if refund_shipping else {}),
    )
