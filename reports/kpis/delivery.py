"""Delivery and carriers: on-time delivery against the promise, logistics cost, the carrier
scorecard and exception rates (from tracking events)."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Greatest, Round
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from logistics.models import CaseType, ExceptionCase
from logistics.status import TrackingStatus
from orders.models import Order
from orders.status import OrderStatus
from reports.facts import EXCEPTION_FIELDS

from .base import (
    Column,
    DrillList,
    Fact,
    Kpi,
    KpiResult,
    Table,
    drill_url,
    fetch,
    fmt_num,
    fmt_pct,
    is_postgres,
    money,
    order_facts,
    orders_url,
    parcel_facts,
    parcels_url,
    pct,
)

NOT_DELIVERED = [s.value for s in OrderStatus if s not in (OrderStatus.CANCELLED, OrderStatus.DELIVERED)]


def has_exception():
    """1 when a parcel fact counts at least one exception, failed attempt or loss, else 0."""
    return Case(
        When(Q(exceptions__gt=0) | Q(failed_attempts__gt=0) | Q(lost__gt=0), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


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


COST_NOTE = _(
    "Estimated with each parcel's service rate card as it stands today (ServiceLevel.base_rate + "
    "per_kg_rate × Parcel.weight_g, at least 1 g), rounded to the cent per parcel; the OMS does not "
    "store carrier invoices yet."
)


# ---- on-time delivery ------------------------------------------------------------------------


class OnTimeDelivery(Kpi):
    slug = "on-time-delivery"
    uses_facts = True
    title = _("On-time delivery (against the promise)")
    group = _("Delivery")
    unit = "%"
    formula = _(
        "Share of orders delivered on or before the promise date, over the orders received in the period "
        "that have a promise date and are either delivered or already past their promise."
    )
    numerator = _("Delivered orders whose local delivery day is on or before Order.promise_date.")
    denominator = _(
        "Numerator + late orders: delivered after the promise date, or not delivered yet and today is past "
        "the promise date. Orders not delivered yet and not past the promise are left out ('not yet "
        "delivered'); orders without a promise date are left out ('no promise date')."
    )
    timestamps = _(
        "Order.created_at for the cohort; delivery = the latest Parcel.delivered_at of the order "
        "(the carrier's delivery scan; Shipment.delivered_at when no parcel has one)."
    )
    statuses = _("Orders in every status but cancelled; delivered = order status delivered.")

    def compute(self, f, today: date | None = None):
        today = today or timezone.localdate()
        rows = (
            order_facts(f, self.db)
            .values_list("channel__name", "promise_date", "delivered", "delivered_day")
            .annotate(n=Count("pk"))
            .order_by()
        )
        per = defaultdict(lambda: {"on_time": 0, "late": 0, "late_open": 0, "not_yet": 0})
        no_promise = 0
        for channel, promise, delivered, day, n in fetch(rows, self.db):
            if promise is None:
                no_promise += n
            elif delivered:
                per[channel]["on_time" if day and day <= promise else "late"] += n
            else:
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
                Fact(_("Delivered on time"), fmt_num(t["on_time"]), orders_url(f, statuses=[OrderStatus.DELIVERED])),
                Fact(_("Delivered late"), fmt_num(t["late"]), orders_url(f, statuses=[OrderStatus.DELIVERED])),
                Fact(
                    _("Not delivered, past promise"),
                    fmt_num(t["late_open"]),
                    orders_url(f, statuses=NOT_DELIVERED, promise_before=yesterday.isoformat()),
                ),
                Fact(
                    _("Not yet delivered"),
                    fmt_num(t["not_yet"]),
                    orders_url(f, statuses=NOT_DELIVERED, promise_after=today.isoformat()),
                ),
                Fact(_("No promise date"), fmt_num(no_promise)),
            ],
            tables=[
                Table(
                    _("By channel"),
                    [
                        Column("channel", _("Channel")),
                        Column("on_time", _("On time"), True),
                        Column("late", _("Delivered late"), True),
                        Column("late_open", _("Past promise, open"), True),
                        Column("not_yet", _("Not yet delivered"), True),
                        Column("rate", _("On-time rate"), True),
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
            chart_title=_("On-time delivery % by channel"),
        )


# ---- logistics cost --------------------------------------------------------------------------


class LogisticsCost(Kpi):
    slug = "logistics-cost"
    uses_facts = True
    title = _("Logistics cost per order, carrier and region")
    group = _("Delivery")
    unit = _("CNY per order")
    formula = _(
        "Estimated carrier cost of the parcels of the orders received in the period, divided by the number of those "
        "orders that have a parcel."
    )
    numerator = _(
        "Σ per parcel: ServiceLevel.base_rate + ServiceLevel.per_kg_rate × max(Parcel.weight_g, 1) / 1000, rounded "
        "to the cent (logistics.services.service_cost)."
    )
    denominator = _("Orders received in the period with at least one parcel.")
    timestamps = format_lazy("{} {}", "Order.created_at.", COST_NOTE)
    statuses = _("Orders: every status but cancelled; every parcel.")

    def compute(self, f):
        parcels = parcel_facts(f, self.db).annotate(cost=parcel_cost_expression(self.db))
        measures = {"cost": Sum("cost"), "n": Count("pk"), "orders": Count("order_id", distinct=True)}
        totals = parcels.aggregate(total_cost=measures["cost"], n=measures["n"], orders=measures["orders"])
        by_carrier = parcels.values("carrier_id", "carrier__name").annotate(**measures).order_by("carrier__name")
        by_region = parcels.values("province").annotate(**measures).order_by("-cost", "province")
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
            Column("parcels", _("Parcels"), True),
            Column("orders", _("Orders"), True),
            Column("cost", _("Cost"), True),
            Column("per_order", _("Per order"), True),
        ]
        carrier_rows = [
            row(
                r["carrier__name"],
                r,
                parcels_url(f, service__carrier=r["carrier_id"]) if not f.carrier else parcels_url(f),
            )
            for r in by_carrier
        ]
        region_rows = [
            row(
                r["province"] or gettext("(none)"),
                r,
                orders_url(f, province=r["province"]) if r["province"] else "",
            )
            for r in by_region
        ]
        return KpiResult(
            value=per_order,
            display=fmt_num(per_order, 2) if per_order is not None else "–",
            facts=[
                Fact(_("Cost per order"), fmt_num(per_order, 2) if per_order is not None else "–"),
                Fact(_("Total cost"), fmt_num(total, 2), parcels_url(f)),
                Fact(_("Parcels"), fmt_num(totals["n"]), parcels_url(f)),
                Fact(_("Orders with a parcel"), fmt_num(totals["orders"])),
            ],
            tables=[
                Table(_("By carrier"), [Column("name", _("Carrier")), *cols[1:]], carrier_rows),
                Table(_("By province"), [Column("name", _("Province")), *cols[1:]], region_rows),
            ],
            series=[(r["name"], None if r["per_order"] is None else float(r["per_order"])) for r in carrier_rows],
            chart_title=_("Cost per order by carrier"),
            note=COST_NOTE,
        )

    def drilldown(self, f):
        return parcels_url(f)


# ---- carrier scorecard -----------------------------------------------------------------------


class CarrierScorecard(Kpi):
    slug = "carrier-scorecard"
    uses_facts = True
    title = _("Carrier scorecard")
    group = _("Delivery")
    # xgettext:no-python-format
    unit = _("% on time")
    formula = _(
        "Per carrier, over the parcels of the orders received in the period: on-time delivery rate against "
        "the parcel's expected delivery date, mean transit days, parcels with an exception, estimated cost."
    )
    numerator = _(
        "On time: parcels delivered (Parcel.delivered_at, local day) on or before Parcel.expected_delivery. "
        "Exceptions: parcels with at least one tracking event exception, failed_attempt or lost."
    )
    denominator = _(
        "On-time rate: on time + late (delivered after the expected day, or not delivered and past it). "
        "Parcels without an expected date, or not delivered and not yet due, are left out."
    )
    timestamps = format_lazy(
        "{} {}",
        _(
            "Transit days = Parcel.delivered_at − Shipment.shipped_at, in days, mean over delivered parcels. "
            "Parcel.expected_delivery is set at dispatch (shipped + service transit days, working days) and "
            "replaced by a carrier's estimate when one arrives."
        ),
        COST_NOTE,
    )
    statuses = _("Every parcel of orders that are not cancelled.")

    def compute(self, f, today: date | None = None):
        today = today or timezone.localdate()
        parcels = parcel_facts(f, self.db)
        base = list(
            parcels.annotate(cost=parcel_cost_expression(self.db), has_exc=has_exception())
            .values("carrier_id", "carrier__name")
            .annotate(n=Count("pk"), exc=Sum("has_exc"), cost=Sum("cost"), transit=Avg("transit_seconds"))
            .order_by("carrier__name")
        )
        timing_rows = fetch(
            parcels.values_list("carrier_id", "delivered_day", "expected_delivery").annotate(n=Count("pk")).order_by(),
            self.db,
        )
        transit = {r["carrier_id"]: r["transit"] / 86400.0 for r in base if r["transit"] is not None}
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
            c = r["carrier_id"]
            judged = per[c]["on_time"] + per[c]["late"]
            rate = pct(per[c]["on_time"], judged)
            all_on += per[c]["on_time"]
            all_judged += judged
            all_n += r["n"]
            all_exc += r["exc"] or 0
            mean_days = transit.get(c)
            rows.append(
                {
                    "carrier": r["carrier__name"],
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
            series.append((r["carrier__name"], rate))  # None (no parcel judged yet): a gap
        rate = pct(all_on, all_judged)
        return KpiResult(
            value=rate,
            display=fmt_pct(rate),
            facts=[
                Fact(_("On-time rate, all carriers"), fmt_pct(rate)),
                Fact(_("Parcels"), fmt_num(all_n), parcels_url(f)),
                Fact(_("Parcels with an exception"), fmt_num(all_exc)),
            ],
            tables=[
                Table(
                    _("Scorecard"),
                    [
                        Column("carrier", _("Carrier")),
                        Column("parcels", _("Parcels"), True),
                        Column("on_time", _("On time"), True),
                        Column("late", _("Late"), True),
                        Column("rate", _("On-time rate"), True),
                        Column("transit", _("Mean transit days"), True),
                        Column("exceptions", _("Exceptions"), True),
                        Column("exception_rate", _("Exception rate"), True),
                        Column("cost", _("Cost"), True),
                        Column("per_parcel", _("Cost per parcel"), True),
                    ],
                    rows,
                )
            ],
            series=series,
            chart_title=_("On-time delivery % by carrier"),
            note=COST_NOTE,
        )

    def drilldown(self, f):
        return parcels_url(f)


# ---- exception rate --------------------------------------------------------------------------


class ExceptionRate(Kpi):
    slug = "exception-rate"
    uses_facts = True
    title = _("Exception rate by type, carrier and location")
    group = _("Delivery")
    unit = "%"
    formula = _(
        "Share of parcels of the orders received in the period that had at least one tracking exception "
        "(exception, failed delivery attempt, lost), by type, carrier and shipping location."
    )
    numerator = _("Parcels with at least one TrackingEvent whose status is exception, failed_attempt or lost.")
    denominator = _("Parcels of the orders received in the period (not cancelled).")
    timestamps = _(
        "Order.created_at for the cohort; the events and cases may come later. Exception cases "
        "(logistics.ExceptionCase, opened by the detection rules or by staff) are counted apart, by case "
        "type, per 100 orders of the cohort; open = not resolved yet."
    )
    statuses = _("Tracking statuses exception, failed_attempt, lost. Cases in every status.")

    def compute(self, f):
        parcels = parcel_facts(f, self.db).annotate(has_exc=has_exception())
        measures = {"n": Count("pk"), "exc": Sum("has_exc")}
        for field in EXCEPTION_FIELDS.values():
            measures[f"{field}_events"] = Sum(field)
            measures[f"{field}_parcels"] = Count("pk", filter=Q(**{f"{field}__gt": 0}))
        totals = parcels.aggregate(**measures)
        by_carrier = parcels.values("carrier_id", "carrier__name").annotate(**measures).order_by("carrier__name")
        by_location = parcels.values("location_id", "location__code").annotate(**measures).order_by("location__code")
        n, exc = totals["n"], totals["exc"] or 0
        by_type = [
            {"status": status, "events": totals[f"{field}_events"], "parcels": totals[f"{field}_parcels"]}
            for status, field in sorted(EXCEPTION_FIELDS.items())
            if totals[f"{field}_events"]
        ]
        labels = dict(TrackingStatus.choices)
        rate = pct(exc, n)
        cols = [
            Column("name", ""),
            Column("parcels", _("Parcels"), True),
            Column("exc", _("With exception"), True),
            Column("rate", _("Rate"), True),
        ]
        return KpiResult(
            value=rate,
            display=fmt_pct(rate),
            facts=[
                Fact(_("Parcels"), fmt_num(n), parcels_url(f)),
                Fact(_("With an exception"), fmt_num(exc)),
            ],
            tables=[
                Table(
                    _("By type"),
                    [
                        Column("type", _("Type")),
                        Column("events", _("Events"), True),
                        Column("parcels", _("Parcels"), True),
                    ],
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
                    _("By carrier"),
                    [Column("name", _("Carrier")), *cols[1:]],
                    [
                        {
                            "name": r["carrier__name"],
                            "parcels": r["n"],
                            "exc": r["exc"] or 0,
                            "rate": fmt_pct(pct(r["exc"] or 0, r["n"])),
                            "_url": parcels_url(f, service__carrier=r["carrier_id"])
                            if not f.carrier
                            else parcels_url(f),
                        }
                        for r in by_carrier
                    ],
                ),
                Table(
                    _("By location"),
                    [Column("name", _("Location")), *cols[1:]],
                    [
                        {
                            "name": r["location__code"],
                            "parcels": r["n"],
                            "exc": r["exc"] or 0,
                            "rate": fmt_pct(pct(r["exc"] or 0, r["n"])),
                            "_url": parcels_url(f, location=r["location_id"]) if not f.location else parcels_url(f),
                        }
                        for r in by_location
                    ],
                ),
                self._cases_table(f),
            ],
            series=[(labels.get(r["status"], r["status"]), r["parcels"]) for r in by_type],
            chart_title=_("Parcels with an exception, by type"),
            note=(
                _(
                    "Tracking exceptions are the carriers' scans; exception cases are what the OMS opened for these "
                    "orders (a case may have no tracking exception, e.g. a delay or an address problem)."
                )
            ),
        )

    def _cases(self, f):
        return ExceptionCase.objects.using(self.db).filter(order_id__in=order_facts(f, self.db).values("order_id"))

    def _cases_table(self, f) -> Table:
        n_orders = order_facts(f, self.db).count()
        labels = dict(CaseType.choices)
        rows = [
            {
                "type": str(labels.get(r["type"], r["type"])),
                "cases": r["n"],
                "open": r["still_open"],
                "orders": r["orders"],
                "per_100": fmt_num(round(100.0 * r["orders"] / n_orders, 1)) if n_orders else "–",
                "_url": drill_url(self.slug, "cases", f, type=r["type"]),
            }
            for r in self._cases(f)
            .values("type")
            .annotate(
                n=Count("pk"),
                still_open=Count("pk", filter=Q(resolved_at__isnull=True)),
                orders=Count("order_id", distinct=True),
            )
            .order_by("-n", "type")
        ]
        return Table(
            _("Exception cases by type"),
            [
                Column("type", _("Case type")),
                Column("cases", _("Cases"), True),
                Column("open", _("Still open"), True),
                Column("orders", _("Orders"), True),
                Column("per_100", _("Orders with one per 100"), True),
            ],
            rows,
        )

    def drill(self, part, f, params):
        if part != "cases":
            return None
        cases = self._cases(f)
        title = _("Orders received in the period with an exception case")
        if params.get("type"):
            cases = cases.filter(type=params["type"])
            title = gettext("Orders received in the period with an exception case of type %(type)s") % {
                "type": params["type"]
            }
        return DrillList(title, "orders", Order.objects.using(self.db).filter(pk__in=cases.values("order_id")))

    def drilldown(self, f):
        return parcels_url(f)


KPIS = [OnTimeDelivery(), LogisticsCost(), CarrierScorecard(), ExceptionRate()]
