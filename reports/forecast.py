"""Orders per day for the next 14 days per location, to plan staff and capacity for peaks.

Method (documented on the page): the history is the number of shipments routed to each location
per local day (Shipment.created_at; cancelled ones left out) over the last ``WEEKS`` full weeks
before today. Each weekday gets a factor = the mean of that weekday ÷ the mean of all days; the
level is the mean of the last ``LEVEL_WEEKS`` weeks. The forecast for a day is level × the
factor of its weekday. On an exact weekly pattern it returns the pattern itself.

The Chinese calendar's peaks are events (reports/peaks.py: 618, 双11, 双12, the Spring Festival shutdown,
and a shop's own ``PeakEvent`` rows): their days are left out of the weekday pattern, and a forecast day
inside one is multiplied by its uplift, learned from last years' same event where there is history (all
locations of the filter together), else its default.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.status import ShipmentStatus
from inventory.models import Location
from oms.db_router import reports_db

from . import peaks

WEEKS = 8
LEVEL_WEEKS = 4
HORIZON = 14
OUTLOOK_DAYS = 365


def weekly_forecast(
    history: dict[date, int], start: date, days: int = HORIZON, skip: frozenset[date] | set[date] = frozenset()
) -> list[tuple[date, float]]:
    """Forecast ``days`` days from ``start`` from the daily counts before ``start``; days in ``skip`` (peak
    events) are left out of the pattern."""
    window = [start - timedelta(days=i) for i in range(WEEKS * 7, 0, -1)]
    usual = [d for d in window if d not in skip] or window
    values = [history.get(d, 0) for d in usual]
    mean = sum(values) / len(values)
    by_dow = defaultdict(list)
    for d, v in zip(usual, values, strict=True):
        by_dow[d.weekday()].append(v)
    factor = {dow: (sum(v) / len(v) / mean if mean else 1.0) for dow, v in by_dow.items()}
    level_from = start - timedelta(days=LEVEL_WEEKS * 7)
    recent = [v for d, v in zip(usual, values, strict=True) if d >= level_from] or values
    level = sum(recent) / len(recent)
    return [
        (start + timedelta(days=i), round(level * factor.get((start + timedelta(days=i)).weekday(), 1.0), 1))
        for i in range(days)
    ]


@dataclass
class LocationForecast:
    location: Location
    history: list[tuple[date, int]]
    forecast: list[tuple[date, float]]
    # The peak event of a forecast day (reports/peaks.py), where there is one.
    events: dict[date, peaks.Uplift] = field(default_factory=dict)

    @property
    def peak(self) -> tuple[date, float] | None:
        return max(self.forecast, key=lambda p: p[1]) if self.forecast else None

    @property
    def over_capacity(self) -> list[date]:
        cap = self.location.daily_capacity
        return [d for d, v in self.forecast if cap and v > cap]


def _shipments(db, start: date, end: date, location_id=None, channel_id=None):
    qs = (
        Shipment.objects.using(db)
        .filter(
            created_at__gte=timezone.make_aware(datetime.combine(start, time.min)),
            created_at__lt=timezone.make_aware(datetime.combine(end, time.min)),
        )
        .exclude(status=ShipmentStatus.CANCELLED)
    )
    if location_id:
        qs = qs.filter(location_id=location_id)
    if channel_id:
        qs = qs.filter(order__channel_id=channel_id)
    return qs


def _daily_counts(qs) -> dict[int, dict[date, int]]:
    counts: dict[int, dict[date, int]] = defaultdict(dict)
    for r in qs.annotate(day=TruncDate("created_at")).values("location_id", "day").annotate(n=Count("id")).order_by():
        counts[r["location_id"]][r["day"]] = r["n"]
    return counts


def _totals(counts: dict[int, dict[date, int]]) -> dict[date, int]:
    total: dict[date, int] = defaultdict(int)
    for per_day in counts.values():
        for d, n in per_day.items():
            total[d] += n
    return total


def location_forecasts(*, location_id: int | None = None, channel_id: int | None = None, today: date | None = None):
    today = today or timezone.localdate()
    db = reports_db()
    qs = _shipments(db, today - timedelta(days=peaks.HISTORY_DAYS), today, location_id, channel_id)
    counts = _daily_counts(qs)
    locations = Location.objects.using(db).filter(active=True)
    if location_id:
        locations = locations.filter(pk=location_id)
    horizon_end = today + timedelta(days=HORIZON - 1)
    applied = peaks.uplifts(peaks.events_between(today, horizon_end), _totals(counts), today)
    by_day = {}
    for i in range(HORIZON):
        d = today + timedelta(days=i)
        found = peaks.for_day(applied, d)
        if found is not None:
            by_day[d] = found
    busy = {d for e in peaks.events_between(today - timedelta(days=WEEKS * 7), today) for d in e.days}
    result = []
    for loc in locations:
        history = counts.get(loc.pk, {})
        days = [today - timedelta(days=i) for i in range(WEEKS * 7, 0, -1)]
        base = weekly_forecast(history, today, skip=busy)
        forecast = [(d, round(v * by_day[d].factor, 1) if d in by_day else v) for d, v in base]
        result.append(
            LocationForecast(
                location=loc, history=[(d, history.get(d, 0)) for d in days], forecast=forecast, events=by_day
            )
        )
    return result


def peak_outlook(
    *, location_id: int | None = None, channel_id: int | None = None, today: date | None = None
) -> list[peaks.Uplift]:
    """The peak events of the next ``OUTLOOK_DAYS`` days with their uplift and where it comes from: the forecast
    page's list, to plan staff beyond the 14 days."""
    today = today or timezone.localdate()
    qs = _shipments(reports_db(), today - timedelta(days=peaks.HISTORY_DAYS), today, location_id, channel_id)
    events = peaks.events_between(today, today + timedelta(days=OUTLOOK_DAYS))
    return peaks.uplifts(events, _totals(_daily_counts(qs)), today)
