"""The reports app's own tables: saved report definitions and their e-mail schedules.

Everything else the reports show is read from the other apps through the reports alias.
``ReportAccess`` owns no table; it only carries the app's permission (used by the roles).
"""

from django.conf import settings
from django.core.validators import validate_email
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportAccess(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", "Can view reports")]

    def __str__(self) -> str:
        return "reports"


class SavedReport(models.Model):
    """A named set of KPIs with filters; a relative period ("last_7_days") is resolved when run."""

    name = models.CharField(max_length=120)
    kpis = models.JSONField(default=list, help_text=_("KPI slugs, in order."))
    filters = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="saved_reports"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Frequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class ReportSchedule(models.Model):
    """E-mail a saved report as a PDF, daily or weekly, from a given local hour on."""

    report = models.ForeignKey(SavedReport, on_delete=models.CASCADE, related_name="schedules")
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.DAILY)
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS, default=0, help_text=_("For weekly schedules."))
    hour = models.PositiveSmallIntegerField(default=7, help_text=_("Local hour from which it is sent (0-23)."))
    recipients = models.TextField(help_text=_("E-mail addresses, separated by commas or new lines."))
    active = models.BooleanField(default=True)
    last_sent_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["report__name", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(hour__lte=23), name="reportschedule_hour_lte_23"),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="reportschedule_weekday_lte_6"),
        ]

    def __str__(self) -> str:
        return f"{self.report} ({self.get_frequency_display()})"

    @property
    def recipient_list(self) -> list[str]:
        return parse_recipients(self.recipients)

    def is_due(self, now_local) -> bool:
        """Due when active, on its day, at or after its hour, and not sent yet that day."""
        today = now_local.date()
        if not self.active or now_local.hour < self.hour or self.last_sent_on == today:
            return False
        return self.frequency == Frequency.DAILY or self.weekday == today.weekday()


def parse_recipients(text: str) -> list[str]:
    """Addresses from free text; raises ValidationError on a bad one."""
    result = []
    for part in text.replace(";", ",").replace("\n", ",").split(","):
        address = part.strip()
        if address:
            validate_email(address)
            if address not in result:
                result.append(address)
    return result


# ---- facts: per-order and per-parcel rows the heavy KPIs read (reports/facts.py keeps them) ----------


def _ref(model: str, **kwargs):
    """A reference to another app's row without a database constraint: facts are rebuilt from
    the source rows, never the other way round, and must not hold up a write to them."""
    return models.ForeignKey(model, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", **kwargs)


class OrderFact(models.Model):
    """One row per order that is not cancelled: what the on-time delivery, fill rate and return
    rate figures need, joined and computed once (reports.facts.refresh_orders)."""

    order = models.OneToOneField(
        "orders.Order", primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    day = models.DateField(help_text=_("Local day the order was received (Order.created_at)."))
    channel = _ref("orders.Channel")
    province = models.CharField(max_length=64, blank=True)
    promise_date = models.DateField(null=True, blank=True)
    delivered = models.BooleanField(default=False, help_text=_("Order status is delivered."))
    delivered_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Latest Parcel.delivered_at, else latest Shipment.delivered_at.")
    )
    delivered_day = models.DateField(null=True, blank=True)
    units = models.PositiveIntegerField(default=0, help_text=_("Units ordered."))
    first_units = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Units on the first shipped shipment; empty: not shipped yet.")
    )

    class Meta:
        indexes = [
            models.Index(fields=["day", "channel"], name="reports_orderfact_day"),
            models.Index(
                fields=["delivered_at"], name="reports_orderfact_delivered", condition=models.Q(delivered=True)
            ),
        ]

    def __str__(self) -> str:
        return f"facts of order {self.order_id}"


class LineFact(models.Model):
    """One row per line of a delivered order, stamped with the order's delivery: units delivered
    by product over a period are one index range (return rate)."""

    order_line = models.OneToOneField(
        "orders.OrderLine", primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    order = _ref("orders.Order")
    channel = _ref("orders.Channel")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    delivered_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["delivered_at"], name="reports_linefact_delivered")]

    def __str__(self) -> str:
        return f"facts of order line {self.order_line_id}"


class ParcelFact(models.Model):
    """One row per parcel of an order that is not cancelled: the order's day, channel and
    province, the shipment's location, the service's carrier, timings and exception counts
    (logistics cost, carrier scorecard, exception rate)."""

    parcel = models.OneToOneField(
        "logistics.Parcel", primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    order = _ref("orders.Order")
    day = models.DateField(help_text=_("Local day the order was received."))
    channel = _ref("orders.Channel")
    province = models.CharField(max_length=64, blank=True)
    location = _ref("inventory.Location")
    carrier = _ref("logistics.Carrier")
    service = _ref("logistics.ServiceLevel")
    weight_g = models.PositiveIntegerField(default=0)
    delivered_day = models.DateField(null=True, blank=True)
    expected_delivery = models.DateField(null=True, blank=True)
    transit_seconds = models.FloatField(null=True, blank=True, help_text=_("Delivered − shipment shipped."))
    exceptions = models.PositiveIntegerField(default=0, help_text=_("Tracking events 'exception'."))
    failed_attempts = models.PositiveIntegerField(default=0)
    lost = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["day", "channel"], name="reports_parcelfact_day"),
            models.Index(fields=["order"], name="reports_parcelfact_order"),
        ]

    def __str__(self) -> str:
        return f"facts of parcel {self.parcel_id}"


class FactsState(models.Model):
    """The one row saying up to when the facts are kept (reports.facts.catch_up)."""

    refreshed_at = models.DateTimeField(help_text=_("Changes up to this moment are in the facts."))
    rebuilt_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64, help_text=_("The days in the facts are local days of this zone."))
    orders_refreshed = models.PositiveIntegerField(default=0, help_text=_("Orders refreshed by the last run."))

    def __str__(self) -> str:
        return f"report facts as of {self.refreshed_at:%Y-%m-%d %H:%M:%S}"


class PeakEvent(models.Model):
    """A shop's own peak (店庆, a livestream, a campaign) for the forecast (reports/peaks.py), beside the Chinese
    calendar's built-in ones (618, 双11, 双12, the Spring Festival shutdown). Without an uplift it is learned from
    last year's same days when they have history, else the default."""

    name = models.CharField(max_length=80, verbose_name=_("name"))
    start = models.DateField(verbose_name=_("first day"))
    end = models.DateField(verbose_name=_("last day"))
    uplift = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        verbose_name=_("uplift"),
        help_text=_("Orders on these days ÷ a usual day (2.5 = two and a half times). Empty: learned, else 1.5."),
    )
    yearly = models.BooleanField(default=True, verbose_name=_("every year"), help_text=_("On the same dates."))
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        ordering = ["start", "pk"]
        verbose_name = _("peak event")
        verbose_name_plural = _("peak events")
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="peakevent_end_gte_start"),
            models.CheckConstraint(
                condition=models.Q(uplift__isnull=True) | models.Q(uplift__gte=0), name="peakevent_uplift_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.start:%Y-%m-%d}–{self.end:%Y-%m-%d}"
