"""Inventory: stock-out days and stock turnover, by replaying the movement ledger per day.

The ledger (inventory.StockMovement) is append-only and sums to the stock rows, so the stock
at the start of the period is today's Stock row minus every movement since the start; each
day's movements then give the end-of-day on hand and reserved. Only the movements since the
start of the period are read (an indexed range on created_at), never the whole ledger.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from inventory.models import Location, MovementKind, Product, Stock, StockMovement

from .base import Column, Fact, Kpi, KpiResult, Table, _url, fetch, fmt_num, fmt_pct, pct


@dataclass
class PairDays:
    location_id: int
    product_id: int
    days: int = 0  # days counted (the pair existed and the day is not in the future)
    stockout_days: int = 0
    on_hand_sum: int = 0  # Σ end-of-day on hand over the counted days
    shipped: int = 0


def replay(f, db, today: date | None = None) -> dict[tuple[int, int], PairDays]:
    """End-of-day on hand and available per (location, product) for every day of the period
    up to today. A pair is counted from its first ledger row on. Works in segments between
    the days with movements, so the cost grows with the movements, not pairs × days."""
    today = today or timezone.localdate()
    last_day = min(f.date_to, today)
    stock = Stock.objects.using(db).all()
    moves = StockMovement.objects.using(db).filter(created_at__gte=f.start)
    if f.location:
        stock = stock.filter(location_id=f.location)
        moves = moves.filter(location_id=f.location)
    before = StockMovement.objects.filter(
        location_id=OuterRef("location_id"), product_id=OuterRef("product_id"), created_at__lt=f.start
    )
    current = fetch(
        stock.annotate(existed=Exists(before)).values_list(
            "location_id", "product_id", "on_hand", "reserved", "existed"
        ),
        db,
    )
    grouped = fetch(
        moves.annotate(day=TruncDate("created_at"))
        .values_list("location_id", "product_id", "day")
        .annotate(
            oh=Sum("on_hand_delta"),
            rs=Sum("reserved_delta"),
            shipped=Sum("on_hand_delta", filter=Q(kind=MovementKind.SHIPMENT)),
        )
        .order_by(),
        db,
    )
    since = defaultdict(lambda: [0, 0])  # every movement from the start of the period until now
    daily = defaultdict(list)  # pair -> [(day, on hand delta, reserved delta, shipped)]
    for loc, prod, day, oh, rs, shipped in grouped:
        if isinstance(day, str):  # SQLite
            day = date.fromisoformat(day)
        since[(loc, prod)][0] += oh or 0
        since[(loc, prod)][1] += rs or 0
        if day <= last_day:
            daily[(loc, prod)].append((day, oh or 0, rs or 0, -(shipped or 0)))
    result = {}
    if last_day < f.date_from:
        return result
    end_ordinal = last_day.toordinal() + 1
    for loc, prod, on_hand, reserved, existed in current:
        key = (loc, prod)
        on_hand -= since[key][0]
        reserved -= since[key][1]
        pair = PairDays(loc, prod)
        # Segments: [start, next movement day) with a constant end-of-day state.
        cursor = f.date_from.toordinal() if existed else None
        for day, oh, rs, shipped in sorted(daily.get(key, ())):
            ordinal = day.toordinal()
            if cursor is not None and ordinal > cursor:
                _segment(pair, cursor, ordinal, on_hand, reserved)
            on_hand += oh
            reserved += rs
            pair.shipped += shipped
            cursor = ordinal
        if cursor is not None:
            _segment(pair, cursor, end_ordinal, on_hand, reserved)
        if pair.days:
            result[key] = pair
    return result


def _segment(pair: PairDays, start: int, end: int, on_hand: int, reserved: int) -> None:
    length = end - start
    pair.days += length
    pair.on_hand_sum += on_hand * length
    if on_hand - reserved <= 0:
        pair.stockout_days += length


def _names(db):
    return dict(Product.objects.using(db).values_list("pk", "sku")), dict(
        Location.objects.using(db).values_list("pk", "code")
    )


def _stock_url(location_id, sku=None):
    return _url("inventory:stock_list", [("location", location_id), ("sku", sku)])


class StockOutDays(Kpi):
    slug = "stock-out-days"
    title = "Stock-out days"
    group = "Inventory"
    unit = "days"
    filters_used = ("dates", "location")
    formula = (
        "For each product at each location, the days in the period on which it ended the day with nothing "
        "available (on hand − reserved ≤ 0), replayed from the stock movement ledger; summed over all pairs."
    )
    numerator = "Pair-days whose end-of-day available (on hand − reserved from the ledger) is 0 or less."
    denominator = (
        "Pair-days counted: days in the period up to today, from the pair's first ledger row on (shown as the rate)."
    )
    timestamps = "StockMovement.created_at, local day; the state at the end of each day."
    statuses = "Every movement kind (receipts, adjustments, reservations, releases, shipments, ...)."

    def compute(self, f, today: date | None = None):
        pairs = replay(f, self.db, today)
        skus, codes = _names(self.db)
        total = sum(p.stockout_days for p in pairs.values())
        counted = sum(p.days for p in pairs.values())
        out = sorted(
            (p for p in pairs.values() if p.stockout_days), key=lambda p: (-p.stockout_days, skus.get(p.product_id, ""))
        )
        rows = [
            {
                "sku": skus.get(p.product_id, p.product_id),
                "location": codes.get(p.location_id, p.location_id),
                "days": p.stockout_days,
                "of": p.days,
                "_url": _stock_url(p.location_id, skus.get(p.product_id)),
            }
            for p in out[:200]
        ]
        per_loc = defaultdict(int)
        for p in out:
            per_loc[codes.get(p.location_id, p.location_id)] += p.stockout_days
        return KpiResult(
            value=total,
            display=fmt_num(total),
            facts=[
                Fact("Stock-out days", fmt_num(total)),
                Fact("Share of pair-days", fmt_pct(pct(total, counted))),
                Fact("Products × locations with a stock-out", fmt_num(len(out)), _stock_url(f.location)),
                Fact("Products × locations followed", fmt_num(len(pairs))),
            ],
            tables=[
                Table(
                    "Worst products (top 200)",
                    [
                        Column("sku", "SKU"),
                        Column("location", "Location"),
                        Column("days", "Stock-out days", True),
                        Column("of", "Days counted", True),
                    ],
                    rows,
                )
            ],
            series=sorted(per_loc.items()),
            chart_title="Stock-out days by location",
        )

    def drilldown(self, f):
        return _stock_url(f.location)


class StockTurnover(Kpi):
    slug = "stock-turnover"
    title = "Stock turnover"
    group = "Inventory"
    unit = "turns"
    filters_used = ("dates", "location")
    formula = "Units shipped in the period divided by the average units on hand over the period."
    numerator = "Units shipped: −Σ StockMovement.on_hand_delta of kind shipment in the period."
    denominator = (
        "Average on hand: per product and location, the mean of the end-of-day on hand over the days counted "
        "(from the pair's first ledger row, up to today), summed over the pairs."
    )
    timestamps = "StockMovement.created_at, local day. Turns per period, not annualised."
    statuses = "Movement kind shipment for the numerator; every kind for the on-hand replay."

    def compute(self, f, today: date | None = None):
        pairs = replay(f, self.db, today)
        skus, codes = _names(self.db)
        per_product = defaultdict(lambda: [0, 0.0])
        for p in pairs.values():
            per_product[p.product_id][0] += p.shipped
            per_product[p.product_id][1] += p.on_hand_sum / p.days
        shipped = sum(v[0] for v in per_product.values())
        avg = sum(v[1] for v in per_product.values())
        turns = round(shipped / avg, 2) if avg else None
        top = sorted(per_product.items(), key=lambda kv: (-kv[1][0], skus.get(kv[0], "")))[:200]
        rows = [
            {
                "sku": skus.get(pid, pid),
                "shipped": v[0],
                "avg": round(v[1], 1),
                "turns": round(v[0] / v[1], 2) if v[1] else None,
                "_url": _stock_url(f.location, skus.get(pid)),
            }
            for pid, v in top
        ]
        return KpiResult(
            value=turns,
            display=fmt_num(turns, 2) if turns is not None else "–",
            facts=[
                Fact("Units shipped", fmt_num(shipped)),
                Fact("Average on hand", fmt_num(round(avg, 1))),
                Fact("Products followed", fmt_num(len(per_product)), _stock_url(f.location)),
            ],
            tables=[
                Table(
                    "By product (top 200 by units shipped)",
                    [
                        Column("sku", "SKU"),
                        Column("shipped", "Units shipped", True),
                        Column("avg", "Average on hand", True),
                        Column("turns", "Turns", True),
                    ],
                    rows,
                )
            ],
            series=[(r["sku"], r["turns"]) for r in rows[:20]],  # None (nothing on hand): a gap
            chart_title="Turns by product (top 20 by units shipped)",
        )

    def drilldown(self, f):
        return _stock_url(f.location)


KPIS = [StockOutDays(), StockTurnover()]
