from celery import shared_task

from . import facts, services


@shared_task(name="reports.send_scheduled_reports", acks_late=True)
def send_scheduled_reports() -> int:
    """Hourly: e-mail every schedule that is due (its day, from its hour, once a day)."""
    return services.send_due_schedules()


@shared_task(name="reports.refresh_facts", acks_late=True)
def refresh_facts() -> int | None:
    """Every minute: bring the report facts up to date with the orders changed since the last run."""
    return facts.catch_up(force=True)
