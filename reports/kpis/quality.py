"""Quality: pick accuracy (pack-scan mismatches), return rate (returns) and customer satisfaction
(delivery ratings). They were listed as "waiting for data" until the pack station, returns and
ratings started to record their rows (fulfillment.PackMismatch, orders.ReturnRequest/ReturnLine,
orders.DeliveryRating)."""

from collections import defaultdict
from dataclasses import replace

from django.db.models import Count, Exists, OuterRef, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fulfillment.models import PackMismatch, Shipment
from fulfillment.status import PackMismatchKind, ShipmentStatus
from inventory.models import Location
from logistics.models import Carrier, Parcel
from orders.models import DeliveryRating, Order, OrderLine, ReturnLine, ReturnReason, ReturnRequest
from orders.status import OrderStatus, ReturnStatus
from reports.models import LineFact, OrderFact

from .base import (
    Column,
    DrillList,
    Fact,
    Kpi,
    KpiResult,
    Table,
    cohort_orders,
    drill_url,
    fact_scope,
    fetch,
    fmt_num,
    fmt_pct,
    orders_url,
    pct,
)

PACKED_OR_LATER = [
    ShipmentStatus.PACKED,
    ShipmentStatus.SHIPPED,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY,
    ShipmentStatus.DELIVERED,
]


# ---- pick accuracy ---------------------------------------------------------------------------


class PickAccuracy(Kpi):
    slug = "pick-accuracy"
    title = _("Pick accuracy")
    group = _("Fulfilment")
    unit = "%"
    formula = _(
        "Share of the shipments packed in the period that were packed without any pack-scan mismatch "
        "(wrong item, surplus item or short)."
    )
    numerator = _("Shipments packed in the period with no PackMismatch row (any kind, recorded at any time).")
    denominator = _("Shipments packed in the period (Shipment.packed_at set).")
    timestamps = _(
        "Shipment.packed_at, local day. A mismatch counts for its shipment whenever it was scanned; mismatches "
        "of shipments not packed yet (e.g. reported short) are counted apart."
    )

    @property
    def statuses(self):
        return gettext(
            "Every shipment with packed_at in the period, whatever its status now. Mismatch kinds: %(kinds)s. "
            "Picker: the OMS records who created the pick list (PickList.created_by), not who picked; "
            "shipments without a pick list are 'no pick list'."
        ) % {"kinds": gettext(", ").join(str(k.label).lower() for k in PackMismatchKind)}

    def _packed(self, f):
        qs = Shipment.objects.using(self.db).filter(packed_at__gte=f.start, packed_at__lt=f.end)
        if f.channel:
            qs = qs.filter(order__channel_id=f.channel)
        if f.location:
            qs = qs.filter(location_id=f.location)
        if f.carrier:
            qs = qs.filter(Exists(Parcel.objects.filter(shipment_id=OuterRef("pk"), service__carrier_id=f.carrier)))
        return qs

    def compute(self, f):
        packed = self._packed(f)
        groups = (
            packed.annotate(
                bad=Exists(PackMismatch.objects.filter(shipment_id=OuterRef("pk"))), day=TruncDate("packed_at")
            )
            .values_list("location_id", "picklist__created_by__username", "day", "bad")
            .annotate(n=Count("id"))
            .order_by()
        )
        per_loc = defaultdict(lambda: [0, 0])  # packed, with mismatch
        per_user = defaultdict(lambda: [0, 0])
        per_day = defaultdict(lambda: [0, 0])
        for loc, user, day, bad, n in fetch(groups, self.db):
            for bucket in (per_loc[loc], per_user[user or ""], per_day[day]):
                bucket[0] += n
                bucket[1] += n if bad else 0
        total = sum(v[0] for v in per_loc.values())
        wrong = sum(v[1] for v in per_loc.values())
        rate = pct(total - wrong, total)
        kinds = {
            r["kind"]: r
            for r in PackMismatch.objects.using(self.db)
            .filter(shipment__in=packed.values("pk"))
            .values("kind")
            .annotate(n=Count("id"), units=Sum("quantity"), shipments=Count("shipment_id", distinct=True))
            .order_by()
        }
        unpacked = (
            PackMismatch.objects.using(self.db)
            .filter(created_at__gte=f.start, created_at__lt=f.end, shipment__packed_at__isnull=True)
            .exclude(shipment__status=ShipmentStatus.CANCELLED)
        )
        if f.channel:
            unpacked = unpacked.filter(shipment__order__channel_id=f.channel)
        if f.location:
            unpacked = unpacked.filter(shipment__location_id=f.location)
        codes = dict(Location.objects.using(self.db).values_list("pk", "code"))
        loc_rows = [
            {
                "location": codes.get(pk, pk),
                "packed": v[0],
                "accurate": v[0] - v[1],
                "mismatched": v[1],
                "rate": fmt_pct(pct(v[0] - v[1], v[0])),
                "_url": drill_url(self.slug, "packed", replace(f, location=pk)),
            }
            for pk, v in sorted(per_loc.items(), key=lambda kv: str(codes.get(kv[0], kv[0])))
        ]
        user_rows = [
            {
                "user": user or gettext("no pick list"),
                "packed": v[0],
                "accurate": v[0] - v[1],
                "mismatched": v[1],
                "rate": fmt_pct(pct(v[0] - v[1], v[0])),
            }
            for user, v in sorted(per_user.items(), key=lambda kv: (kv[0] == "", kv[0]))
        ]
        kind_rows = [
            {
                "kind": str(kind.label),
                "mismatches": kinds[kind]["n"] if kind in kinds else 0,
                "units": kinds[kind]["units"] if kind in kinds else 0,
                "shipments": kinds[kind]["shipments"] if kind in kinds else 0,
            }
            for kind in PackMismatchKind
            if kind in kinds
        ]
        series = [(d.strftime("%m-%d"), pct(per_day[d][0] - per_day[d][1], per_day[d][0])) for d in f.days]
        nums = [Column("packed", _("Packed"), True), Column("accurate", _("No mismatch"), True)]
        nums += [Column("mismatched", _("With mismatch"), True), Column("rate", _("Accuracy"), True)]
        return KpiResult(
            value=rate,
            display=fmt_pct(rate),
            facts=[
                Fact(_("Shipments packed"), fmt_num(total), drill_url(self.slug, "packed", f)),
                Fact(
                    _("Packed with no mismatch"), fmt_num(total - wrong), drill_url(self.slug, "packed", f, mismatch=0)
                ),
                Fact(_("Packed with a mismatch"), fmt_num(wrong), drill_url(self.slug, "packed", f, mismatch=1)),
                Fact(_("Mismatches on them"), fmt_num(sum(r["mismatches"] for r in kind_rows))),
                Fact(_("Mismatches on shipments not packed yet"), fmt_num(unpacked.count())),
            ],
            tables=[
                Table(_("By location"), [Column("location", _("Location")), *nums], loc_rows),
                Table(_("By pick list creator (picker not recorded)"), [Column("user", _("User")), *nums], user_rows),
                Table(
                    _("Mismatches by kind"),
                    [
                        Column("kind", _("Kind")),
                        Column("mismatches", _("Scans"), True),
                        Column("units", _("Units"), True),
                        Column("shipments", _("Shipments"), True),
                    ],
                    kind_rows,
                ),
            ],
            series=series,
            chart="line",
            chart_title=_("Pick accuracy % by day packed"),
        )

    def drilldown(self, f):
        return drill_url(self.slug, "packed", f)

    def drill(self, part, f, params):
        if part != "packed":
            return None
        qs = self._packed(f)
        title = _("Shipments packed")
        if params.get("mismatch") in ("0", "1"):
            bad = Exists(PackMismatch.objects.filter(shipment_id=OuterRef("pk")))
            qs = qs.filter(bad) if params["mismatch"] == "1" else qs.exclude(bad)
            if params["mismatch"] == "1":
                title = _("Shipments packed with a pack-scan mismatch")
            else:
                title = _("Shipments packed with no mismatch")
        return DrillList(title, "shipments", qs)


# ---- return rate -----------------------------------------------------------------------------


def delivered_facts(f, db):
    """The facts of the orders delivered in the period (status delivered; delivery = the latest
    Parcel.delivered_at of the order, else the latest Shipment.delivered_at), within the filters."""
    qs = OrderFact.objects.using(db).filter(delivered=True, delivered_at__gte=f.start, delivered_at__lt=f.end)
    return fact_scope(qs, f)


def delivered_orders(f, db):
    """The orders behind delivered_facts, for the lists behind the figures."""
    return Order.objects.using(db).filter(pk__in=delivered_facts(f, db).values("order_id"))


class ReturnRate(Kpi):
    slug = "return-rate"
    uses_facts = True
    title = _("Return rate by product and reason")
    group = _("Returns and service")
    unit = "%"
    formula = _(
        "Units returned divided by units delivered, over the orders delivered in the period, counting the "
        "returns opened within the period; per product and per return reason."
    )
    numerator = _(
        "Σ ReturnLine.quantity of the returns opened in the period (ReturnRequest.created_at) of the orders "
        "delivered in the period; cancelled returns left out. A return opened after the period does not count "
        "(shown apart as 'returned after the period')."
    )
    denominator = _("Σ OrderLine.quantity of the orders delivered in the period (units delivered).")
    timestamps = _(
        "Delivery = the latest Parcel.delivered_at of the order (Shipment.delivered_at when no parcel has one), "
        "local day; ReturnRequest.created_at, local day."
    )
    statuses = _("Orders: status delivered. Returns: requested, received, refunded or exchanged (not cancelled).")

    def _gather(self, f):
        """(units delivered by SKU, [(sku, reason, return id, units)] of returns in the period,
        units returned after the period, orders delivered), from the facts: the delivered lines
        are one index range on their delivery time."""
        orders = delivered_facts(f, self.db)
        lines = LineFact.objects.using(self.db).filter(delivered_at__gte=f.start, delivered_at__lt=f.end)
        lines = fact_scope(lines, f)
        delivered = dict(fetch(lines.values_list("sku").annotate(units=Sum("quantity")).order_by(), self.db))
        returns = (
            ReturnLine.objects.using(self.db)
            .filter(order_line_id__in=lines.values("order_line_id"), ret__created_at__gte=f.start)
            .exclude(ret__status=ReturnStatus.CANCELLED)
        )
        returned, later = [], 0
        for sku, reason, ret_id, created_at, units in (
            returns.values_list("order_line__sku", "ret__reason", "ret_id", "ret__created_at")
            .annotate(u=Sum("quantity"))
            .order_by()
        ):
            if created_at < f.end:
                returned.append((sku, reason, ret_id, units))
            else:
                later += units
        return delivered, returned, later, orders.count()

    def compute(self, f):
        delivered, returned, later, n_orders = self._gather(f)
        by_sku = defaultdict(int)
        by_reason = defaultdict(lambda: [0, set()])
        for sku, reason, ret_id, units in returned:
            by_sku[sku] += units
            by_reason[reason][0] += units
            by_reason[reason][1].add(ret_id)
        units_delivered = sum(delivered.values())
        units_returned = sum(by_sku.values())
        rate = pct(units_returned, units_delivered)
        n_returns = len(set().union(*(v[1] for v in by_reason.values()))) if by_reason else 0
        product_rows = [
            {
                "sku": sku,
                "delivered": delivered[sku],
                "returned": by_sku.get(sku, 0),
                "rate": fmt_pct(pct(by_sku.get(sku, 0), delivered[sku])),
                "_url": drill_url(self.slug, "delivered", f, sku=sku),
            }
            for sku in sorted(delivered, key=lambda s: (-by_sku.get(s, 0), -delivered[s], s))
        ]
        labels = dict(ReturnReason.choices)
        reason_rows = [
            {
                "reason": str(labels.get(reason, reason)),
                "returns": len(v[1]),
                "units": v[0],
                "share": fmt_pct(pct(v[0], units_delivered)),
                "_url": drill_url(self.slug, "returns", f, reason=reason),
            }
            for reason, v in sorted(by_reason.items(), key=lambda kv: (-kv[1][0], kv[0]))
        ]
        return KpiResult(
            value=rate,
            display=fmt_pct(rate),
            facts=[
                Fact(_("Orders delivered"), fmt_num(n_orders), drill_url(self.slug, "delivered", f)),
                Fact(_("Units delivered"), fmt_num(units_delivered), drill_url(self.slug, "delivered", f)),
                Fact(_("Units returned"), fmt_num(units_returned), drill_url(self.slug, "returns", f)),
                Fact(_("Returns"), fmt_num(n_returns), drill_url(self.slug, "returns", f)),
                Fact(_("Returned after the period (not counted)"), fmt_num(later)),
            ],
            tables=[
                Table(
                    _("By product"),
                    [
                        Column("sku", _("SKU")),
                        Column("delivered", _("Units delivered"), True),
                        Column("returned", _("Units returned"), True),
                        Column("rate", _("Return rate"), True),
                    ],
                    product_rows,
                ),
                Table(
                    _("By reason"),
                    [
                        Column("reason", _("Reason")),
                        Column("returns", _("Returns"), True),
                        Column("units", _("Units"), True),
                        # xgettext:no-python-format
                        Column("share", _("% of units delivered"), True),
                    ],
                    reason_rows,
                ),
            ],
            series=[(r["reason"], r["units"]) for r in reason_rows],
            chart_title=_("Returned units by reason"),
        )

    def drilldown(self, f):
        return drill_url(self.slug, "returns", f)

    def drill(self, part, f, params):
        orders = delivered_orders(f, self.db)
        if part == "delivered":
            title = _("Orders delivered in the period")
            if params.get("sku"):
                orders = orders.filter(pk__in=OrderLine.objects.filter(sku=params["sku"]).values("order_id"))
                title = gettext("Orders delivered in the period with %(sku)s") % {"sku": params["sku"]}
            return DrillList(title, "orders", orders)
        if part == "returns":
            returns = (
                ReturnRequest.objects.using(self.db)
                .filter(
                    pk__in=ReturnLine.objects.filter(order_line__order_id__in=orders.values("pk")).values("ret_id"),
                    created_at__gte=f.start,
                    created_at__lt=f.end,
                )
                .exclude(status=ReturnStatus.CANCELLED)
            )
            title = _("Returns opened in the period of the orders delivered in it")
            if params.get("reason"):
                returns = returns.filter(reason=params["reason"])
                title = gettext("Returns opened in the period of the orders delivered in it, reason %(reason)s") % {
                    "reason": params["reason"]
                }
            return DrillList(title, "returns", returns)
        return None


# ---- customer satisfaction -------------------------------------------------------------------


class CustomerSatisfaction(Kpi):
    slug = "customer-satisfaction"
    title = _("Customer satisfaction")
    group = _("Returns and service")
    unit = _("score")
    formula = _(
        "Mean delivery rating (1–5) and the share of 4 and 5 ratings, over the ratings of the orders "
        "received in the period; per carrier and per location."
    )
    numerator = _("Σ DeliveryRating.score (mean); ratings of 4 or 5 (share).")
    denominator = _("Number of delivery ratings of the orders received in the period (one rating per order at most).")
    timestamps = _(
        "Order.created_at for the cohort; the rating's own date does not matter. Carrier: of a parcel of the "
        "order; location: of a shipment of the order (an order split over two counts for both)."
    )
    statuses = _("Orders in every status but cancelled (only delivered orders can be rated).")

    def compute(self, f):
        cohort = cohort_orders(f, self.db)
        ratings = DeliveryRating.objects.using(self.db).filter(order_id__in=cohort.values("pk"))
        # One grouping by score gives the distribution, the count, the mean and the share of 4-5.
        dist = dict(ratings.values_list("score").annotate(c=Count("id")).order_by())
        n = sum(dist.values())
        mean = round(sum(score * c for score, c in dist.items()) / n, 2) if n else None
        share = pct(sum(c for score, c in dist.items() if score >= 4), n)
        delivered = cohort.filter(status=OrderStatus.DELIVERED).count()

        def grouped(pairs):
            out = defaultdict(dict)
            for key, rating_id, score in pairs:
                out[key][rating_id] = score
            return out

        by_carrier = grouped(
            Parcel.objects.using(self.db)
            .filter(shipment__order__rating__in=ratings.values("pk"))
            .values_list("service__carrier_id", "shipment__order__rating__id", "shipment__order__rating__score")
            .distinct()
        )
        by_location = grouped(
            Shipment.objects.using(self.db)
            .filter(order__rating__in=ratings.values("pk"))
            .exclude(status=ShipmentStatus.CANCELLED)
            .values_list("location_id", "order__rating__id", "order__rating__score")
            .distinct()
        )
        carriers = dict(Carrier.objects.using(self.db).values_list("pk", "name"))
        codes = dict(Location.objects.using(self.db).values_list("pk", "code"))

        def row(name, scores, url):
            values = list(scores.values())
            return {
                "name": name,
                "ratings": len(values),
                "mean": round(sum(values) / len(values), 2),
                "share": fmt_pct(pct(sum(1 for s in values if s >= 4), len(values))),
                "_url": url,
            }

        carrier_rows = [
            row(
                carriers.get(c, c),
                s,
                drill_url(self.slug, "rated", replace(f, carrier=c)),
            )
            for c, s in sorted(by_carrier.items(), key=lambda kv: str(carriers.get(kv[0], kv[0])))
        ]
        location_rows = [
            row(
                codes.get(loc, loc),
                s,
                drill_url(self.slug, "rated", replace(f, location=loc)),
            )
            for loc, s in sorted(by_location.items(), key=lambda kv: str(codes.get(kv[0], kv[0])))
        ]
        cols = [
            Column("ratings", _("Ratings"), True),
            Column("mean", _("Mean score"), True),
            Column("share", "4–5", True),
        ]
        return KpiResult(
            value=mean,
            display=f"{mean:.2f} / 5" if mean is not None else "–",
            facts=[
                Fact(_("Mean score"), f"{mean:.2f}" if mean is not None else "–"),
                Fact(_("Share of 4 and 5"), fmt_pct(share)),
                Fact(_("Ratings"), fmt_num(n), drill_url(self.slug, "rated", f)),
                Fact(_("Delivered orders"), fmt_num(delivered), orders_url(f, statuses=[OrderStatus.DELIVERED])),
                Fact(_("Response rate"), fmt_pct(pct(n, delivered))),
            ],
            tables=[
                Table(_("By carrier"), [Column("name", _("Carrier")), *cols], carrier_rows),
                Table(_("By location"), [Column("name", _("Location")), *cols], location_rows),
            ],
            series=[(f"{s} ★", dist.get(s, 0)) for s in range(1, 6)],
            chart_title=_("Ratings by score"),
            note=(
                _(
                    "A carrier's or location's list shows the rated orders of the cohort with a parcel of that "
                    "carrier or a shipment from that location."
                )
            ),
        )

    def drill(self, part, f, params):
        if part != "rated":
            return None
        cohort = cohort_orders(f, self.db)
        return DrillList(_("Rated orders received in the period"), "orders", cohort.filter(rating__isnull=False))

    def drilldown(self, f):
        return orders_url(f, statuses=[OrderStatus.DELIVERED])


KPIS = [PickAccuracy(), ReturnRate(), CustomerSatisfaction()]
