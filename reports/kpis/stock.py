"""Inventory: stock-out days and stock turnover, by replaying the movement ledger per day.

The ledger (inventory.StockMovement) is append-only and sums to the stock rows, so the stock
at the end of any day is today's Stock row minus every movement after that day; a pair
(location, product) is counted from the start of the period, or from its first ledger row when
that comes later, up to today. Only the movements since the start of the period are read (an
indexed range on created_at), never the whole ledger.

On PostgreSQL the replay runs in the database and only one row per pair comes back:

- stock-out days: one window over the period's movements plus one row per Stock row (its
  current available, negated, plus the movements after the period, placed after every day),
  partitioned by pair and ordered by local day: the end-of-day available of a day is minus
  the sum of the rows after that day (``RANGE BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING``),
  and it holds until the next day with movements (``LEAD``);
- stock turnover needs no window: Σ over the days of the end-of-day on hand is, per pair,
  on hand × days − Σ movements × (days from the first day counted to the movement's day),
  a plain aggregate.

Elsewhere (SQLite) the same figures come from replaying the per-day sums in Python; a test
checks both give the same figures.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connections
from django.db.models import Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import Location, MovementKind, Product, Stock, StockMovement

from .base import Column, Fact, Kpi, KpiResult, Table, fetch, fmt_num, fmt_pct, is_postgres, list_url, pct


@dataclass
class PairDays:
    location_id: int
    product_id: int
    days: int = 0  # days counted (the pair existed and the day is not in the future)
    stockout_days: int = 0
    on_hand_sum: int = 0  # Σ end-of-day on hand over the counted days
    shipped: int = 0


def replay(
    f, db, today: date | None = None, *, stockout: bool = True, on_hand: bool = True, in_python: bool = False
) -> dict[tuple[int, int], PairDays]:
    """End-of-day on hand and available per (location, product) for every day of the period
    up to today, summed per pair. A pair is counted from the start of the period when it has
    ledger rows from before, else from its first ledger row on; pairs counted on no day are
    left out. On PostgreSQL (unless ``in_python``) only the figures asked for are computed:
    ``stockout`` (days, stockout_days), ``on_hand`` (days, on_hand_sum, shipped)."""
    today = today or timezone.localdate()
    last_day = min(f.date_to, today)
    if last_day < f.date_from:
        return {}
    if in_python or not is_postgres(db):
        return _replay_python(f, db, last_day)
    result: dict[tuple[int, int], PairDays] = {}
    if stockout:
        for loc, prod, days, out in _stockout_sql(f, db, last_day):
            result[(loc, prod)] = PairDays(loc, prod, days=days, stockout_days=out)
    if on_hand:
        for loc, prod, days, on_hand_sum, shipped in _on_hand_sql(f, db, last_day):
            pair = result.setdefault((loc, prod), PairDays(loc, prod, days=days))
            pair.on_hand_sum, pair.shipped = on_hand_sum, shipped
    return result


# ---- PostgreSQL ------------------------------------------------------------------------------

# The day of a movement as a number: 0 on date_from, then 1, 2, ... ; the day after the last
# day counted for every later movement. ``bounds`` are the local midnights that start days 1 to
# last + 1 (computed in Python, so daylight saving is right): a binary search per row, much
# cheaper than converting every timestamp to local time.
_DAY = "width_bucket(m.created_at, %(bounds)s::timestamptz[])"
# Whether the pair has ledger rows from before the period: one probe of the (location, product)
# index per Stock row (a scalar subquery with LIMIT, so it is never a scan of the whole ledger).
_EXISTED = (
    "((SELECT true FROM {moves} b WHERE b.location_id = st.location_id AND b.product_id = st.product_id "
    "AND b.created_at < %(start)s LIMIT 1) IS NOT NULL)"
)
_LATER = 1_000_000  # the day number of the Stock rows in the window: after every movement

# Per pair and day the net change of available (MATERIALIZED: grouped by hashing, then only
# those rows are sorted for the window), and per pair one row from Stock placed after every
# day: minus the current available, plus the movements after the last day counted. Ordered by
# day from the last, the sum of the rows before a day is minus the available at its end.
_STOCKOUT_SQL = """
WITH daily AS MATERIALIZED (
    SELECT m.location_id AS loc, m.product_id AS prod, {day} AS day,
           SUM(m.on_hand_delta - m.reserved_delta) AS av
    FROM {moves} m WHERE m.created_at >= %(start)s AND m.created_at < %(end)s {move_filter}
    GROUP BY 1, 2, 3
)
SELECT loc, prod, bool_or(existed), MIN(day) FILTER (WHERE NOT is_stock), -SUM(av),
       COALESCE(SUM(LEAST(next_day, %(last)s + 1) - day) FILTER (WHERE NOT is_stock), 0),
       COALESCE(SUM(LEAST(next_day, %(last)s + 1) - day) FILTER (WHERE NOT is_stock AND after >= 0), 0)
FROM (
    SELECT loc, prod, day, av, is_stock, existed,
           SUM(av) OVER p - av AS after, LAG(day) OVER p AS next_day
    FROM (
        SELECT loc, prod, day, av, false AS is_stock, false AS existed FROM daily
        UNION ALL
        SELECT st.location_id, st.product_id, {later}, st.reserved - st.on_hand + COALESCE(later.av, 0), true,
               {existed}
        FROM {stock} st LEFT JOIN (
            SELECT m.location_id AS loc, m.product_id AS prod, SUM(m.on_hand_delta - m.reserved_delta) AS av
            FROM {moves} m WHERE m.created_at >= %(end)s {move_filter}
            GROUP BY 1, 2
        ) later ON later.loc = st.location_id AND later.prod = st.product_id
        {stock_filter}
    ) x
    WINDOW p AS (PARTITION BY loc, prod ORDER BY day DESC ROWS UNBOUNDED PRECEDING)
) w
GROUP BY loc, prod HAVING bool_or(is_stock)
"""

# Per pair: the first day with movements, Σ changes of on hand, Σ change × day, units shipped.
_ON_HAND_SQL = """
SELECT st.location_id, st.product_id, {existed}, st.on_hand, a.first, a.total, a.weighted, a.shipped
FROM {stock} st LEFT JOIN (
    SELECT loc, prod, MIN(day) FILTER (WHERE day <= %(last)s) AS first, SUM(oh) AS total,
           SUM(oh::bigint * day) AS weighted,
           -SUM(oh) FILTER (WHERE kind = %(shipment)s AND day <= %(last)s) AS shipped
    FROM (
        SELECT m.location_id AS loc, m.product_id AS prod, m.kind, m.on_hand_delta AS oh, {day} AS day
        FROM {moves} m WHERE m.created_at >= %(start)s {move_filter}
    ) m
    GROUP BY 1, 2
) a ON a.loc = st.location_id AND a.prod = st.product_id
{stock_filter}
"""


def _sql(template: str, f) -> str:
    moves, stock = StockMovement._meta.db_table, Stock._meta.db_table
    return template.format(
        day=_DAY,
        moves=moves,
        stock=stock,
        later=_LATER,
        existed=_EXISTED.format(moves=moves),
        move_filter="AND m.location_id = %(location)s" if f.location else "",
        stock_filter="WHERE st.location_id = %(location)s" if f.location else "",
    )


def _params(f, last_day: date) -> dict:
    days = (last_day - f.date_from).days
    midnight = [
        timezone.make_aware(datetime.combine(f.date_from + timedelta(days=k), time.min)) for k in range(days + 2)
    ]
    return {
        "start": midnight[0],
        "bounds": midnight[1:],
        "end": midnight[-1],  # the end of the last day counted
        "last": days,
        "location": f.location,
        "shipment": MovementKind.SHIPMENT.value,
    }


def _rows(sql: str, params: dict, db: str) -> list[tuple]:
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _stockout_sql(f, db, last_day: date):
    """(location, product, days counted, stock-out days) per pair counted on some day.

    Per pair the window gives, for each day with movements up to ``last``, the days until the
    next day with movements (or the end) and whether the end-of-day available is ≤ 0
    (``after`` = −available ≥ 0); before its first day with movements a pair that existed
    stays at its start state, −Σ of all its rows (current stock minus the period's movements)."""
    end = (last_day - f.date_from).days + 1
    out = []
    for loc, prod, existed, first, start_av, days, stockout in _rows(_sql(_STOCKOUT_SQL, f), _params(f, last_day), db):
        before = (end if first is None else first) if existed else 0  # days at the start state
        days += before
        if days:
            out.append((loc, prod, days, stockout + (before if start_av <= 0 else 0)))
    return out


def _on_hand_sql(f, db, last_day: date):
    """(location, product, days counted, Σ end-of-day on hand, units shipped) per pair counted.

    With ``first`` the first day counted and ``end`` the day after the last one, the on hand
    at the end of day t is the current on hand minus the movements after t, so
    Σ_t on hand = on hand × (end − first) − Σ_movements delta × (min(day, end) − first)."""
    end = (last_day - f.date_from).days + 1
    out = []
    for loc, prod, existed, on_hand, first_move, total, weighted, shipped in _rows(
        _sql(_ON_HAND_SQL, f), _params(f, last_day), db
    ):
        first = 0 if existed else first_move
        if first is None:
            continue
        days = end - first
        if days <= 0:
            continue
        on_hand_sum = on_hand * days - int(weighted or 0) + first * int(total or 0)
        out.append((loc, prod, days, on_hand_sum, int(shipped or 0)))
    return out


# ---- elsewhere: the per-day sums replayed in Python ------------------------------------------


def _replay_python(f, db, last_day: date) -> dict[tuple[int, int], PairDays]:
    """Works in segments between the days with movements, so the cost grows with the
    movements, not pairs × days."""
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
    return list_url("inventory:stock_list", [("location", location_id), ("sku", sku)])


class StockOutDays(Kpi):
    slug = "stock-out-days"
    title = _("Stock-out days")
    group = _("Inventory")
    unit = _("days")
    filters_used = ("dates", "location")
    formula = _(
        "For each product at each location, the days in the period on which it ended the day with nothing "
        "available (on hand − reserved ≤ 0), replayed from the stock movement ledger; summed over all pairs."
    )
    numerator = _("Pair-days whose end-of-day available (on hand − reserved from the ledger) is 0 or less.")
    denominator = _(
        "Pair-days counted: days in the period up to today, from the pair's first ledger row on (shown as the rate)."
    )
    timestamps = _("StockMovement.created_at, local day; the state at the end of each day.")
    statuses = _("Every movement kind (receipts, adjustments, reservations, releases, shipments, ...).")

    in_python = False  # True: the Python replay on PostgreSQL too (tests compare the two)

    def compute(self, f, today: date | None = None):
        pairs = replay(f, self.db, today, on_hand=False, in_python=self.in_python)
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
                Fact(_("Stock-out days"), fmt_num(total)),
                Fact(_("Share of pair-days"), fmt_pct(pct(total, counted))),
                Fact(_("Products × locations with a stock-out"), fmt_num(len(out)), _stock_url(f.location)),
                Fact(_("Products × locations followed"), fmt_num(len(pairs))),
            ],
            tables=[
                Table(
                    _("Worst products (top 200)"),
                    [
                        Column("sku", _("SKU")),
                        Column("location", _("Location")),
                        Column("days", _("Stock-out days"), True),
                        Column("of", _("Days counted"), True),
                    ],
                    rows,
                )
            ],
            series=sorted(per_loc.items()),
            chart_title=_("Stock-out days by location"),
        )

    def drilldown(self, f):
        return _stock_url(f.location)


class StockTurnover(Kpi):
    slug = "stock-turnover"
    title = _("Stock turnover")
    group = _("Inventory")
    unit = _("turns")
    filters_used = ("dates", "location")
    formula = _("Units shipped in the period divided by the average units on hand over the period.")
    numerator = _("Units shipped: −Σ StockMovement.on_hand_delta of kind shipment in the period.")
    denominator = _(
        "Average on hand: per product and location, the mean of the end-of-day on hand over the days counted "
        "(from the pair's first ledger row, up to today), summed over the pairs."
    )
    timestamps = _("StockMovement.created_at, local day. Turns per period, not annualised.")
    statuses = _("Movement kind shipment for the numerator; every kind for the on-hand replay.")

    in_python = False  # True: the Python replay on PostgreSQL too (tests compare the two)

    def compute(self, f, today: date | None = None):
        pairs = replay(f, self.db, today, stockout=False, in_python=self.in_python)
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
                Fact(_("Units shipped"), fmt_num(shipped)),
                Fact(_("Average on hand"), fmt_num(round(avg, 1))),
                Fact(_("Products followed"), fmt_num(len(per_product)), _stock_url(f.location)),
            ],
            tables=[
                Table(
                    _("By product (top 200 by units shipped)"),
                    [
                        Column("sku", _("SKU")),
                        Column("shipped", _("Units shipped"), True),
                        Column("avg", _("Average on hand"), True),
                        Column("turns", _("Turns"), True),
                    ],
                    rows,
                )
            ],
            series=[(r["sku"], r["turns"]) for r in rows[:20]],  # None (nothing on hand): a gap
            chart_title=_("Turns by product (top 20 by units shipped)"),
        )

    def drilldown(self, f):
        return _stock_url(f.location)


KPIS = [StockOutDays(), StockTurnover()]
