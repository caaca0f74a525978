"""赠品: gift lines written at intake (one order; the batch path is orders/intake/bulk.py) and removed by
staff before routing. Which gifts an order gets: orders/rules/gifts.py."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from oms.errors import DomainError

from ..models import Order, OrderEvent, OrderLine
from ..rules.gifts import GiftDecision, GiftInput, current_gift_rules, gift_plan, matching_rules
from ..status import EventKind, HoldReason, OrderStatus
from ..wording import msg, msg_list
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
            gift_line_create(order, decision, line_no)
        message, data = decision.event(number)
        order_event_record(order=order, kind=EventKind.GIFT, message=message, data=data, user=user)
    for decision in decisions:
        if decision.hold:
            order_hold(order=order, reason=HoldReason.STOCK_SHORT, note=decision.hold_note(), user=user)
    return decisions


def gift_line_create(order: Order, decision: GiftDecision, line_no: int) -> OrderLine:
    """The one writer of a rule's gift line (at intake and when gifts are planned again): the decision's
    product and quantity at zero price, marked as a gift of its rule, numbered ``line_no``."""
    return OrderLine.objects.create(
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


def gifts_reapplicable(order: Order) -> bool:
    """Gifts are planned again only while nothing was ever routed or reserved for the order: received or
    confirmed, and no shipment (not even a cancelled one) ever made for it."""
    return order.status in GIFT_REMOVABLE and not order.shipments.exists()


def order_gifts_reapply(order: Order, *, user=None, why: str = "") -> dict | None:
    """After the order was reclassified or edited before routing: its rule gifts planned again. Gifts now
    due are added (the per-customer limit and the gift stock as at intake, the order's own gift lines
    not counted against either), rule gifts whose rule no longer matches are removed; a gift the channel
    sent or a person changed is never touched, a rule gift a person removed is not added back. One GIFT
    event for the whole change. Caller's transaction, order locked. Returns {"added", "removed"} or None
    when nothing changed (or the order is past routing)."""
    if not gifts_reapplicable(order):
        return None
    lines = list(order.lines.select_related("product", "gift_rule"))
    by_rule = [ln for ln in lines if ln.is_gift and ln.gift_rule_id is not None]
    rules = current_gift_rules()
    if not rules and not by_rule:
        return None
    goods = gift_input(order, [ln for ln in lines if not ln.is_gift])
    matching = {r.pk for r in matching_rules(goods, rules, timezone.now())}
    removed_by_person = set(
        OrderEvent.objects.filter(order=order, kind=EventKind.GIFT, data__removed=True).values_list(
            "data__rule_id", flat=True
        )
    )
    have = {ln.gift_rule_id for ln in by_rule}
    decisions = [
        d
        for d in gift_plan([goods], rules=rules, exclude_order_id=order.pk)[0]
        if d.rule_id not in have and d.rule_id not in removed_by_person
    ]
    gone = [ln for ln in by_rule if ln.gift_rule_id not in matching]
    added_rows, removed_rows = [], []
    for line in gone:
        removed_rows.append(_gift_row(line.line_no, line.gift_rule_id, line.sku, line.quantity, line.gift_rule.name))
        line.delete()
    line_no = max((ln.line_no for ln in lines), default=0)
    for decision in decisions:
        if not decision.added:
            continue  # out of stock and the rule says skip: as at intake, nothing added
        line_no += 1
        gift_line_create(order, decision, line_no)
        added_rows.append(_gift_row(line_no, decision.rule_id, decision.product.sku, decision.quantity, decision.rule))
    if not added_rows and not removed_rows:
        return None
    added = gettext_noop("added %(quantity)s × %(sku)s (rule %(rule)s)")
    removed = gettext_noop("removed %(quantity)s × %(sku)s (rule %(rule)s no longer matches)")
    parts = [msg(added, quantity=r["quantity"], sku=r["sku"], rule=r["rule"]) for r in added_rows]
    parts += [msg(removed, quantity=r["quantity"], sku=r["sku"], rule=r["rule"]) for r in removed_rows]
    message = (
        msg(gettext_noop("Gifts re-evaluated (%(why)s): %(parts)s"), why=why, parts=msg_list(parts, "; "))
        if why
        else msg(gettext_noop("Gifts re-evaluated: %(parts)s"), parts=msg_list(parts, "; "))
    )
    data = {"reapplied": True, "added": added_rows, "removed_lines": removed_rows}
    order_event_record(order=order, kind=EventKind.GIFT, message=message, data=data, user=user)
    for decision in decisions:
        if decision.added and decision.hold:
            order_hold(order=order, reason=HoldReason.STOCK_SHORT, note=decision.hold_note(), user=user)
    return {"added": added_rows, "removed": removed_rows}


def _gift_row(line_no: int, rule_id: int, sku: str, quantity: int, rule: str) -> dict:
    return {"line_no": line_no, "rule_id": rule_id, "rule": rule, "sku": sku, "quantity": quantity}


@transaction.atomic
def order_gift_remove(*, order: Order, line_id: int, user=None, note: str = "") -> Order:
    """Take a gift line off an order that is not routed yet, with an event naming the rule."""
    order = order_row_lock(order)
    line = OrderLine.objects.filter(order=order, pk=line_id).select_related("gift_rule").first()
    if line is None:
        raise DomainError(gettext("Order %(order_number)s has no such line.") % {"order_number": order.number})
    if not line.is_gift:
        raise DomainError(
            gettext("Line %(line_no)s of order %(order_number)s is not a gift.")
            % {"line_no": line.line_no, "order_number": order.number}
        )
    if order.status not in GIFT_REMOVABLE:
        raise DomainError(
            gettext("Order %(order_number)s is %(order_status)s: a gift can only be removed before routing.")
            % {"order_number": order.number, "order_status": order.get_status_display()}
        )
    if order.lines.filter(is_gift=False).count() == 0:
        raise DomainError(
            gettext("Order %(order_number)s has nothing but gifts; cancel the order instead.")
            % {"order_number": order.number}
        )
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
