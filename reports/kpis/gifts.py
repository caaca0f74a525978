"""赠品: gift units and their value, per gift rule, reported apart from the goods sold."""

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.models import OrderLine

from .base import Column, Fact, Kpi, KpiResult, Table, fmt_num, money, order_scope, orders_url


class GiftsByRule(Kpi):
    slug = "gifts-by-rule"
    title = _("Gifts by rule")
    group = _("Orders and revenue")
    unit = _("units")
    formula = _(
        "Gift units (OrderLine.is_gift) on orders received in the period and their cost at the product's "
        "list price (quantity × Product.price), per gift rule; gifts the channel sent have no rule; "
        "cancelled orders left out."
    )
    numerator = _("Sum of the gift lines' quantity; cost = Σ quantity × Product.price; orders = distinct orders.")
    timestamps = _("Order.created_at (when the OMS received the order), local calendar days of TIME_ZONE.")
    statuses = _("Every status except cancelled.")

    def compute(self, f):
        lines = order_scope(
            OrderLine.objects.using(self.db)
            .filter(is_gift=True, order__created_at__gte=f.start, order__created_at__lt=f.end)
            .exclude(order__status="cancelled"),
            f,
            prefix="order__",
        )
        cost = ExpressionWrapper(
            F("quantity") * F("product__price"), output_field=DecimalField(max_digits=14, decimal_places=2)
        )
        rows = list(
            lines.values("gift_rule_id", "gift_rule__name", "sku")
            .annotate(units=Sum("quantity"), orders=Count("order_id", distinct=True), cost=Sum(cost))
            .order_by("gift_rule__name", "sku")
        )
        units = sum(r["units"] for r in rows)
        total_cost = sum(money(r["cost"]) for r in rows)
        table_rows = [
            {
                "rule": r["gift_rule__name"] or gettext("(from the channel or a deleted rule)"),
                "sku": r["sku"],
                "orders": r["orders"],
                "units": r["units"],
                "cost": money(r["cost"]),
                "_url": orders_url(f, sku=r["sku"]),
            }
            for r in rows
        ]
        return KpiResult(
            value=units,
            display=fmt_num(units),
            facts=[
                Fact(_("Gift units"), fmt_num(units)),
                Fact(_("Gift cost at list price"), fmt_num(total_cost, 2)),
                Fact(_("Orders with a gift"), fmt_num(len({o for o in lines.values_list("order_id", flat=True)}))),
            ],
            tables=[
                Table(
                    _("By gift rule"),
                    [
                        Column("rule", _("Gift rule")),
                        Column("sku", _("SKU")),
                        Column("orders", _("Orders"), True),
                        Column("units", _("Units"), True),
                        Column("cost", _("Cost"), True),
                    ],
                    table_rows,
                )
            ],
            series=[(f"{r['rule']} {r['sku']}", r["units"]) for r in table_rows[:20]],
            chart_title=_("Gift units per rule"),
        )


KPIS = [GiftsByRule()]
