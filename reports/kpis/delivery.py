"""Delivery and carriers: on-time delivery against the promise, logistics cost, the carrier
scorecard and exception rates (from tracking events)."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, Round, TruncDate
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.status import ShipmentStatus
from logistics.models import Parcel, TrackingEvent
from logistics.status import TrackingStatus
from orders.status import OrderStatus

from .base import (
    Column,
    EpochSeconds,
    Fact,
    Kpi,
    KpiResult,
    Table,
    cohort_orders,
    fetch,
    fmt_num,
    fmt_pct,
    grouping_sets,
    is_postgres,
    money,
    orders_url,
    parcels_url,
    pct,
)

EXCEPTION_STATUSES = [TrackingStatus.EXCEPTION, TrackingStatus.FAILED_ATTEMPT, TrackingStatus.LOST]
NOT_DELIVERED = [s.value for s in OrderStatus if s not in (OrderStatus.CANCELLED, OrderStatus.DELIVERED)]


def parcel_cohort(f, db):
    """Parcels of the orders received in the period, within the filters (location: the
    shipment's location; carrier: the parcel's service's carrier)."""
    qs = (
        Parcel.objects.using(db)
        .filter(shipment__order__created_at__gte=f.start, shipment__order__created_at__lt=f.end)
        .exclude(shipment__order__status=OrderStatus.CANCELLED)
    )
    if f.channel:
        qs = qs.filter(shipment__order__channel_id=f.channel)
    if f.location:
        qs = qs.filter(shipment__location_id=f.location)
    if f.carrier:
        qs = qs.filter(service__carrier_id=f.carrier)
    return qs


def parcel_cost_expression(db: str):
    """logistics.services.service_cost in SQL: base + per-kg × max(weight, 1 g) / 1000, to the cent."""
    grams = Greatest(F("weight_g"), Value(1))
    if is_postgres(db):
        money_field = DecimalField(max_digits=14, decimal_places=6)
        raw = ExpressionWrapper(
            F("service__base_rate") + F("service__per_kg_rate") * grams / Value(Decimal("1000")),
            output_field=money_field,
        )
        return Round(raw, 2, output_field=DecimalField(max_digits=14, decimal_places=2))
    # SQLite keeps "2.00" as the integer 2 and divides integers: compute in floating point.
    raw = ExpressionWrapper(
        Cast("service__base_rate", FloatField())
        + Cast("service__per_kg_rate", FloatField()) * Cast(grams, FloatField()) / Value(1000.0),
        output_field=FloatField(),
    )
    return Round(raw, 2, output_field=FloatField())


COST_NOTE = (
    "Estimated with each parcel's service rate card as it stands today (ServiceLevel.base_rate + "
    "per_kg_rate × Parcel.weight_g, at least 1 g), rounded to the cent per parcel; the OMS does not "
    "store carrier invoices yet."
)


# ---- on-time delivery ------------------------------------------------------------------------


class OnTimeDelivery(Kpi):
    slug = "on-time-delivery"
    title = "On-time delivery (against the promise)"
    group = "Delivery"
    unit = "%"
    formula = (
        "Share of orders delivered on or before the promise date, over the orders received in the period "
        "that have a promise date and are either delivered or already past their promise."
    )
    numerator = "Delivered orders whose local delivery day is on or before Order.promise_date."
    denominator = (
        "Numerator + late orders: delivered after the promise date, or not delivered yet and today is past "
        "the promise date. Orders not delivered yet and not past the promise are left out ('not yet "
        "delivered'); orders without a promise date are left out ('no promise date')."
    )
    timestamps = (
        "Order.created_at for the cohort; delivery = the latest Parcel.delivered_at of the order "
        "(the carrier's delivery scan; Shipment.delivered_at when no parcel has one)."
    )
    statuses = "Orders in every status but cancelled; delivered = order status delivered."

    def compute(self, f, today: date | None = None):
        today = today or timezone.localdate()
        parcel_last = Subquery(
            Parcel.objects.filter(shipment__order_id=OuterRef("pk"))
            .values("shipment__order_id")
            .annotate(m=Max("delivered_at"))
            .values("m")[:1],
            output_field=DateTimeField(),
        )
        shipment_last = Subquery(
            Shipment.objects.filter(order_id=OuterRef("pk"))
            .exclude(status=ShipmentStatus.CANCELLED)
            .values("order_id")
            .annotate(m=Max("delivered_at"))
            .values("m")[:1],
            output_field=DateTimeField(),
        )
        cohort = cohort_orders(f, self.db)
        no_promise = cohort.filter(promise_date__isnull=True).count()
        delivered = (
            cohort.filter(promise_date__isnull=False, status=OrderStatus.DELIVERED)
            .annotate(day=TruncDate(Coalesce(parcel_last, shipment_last)))
            .values_list("channel__name", "promise_date", "day")
            .annotate(n=Count("id"))
            .order_by()
        )
        open_ = (
            cohort.filter(promise_date__isnull=False)
            .exclude(status=OrderStatus.DELIVERED)
            .values_list("channel__name", "promise_date")
            .annotate(n=Count("id"))
            .order_by()
        )
        per = defaultdict(lambda: {"on_time": 0, "late": 0, "late_open": 0, "not_yet": 0})
        for channel, promise, day, n in fetch(delivered, self.db):
            per[channel]["on_time" if day and day <= promise else "late"] += n
        for channel, promise, n in fetch(open_, self.db):
            per[channel]["late_open" if today > promise else "not_yet"] += n
        t = {k: sum(v[k] for v in per.values()) for k in ("on_time", "late", "late_open", "not_yet")}
        rate = pct(t["on_time"], t["on_time"] + t["late"] + t["late_open"])
        yesterday = date.fromordinal(today.toordinal() - 1)
        rows = [
            {
                "channel": name,
                "on_time": v["on_time"],
                "late": v["late"],
                "late_open": v["late_open"],
                "not_yet": v["not_yet"],
                "rate": fmt_pct(pct(v["on_time"], v["on_time"] + v["late"] + v["late_open"])),
            }
            for name, v in sorted(per.items())
        ]
        return KpiResult(
            value=rate,
            display=fmt_pct(rate),
            facts=[
                Fact("Delivered on time", fmt_num(t["on_time"]), orders_url(f, statuses=[OrderStatus.DELIVERED])),
                Fact("Delivered late", fmt_num(t["late"]), orders_url(f, statuses=[OrderStatus.DELIVERED])),
                Fact(
                    "Not delivered, past promise",
                    fmt_num(t["late_open"]),
                    orders_url(f, statuses=NOT_DELIVERED, promise_before=yesterday.isoformat()),
                ),
                Fact(
                    "Not yet delivered",
                    fmt_num(t["not_yet"]),
                    orders_url(f, statuses=NOT_DELIVERED, promise_after=today.isoformat()),
                ),
                Fact("No promise date", fmt_num(no_promise)),
            ],
            tables=[
                Table(
                    "By channel",
                    [
                        Column("channel", "Channel"),
                        Column("on_time", "On time", True),
                        Column("late", "Delivered late", True),
                        Column("late_open", "Past promise, open", True),
                        Column("not_yet", "Not yet delivered", True),
                        Column("rate", "On-time rate", True),
                    ],
                    rows,
                )
            ],
            series=[
                (
                    r["channel"],
                    pct(
                        per[r["channel"]]["on_time"],
                        per[r["channel"]]["on_time"] + per[r["channel"]]["late"] + per[r["channel"]]["late_open"],
                    ),
                )
                for r in rows
            ],
            chart_title="On-time delivery % by channel",
        )


# ---- logistics cost --------------------------------------------------------------------------


class LogisticsCost(Kpi):
    slug = "logistics-cost"
    title = "Logistics cost per order, carrier and region"
    group = "Delivery"
    unit = "CNY per order"
    formula = (
        "Estimated carrier cost of the parcels of the orders received in the period, divided by the number of those "
        "orders that have a parcel."
    )
    numerator = (
        "Σ per parcel: ServiceLevel.base_rate + ServiceLevel.per_kg_rate × max(Parcel.weight_g, 1) / 1000, rounded "
        "to the cent (logistics.services.service_cost)."
    )
    denominator = "Orders received in the period with at least one parcel."
    timestamps = "Order.created_at. " + COST_NOTE
    statuses = "Orders: every status but cancelled; every parcel."

    def compute(self, f):
        parcels = parcel_cohort(f, self.db).annotate(cost=parcel_cost_expression(self.db))
        if is_postgres(self.db):
            totals, by_carrier, by_region = self._grouped_sql(parcels)
        else:
            totals, by_carrier, by_region = self._grouped_orm(parcels)
        total = money(totals["total_cost"])
        per_order = money(total / totals["orders"]) if totals["orders"] else None

        def row(label, r, url):
            return {
                "name": label,
                "parcels": r["n"],
                "orders": r["orders"],
                "cost": money(r["cost"]),
                "per_order": money(money(r["cost"]) / r["orders"]) if r["orders"] else None,
                "_url": url,
            }

        cols = [
            Column("name", ""),
            Column("parcels", "Parcels", True),
            Column("orders", "Orders", True),
            Column("cost", "Cost", True),
            Column("per_order", "Per order", True),
        ]
        carrier_rows = [
            row(
                r["service__carrier__name"],
                r,
                parcels_url(f, service__carrier=r["service__carrier_id"]) if not f.carrier else parcels_url(f),
            )
            for r in by_carrier
        ]
        region_rows = [
            row(
                r["shipment__order__ship_province"] or "(none)",
                r,
                orders_url(f, province=r["shipment__order__ship_province"])
                if r["shipment__order__ship_province"]
                else "",
            )
            for r in by_region
        ]
        return KpiResult(
            value=per_order,
            display=fmt_num(per_order, 2) if per_order is not None else "–",
            facts=[
                Fact("Cost per order", fmt_num(per_order, 2) if per_order is not None else "–"),
                Fact("Total cost", fmt_num(total, 2), parcels_url(f)),
                Fact("Parcels", fmt_num(totals["n"]), parcels_url(f)),
                Fact("Orders with a parcel", fmt_num(totals["orders"])),
            ],
            tables=[
                Table("By carrier", [Column("name", "Carrier"), *cols[1:]], carrier_rows),
                Table("By province", [Column("name", "Province"), *cols[1:]], region_rows),
            ],
            series=[(r["name"], None if r["per_order"] is None else float(r["per_order"])) for r in carrier_rows],
            chart_title="Cost per order by carrier",
            note=COST_NOTE,
        )

    @staticmethod
    def _grouped_orm(parcels):
        totals = parcels.aggregate(
            total_cost=Sum("cost"), n=Count("id"), orders=Count("shipment__order_id", distinct=True)
        )
        by_carrier = list(
            parcels.values("service__carrier_id", "service__carrier__name")
            .annotate(cost=Sum("cost"), n=Count("id"), orders=Count("shipment__order_id", distinct=True))
            .order_by("service__carrier__name")
        )
        by_region = list(
            parcels.values("shipment__order__ship_province")
            .annotate(cost=Sum("cost"), n=Count("id"), orders=Count("shipment__order_id", distinct=True))
            .order_by("-cost")
        )
        return totals, by_carrier, by_region

    @staticmethod
    def _grouped_sql(parcels):
        """The total, per carrier and per province in one scan (GROUPING SETS)."""
        rows = parcels.values_list(
            "service__carrier_id",
            "service__carrier__name",
            "shipment__order__ship_province",
            "shipment__order_id",
            "cost",
        )
        total, carriers, regions = grouping_sets(
            rows,
            ["carrier_id", "carrier_name", "province", "order_id", "cost"],
            [(), ("carrier_id", "carrier_name"), ("province",)],
            {"cost_sum": "SUM(cost)", "n": "COUNT(*)", "orders": "COUNT(DISTINCT order_id)"},
            parcels.db,
        )
        t = total[0] if total else {"cost_sum": None, "n": 0, "orders": 0}
        totals = {"total_cost": t["cost_sum"], "n": t["n"], "orders": t["orders"]}
        by_carrier = [
            {
                "service__carrier_id": r["carrier_id"],
                "service__carrier__name": r["carrier_name"],
                "cost": r["cost_sum"],
                "n": r["n"],
                "orders": r["orders"],
            }
            for r in sorted(carriers, key=lambda r: r["carrier_name"])
        ]
        by_region = [
            {"shipment__order__ship_province": r["province"], "cost": r["cost_sum"], "n": r["n"], "orders": r["orders"]}
            for r in sorted(regions, key=lambda r: -(r["cost_sum"] or 0))
        ]
        return totals, by_carrier, by_region

    def drilldown(self, f):
        return parcels_url(f)


# ---- carrier scorecard -----------------------------------------------------------------------


class CarrierScorecard(Kpi):
    slug = "carrier-scorecard"
    title = "Carrier scorecard"
    group = "Delivery"
    unit = "% on time"
    formula = (
        "Per carrier, over the parcels of the orders received in the period: on-time delivery rate against "
        "the parcel's expected delivery date, mean transit days, parcels with an exception, estimated cost."
    )
    numerator = (
        "On time: parcels delivered (Parcel.delivered_at, local day) on or before Parcel.expected_delivery. "
        "Exceptions: parcels with at least one tracking event exception, failed_attempt or lost."
    )
    denominator = (
        "On-time rate: on time + late (delivered after the expected day, or not delivered and past it). "
        "Parcels without an expected date, or not delivered and not yet due, are left out."
    )
    timestamps = (
        "Transit days = Parcel.delivered_at − Shipment.shipped_at, in days, mean over delivered parcels. "
        "Parcel.expected_delivery is set at dispatch (shipped + service transit days, working days) and "
        "replaced by a carrier's estimate when one arrives. " + COST_NOTE
    )
    statuses = "Every parcel of orders that are not cancelled."

    def compute(self, f, today: date | None = None):
        today = today or timezone.localdate()
        has_exc = Exists(TrackingEvent.objects.filter(parcel_id=OuterRef("pk"), status__in=EXCEPTION_STATUSES))
        parcels = parcel_cohort(f, self.db).annotate(
            cost=parcel_cost_expression(self.db),
            exc=Case(When(has_exc, then=Value(1)), default=Value(0), output_field=IntegerField()),
        )
        if is_postgres(self.db):
            base, timing_rows, transit = self._grouped_sql(parcels)
        else:
            base = list(
                parcels.values("service__carrier_id", "service__carrier__name")
                .annotate(n=Count("id"), exc=Sum("exc"), cost=Sum("cost"))
                .order_by("service__carrier__name")
            )
            timing = (
                parcels.annotate(day=TruncDate("delivered_at"))
                .values_list("service__carrier_id", "day", "expected_delivery")
                .annotate(n=Count("id"))
                .order_by()
            )
            timing_rows = fetch(timing, self.db)
            transit = self._transit(parcels)
        per = defaultdict(lambda: {"on_time": 0, "late": 0})
        for carrier_id, day, exp, n in timing_rows:
            if exp is None:
                continue
            if day is not None:
                per[carrier_id]["on_time" if day <= exp else "late"] += n
            elif today > exp:
                per[carrier_id]["late"] += n
        rows, series = [], []
        all_on = all_judged = all_n = all_exc = 0
        for r in base:
            c = r["service__carrier_id"]
            judged = per[c]["on_time"] + per[c]["late"]
            rate = pct(per[c]["on_time"], judged)
            all_on += per[c]["on_time"]
            all_judged += judged
            all_n += r["n"]
            all_exc += r["exc"] or 0
            mean_days = transit.get(c)
            rows.append(
                {
                    "carrier": r["service__carrier__name"],
                    "parcels": r["n"],
                    "on_time": per[c]["on_time"],
                    "late": per[c]["late"],
                    "rate": fmt_pct(rate),
                    "transit": round(mean_days, 2) if mean_days is not None else None,
                    "exceptions": r["exc"] or 0,
                    "exception_rate": fmt_pct(pct(r["exc"] or 0, r["n"])),
                    "cost": money(r["cost"]),
                    "per_parcel": money(money(r["cost"]) / r["n"]) if r["n"] else None,
                    "_url": parcels_url(f, service__carrier=c) if not f.carrier else parcels_url(f),
                }
            )
            series.append((r["service__carrier__name"], rate))  # None (no parcel judged yet): a gap
        rate = pct(all_on, all_judged)
        return KpiResult(
            value=rate,
            display=fmt_pct(rate),
            facts=[
                Fact("On-time rate, all carriers", fmt_pct(rate)),
                Fact("Parcels", fmt_num(all_n), parcels_url(f)),
                Fact("Parcels with an exception", fmt_num(all_exc)),
            ],
            tables=[
                Table(
                    "Scorecard",
                    [
                        Column("carrier", "Carrier"),
                        Column("parcels", "Parcels", True),
                        Column("on_time", "On time", True),
                        Column("late", "Late", True),
                        Column("rate", "On-time rate", True),
                        Column("transit", "Mean transit days", True),
                        Column("exceptions", "Exceptions", True),
                        Column("exception_rate", "Exception rate", True),
                        Column("cost", "Cost", True),
                        Column("per_parcel", "Cost per parcel", True),
                    ],
                    rows,
                )
            ],
            series=series,
            chart_title="On-time delivery % by carrier",
            note=COST_NOTE,
        )

    def _grouped_sql(self, parcels):
        """PostgreSQL, one scan: per carrier (parcels, exceptions, cost, mean transit) and per carrier,
        delivery day and expected day (for the on-time rate), as GROUPING SETS."""
        rows = parcels.annotate(
            day=TruncDate("delivered_at"), transit=EpochSeconds(F("delivered_at") - F("shipment__shipped_at"))
        ).values_list(
            "service__carrier_id", "service__carrier__name", "day", "expected_delivery", "exc", "cost", "transit"
        )
        carriers, timing = grouping_sets(
            rows,
            ["carrier_id", "carrier_name", "day", "expected", "exc", "cost", "transit"],
            [("carrier_id", "carrier_name"), ("carrier_id", "day", "expected")],
            {"n": "COUNT(*)", "exc_sum": "SUM(exc)", "cost_sum": "SUM(cost)", "transit_avg": "AVG(transit)"},
            self.db,
        )
        base = [
            {
                "service__carrier_id": r["carrier_id"],
                "service__carrier__name": r["carrier_name"],
                "n": r["n"],
                "exc": r["exc_sum"],
                "cost": r["cost_sum"],
            }
            for r in sorted(carriers, key=lambda r: r["carrier_name"])
        ]
        transit = {r["carrier_id"]: float(r["transit_avg"]) / 86400.0 for r in carriers if r["transit_avg"] is not None}
        return base, [(r["carrier_id"], r["day"], r["expected"], r["n"]) for r in timing], transit

    def _transit(self, parcels) -> dict:
        delivered = parcels.filter(delivered_at__isnull=False, shipment__shipped_at__isnull=False)
        if is_postgres(self.db):
            from django.db.models import Avg

            return {
                r["service__carrier_id"]: r["s"] / 86400.0
                for r in delivered.values("service__carrier_id")
                .annotate(s=Avg(EpochSeconds(F("delivered_at") - F("shipment__shipped_at"))))
                .order_by()
                if r["s"] is not None
            }
        sums = defaultdict(list)
        for c, d, s in delivered.values_list("service__carrier_id", "delivered_at", "shipment__shipped_at"):
            sums[c].append((d - s).total_seconds() / 86400.0)
        return {c: sum(v) / len(v) for c, v in sums.items()}

    def drilldown(self, f):
        return parcels_url(f)


# ---- exception rate --------------------------------------------------------------------------


class ExceptionRate(Kpi):
    slug = "exception-rate"
    title = "Exception rate by type, carrier and location"
    group = "Delivery"
    unit = "%"
    formula = (
        "Share of parcels of the orders received in the period that had at least one tracking exception "
        "(exception, failed delivery attempt, lost), by type, carrier and shipping location."
    )
    numerator = "Parcels with at least one TrackingEvent whose status is exception, failed_attempt or lost."
    denominator = "Parcels of the orders received in the period (not cancelled)."
    timestamps = (
        "Order.created_at for the cohort; the events may come later. Exception cases with owners and "
        "playbooks do not exist yet in the OMS: this counts carrier tracking exceptions only."
    )
    statuses = "Tracking statuses exception, failed_attempt, lost."

    def compute(self, f):
        has_exc = Exists(TrackingEvent.objects.filter(parcel_id=OuterRef("pk"), status__in=EXCEPTION_STATUSES))
        parcels = parcel_cohort(f, self.db).annotate(
            exc=Case(When(has_exc, then=Value(1)), default=Value(0), output_field=IntegerField())
        )
        if is_postgres(self.db):
            totals, by_carrier, by_location = self._grouped_sql(parcels)
        else:
            totals, by_carrier, by_location = self._grouped_orm(parcels)
        n, exc = totals["n"], totals["n_exc"] or 0
        by_type = list(
            TrackingEvent.objects.using(self.db)
            .filter(parcel__in=parcel_cohort(f, self.db).values("pk"), status__in=EXCEPTION_STATUSES)
            .values("status")
            .annotate(events=Count("id"), parcels=Count("parcel_id", distinct=True))
            .order_by("status")
        )
        labels = dict(TrackingStatus.choices)
        rate = pct(exc, n)
        cols = [
            Column("name", ""),
            Column("parcels", "Parcels", True),
            Column("exc", "With exception", True),
            Column("rate", "Rate", True),
        ]
        return KpiResult(
            value=rate,
            display=fmt_pct(rate),
            facts=[
                Fact("Parcels", fmt_num(n), parcels_url(f)),
                Fact("With an exception", fmt_num(exc)),
            ],
            tables=[
                Table(
                    "By type",
                    [Column("type", "Type"), Column("events", "Events", True), Column("parcels", "Parcels", True)],
                    [
                        {
                            "type": labels.get(r["status"], r["status"]),
                            "events": r["events"],
                            "parcels": r["parcels"],
                            "_url": parcels_url(f, status=r["status"]),
                        }
                        for r in by_type
                    ],
                ),
                Table(
                    "By carrier",
                    [Column("name", "Carrier"), *cols[1:]],
                    [
                        {
                            "name": r["service__carrier__name"],
                            "parcels": r["n"],
                            "exc": r["exc"] or 0,
                            "rate": fmt_pct(pct(r["exc"] or 0, r["n"])),
                            "_url": parcels_url(f, service__carrier=r["service__carrier_id"])
                            if not f.carrier
                            else parcels_url(f),
                        }
                        for r in by_carrier
                    ],
                ),
                Table(
                    "By location",
                    [Column("name", "Location"), *cols[1:]],
                    [
                        {
                            "name": r["shipment__location__code"],
                            "parcels": r["n"],
                            "exc": r["exc"] or 0,
                            "rate": fmt_pct(pct(r["exc"] or 0, r["n"])),
                            "_url": parcels_url(f, location=r["shipment__location_id"])
                            if not f.location
                            else parcels_url(f),
                        }
                        for r in by_location
                    ],
                ),
            ],
            series=[(labels.get(r["status"], r["status"]), r["parcels"]) for r in by_type],
            chart_title="Parcels with an exception, by type",
            note=(
                "Exception cases (owner, playbook, resolution) are waiting for data: the OMS has no exception-case "
                "records yet."
            ),
        )

    @staticmethod
    def _grouped_orm(parcels):
        totals = parcels.aggregate(n=Count("id"), n_exc=Sum("exc"))
        by_carrier = list(
            parcels.values("service__carrier_id", "service__carrier__name")
            .annotate(n=Count("id"), exc=Sum("exc"))
            .order_by("service__carrier__name")
        )
        by_location = list(
            parcels.values("shipment__location_id", "shipment__location__code")
            .annotate(n=Count("id"), exc=Sum("exc"))
            .order_by("shipment__location__code")
        )
        return totals, by_carrier, by_location

    @staticmethod
    def _grouped_sql(parcels):
        """The total, per carrier and per location in one scan (GROUPING SETS)."""
        total, carriers, locations = grouping_sets(
            parcels.values_list(
                "service__carrier_id",
                "service__carrier__name",
                "shipment__location_id",
                "shipment__location__code",
                "exc",
            ),
            ["carrier_id", "carrier_name", "location_id", "location_code", "exc"],
            [(), ("carrier_id", "carrier_name"), ("location_id", "location_code")],
            {"n": "COUNT(*)", "n_exc": "SUM(exc)"},
            parcels.db,
        )
        totals = total[0] if total else {"n": 0, "n_exc": 0}
        by_carrier = [
            {
                "service__carrier_id": r["carrier_id"],
                "service__carrier__name": r["carrier_name"],
                "n": r["n"],
                "exc": r["n_exc"],
            }
            for r in sorted(carriers, key=lambda r: r["carrier_name"])
        ]
        by_location = [
            {
                "shipment__location_id": r["location_id"],
                "shipment__location__code": r["location_code"],
                "n": r["n"],
                "exc": r["n_exc"],
            }
            for r in sorted(locations, key=lambda r: r["location_code"])
        ]
        return totals, by_carrier, by_location

    def drilldown(self, f):
        return parcels_url(f)


KPIS = [OnTimeDelivery(), LogisticsCost(), CarrierScorecard(), ExceptionRate()]
