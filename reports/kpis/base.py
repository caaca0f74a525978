"""The shapes every KPI shares: filters, the result, the base class and query helpers.

A KPI reads through the reports alias (``reports_db()``), computes with SQL aggregates and
returns a small ``KpiResult``: the headline value, a few secondary facts, tables (each row may
link to the list page of the orders, shipments or parcels behind it) and a series for a chart.

Periods are local calendar days (settings.TIME_ZONE), both ends included: ``date_from`` 00:00
to ``date_to`` 24:00 local time. Most KPIs are *cohorts*: they look at the orders received
(``Order.created_at``) in the period and follow them, so the list behind a figure is always
"the orders received between these days", the same set the orders list shows with
``created_after``/``created_before``.
"""

from __future__ import annotations

import functools
import statistics
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote_plus

from django import forms
from django.db import connections
from django.db.models import Aggregate, Exists, FloatField, Func, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext
from django.utils.translation import gettext_lazy as _

from fulfillment.models import Shipment
from inventory.models import Location
from logistics.models import Carrier, Parcel
from oms.db_router import reports_db
from orders.models import Channel, Order
from orders.status import OrderStatus
from reports import facts
from reports.models import OrderFact, ParcelFact

DEFAULT_DAYS = 30
# Relative periods a saved report can keep: resolved against "today" when it runs.
PERIODS = {
    "": _("Custom dates"),
    "today": _("Today"),
    "yesterday": _("Yesterday"),
    "last_7_days": _("Last 7 days"),
    "last_30_days": _("Last 30 days"),
    "last_90_days": _("Last 90 days"),
    "this_month": _("This month"),
    "last_month": _("Last month"),
}
# The filters a KPI can use (Kpi.filters_used), as the page names them.
FILTER_LABELS = {"dates": _("dates"), "channel": _("channel"), "location": _("location"), "carrier": _("carrier")}

NOT_CANCELLED = [s.value for s in OrderStatus if s != OrderStatus.CANCELLED]


def resolve_period(period: str, today: date) -> tuple[date, date] | None:
    if period == "today":
        return today, today
    if period == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if period in ("last_7_days", "last_30_days", "last_90_days"):
        days = int(period.split("_")[1])
        return today - timedelta(days=days - 1), today
    if period == "this_month":
        return today.replace(day=1), today
    if period == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    return None


class FilterForm(forms.Form):
    period = forms.ChoiceField(choices=list(PERIODS.items()), required=False, label=_("Period"))
    date_from = forms.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    channel = forms.ModelChoiceField(queryset=Channel.objects.all(), required=False, label=_("Channel"))
    location = forms.ModelChoiceField(queryset=Location.objects.all(), required=False, label=_("Location"))
    carrier = forms.ModelChoiceField(queryset=Carrier.objects.all(), required=False, label=_("Carrier"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        db = reports_db()
        self.fields["channel"].queryset = Channel.objects.using(db).all()
        self.fields["location"].queryset = Location.objects.using(db).all()
        self.fields["carrier"].queryset = Carrier.objects.using(db).all()


@dataclass(frozen=True)
class Filters:
    """What a report looks at. Dates are local days, both included."""

    date_from: date
    date_to: date
    channel: int | None = None
    location: int | None = None
    carrier: int | None = None
    period: str = ""

    # ---- building ------------------------------------------------------------------------

    @classmethod
    def default(cls, today: date | None = None) -> Filters:
        today = today or timezone.localdate()
        return cls(date_from=today - timedelta(days=DEFAULT_DAYS - 1), date_to=today)

    @classmethod
    def from_data(cls, data, today: date | None = None) -> tuple[Filters, FilterForm]:
        """Filters from a query string or a saved JSON dict; bad input falls back to defaults
        (the form carries the errors), never an exception."""
        today = today or timezone.localdate()
        base = cls.default(today)
        if not data:
            return base, FilterForm(initial={"date_from": base.date_from, "date_to": base.date_to})
        form = FilterForm(data)
        if not form.is_valid():
            return base, form
        c = form.cleaned_data
        period = c.get("period") or ""
        resolved = resolve_period(period, today)
        if resolved:
            date_from, date_to = resolved
        else:
            date_from = c.get("date_from") or base.date_from
            date_to = c.get("date_to") or (max(date_from, base.date_to) if c.get("date_from") else base.date_to)
        if date_to < date_from:
            date_from, date_to = date_to, date_from
        return (
            cls(
                date_from=date_from,
                date_to=date_to,
                channel=c["channel"].pk if c.get("channel") else None,
                location=c["location"].pk if c.get("location") else None,
                carrier=c["carrier"].pk if c.get("carrier") else None,
                period=period if resolved else "",
            ),
            form,
        )

    def with_dates(self, date_from: date, date_to: date) -> Filters:
        return replace(self, date_from=date_from, date_to=date_to, period="")

    # ---- using ---------------------------------------------------------------------------

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.date_from, time.min))

    @property
    def end(self) -> datetime:
        """Exclusive end: the first moment after ``date_to``."""
        return timezone.make_aware(datetime.combine(self.date_to + timedelta(days=1), time.min))

    @property
    def days(self) -> list[date]:
        return [self.date_from + timedelta(days=i) for i in range((self.date_to - self.date_from).days + 1)]

    def query(self) -> dict:
        """The report page's own query string."""
        q = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}
        if self.period:
            q = {"period": self.period}
        for key in ("channel", "location", "carrier"):
            if getattr(self, key):
                q[key] = getattr(self, key)
        return q

    def to_json(self) -> dict:
        data = self.query()
        if self.period:
            data.update(date_from=self.date_from.isoformat(), date_to=self.date_to.isoformat())
        return data

    @property
    def period_label(self) -> str:
        return str(PERIODS.get(self.period, self.period))

    def describe(self) -> str:
        parts = [f"{self.date_from:%Y-%m-%d} – {self.date_to:%Y-%m-%d}"]
        if self.period:
            parts[0] = f"{self.period_label} ({parts[0]})"
        db = reports_db()
        if self.channel:
            name = str(Channel.objects.using(db).filter(pk=self.channel).first() or self.channel)
            parts.append(gettext("channel %(name)s") % {"name": name})
        if self.location:
            loc = Location.objects.using(db).filter(pk=self.location).first()
            parts.append(gettext("location %(code)s") % {"code": loc.code if loc else self.location})
        if self.carrier:
            name = str(Carrier.objects.using(db).filter(pk=self.carrier).first() or self.carrier)
            parts.append(gettext("carrier %(name)s") % {"name": name})
        return gettext(", ").join(parts)


# ---- results ---------------------------------------------------------------------------------


@dataclass
class Column:
    key: str
    label: str
    num: bool = False


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[dict]  # values by column key; "_url" optional: the list behind the row

    def as_lists(self) -> tuple[list[str], list[list]]:
        return [c.label for c in self.columns], [[row.get(c.key) for c in self.columns] for row in self.rows]

    def cells(self) -> list[tuple[list[tuple[object, bool]], str]]:
        """Rows ready for a template: ([(value, is_number), ...], url)."""
        cols = [(c.key, c.num) for c in self.columns]
        return [([(row.get(k), num) for k, num in cols], row.get("_url", "")) for row in self.rows]


@dataclass
class Fact:
    label: str
    value: object
    url: str = ""

    def __post_init__(self):
        # A lazy label (gettext_lazy) is made text in the language of the computation (results are cached
        # per language), so it compares, hashes and pickles as the string it shows.
        self.label = str(self.label)


@dataclass
class KpiResult:
    value: object = None  # the headline figure (None: nothing to show)
    display: str = "–"  # the headline figure as shown
    facts: list[Fact] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    series: list[tuple[str, float]] = field(default_factory=list)
    chart: str = "bar"  # bar | line
    chart_title: str = ""
    note: str = ""
    available: bool = True


NO_DATA_SOURCE = gettext_noop("no data source yet")  # English here (tests compare); gettext() where shown


class Kpi:
    """One figure in the catalogue. Subclasses set the attributes and implement compute()."""

    slug = ""
    title = ""
    group = ""
    unit = ""
    formula = ""  # plain words
    numerator = ""
    denominator = ""
    timestamps = ""
    statuses = ""
    waiting_for = ""  # set when the data behind the KPI does not exist yet
    filters_used = ("dates", "channel", "location", "carrier")
    uses_facts = False  # reads the report facts (reports/facts.py) instead of the source tables

    @property
    def status(self) -> str:
        """As the page shows it (in the current language); ``waiting_for`` says whether it is live."""
        if self.waiting_for:
            return gettext("waiting for data: %(what)s") % {"what": self.waiting_for}
        return gettext("live")

    @property
    def filters_used_display(self) -> str:
        return gettext(", ").join(str(FILTER_LABELS.get(name, name)) for name in self.filters_used)

    @property
    def definition(self) -> list[tuple[str, str]]:
        rows = [
            (gettext("Numerator"), self.numerator),
            (gettext("Denominator"), self.denominator),
            (gettext("Timestamps"), self.timestamps),
            (gettext("Statuses"), self.statuses),
        ]
        return [(k, v) for k, v in rows if v]

    def compute(self, filters: Filters) -> KpiResult:
        if self.waiting_for:
            return KpiResult(available=False, note=f"{gettext(NO_DATA_SOURCE)}: {self.waiting_for}")
        raise TypeError(f"{type(self).__name__} must define compute() or say what it is waiting_for.")

    def result(self, filters: Filters, *, fresh: bool = False, **kwargs) -> KpiResult:
        """The one way pages, exports and e-mails get a figure: the report facts brought up to date
        first for a KPI that reads them (``fresh``: now, whatever the minimum interval), then
        compute(); or a result saying why there is none yet (the facts being built)."""
        try:
            if self.uses_facts:
                facts.ensure_fresh(self.db, force=fresh)
            return self.compute(filters, **kwargs)
        except facts.FactsNotReady as exc:
            return KpiResult(available=False, note=str(exc))

    def drilldown(self, filters: Filters) -> str:
        return orders_url(filters)

    def drill(self, part: str, filters: Filters, params) -> DrillList | None:
        """The list behind the figure ``part`` (see drill_url), or None when there is no such part."""
        return None

    @property
    def db(self) -> str:
        return reports_db()


# ---- query helpers ---------------------------------------------------------------------------


def is_postgres(db: str) -> bool:
    return connections[db].vendor == "postgresql"


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: percentile_cont(p) WITHIN GROUP (ORDER BY expr)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


class EpochSeconds(Func):
    """Seconds in an interval (PostgreSQL)."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


def percentile(values: list[float], fraction: float) -> float | None:
    """percentile_cont in Python (linear interpolation), for SQLite and for tests."""
    if not values:
        return None
    data = sorted(values)
    if len(data) == 1:
        return float(data[0])
    pos = (len(data) - 1) * fraction
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return float(data[low] + (data[high] - data[low]) * (pos - low))


def median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def order_scope(qs, filters: Filters, prefix: str = ""):
    """Restrict a queryset whose rows belong to an order (``prefix`` leads to the order) to the
    filters' channel, location (a shipment of the order ships from it) and carrier (a parcel
    of the order goes with it). Location and carrier are EXISTS subqueries: no duplicates."""
    p = prefix
    if filters.channel:
        qs = qs.filter(**{f"{p}channel_id": filters.channel})
    order_ref = OuterRef(f"{p}pk" if p else "pk")
    if filters.location:
        qs = qs.filter(Exists(Shipment.objects.filter(order_id=order_ref, location_id=filters.location)))
    if filters.carrier:
        qs = qs.filter(Exists(Parcel.objects.filter(shipment__order_id=order_ref, service__carrier_id=filters.carrier)))
    return qs


def cohort_orders(filters: Filters, db: str, *, include_cancelled: bool = False):
    """Orders received in the period (``created_at``), cancelled ones left out."""
    qs = Order.objects.using(db).filter(created_at__gte=filters.start, created_at__lt=filters.end)
    if not include_cancelled:
        qs = qs.exclude(status=OrderStatus.CANCELLED)
    return order_scope(qs, filters)


def fact_scope(qs, filters: Filters, *, order_ref: str = "order_id"):
    """Restrict fact rows that belong to an order to the filters' location and carrier (same
    meaning as order_scope: a shipment of the order ships from it, a parcel of the order goes
    with it). The channel is a column of every fact table."""
    if filters.channel:
        qs = qs.filter(channel_id=filters.channel)
    if filters.location:
        qs = qs.filter(Exists(Shipment.objects.filter(order_id=OuterRef(order_ref), location_id=filters.location)))
    if filters.carrier:
        qs = qs.filter(Exists(ParcelFact.objects.filter(order_id=OuterRef(order_ref), carrier_id=filters.carrier)))
    return qs


def order_facts(filters: Filters, db: str):
    """The facts of the orders received in the period (reports.facts; cancelled orders have none)."""
    qs = OrderFact.objects.using(db).filter(day__gte=filters.date_from, day__lte=filters.date_to)
    return fact_scope(qs, filters)


def parcel_facts(filters: Filters, db: str):
    """The facts of the parcels of the orders received in the period, within the filters
    (location: the shipment's; carrier: the parcel's service's)."""
    qs = ParcelFact.objects.using(db).filter(day__gte=filters.date_from, day__lte=filters.date_to)
    if filters.channel:
        qs = qs.filter(channel_id=filters.channel)
    if filters.location:
        qs = qs.filter(location_id=filters.location)
    if filters.carrier:
        qs = qs.filter(carrier_id=filters.carrier)
    return qs


# ---- drill-down URLs -------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _path(name: str) -> str:
    return reverse(name)


def list_url(name: str, params: list[tuple[str, object]]) -> str:
    """The URL of a list page (``name``) filtered by ``params`` (empty values left out)."""
    return _path(name) + "?" + "&".join(f"{k}={quote_plus(str(v))}" for k, v in params if v not in (None, ""))


def fetch(qs, db: str) -> list[tuple]:
    """The rows of a values_list() queryset as plain tuples. On PostgreSQL the compiled SQL runs
    on a cursor directly: psycopg already returns dates and numbers, and Django's per-row
    converters cost more than the query on large groupings. SQLite goes through the ORM (its
    dates come back as text)."""
    if not is_postgres(db):
        return list(qs)
    sql, params = qs.query.sql_with_params()
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def grouping_sets(qs, names: list[str], sets: list[tuple[str, ...]], aggregates: dict[str, str], db: str) -> list:
    """PostgreSQL: several groupings of one queryset in one scan. ``qs`` is a values_list() whose
    columns are called ``names`` here; ``sets`` lists the groupings (``()`` is the total);
    ``aggregates`` maps an alias to SQL over those names. Returns, per grouping, a list of dicts
    (the grouping's names and the aggregates), in the order of ``sets``."""
    sql, params = qs.query.sql_with_params()
    columns = ", ".join(names)
    grouped = [n for n in names if any(n in g for g in sets)]
    flags = ", ".join(grouped) if grouped else "1"
    aggs = ", ".join(f"{expr} AS {alias}" for alias, expr in aggregates.items())
    spec = ", ".join("(" + ", ".join(g) + ")" for g in sets)
    query = (
        f"SELECT {', '.join(grouped)}{', ' if grouped else ''}{aggs}, GROUPING({flags}) AS _g "  # noqa: S608
        f"FROM ({sql}) AS x ({columns}) GROUP BY GROUPING SETS ({spec})"
    )
    masks = {}
    for i, g in enumerate(sets):  # GROUPING() sets a bit per column left out of the grouping
        masks[sum(1 << (len(grouped) - 1 - j) for j, n in enumerate(grouped) if n not in g)] = i
    out = [[] for _ in sets]
    with connections[db].cursor() as cursor:
        cursor.execute(query, params)
        keys = [c[0] for c in cursor.description]
        for row in cursor.fetchall():
            record = dict(zip(keys, row, strict=True))
            out[masks[record.pop("_g")]].append(record)
    return out


def orders_url(filters: Filters, *, statuses=NOT_CANCELLED, date_from=None, date_to=None, **extra) -> str:
    """The orders list (orders:order_list) showing the orders behind a figure."""
    params = [
        ("created_after", (date_from or filters.date_from).isoformat()),
        ("created_before", (date_to or filters.date_to).isoformat()),
        ("channel", filters.channel),
        ("location", filters.location),
        ("carrier", filters.carrier),
    ]
    params += [("status", s) for s in statuses or []]
    params += list(extra.items())
    return list_url("orders:order_list", params)


def drill_url(slug: str, part: str, filters: Filters, **extra) -> str:
    """The reports' own list of exactly the rows behind a figure (``reports:drilldown``), for the
    figures counted on a day the other apps' lists cannot filter by (packed day, delivery day,
    return day). The KPI's ``drill(part, filters, params)`` gives the list with the same queryset
    it counts. A relative period is passed as its days, so the list shows what was counted."""
    params = [("date_from", filters.date_from.isoformat()), ("date_to", filters.date_to.isoformat())]
    params += [(key, getattr(filters, key)) for key in ("channel", "location", "carrier")]
    params += list(extra.items())
    return _url_kwargs("reports:drilldown", {"slug": slug, "part": part}, params)


def _url_kwargs(name: str, kwargs: dict, params) -> str:
    return (
        reverse(name, kwargs=kwargs)
        + "?"
        + "&".join(f"{k}={quote_plus(str(v))}" for k, v in params if v not in (None, ""))
    )


@dataclass
class DrillList:
    """A drill-down page: its title, the kind of rows (orders, shipments, returns) and the queryset."""

    title: str
    kind: str
    queryset: object

    @property
    def kind_label(self) -> str:
        labels = {
            "orders": pgettext("rows of a list", "orders"),
            "shipments": pgettext("rows of a list", "shipments"),
            "returns": pgettext("rows of a list", "returns"),
        }
        return labels.get(self.kind, self.kind)


def shipments_url(filters: Filters, *, statuses=(), **extra) -> str:
    """The shipments list for shipments of the orders received in the period."""
    params = [
        ("received_after", filters.date_from.isoformat()),
        ("received_before", filters.date_to.isoformat()),
        ("channel", filters.channel),
        ("location", filters.location),
        ("carrier", filters.carrier),
    ]
    params += [("status", s) for s in statuses]
    params += list(extra.items())
    return list_url("fulfillment:shipment_list", params)


def parcels_url(filters: Filters, **extra) -> str:
    """The parcels list for parcels of the orders received in the period."""
    params = [
        ("received_after", filters.date_from.isoformat()),
        ("received_before", filters.date_to.isoformat()),
        ("channel", filters.channel),
        ("location", filters.location),
        ("service__carrier", filters.carrier),
    ]
    params += list(extra.items())
    return list_url("logistics:parcel_list", params)


# ---- formatting ------------------------------------------------------------------------------


def money(value) -> Decimal:
    if isinstance(value, float):  # SQLite sums money as floating point
        value = repr(round(value, 6))
    return Decimal(value or 0).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def pct(numerator: int, denominator: int) -> float | None:
    return round(100.0 * numerator / denominator, 1) if denominator else None


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %"


def fmt_num(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600.0, 1)
