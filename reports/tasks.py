from celery import shared_task

from . import services


@shared_task(name="reports.send_scheduled_reports", acks_late=True)
def send_scheduled_reports() -> int:
    """Hourly: e-mail every schedule that is due (its day, from its hour, once a day)."""
    return services.send_due_schedules()
