"""Fulfilment: lead time, on-time shipping against the cut-off, fill rate, backlog ageing."""

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import BooleanField, Case, Count, Exists, F, OuterRef, Q, Sum, Value, When
from django.db.models.functions import TruncDate, TruncTime
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fulfillment.models import Shipment
from fulfillment.status import ShipmentStatus
from inventory.models import Location
from logistics.models import Parcel
from orders.models import Order
from orders.status import OrderStatus

from .base import (
    Column,
    EpochSeconds,
    Fact,
    Kpi,
    KpiResult,
    PercentileCont,
    Table,
    fetch,
    fmt_num,
    fmt_pct,
    grouping_sets,
    hours,
    is_postgres,
    list_url,
    median,
    order_facts,
    order_scope,
    orders_url,
    pct,
    percentile,
    shipments_url,
)

SHIPPED_STATUSES = [
    ShipmentStatus.SHIPPED,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY,
    ShipmentStatus.DELIVERED,
]
UNSHIPPED_STATUSES = [ShipmentStatus.RESERVED, ShipmentStatus.PICKING, ShipmentStatus.PACKED]


def shipment_cohort(f, db):
    """Non-cancelled shipments of the orders received in the period, within the filters
    (location: the shipment's own location; carrier: a parcel of the shipment)."""
    qs = (
        Shipment.objects.using(db)
        .filter(order__created_at__gte=f.start, order__created_at__lt=f.end)
        .exclude(status=ShipmentStatus.CANCELLED)
    )
    if f.channel:
        qs = qs.filter(order__channel_id=f.channel)
    if f.location:
        qs = qs.filter(location_id=f.location)
    if f.carrier:
        qs = qs.filter(Exists(Parcel.objects.filter(shipment_id=OuterRef("pk"), service__carrier_id=f.carrier)))
    return qs


# ---- working days ----------------------------------------------------------------------------


def is_working_day(location: Location, day: date) -> bool:
    """A location works on a day when its opening hours say it is open that weekday; without
    opening hours, Monday to Friday. Public holidays are not known to the OMS."""
    opening = getattr(location, "opening_hours", None)
    if opening:
        return bool(opening.get(Location.WEEKDAYS[day.weekday()]))
    return day.weekday() < 5


def next_working_day(location: Location, day: date) -> date:
    current = day
    for _attempt in range(14):
        current += timedelta(days=1)
        if is_working_day(location, current):
            return current
    return day + timedelta(days=1)  # a location open on no day at all: the next calendar day


def ship_due(location: Location, routed_day: date, before_cutoff: bool) -> date:
    """The day a shipment must leave: the day it was routed when that is a working day and it
    was routed before the location's cut-off, else the next working day."""
    if before_cutoff and is_working_day(location, routed_day):
        return routed_day
    return next_working_day(location, routed_day)


# ---- lead time -------------------------------------------------------------------------------


class LeadTime(Kpi):
    slug = "lead-time"
    title = _("Fulfilment lead time")
    group = _("Fulfilment")
    unit = _("hours")
    formula = _(
        "Hours from receiving an order to shipping it, per shipment: the median and the 90th percentile "
        "over the shipped shipments of the orders received in the period."
    )
    numerator = _(
        "Shipment.shipped_at − Order.created_at, in hours, per shipped shipment (a split order counts once per "
        "shipment)."
    )
    denominator = _("Shipped shipments of orders received in the period; shipments not shipped yet are counted apart.")
    timestamps = _(
        "Order.created_at (received by the OMS, not Order.placed_at) and Shipment.shipped_at (label created, handed "
        "over)."
    )
    statuses = _("Shipments shipped, in transit, out for delivery or delivered; cancelled shipments left out.")

    def _durations(self, qs):
        """(median, p90, count) in seconds, over a shipped-shipment queryset."""
        if is_postgres(self.db):
            secs = EpochSeconds(F("shipped_at") - F("order__created_at"))
            r = qs.aggregate(m=PercentileCont(secs, 0.5), p=PercentileCont(secs, 0.9), n=Count("id"))
            return r["m"], r["p"], r["n"]
        values = [(s - c).total_seconds() for s, c in qs.values_list("shipped_at", "order__created_at")]
        return median(values), percentile(values, 0.9), len(values)

    def _by(self, qs, key):
        if is_postgres(self.db):
            secs = EpochSeconds(F("shipped_at") - F("order__created_at"))
            return {
                r[key]: (r["m"], r["p"], r["n"])
                for r in qs.values(key)
                .annotate(m=PercentileCont(secs, 0.5), p=PercentileCont(secs, 0.9), n=Count("id"))
                .order_by()
            }
        groups = defaultdict(list)
        for k, s, c in qs.values_list(key, "shipped_at", "order__created_at"):
            groups[k].append((s - c).total_seconds())
        return {k: (median(v), percentile(v, 0.9), len(v)) for k, v in groups.items()}

    def _grouped_sql(self, cohort):
        """PostgreSQL: the overall, per-location and per-day percentiles and the not-shipped count in
        one scan (GROUPING SETS; percentile_cont skips the NULL durations of unshipped shipments)."""
        rows = cohort.annotate(
            day=TruncDate("order__created_at"), secs=EpochSeconds(F("shipped_at") - F("order__created_at"))
        ).values_list("location_id", "day", "secs")
        m, p = "percentile_cont(0.5) WITHIN GROUP (ORDER BY secs)", "percentile_cont(0.9) WITHIN GROUP (ORDER BY secs)"
        total, by_loc, by_day = grouping_sets(
            rows,
            ["location_id", "day", "secs"],
            [(), ("location_id",), ("day",)],
            {"m": m, "p": p, "n": "COUNT(secs)", "waiting": "COUNT(*) - COUNT(secs)"},
            self.db,
        )
        t = total[0] if total else {"m": None, "p": None, "n": 0, "waiting": 0}
        return (
            (t["m"], t["p"], t["n"]),
            t["waiting"],
            {r["location_id"]: (r["m"], r["p"], r["n"]) for r in by_loc if r["n"]},
            {r["day"]: (r["m"], r["p"], r["n"]) for r in by_day if r["n"]},
        )

    def compute(self, f):
        cohort = shipment_cohort(f, self.db)
        codes = dict(Location.objects.using(self.db).values_list("pk", "code"))
        if is_postgres(self.db):
            (m, p90, n), waiting, by_loc, by_day = self._grouped_sql(cohort)
        else:
            shipped = cohort.filter(shipped_at__isnull=False)
            m, p90, n = self._durations(shipped)
            waiting = cohort.filter(shipped_at__isnull=True).count()
            by_loc = self._by(shipped, "location_id")
            by_day = self._by(shipped.annotate(day=TruncDate("order__created_at")), "day")
        rows = [
            {
                "location": codes.get(loc, loc),
                "shipments": v[2],
                "median": hours(v[0]),
                "p90": hours(v[1]),
                "_url": shipments_url(f, statuses=SHIPPED_STATUSES, location=loc) if not f.location else "",
            }
            for loc, v in sorted(by_loc.items(), key=lambda kv: str(codes.get(kv[0], kv[0])))
        ]
        series = [(d.strftime("%m-%d"), hours(by_day[d][0]) if d in by_day else None) for d in f.days]
        return KpiResult(
            value=hours(m),
            display=f"{fmt_num(hours(m))} h" if m is not None else "–",
            facts=[
                Fact(_("Median"), f"{fmt_num(hours(m))} h" if m is not None else "–"),
                Fact(_("90th percentile"), f"{fmt_num(hours(p90))} h" if p90 is not None else "–"),
                Fact(_("Shipped shipments"), fmt_num(n), shipments_url(f, statuses=SHIPPED_STATUSES)),
                Fact(_("Not shipped yet"), fmt_num(waiting), shipments_url(f, statuses=UNSHIPPED_STATUSES)),
            ],
            tables=[
                Table(
                    _("By location"),
                    [
                        Column("location", _("Location")),
                        Column("shipments", _("Shipped"), True),
                        Column("median", _("Median h"), True),
                        Column("p90", "P90 h", True),
                    ],
                    rows,
                )
            ],
            series=series,
            chart="line",
            chart_title=_("Median lead time (h) by day received"),
        )

    def drilldown(self, f):
        return shipments_url(f, statuses=SHIPPED_STATUSES)


# ---- on-time shipping ------------------------------------------------------------------------


class OnTimeShipping(Kpi):
    slug = "on-time-shipping"
    title = _("On-time shipping (against the cut-off)")
    group = _("Fulfilment")
    unit = "%"
    formula = _(
        "Share of shipments that left on the day they were due. A shipment is due the day it was "
        "routed to its location if that is a working day and it was routed before the location's "
        "cut-off time, otherwise the next working day."
    )
    numerator = _("Shipments whose local shipping day (Shipment.shipped_at) is on or before the due day.")
    denominator = _(
        "Numerator + late shipments: shipped after the due day, or not shipped and the due day has passed. "
        "Shipments not shipped whose due day is today or later are left out (counted as 'not due yet'); "
        "shipments from a location without a cut-off time are left out (counted as 'no cut-off set')."
    )
    timestamps = _(
        "Shipment.created_at (routed to the location) against Location.cutoff_time, local time; "
        "Shipment.shipped_at. Working days: the location's opening hours, else Monday to Friday; no holidays. "
        "Cohort: shipments of orders received (Order.created_at) in the period."
    )
    statuses = _("Every shipment status except cancelled.")

    def compute(self, f, today: date | None = None):
        today = today or timezone.localdate()
        locations = {loc.pk: loc for loc in Location.objects.using(self.db).all()}
        groups = (
            shipment_cohort(f, self.db)
            .annotate(
                routed_day=TruncDate("created_at"),
                routed_time=TruncTime("created_at"),
                shipped_day=TruncDate("shipped_at"),
            )
            .annotate(
                before=Case(
                    When(routed_time__lt=F("location__cutoff_time"), then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                )
            )
            .values_list("location_id", "routed_day", "before", "shipped_day")
            .annotate(n=Count("id"))
            .order_by()
        )
        per_loc = defaultdict(lambda: {"on_time": 0, "late": 0, "overdue": 0, "not_due": 0, "no_cutoff": 0})
        per_day = defaultdict(lambda: [0, 0])
        for location_id, routed_day, before, shipped_day, n in fetch(groups, self.db):
            loc = locations[location_id]
            bucket = per_loc[loc.pk]
            if loc.cutoff_time is None:
                bucket["no_cutoff"] += n
                continue
            due = ship_due(loc, routed_day, before)
            if shipped_day is not None:
                key = "on_time" if shipped_day <= due else "late"
            else:
                key = "overdue" if today > due else "not_due"
            bucket[key] += n
            if key != "not_due":
                per_day[routed_day][0] += n if key == "on_time" else 0
                per_day[routed_day][1] += n
        total = {k: sum(b[k] for b in per_loc.values()) for k in ("on_time", "late", "overdue", "not_due", "no_cutoff")}
        judged = total["on_time"] + total["late"] + total["overdue"]
        rate = pct(total["on_time"], judged)
        rows = []
        for pk, b in sorted(per_loc.items(), key=lambda kv: locations[kv[0]].code):
            loc_judged = b["on_time"] + b["late"] + b["overdue"]
            rows.append(
                {
                    "location": locations[pk].code,
                    "cutoff": locations[pk].cutoff_time.strftime("%H:%M")
                    if locations[pk].cutoff_time
                    else gettext("not set"),
                    "on_time": b["on_time"],
                    "late": b["late"],
                    "overdue": b["overdue"],
                    "not_due": b["not_due"],
                    "rate": fmt_pct(pct(b["on_time"], loc_judged)),
                    "_url": shipments_url(f, location=pk) if not f.location else "",
                }
            )
        series = []
        for d in f.days:
            ok, n = per_day.get(d, (0, 0))
            series.append((d.strftime("%m-%d"), pct(ok, n)))  # None on a day with nothing judged: a gap
        return KpiResult(
            value=rate,
            display=fmt_pct(rate),
            facts=[
                Fact(_("On time"), fmt_num(total["on_time"]), shipments_url(f, statuses=SHIPPED_STATUSES)),
                Fact(_("Shipped late"), fmt_num(total["late"]), shipments_url(f, statuses=SHIPPED_STATUSES)),
                Fact(
                    _("Not shipped, past due"), fmt_num(total["overdue"]), shipments_url(f, statuses=UNSHIPPED_STATUSES)
                ),
                Fact(_("Not due yet"), fmt_num(total["not_due"]), shipments_url(f, statuses=UNSHIPPED_STATUSES)),
                Fact(_("No cut-off set"), fmt_num(total["no_cutoff"])),
            ],
            tables=[
                Table(
                    _("By location"),
                    [
                        Column("location", _("Location")),
                        Column("cutoff", _("Cut-off")),
                        Column("on_time", _("On time"), True),
                        Column("late", _("Shipped late"), True),
                        Column("overdue", _("Past due, not shipped"), True),
                        Column("not_due", _("Not due yet"), True),
                        Column("rate", _("On-time rate"), True),
                    ],
                    rows,
                )
            ],
            series=series,
            chart="line",
            chart_title=_("On-time shipping % by day routed"),
        )

    def drilldown(self, f):
        return shipments_url(f)


# ---- fill rate -------------------------------------------------------------------------------


class FillRate(Kpi):
    slug = "fill-rate"
    uses_facts = True
    title = _("Fill rate (first shipment)")
    group = _("Fulfilment")
    unit = "%"
    formula = _(
        "Share of the ordered units that left in the order's first shipment, over the orders received in "
        "the period that have shipped."
    )
    numerator = _(
        "Units (ShipmentLine.quantity) on each order's first shipped shipment (earliest Shipment.shipped_at)."
    )
    denominator = _(
        "Units ordered (OrderLine.quantity) on the orders received in the period with at least one shipped "
        "shipment. Orders not shipped yet are left out and counted apart."
    )
    timestamps = _("Order.created_at for the cohort; Shipment.shipped_at picks the first shipment.")
    statuses = _("Orders: every status except cancelled. Shipments: shipped or later (shipped_at set).")

    def compute(self, f):
        rows = (
            order_facts(f, self.db)
            .values_list("day")
            .annotate(
                n=Count("pk"),
                shipped=Count("pk", filter=Q(first_units__isnull=False)),
                ordered=Sum("units", filter=Q(first_units__isnull=False)),
                first=Sum("first_units"),
            )
            .order_by()
        )
        ordered_by_day, first_by_day, n_shipped, n_cohort = {}, {}, 0, 0
        for day, n, shipped, ordered, first in fetch(rows, self.db):
            n_cohort += n
            n_shipped += shipped
            if shipped:
                ordered_by_day[day] = int(ordered or 0)
                first_by_day[day] = int(first or 0)
        ordered = sum(ordered_by_day.values())
        filled = sum(first_by_day.values())
        return self._result(f, ordered_by_day, first_by_day, ordered, filled, n_shipped, n_cohort - n_shipped)

    def _result(self, f, ordered_by_day, first_by_day, ordered, filled, n_shipped, not_shipped):
        rate = pct(filled, ordered)
        rows = [
            {
                "day": d.isoformat(),
                "ordered": ordered_by_day.get(d, 0),
                "first": first_by_day.get(d, 0),
                "rate": fmt_pct(pct(first_by_day.get(d, 0), ordered_by_day.get(d, 0))),
                "_url": orders_url(f, date_from=d, date_to=d, statuses=SHIPPED_ORDER_STATUSES),
            }
            for d in f.days
            if ordered_by_day.get(d)
        ]
        return KpiResult(
            value=rate,
            display=fmt_pct(rate),
            facts=[
                Fact(_("Orders shipped"), fmt_num(n_shipped), orders_url(f, statuses=SHIPPED_ORDER_STATUSES)),
                Fact(_("Units ordered"), fmt_num(ordered)),
                Fact(_("Units on first shipment"), fmt_num(filled)),
                Fact(_("Orders not shipped yet"), fmt_num(not_shipped), orders_url(f, statuses=BACKLOG_STATUSES)),
            ],
            tables=[
                Table(
                    _("By day received"),
                    [
                        Column("day", _("Day")),
                        Column("ordered", _("Units ordered"), True),
                        Column("first", _("On first shipment"), True),
                        Column("rate", _("Fill rate"), True),
                    ],
                    rows,
                )
            ],
            series=[(d.strftime("%m-%d"), pct(first_by_day.get(d, 0), ordered_by_day.get(d, 0))) for d in f.days],
            chart="line",
            chart_title=_("Fill rate % by day received"),
        )

    def drilldown(self, f):
        return orders_url(f, statuses=SHIPPED_ORDER_STATUSES)


SHIPPED_ORDER_STATUSES = [OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED]
BACKLOG_STATUSES = [
    OrderStatus.RECEIVED,
    OrderStatus.CONFIRMED,
    OrderStatus.ALLOCATED,
    OrderStatus.PICKING,
    OrderStatus.PACKED,
    OrderStatus.PARTIALLY_SHIPPED,
]

# ---- backlog ageing --------------------------------------------------------------------------

AGE_BUCKETS = [
    (0, 0, _("Today")),
    (1, 1, _("1 day")),
    (2, 2, _("2 days")),
    (3, 6, _("3–6 days")),
    (7, 13, _("7–13 days")),
    (14, None, _("14 days or more")),
]


class BacklogAgeing(Kpi):
    slug = "backlog-ageing"
    title = _("Backlog ageing")
    group = _("Fulfilment")
    unit = _("orders")
    filters_used = ("channel", "location", "carrier")
    formula = _(
        "Orders not fully shipped yet, as of now, by age: whole local days since the OMS received them. "
        "The date filters do not apply: the backlog is always today's."
    )
    numerator = _(
        "Orders in status received, confirmed, allocated, picking, packed or partly shipped (on hold or not)."
    )
    timestamps = _("Order.created_at; age = today − the local day received.")
    statuses = _("received, confirmed, allocated, picking, packed, partially_shipped.")

    def compute(self, f, today: date | None = None):
        today = today or timezone.localdate()
        qs = order_scope(Order.objects.using(self.db).filter(status__in=BACKLOG_STATUSES), f)
        by_day = list(
            qs.annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(n=Count("id"), held=Count("id", filter=Q(on_hold=True)))
            .order_by()
        )
        rows = []
        total = held = 0
        for low, high, label in AGE_BUCKETS:
            n = h = 0
            for r in by_day:
                age = (today - r["day"]).days
                if age >= low and (high is None or age <= high):
                    n += r["n"]
                    h += r["held"]
            total += n
            held += h
            newest = today - timedelta(days=low)
            oldest = today - timedelta(days=high) if high is not None else None
            params = [("created_after", oldest.isoformat() if oldest else ""), ("created_before", newest.isoformat())]
            params += [("channel", f.channel), ("location", f.location), ("carrier", f.carrier)]
            params += [("status", s) for s in BACKLOG_STATUSES]
            rows.append({"age": label, "orders": n, "on_hold": h, "_url": list_url("orders:order_list", params)})
        oldest_day = min((r["day"] for r in by_day), default=None)
        return KpiResult(
            value=total,
            display=fmt_num(total),
            facts=[
                Fact(_("Open orders"), fmt_num(total), self.drilldown(f)),
                Fact(_("of which on hold"), fmt_num(held)),
                Fact(_("Oldest received"), oldest_day.isoformat() if oldest_day else "–"),
            ],
            tables=[
                Table(
                    _("By age"),
                    [
                        Column("age", _("Age")),
                        Column("orders", _("Orders"), True),
                        Column("on_hold", _("On hold"), True),
                    ],
                    rows,
                )
            ],
            series=[(r["age"], r["orders"]) for r in rows],
            chart_title=_("Open orders by age"),
        )

    def drilldown(self, f):
        params = [("channel", f.channel), ("location", f.location), ("carrier", f.carrier)]
        params += [("status", s) for s in BACKLOG_STATUSES]
        return list_url("orders:order_list", params)


KPIS = [LeadTime(), OnTimeShipping(), FillRate(), BacklogAgeing()]
