"""Reads of stock for pages, routing and other apps."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils.translation import gettext

from .models import (
    Location,
    MovementKind,
    Product,
    Stock,
    StockMovement,
    StockRule,
    Transfer,
    TransferStatus,
)
from .replenishment import forecast_rates, in_transit  # noqa: F401  (in_transit is re-exported for pages)


def stock_list() -> QuerySet[Stock]:
    return Stock.objects.select_related("location", "product").with_available()


def available_by_location(*, product_ids: set[int]) -> dict[int, dict[int, int]]:
    """{location_id: {product_id: available}} over active locations."""
    result: dict[int, dict[int, int]] = {}
    rows = Stock.objects.filter(product_id__in=product_ids, location__active=True).values_list(
        "location_id", "product_id", "on_hand", "reserved"
    )
    for location_id, product_id, on_hand, reserved in rows:
        result.setdefault(location_id, {})[product_id] = on_hand - reserved
    return result


def active_locations() -> QuerySet[Location]:
    return Location.objects.filter(active=True)


def products_by_sku(skus: set[str]) -> dict[str, Product]:
    return {p.sku: p for p in Product.objects.filter(sku__in=skus, active=True)}


def bins_for(*, location_id: int, product_ids: set[int]) -> dict[int, str]:
    return dict(
        Stock.objects.filter(location_id=location_id, product_id__in=product_ids).values_list("product_id", "bin")
    )


def ledger_mismatches() -> list[dict]:
    """Stock rows whose on hand or reserved differ from the sum of their ledger rows."""
    sums = {
        (r["location_id"], r["product_id"]): (r["on_hand"] or 0, r["reserved"] or 0)
        for r in StockMovement.objects.values("location_id", "product_id").annotate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
    }
    problems = []
    seen = set()
    for s in Stock.objects.values("location_id", "product_id", "on_hand", "reserved"):
        key = (s["location_id"], s["product_id"])
        seen.add(key)
        expected = sums.get(key, (0, 0))
        if (s["on_hand"], s["reserved"]) != expected:
            problems.append(
                {
                    "location_id": key[0],
                    "product_id": key[1],
                    "stock": (s["on_hand"], s["reserved"]),
                    "ledger": expected,
                }
            )
    for key, expected in sums.items():
        if key not in seen and expected != (0, 0):
            problems.append({"location_id": key[0], "product_id": key[1], "stock": None, "ledger": expected})
    return problems


def stock_totals() -> dict:
    agg = Stock.objects.aggregate(
        on_hand=Sum("on_hand"), reserved=Sum("reserved"), available=Sum(F("on_hand") - F("reserved"))
    )
    return {k: v or 0 for k, v in agg.items()}


# ---- ledger, transfers ------------------------------------------------------------------------


def movement_list() -> QuerySet[StockMovement]:
    return StockMovement.objects.select_related("location", "product", "user")


def transfer_list() -> QuerySet[Transfer]:
    return Transfer.objects.select_related("from_location", "to_location").annotate(
        units=Sum("lines__quantity"), line_count=Count("lines")
    )


def transit_mismatches() -> list[str]:
    """Transfers whose ledger rows disagree with their lines (out at dispatch, in at receipt)."""
    problems = []
    ledger: dict[tuple[str, str, int], int] = {}
    for ref, kind, product, qty in (
        StockMovement.objects.filter(kind__in=[MovementKind.TRANSFER_OUT, MovementKind.TRANSFER_IN])
        .values_list("reference", "kind", "product_id")
        .annotate(q=Sum("on_hand_delta"))
    ):
        ledger[(ref, kind, product)] = qty
    for transfer in Transfer.objects.prefetch_related("lines"):
        for line in transfer.lines.all():
            out = ledger.get((transfer.number, MovementKind.TRANSFER_OUT, line.product_id), 0)
            came = ledger.get((transfer.number, MovementKind.TRANSFER_IN, line.product_id), 0)
            expected_in = line.quantity if transfer.status == TransferStatus.RECEIVED else 0
            if out != -line.quantity or came != expected_in:
                problems.append(
                    f"{transfer.number} product {line.product_id}: lines say {line.quantity} "
                    f"({transfer.status}), ledger says out {-out}, in {came}"
                )
    return problems


# ---- available to promise ---------------------------------------------------------------------


@dataclass(frozen=True)
class AtpPart:
    location_id: int
    location: str
    on_hand: int
    reserved: int
    safety_stock: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def contributes(self) -> int:
        """What this location offers: available less its safety stock, never below zero."""
        return max(0, self.available - self.safety_stock)


@dataclass(frozen=True)
class AtpFigure:
    product_id: int
    parts: tuple[AtpPart, ...]
    pooled: int  # sum of the parts' contributions
    buffer: int  # kept back for the channel buffer
    quantity: int  # the figure offered to the channel


def atp_arithmetic(
    parts: Iterable[AtpPart], *, buffer_percent: Decimal | int | str = 0, buffer_units: int = 0
) -> tuple[int, int, int]:
    """(pooled, buffer, quantity). Each location offers available - safety stock (floored at 0);
    the channel buffer keeps back ceil(pooled x percent / 100) + units, never more than pooled.
    Rounding the percentage up keeps back at least the stated share: the figure never overstates."""
    pooled = sum(p.contributes for p in parts)
    percent = Decimal(str(buffer_percent))
    kept = int((Decimal(pooled) * percent / 100).to_integral_value(rounding=ROUND_CEILING)) + int(buffer_units)
    buffer = min(pooled, kept)
    return pooled, buffer, pooled - buffer


def atp_for_locations(
    *,
    location_ids: Iterable[int],
    product_ids: Iterable[int] | None = None,
    buffer_percent: Decimal | int | str = 0,
    buffer_units: int = 0,
) -> dict[int, AtpFigure]:
    """Available to promise per product over the given (active) locations, with the breakdown."""
    location_ids = set(location_ids)
    stock = Stock.objects.filter(location_id__in=location_ids, location__active=True, product__active=True)
    if product_ids is not None:
        stock = stock.filter(product_id__in=set(product_ids))
    safety = dict(
        ((loc, prod), s)
        for loc, prod, s in StockRule.objects.filter(location_id__in=location_ids).values_list(
            "location_id", "product_id", "safety_stock"
        )
    )
    parts: dict[int, list[AtpPart]] = {}
    for loc, code, prod, on_hand, reserved in stock.order_by("location__code").values_list(
        "location_id", "location__code", "product_id", "on_hand", "reserved"
    ):
        parts.setdefault(prod, []).append(AtpPart(loc, code, on_hand, reserved, safety.get((loc, prod), 0)))
    if product_ids is not None:
        for prod in set(product_ids) - set(parts):
            parts[prod] = []
    result = {}
    for prod, product_parts in parts.items():
        pooled, buffer, quantity = atp_arithmetic(
            product_parts, buffer_percent=buffer_percent, buffer_units=buffer_units
        )
        result[prod] = AtpFigure(prod, tuple(product_parts), pooled, buffer, quantity)
    return result


# ---- low stock --------------------------------------------------------------------------------


def low_stock_alerts(*, daily_demand: dict[tuple[int, int], float] | None = None) -> list[dict]:
    """Product and location pairs at or under their threshold, or with fewer days of cover than
    their rule asks. ``daily_demand`` ({(location_id, product_id): units a day}) defaults to the
    forecast from order history (inventory.replenishment.forecast_rates)."""
    rules = list(
        StockRule.objects.filter(Q(low_stock_threshold__isnull=False) | Q(min_days_of_cover__isnull=False))
        .select_related("location", "product")
        .filter(location__active=True, product__active=True)
    )
    if not rules:
        return []
    if daily_demand is None and any(r.min_days_of_cover is not None for r in rules):
        daily_demand = forecast_rates()
    daily_demand = daily_demand or {}
    stock = {
        (loc, prod): on_hand - reserved
        for loc, prod, on_hand, reserved in Stock.objects.filter(
            location_id__in={r.location_id for r in rules}, product_id__in={r.product_id for r in rules}
        ).values_list("location_id", "product_id", "on_hand", "reserved")
    }
    alerts = []
    for rule in rules:
        key = (rule.location_id, rule.product_id)
        available = stock.get(key, 0)
        rate = daily_demand.get(key, 0.0)
        cover = round(available / rate, 1) if rate > 0 else None
        reasons = []
        if rule.low_stock_threshold is not None and available <= rule.low_stock_threshold:
            reasons.append(
                gettext("available %(available)s ≤ threshold %(threshold)s")
                % {"available": available, "threshold": rule.low_stock_threshold}
            )
        if rule.min_days_of_cover is not None and cover is not None and cover < rule.min_days_of_cover:
            reasons.append(
                gettext("%(cover)s days of cover < %(minimum)s") % {"cover": cover, "minimum": rule.min_days_of_cover}
            )
        if reasons:
            alerts.append(
                {
                    "location_id": rule.location_id,
                    "location": rule.location.code,
                    "product_id": rule.product_id,
                    "sku": rule.product.sku,
                    "name": rule.product.name,
                    "available": available,
                    "threshold": rule.low_stock_threshold,
                    "daily_demand": round(rate, 2),
                    "days_of_cover": cover,
                    "reason": "; ".join(reasons),
                }
            )
    alerts.sort(key=lambda a: (a["available"], a["location"], a["sku"]))
    return alerts
