"""Writes to the reports app's own tables (saved reports, schedules, the forecast's peak events), and sending
scheduled reports."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from oms.errors import DomainError

from . import exports
from .kpis import REGISTRY, Filters
from .models import Frequency, PeakEvent, ReportSchedule, SavedReport, parse_recipients

logger = logging.getLogger(__name__)


def saved_report_create(*, name: str, kpis: list[str], filters: dict, owner=None) -> SavedReport:
    name = (name or "").strip()
    if not name:
        raise DomainError(gettext("A saved report needs a name."))
    unknown = [k for k in kpis if k not in REGISTRY]
    if unknown or not kpis:
        raise DomainError(gettext("Unknown KPI: %(kpis)s.") % {"kpis": ", ".join(unknown) or gettext("none chosen")})
    return SavedReport.objects.create(name=name[:120], kpis=list(kpis), filters=filters, owner=owner)


def schedule_create(
    *, report: SavedReport, frequency: str, recipients: str, weekday: int = 0, hour: int = 7, user=None
) -> ReportSchedule:
    if frequency not in Frequency.values:
        raise DomainError(gettext("Choose daily or weekly."))
    if not 0 <= int(hour) <= 23 or not 0 <= int(weekday) <= 6:
        raise DomainError(gettext("The hour must be 0-23 and the weekday Monday to Sunday."))
    try:
        addresses = parse_recipients(recipients)
    except Exception as exc:  # django ValidationError
        raise DomainError(gettext("Not an e-mail address: %(error)s") % {"error": exc}) from exc
    if not addresses:
        raise DomainError(gettext("Add at least one recipient."))
    return ReportSchedule.objects.create(
        report=report,
        frequency=frequency,
        weekday=int(weekday),
        hour=int(hour),
        recipients=", ".join(addresses),
        created_by=user,
    )


def run_saved_report(report: SavedReport, today=None):
    """(kpi, result, filters) for each KPI of a saved report, the period resolved against today."""
    filters, _form = Filters.from_data(report.filters, today=today)
    return [(REGISTRY[slug], REGISTRY[slug].result(filters), filters) for slug in report.kpis if slug in REGISTRY]


def schedule_send(schedule: ReportSchedule, *, now=None) -> bool:
    """Render the saved report to PDF and e-mail it. Returns False when it was not due
    (or another worker sent it meanwhile): sending twice on the same day is a no-op."""
    now_local = timezone.localtime(now)
    with transaction.atomic():
        schedule = ReportSchedule.objects.select_for_update().select_related("report").get(pk=schedule.pk)
        if not schedule.is_due(now_local):
            return False
        report = schedule.report
        items = run_saved_report(report, today=now_local.date())
        title = f"{report.name} — {now_local:%Y-%m-%d}"
        pdf = exports.to_pdf(items, title=title)
        lines = [f"{report.name}: {items[0][2].describe() if items else ''}", ""]
        for kpi, result, _f in items:
            lines.append(f"- {kpi.title}: {result.display if result.available else result.note}")
        lines += ["", gettext("The full report is attached as a PDF.")]
        message = EmailMessage(
            subject=f"[OMS] {title}",
            body="\n".join(lines),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=schedule.recipient_list,
        )
        message.attach(f"{slugify(report.name) or 'report'}-{now_local:%Y%m%d}.pdf", pdf, "application/pdf")
        message.send()
        schedule.last_sent_on = now_local.date()
        schedule.save(update_fields=["last_sent_on"])
    return True


def send_due_schedules(*, now=None) -> int:
    now_local = timezone.localtime(now)
    sent = 0
    for schedule in ReportSchedule.objects.filter(active=True).select_related("report"):
        if not schedule.is_due(now_local):
            continue
        try:
            sent += schedule_send(schedule, now=now)
        except Exception:  # one broken report must not stop the others; logged for the admin
            logger.exception("Scheduled report %s could not be sent", schedule.pk)
    return sent


UPLIFT_MAX = 999  # PeakEvent.uplift: 5 digits, 2 of them decimals


def peak_event_save(*, event: PeakEvent, user=None) -> PeakEvent:
    """Add or change a shop's own peak event (店庆, a campaign) for the forecast: the admin's and the API's door.
    Raises DomainError (nothing saved) for a name missing or past 80 characters, an end before the start or an
    uplift outside 0–999."""
    event.name = (event.name or "").strip()
    if not event.name or len(event.name) > 80:
        raise DomainError(gettext("A peak event needs a name of at most 80 characters."))
    if event.end < event.start:
        raise DomainError(gettext("A peak event's last day cannot be before its first day."))
    if event.uplift is not None and not 0 <= event.uplift <= UPLIFT_MAX:
        raise DomainError(gettext("The uplift is from 0 to 999."))
    event.save()
    return event


def peak_event_remove(*, event: PeakEvent, user=None) -> None:
    """Remove a shop's own peak event (the built-in ones, reports/peaks.py, are not rows and stay)."""
    event.delete()
