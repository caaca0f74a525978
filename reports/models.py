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
