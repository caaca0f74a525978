"""Working-day arithmetic shared by every app (Monday to Friday; a location's own calendar of
working days is applied where one exists, e.g. reports.kpis.fulfilment)."""

from datetime import date, timedelta


def add_business_days(start: date, days: int) -> date:
    """The day ``days`` working days after ``start`` (weekends skipped)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def next_working_day(day: date) -> date:
    """The first weekday after ``day``."""
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day
