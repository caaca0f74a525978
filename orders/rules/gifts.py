"""赠品: which gift rules an order meets, and the gift lines they add. Pure reads; the writes are in
``orders.services.gifts`` (one order) and ``orders.intake.bulk`` (a batch), both through ``gift_plan``.

How rules combine (the choice, documented in the README): every matching active rule adds its gift,
in priority order (``position``, then id); a matching rule with ``stop_processing`` ends the run, so
"first match only" is a rule with "stop here" ticked. A rule matches an order when

- the order's channel is one of the rule's channels (none: every channel);
- the order was placed (else: now) within the rule's period (``starts_at`` <= placed < ``ends_at``);
- the goods total (the non-gift lines' price × quantity, not shipping) is at least ``min_goods_total``;
- the order has at least ``min_quantity`` units of ``bought_skus`` together (empty: any goods), a line
  counting by our product's SKU or else the SKU the channel sent;
- the customer has fewer than ``limit_per_customer`` orders (not cancelled) that got this rule's gift,
  the orders of the same batch included.

A gift whose product is short (available over the active locations, less the gifts of orders not routed
yet and those the batch already took) is skipped with an event, or added with a stock-short hold, as
the rule's ``out_of_stock`` says.

The active rules are compiled once per process and again when they change (``current_gift_rules``,
the same fingerprint scheme as the classification rules), so a batch costs one query for the rules,
and, only when some rule matched, one for the customers' past gifts and two for the gift stock.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from inventory.selectors import available_by_location

from ..models import GiftOutOfStock, GiftRule, OrderLine, split_list
from ..status import OrderStatus
from ..wording import msg


class CompiledGiftRule:
    __slots__ = (
        "pk",
        "name",
        "channel_ids",
        "starts_at",
        "ends_at",
        "min_goods_total",
        "skus",
        "min_quantity",
        "limit",
        "product",
        "quantity",
        "out_of_stock",
        "stop",
    )

    def __init__(self, rule: GiftRule):
        self.pk, self.name = rule.pk, rule.name
        self.channel_ids = frozenset(c.pk for c in rule.channels.all())
        self.starts_at, self.ends_at = rule.starts_at, rule.ends_at
        self.min_goods_total = rule.min_goods_total
        self.skus = frozenset(split_list(rule.bought_skus))
        self.min_quantity = rule.min_quantity or 1
        self.limit = rule.limit_per_customer
        self.product, self.quantity = rule.gift_product, rule.gift_quantity
        self.out_of_stock, self.stop = rule.out_of_stock, rule.stop_processing

    def matches(self, order: "GiftInput", when: datetime) -> bool:
        if self.channel_ids and order.channel_id not in self.channel_ids:
            return False
        if self.starts_at is not None and when < self.starts_at:
            return False
        if self.ends_at is not None and when >= self.ends_at:
            return False
        if self.min_goods_total is not None and order.goods_total < self.min_goods_total:
            return False
        if self.skus:
            bought = sum(qty for sku, qty in order.bought if sku in self.skus)
            if bought < self.min_quantity:
                return False
        elif sum(qty for _, qty in order.bought) < self.min_quantity:
            return False
        return True


def active_gift_rules() -> list[GiftRule]:
    return list(
        GiftRule.objects.filter(active=True)
        .select_related("gift_product")
        .prefetch_related("channels")
        .order_by("position", "pk")
    )


_cached: tuple[tuple, tuple[CompiledGiftRule, ...]] | None = None


def gift_rules_fingerprint() -> tuple:
    """The active rules' settings, channels and gift products' names as plain values, one query."""
    fields = [f.attname for f in GiftRule._meta.concrete_fields]
    rows = GiftRule.objects.filter(active=True).order_by("position", "pk", "channels")
    return tuple(rows.values_list(*fields, "channels", "gift_product__sku", "gift_product__name"))


def current_gift_rules() -> tuple[CompiledGiftRule, ...]:
    """The active gift rules, compiled once per process, compiled again when the fingerprint changes
    (however the rules were changed: a form, the admin, the API, ``update()``)."""
    global _cached
    fingerprint = gift_rules_fingerprint()
    cached = _cached
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    compiled = tuple(CompiledGiftRule(rule) for rule in active_gift_rules())
    _cached = (fingerprint, compiled)
    return compiled


@dataclass
class GiftInput:
    """An order as the gift rules read it (before or after its rows exist)."""

    channel_id: int
    customer_id: int | None
    placed_at: datetime | None
    # (product or None, sku as sent, quantity, unit price, is_gift) per line
    lines: list[tuple]
    goods_total: Decimal = Decimal("0")
    bought: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self):
        self.goods_total = sum(
            (Decimal(price) * qty for _p, _s, qty, price, gift in self.lines if not gift), Decimal("0")
        )
        self.bought = [(p.sku if p is not None else s, qty) for p, s, qty, _price, gift in self.lines if not gift]


@dataclass
class GiftDecision:
    rule_id: int
    rule: str
    product: object  # inventory.Product
    quantity: int
    added: bool  # False: skipped (out of stock)
    hold: bool = False  # added, but short of stock: hold the order

    def event(self, line_no: int | None = None) -> tuple[str, dict]:
        """The timeline message and data for this decision (EventKind.GIFT)."""
        data = {
            "rule_id": self.rule_id,
            "rule": self.rule,
            "sku": self.product.sku,
            "quantity": self.quantity,
            "added": self.added,
        }
        if self.added:
            data["line_no"] = line_no
            what = {"rule": self.rule, "quantity": self.quantity, "sku": self.product.sku, "name": self.product.name}
            message = (
                msg(
                    gettext_noop(
                        "Gift added by rule %(rule)s: %(quantity)s × %(sku)s %(name)s (out of stock: order held)"
                    ),
                    **what,
                )
                if self.hold
                else msg(gettext_noop("Gift added by rule %(rule)s: %(quantity)s × %(sku)s %(name)s"), **what)
            )
        else:
            message = msg(
                gettext_noop("Gift skipped, out of stock: rule %(rule)s, %(quantity)s × %(sku)s"),
                rule=self.rule,
                quantity=self.quantity,
                sku=self.product.sku,
            )
        return message, data

    def hold_note(self) -> str:
        return msg(
            gettext_noop("Gift %(sku)s × %(quantity)s (rule %(rule)s) is out of stock."),
            sku=self.product.sku,
            quantity=self.quantity,
            rule=self.rule,
        )


def matching_rules(order: GiftInput, rules, now: datetime) -> list[CompiledGiftRule]:
    """The rules whose conditions the order meets, in rule order, up to the first "stop here" one
    (the per-customer limit and the gift stock are not conditions: ``gift_plan`` applies them)."""
    when = order.placed_at or now
    hits = []
    for rule in rules:
        if rule.matches(order, when):
            hits.append(rule)
            if rule.stop:
                break
    return hits


def gift_plan(
    orders: list[GiftInput], *, rules=None, now: datetime | None = None, exclude_order_id: int | None = None
) -> list[list[GiftDecision]]:
    """For each order, the gifts its matching rules decide, in rule order (see the module docstring).
    Orders are taken in the given order: an earlier one uses up the customer's limit and the gift
    stock before a later one. ``exclude_order_id``: an existing order planned again (its own gift lines
    count neither against the customer's limit nor against the gift stock)."""
    rules = current_gift_rules() if rules is None else rules
    result: list[list[GiftDecision]] = [[] for _ in orders]
    if not rules:
        return result
    now = now or timezone.now()
    matched: list[list[CompiledGiftRule]] = [matching_rules(order, rules, now) for order in orders]
    if not any(matched):
        return result
    used = _past_gifts(
        {o.customer_id for o, hits in zip(orders, matched, strict=True) if hits and o.customer_id},
        {r.pk for hits in matched for r in hits if r.limit is not None},
        exclude_order_id,
    )
    stock = _available({r.product.pk for hits in matched for r in hits}, exclude_order_id)
    for i, (order, hits) in enumerate(zip(orders, matched, strict=True)):
        for rule in hits:
            if rule.limit is not None:
                key = (order.customer_id, rule.pk)
                if order.customer_id is None:
                    continue  # nobody to count the limit against: no gift
                if used.get(key, 0) >= rule.limit:
                    continue
            available = stock.get(rule.product.pk, 0)
            short = available < rule.quantity
            if short and rule.out_of_stock == GiftOutOfStock.SKIP:
                result[i].append(GiftDecision(rule.pk, rule.name, rule.product, rule.quantity, added=False))
                continue
            stock[rule.product.pk] = available - rule.quantity
            if rule.limit is not None:
                used[(order.customer_id, rule.pk)] = used.get((order.customer_id, rule.pk), 0) + 1
            result[i].append(GiftDecision(rule.pk, rule.name, rule.product, rule.quantity, added=True, hold=short))
    return result


def _past_gifts(customer_ids: set[int], rule_ids: set[int], exclude_order_id=None) -> dict[tuple[int, int], int]:
    """(customer id, rule id) -> how many of the customer's orders (not cancelled) got the rule's gift."""
    if not customer_ids or not rule_ids:
        return {}
    rows = (
        OrderLine.objects.filter(is_gift=True, gift_rule_id__in=rule_ids, order__customer_id__in=customer_ids)
        .exclude(order__status=OrderStatus.CANCELLED)
        .exclude(order_id=exclude_order_id)
        .values_list("order__customer_id", "gift_rule_id")
        .annotate(n=Count("order_id", distinct=True))
        .order_by()
    )
    return {(customer_id, rule_id): n for customer_id, rule_id, n in rows}


def _available(product_ids: set[int], exclude_order_id=None) -> dict[int, int]:
    """Units per product free for a gift: available over the active locations, less the gift lines of
    orders not routed yet (they reserve nothing until routing, and were promised first)."""
    total: dict[int, int] = dict.fromkeys(product_ids, 0)
    for per_product in available_by_location(product_ids=product_ids).values():
        for product_id, available in per_product.items():
            total[product_id] += max(available, 0)
    promised = (
        OrderLine.objects.filter(
            is_gift=True, product_id__in=product_ids, order__status__in=(OrderStatus.RECEIVED, OrderStatus.CONFIRMED)
        )
        .exclude(order_id=exclude_order_id)
        .values_list("product_id")
        .annotate(n=Sum("quantity"))
        .order_by()
    )
    for product_id, n in promised:
        total[product_id] -= n
    return total
