"""Demand history per product and location, read from order lines through reverse relations.

Inventory sits below orders and fulfillment and imports neither: the order line model is
reached through ``Product.order_lines`` and every other step is a string lookup.

The rule (docs/inventory.md):
- demand is what was asked for: every order line with a known product, dated by the order's
  ``placed_at`` (else when it was received), in the local time zone, whatever happened to the
  order afterwards (held, backordered, cancelled by the customer), except orders that were never
  real: cancelled orders that carried a duplicate or fraud hold;
- a line that was routed counts at the location of its (latest not cancelled, else latest)
  shipment; a line never routed counts at the first location (by code) serving the order's
  channel that can handle the product (cold chain for fresh, bulky-capable for bulky), else the
  first serving it; a channel with no locations uses every active location the same way.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from .models import Location, Product

NEVER_REAL_HOLDS = ("duplicate", "fraud_review")


def _order_line_model():
    return Product._meta.get_field("order_lines").related_model


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


def demand_by_day(*, start: date, end: date) -> dict[tuple[int, int], dict[date, int]]:
    """{(location_id, product_id): {day: units asked for}} for days start..end inclusive."""
    OrderLine = _order_line_model()
    lo, hi = _bounds(start, end)
    in_range = Q(order__placed_at__gte=lo, order__placed_at__lt=hi) | Q(
        order__placed_at__isnull=True, order__created_at__gte=lo, order__created_at__lt=hi
    )
    lines = (
        OrderLine.objects.filter(product__isnull=False)
        .filter(in_range)
        .exclude(order__status="cancelled", order__holds__reason__in=NEVER_REAL_HOLDS)
    )
    rows = lines.values_list(
        "id", "product_id", "quantity", "order__channel_id", "order__placed_at", "order__created_at"
    )
    shipped: dict[int, int] = {}
    for line_id, location_id, status in (
        lines.filter(shipment_lines__isnull=False)
        .order_by("id", "shipment_lines__shipment_id")
        .values_list("id", "shipment_lines__shipment__location_id", "shipment_lines__shipment__status")
    ):
        if status != "cancelled" or line_id not in shipped:
            shipped[line_id] = location_id  # later rows win: latest live shipment, else latest
    serving: dict[int, list[Location]] = defaultdict(list)
    active = list(Location.objects.filter(active=True).order_by("code"))
    by_pk = {loc.pk: loc for loc in active}
    for channel_id, location_id in (
        Location.objects.filter(channels__isnull=False, active=True).order_by("code").values_list("channels", "id")
    ):
        serving[channel_id].append(by_pk[location_id])
    handling = dict(Product.objects.values_list("pk", "handling_class"))
    home: dict[tuple[int | None, int], int | None] = {}

    def unrouted_location(channel_id: int, product_id: int) -> int | None:
        key = (channel_id, product_id)
        if key not in home:
            candidates = serving.get(channel_id) or active
            able = [loc for loc in candidates if loc.can_handle(handling.get(product_id, ""))]
            chosen = (able or candidates or [None])[0]
            home[key] = chosen.pk if chosen else None
        return home[key]

    result: dict[tuple[int, int], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for line_id, product_id, quantity, channel_id, placed_at, created_at in rows:
        when = placed_at or created_at
        location_id = shipped.get(line_id) or unrouted_location(channel_id, product_id)
        if location_id is None:
            continue
        result[(location_id, product_id)][timezone.localtime(when).date()] += quantity
    return {key: dict(days) for key, days in result.items()}


def daily_series(days: dict[date, int], *, start: date, end: date) -> list[int]:
    """A dense list of daily units from start to end inclusive (missing days are 0)."""
    return [days.get(start + timedelta(days=i), 0) for i in range((end - start).days + 1)]
