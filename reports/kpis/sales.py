"""Orders and revenue: by day, channel, region (province) and product."""

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.models import OrderLine

from .base import Column, Fact, Kpi, KpiResult, Table, cohort_orders, fmt_num, money, order_scope, orders_url

COMMON = dict(
    numerator="",
    denominator="",
    timestamps=_("Order.created_at (when the OMS received the order), local calendar days of TIME_ZONE."),
    statuses=_("Every status except cancelled."),
)


class _OrdersKpi(Kpi):
    group = _("Orders and revenue")
    unit = _("orders")
    numerator = _("Number of orders; revenue is the sum of Order.total (order currency, not converted).")
    timestamps = COMMON["timestamps"]
    statuses = COMMON["statuses"]

    def _totals(self, f):
        return cohort_orders(f, self.db).aggregate(n=Count("id"), revenue=Sum("total"))

    def _facts(self, f, totals) -> list[Fact]:
        return [
            Fact(_("Orders"), fmt_num(totals["n"] or 0), orders_url(f)),
            Fact(_("Revenue"), fmt_num(money(totals["revenue"]), 2), orders_url(f)),
            Fact(
                _("Average order value"),
                fmt_num(money(totals["revenue"]) / totals["n"], 2) if totals["n"] else "–",
            ),
        ]

    def _breakdown(self, f, totals, title, key: Column, table_rows, series, chart_title) -> KpiResult:
        """Orders and revenue per day, channel or province: the facts, one table (the key, orders, revenue) and
        the chart of orders."""
        return KpiResult(
            value=totals["n"],
            display=fmt_num(totals["n"]),
            facts=self._facts(f, totals),
            tables=[
                Table(
                    title,
                    [key, Column("orders", _("Orders"), True), Column("revenue", _("Revenue"), True)],
                    table_rows,
                )
            ],
            series=series,
            chart_title=chart_title,
        )


class OrdersByDay(_OrdersKpi):
    slug = "orders-by-day"
    title = _("Orders and revenue by day")
    formula = _("Orders received each day in the period and the sum of their totals; cancelled orders left out.")

    def compute(self, f):
        rows = dict(
            (r["day"], r)
            for r in cohort_orders(f, self.db)
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(n=Count("id"), revenue=Sum("total"))
            .order_by()
        )
        table_rows, series, total_n, total_rev = [], [], 0, 0
        for day in f.days:  # every day, also the quiet ones
            r = rows.get(day, {"n": 0, "revenue": 0})
            total_n += r["n"]
            total_rev += money(r["revenue"])
            table_rows.append(
                {
                    "day": day.isoformat(),
                    "orders": r["n"],
                    "revenue": money(r["revenue"]),
                    "_url": orders_url(f, date_from=day, date_to=day),
                }
            )
            series.append((day.strftime("%m-%d"), r["n"]))
        totals = {"n": total_n, "revenue": total_rev}
        return self._breakdown(f, totals, _("By day"), Column("day", _("Day")), table_rows, series, _("Orders per day"))


class OrdersByChannel(_OrdersKpi):
    slug = "orders-by-channel"
    title = _("Orders and revenue by channel")
    formula = _("Orders received in the period and their revenue, per sales channel; cancelled orders left out.")

    def compute(self, f):
        rows = list(
            cohort_orders(f, self.db)
            .values("channel_id", "channel__name")
            .annotate(n=Count("id"), revenue=Sum("total"))
            .order_by("-n", "channel__name")
        )
        totals = {"n": sum(r["n"] for r in rows), "revenue": sum(money(r["revenue"]) for r in rows)}
        table_rows = [
            {
                "channel": r["channel__name"],
                "orders": r["n"],
                "revenue": money(r["revenue"]),
                "_url": orders_url(f, channel=r["channel_id"]) if not f.channel else orders_url(f),
            }
            for r in rows
        ]
        series = [(r["channel__name"], r["n"]) for r in rows]
        return self._breakdown(
            f, totals, _("By channel"), Column("channel", _("Channel")), table_rows, series, _("Orders per channel")
        )


class OrdersByRegion(_OrdersKpi):
    slug = "orders-by-region"
    title = _("Orders and revenue by region")
    formula = _(
        "Orders received in the period and their revenue, per ship-to province (Order.ship_province, "
        "as the channel sent it); cancelled orders left out."
    )

    def compute(self, f):
        rows = list(
            cohort_orders(f, self.db)
            .values("ship_province")
            .annotate(n=Count("id"), revenue=Sum("total"))
            .order_by("-n", "ship_province")
        )
        totals = {"n": sum(r["n"] for r in rows), "revenue": sum(money(r["revenue"]) for r in rows)}
        table_rows = [
            {
                "region": r["ship_province"] or gettext("(none)"),
                "orders": r["n"],
                "revenue": money(r["revenue"]),
                "_url": orders_url(f, province=r["ship_province"]) if r["ship_province"] else "",
            }
            for r in rows
        ]
        series = [(r["ship_province"] or gettext("(none)"), r["n"]) for r in rows[:20]]
        return self._breakdown(
            f,
            totals,
            _("By province"),
            Column("region", _("Province")),
            table_rows,
            series,
            _("Orders per province (top 20)"),
        )


class OrdersByProduct(_OrdersKpi):
    slug = "orders-by-product"
    title = _("Units and revenue by product")
    unit = _("units")
    formula = _(
        "Units ordered and line revenue (quantity × unit price) per SKU, over the lines of orders "
        "received in the period; cancelled orders and gift lines (see Gifts by rule) left out."
    )
    numerator = _("Sum of OrderLine.quantity; revenue = Σ quantity × OrderLine.unit_price; orders = distinct orders.")

    def compute(self, f):
        lines = order_scope(
            OrderLine.objects.using(self.db)
            .filter(order__created_at__gte=f.start, order__created_at__lt=f.end, is_gift=False)
            .exclude(order__status="cancelled"),
            f,
            prefix="order__",
        )
        line_revenue = ExpressionWrapper(
            F("quantity") * F("unit_price"), output_field=DecimalField(max_digits=14, decimal_places=2)
        )
        rows = list(
            lines.values("sku")
            .annotate(units=Sum("quantity"), orders=Count("order_id", distinct=True), revenue=Sum(line_revenue))
            .order_by("-units", "sku")
        )
        units = sum(r["units"] for r in rows)
        revenue = sum(money(r["revenue"]) for r in rows)
        table_rows = [
            {
                "sku": r["sku"],
                "units": r["units"],
                "orders": r["orders"],
                "revenue": money(r["revenue"]),
                "_url": orders_url(f, sku=r["sku"]),
            }
            for r in rows
        ]
        return KpiResult(
            value=units,
            display=fmt_num(units),
            facts=[
                Fact(_("Units"), fmt_num(units), orders_url(f)),
                Fact(_("Line revenue"), fmt_num(revenue, 2), orders_url(f)),
                Fact(_("SKUs"), fmt_num(len(rows))),
            ],
            tables=[
                Table(
                    _("By SKU"),
                    [
                        Column("sku", _("SKU")),
                        Column("units", _("Units"), True),
                        Column("orders", _("Orders"), True),
                        Column("revenue", _("Revenue"), True),
                    ],
                    table_rows,
                )
            ],
            series=[(r["sku"], r["units"]) for r in rows[:20]],
            chart_title=_("Units per SKU (top 20)"),
        )


KPIS = [OrdersByDay(), OrdersByChannel(), OrdersByRegion(), OrdersByProduct()]
