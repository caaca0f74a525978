"""Reads of orders for pages, the API, reports and other apps."""

from datetime import datetime, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from inventory.models import Product
from inventory.selectors import products_by_sku

from .intake.canonical import ADDRESS_FIELDS
from .models import (
    ChannelSku,
    InboundMessage,
    MergeSettings,
    Order,
    OrderEvent,
    OrderHold,
    OrderMergeGroup,
    OrderMergeMember,
)
from .status import EventKind, OrderStatus


def order_list() -> QuerySet[Order]:
    return Order.objects.select_related("channel", "customer")


def order_ship_to(order: Order, *, email: bool = True) -> dict[str, str]:
    """The order's ship-to address as ``{part: value}`` (``ADDRESS_FIELDS``, from its ``ship_<part>`` columns;
    without the e-mail when ``email`` is False): what a ``CanonicalAddress`` or a carrier's recipient is made of."""
    return {name: getattr(order, f"ship_{name}") for name in ADDRESS_FIELDS if email or name != "email"}


def order_detail(number: str) -> Order:
    return (
        Order.objects.select_related("channel", "customer")
        .prefetch_related("lines__product", "holds")
        .get(number=number)
    )


def event_time(event: OrderEvent) -> datetime:
    """When what an event tells happened: a carrier scan's own time (``data["occurred_at"]``, which may be long
    before its push arrived, or arrive out of order), else when the event was recorded."""
    stamp = (event.data or {}).get("occurred_at") if isinstance(event.data, dict) else None
    if isinstance(stamp, str):
        try:
            when = datetime.fromisoformat(stamp)
        except ValueError:
            when = None
        if when is not None and when.tzinfo is not None:
            return when
    return event.created_at


def order_timeline(order: Order) -> list[OrderEvent]:
    """The order's events in the order things happened (`event_time`), not the order they reached us; each has
    ``at`` (that time) and ``late`` (True when it was recorded well after it happened, e.g. a delayed scan)."""
    events = list(order.events.select_related("user").order_by("created_at", "id"))
    for event in events:
        event.at = event_time(event)
        event.late = event.created_at - event.at > timedelta(minutes=5)
    return sorted(events, key=lambda e: (e.at, e.created_at, e.pk))


# Customers' phone and e-mail: only roles that may see customers (customer service, managers, admins).
CONTACT_PERMISSION = "orders.view_customer"


def may_see_contact(user) -> bool:
    return bool(user and user.has_perm(CONTACT_PERMISSION))


def order_search(queryset: QuerySet[Order], text: str, *, contact: bool = True) -> QuerySet[Order]:
    """One box over number, external id, the channel's order name (``#1001`` or ``1001``), customer,
    phone, e-mail and tracking number. ``contact=False`` (a role that may not see customers' contact
    details) leaves phone and e-mail out: the box is no oracle for them."""
    text = text.strip()
    if not text:
        return queryset
    digits = "".join(ch for ch in text if ch.isdigit())
    condition = (
        Q(number__iexact=text)
        | Q(external_id__iexact=text)
        | Q(channel_order_name__iexact=text)
        | Q(channel_order_name__iexact=text[1:] if text.startswith("#") else f"#{text}")
        | Q(ship_name__icontains=text)
        | Q(customer__name__icontains=text)
        | Q(shipments__parcels__tracking_number__iexact=text)
    )
    if contact:
        condition |= Q(ship_email__iexact=text) | Q(customer__email__iexact=text)
    if contact and len(digits) >= 4:
        condition |= Q(ship_phone__endswith=digits) | Q(customer__phone__endswith=digits)
    return queryset.filter(condition).distinct()


def dashboard_counts() -> dict:
    by_status = dict(Order.objects.values_list("status").annotate(n=Count("id")).order_by())
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "by_status": [(s, s.label, by_status.get(s.value, 0)) for s in OrderStatus],
        "today": Order.objects.filter(created_at__gte=today).count(),
        "on_hold": Order.objects.filter(on_hold=True).exclude(status=OrderStatus.CANCELLED).count(),
        "yesterday": Order.objects.filter(created_at__gte=today - timedelta(days=1), created_at__lt=today).count(),
    }


def inbound_list() -> QuerySet[InboundMessage]:
    return InboundMessage.objects.select_related("channel")


def products_for_channel(channel, skus: set[str]) -> dict:
    """The product for each SKU as the channel sends it: the channel's SKU map first, then our SKU."""
    skus = {s for s in skus if s}
    found = {
        m.external_sku: m.product
        for m in ChannelSku.objects.filter(channel=channel, external_sku__in=skus).select_related("product")
    }
    rest = skus - set(found)
    if rest:
        found.update(products_by_sku(rest))
    return found


def hold_counts() -> dict[str, int]:
    """Orders with an active hold, per reason (the hold queue's tabs)."""
    rows = (
        OrderHold.objects.filter(released_at__isnull=True)
        .values("reason")
        .annotate(n=Count("order", distinct=True))
        .order_by()
    )
    return {row["reason"]: row["n"] for row in rows}


# ---- 自动合单: merge groups (orders/services/merge.py) ---------------------------------------------------


def merge_group_of(order) -> OrderMergeGroup | None:
    """The order's live merge group, or None."""
    return OrderMergeGroup.objects.filter(members__order=order, members__active=True).first()


def merge_group_latest(order) -> OrderMergeGroup | None:
    """The order's live merge group, else the last one it was in, or None (the order page, the API)."""
    return merge_group_of(order) or OrderMergeGroup.objects.filter(members__order=order).order_by("-pk").first()


def merge_group_orders(group: OrderMergeGroup) -> list[Order]:
    """The orders of a group (its live members; for an undone group, those it had), by id."""
    members = group.members.all() if group.undone_at else group.members.filter(active=True)
    return list(Order.objects.filter(pk__in=members.values("order_id")).order_by("pk"))


def merge_group_ids(order_ids) -> dict[int, int]:
    """{order id: live group id} for those of the orders in a live group."""
    rows = OrderMergeMember.objects.filter(order_id__in=list(order_ids), active=True)
    return dict(rows.values_list("order_id", "group_id"))


def merge_groups_waiting() -> list[int]:
    """One waiting order (confirmed, not on hold) of each live group that has one, by group: routing takes
    the group through it."""
    members = OrderMergeMember.objects.filter(active=True, order__status=OrderStatus.CONFIRMED, order__on_hold=False)
    first: dict[int, int] = {}
    for group_id, order_id in members.order_by("group_id", "order_id").values_list("group_id", "order_id"):
        first.setdefault(group_id, order_id)
    return list(first.values())


def merge_wait_condition(now=None) -> Q | None:
    """A condition on orders: still waiting for a merge partner (``MergeSettings.wait_minutes``): new, on a
    channel that merges, not excluded by a tag. None when nothing waits. Window routing and the unrouted sweep
    leave these orders for later."""
    settings = MergeSettings.current()
    if not settings.enabled or not settings.wait_minutes:
        return None
    since = (now or timezone.now()) - timedelta(minutes=settings.wait_minutes)
    condition = Q(created_at__gt=since)
    if MergeSettings.objects.filter(pk=settings.pk).exists():
        condition &= ~Q(channel_id__in=list(settings.disabled_channels.values_list("pk", flat=True)))
    for tag in settings.exclude_tag_list:
        condition &= ~Q(tags__contains=f",{tag},")
    return condition


def in_merge_group():
    """A condition on orders: in a live merge group (for filters and routing's window)."""
    return Exists(OrderMergeMember.objects.filter(order=OuterRef("pk"), active=True))


def tag_query_values(values) -> list[str]:
    """Tags asked for in a filter (``?tag=a&tag=b`` or ``a, b``): trimmed, lower case, each once."""
    tags = []
    for value in values:
        for part in str(value).replace("，", ",").split(","):
            tag = " ".join(part.split()).lower()
            if tag and tag not in tags:
                tags.append(tag)
    return tags


def orders_tagged(queryset: QuerySet[Order], tags: list[str]) -> QuerySet[Order]:
    """Orders that carry every one of the tags (rule-made or manual: ``Order.tags``)."""
    for tag in tags:
        queryset = queryset.tagged(tag)
    return queryset


def tag_counts() -> list[dict]:
    """Every tag in use with its number of orders and of open orders, most used first: one grouped query
    over the stored tag sets (few distinct sets), counted per tag here."""
    counts: dict[str, list[int]] = {}
    open_statuses = {OrderStatus.DELIVERED, OrderStatus.CANCELLED}
    rows = Order.objects.exclude(tags="").values_list("tags", "status").annotate(n=Count("id")).order_by()
    manual: dict[str, int] = {}
    for stored, status, n in rows:
        for tag in stored.strip(",").split(","):
            entry = counts.setdefault(tag, [0, 0])
            entry[0] += n
            if status not in open_statuses:
                entry[1] += n
    manual_rows = Order.objects.exclude(manual_tags="").values_list("manual_tags").annotate(n=Count("id"))
    for stored, n in manual_rows.order_by():
        for tag in stored.strip(",").split(","):
            manual[tag] = manual.get(tag, 0) + n
    return [
        {"tag": tag, "orders": total, "open": open_, "manual": manual.get(tag, 0)}
        for tag, (total, open_) in sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))
    ]


# ---- 预售 (orders/services/presale.py) ----------------------------------------------------------------


def presale_days() -> list[dict]:
    """The presale queue's days: for each release day, the orders waiting for it and their units."""
    rows = (
        Order.objects.presale_waiting()
        .exclude(status=OrderStatus.CANCELLED)
        .values("presale_until")
        .annotate(orders=Count("pk", distinct=True), units=Sum("lines__quantity"))
        .order_by("presale_until")
    )
    return [{"day": r["presale_until"], "orders": r["orders"], "units": r["units"] or 0} for r in rows]


def presale_waiting_orders(day=None) -> QuerySet[Order]:
    """Presale orders waiting for their day, in the order they will be routed: by day, then first paid first."""
    queryset = Order.objects.presale_waiting().exclude(status=OrderStatus.CANCELLED).select_related("channel")
    if day is not None:
        queryset = queryset.filter(presale_until=day)
    return queryset.order_by("presale_until", F("placed_at").asc(nulls_last=True), "pk")


def presale_products() -> list[Product]:
    """Products marked presale, each with ``waiting``: the units of waiting presale orders that ask for it."""
    products = list(Product.objects.filter(presale_ship_from__isnull=False).order_by("presale_ship_from", "sku"))
    waiting = dict(
        Order.objects.presale_waiting()
        .exclude(status=OrderStatus.CANCELLED)
        .filter(lines__product__in=products)
        .values("lines__product")
        .annotate(units=Sum("lines__quantity"))
        .values_list("lines__product", "units")
        .order_by()
    )
    for product in products:
        product.waiting = waiting.get(product.pk, 0)
        product.over_batch = bool(product.presale_batch_qty and product.waiting > product.presale_batch_qty)
    return products


def presale_listings() -> QuerySet[ChannelSku]:
    return (
        ChannelSku.objects.filter(presale_ship_from__isnull=False)
        .select_related("channel", "product")
        .order_by("presale_ship_from", "channel__slug", "external_sku")
    )


def presale_receipt_releases(limit: int = 50) -> list[dict]:
    """The latest stock receipts that released presale orders (workflows/receipts.py), newest first: for each
    receipt (its stock movement) the SKU, location, quantity, reference and the orders it released in
    release order (first paid first). Read from the release events, one query."""
    events = (
        OrderEvent.objects.filter(kind=EventKind.PRESALE, data__has_key="receipt")
        .select_related("order")
        .order_by("-pk")[: limit * 20]
    )
    receipts: dict[int, dict] = {}
    for event in events:
        receipt = event.data["receipt"]
        row = receipts.setdefault(receipt["movement"], dict(receipt, at=event.created_at, orders=[]))
        row["orders"].insert(0, event.order.number)  # events newest first: the first released ends up first
        row["at"] = min(row["at"], event.created_at)
    return list(receipts.values())[:limit]
