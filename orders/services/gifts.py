"""赠品: gift lines written at intake (one order; the batch path is orders/intake/bulk.py) and removed by
staff before routing. Which gifts an order gets: orders/rules/gifts.py."""

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_noop

from oms.errors import DomainError

from ..models import Order, OrderLine
from ..rules.gifts import GiftDecision, GiftInput, current_gift_rules, gift_plan
from ..status import EventKind, HoldReason, OrderStatus
from ..wording import msg
from .core import order_event_record, order_hold, order_row_lock

# A gift line may be removed until the order is routed (allocated): nothing is reserved for it yet.
GIFT_REMOVABLE = frozenset({OrderStatus.RECEIVED, OrderStatus.CONFIRMED})


def gift_input(order: Order, lines) -> GiftInput:
    """``lines``: the order's OrderLine rows (with their products)."""
    return GiftInput(
        channel_id=order.channel_id,
        customer_id=order.customer_id,
        placed_at=order.placed_at,
        lines=[(ln.product, ln.sku, ln.quantity, ln.unit_price, ln.is_gift) for ln in lines],
    )


def order_gifts_add(order: Order, *, user=None) -> list[GiftDecision]:
    """At intake, before classification and routing: the matching gift rules' lines at zero price, an
    event per gift (added or skipped), a stock-short hold where a rule says so. Caller's transaction."""
    rules = current_gift_rules()
    if not rules:
        return []  # no active rule: the order's lines are not even read
    lines = list(order.lines.select_related("product"))
    decisions = gift_plan([gift_input(order, lines)], rules=rules)[0]
    if not decisions:
        return decisions
    line_no = max((ln.line_no for ln in lines), default=0)
    for decision in decisions:
        number = None
        if decision.added:
            line_no += 1
            number = line_no
            OrderLine.objects.create(
                order=order,
                line_no=line_no,
                product=decision.product,
                sku=decision.product.sku,
                name=decision.product.name,
                quantity=decision.quantity,
                unit_price=0,
                is_gift=True,
                gift_rule_id=decision.rule_id,
            )
        message, data = decision.event(number)
        order_event_record(order=order, kind=EventKind.GIFT, message=message, data=data, user=user)
    for decision in decisions:
        if decision.hold:
            order_hold(order=order, reason=HoldReason.STOCK_SHORT, note=decision.hold_note(), user=user)
    return decisions


@transaction.atomic
def order_gift_remove(*, order: Order, line_id: int, user=None, note: str = "") -> Order:
    """Take a gift line off an order that is not routed yet, with an event naming the rule."""
    order = order_row_lock(order)
    line = OrderLine.objects.filter(order=order, pk=line_id).select_related("gift_rule").first()
    if line is None:
        raise DomainError(f"Order {order.number} has no such line.")
    if not line.is_gift:
        raise DomainError(f"Line {line.line_no} of order {order.number} is not a gift.")
    if order.status not in GIFT_REMOVABLE:
        raise DomainError(
            f"Order {order.number} is {order.get_status_display()}: a gift can only be removed before routing."
        )
    if order.lines.filter(is_gift=False).count() == 0:
        raise DomainError(f"Order {order.number} has nothing but gifts; cancel the order instead.")
    rule = line.gift_rule.name if line.gift_rule else ""
    data = {"removed": True, "line_no": line.line_no, "sku": line.sku, "quantity": line.quantity}
    data.update({"rule_id": line.gift_rule_id, "rule": rule})
    line.delete()
    gift = {"quantity": data["quantity"], "sku": data["sku"]}
    message = (
        msg(gettext_noop("Gift removed: %(quantity)s × %(sku)s (rule %(rule)s)"), **gift, rule=rule)
        if rule
        else msg(gettext_noop("Gift removed: %(quantity)s × %(sku)s"), **gift)
    )
    if note.strip():
        message = msg(gettext_noop("%(gift)s. %(note)s"), gift=message, note=note.strip())
    order_event_record(order=order, kind=EventKind.GIFT, message=message, data=data, user=user)
    return order


def next_line_no(order: Order) -> int:
    return (order.lines.aggregate(m=Max("line_no"))["m"] or 0) + 1
