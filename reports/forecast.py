"""Orders per day for the next 14 days per location, to plan staff and capacity for peaks.

Method (documented on the page): the history is the number of shipments routed to each location
per local day (Shipment.created_at; cancelled ones left out) over the last ``WEEKS`` full weeks
before today. Each weekday gets a factor = the mean of that weekday ÷ the mean of all days; the
level is the mean of the last ``LEVEL_WEEKS`` weeks. The forecast for a day is level × the
factor of its weekday. No trend and no holidays: on an exact weekly pattern it returns the
pattern itself.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.status import ShipmentStatus
from inventory.models import Location
from oms.db_router import reports_db

WEEKS = 8
LEVEL_WEEKS = 4
HORIZON = 14


def weekly_forecast(history: dict[date, int], start: date, days: int = HORIZON) -> list[tuple[date, float]]:
    """Forecast ``days`` days from ``start`` from the daily counts before ``start``."""
    window = [start - timedelta(days=i) for i in range(WEEKS * 7, 0, -1)]
    values = [history.get(d, 0) for d in window]
    mean = sum(values) / len(values)
    by_dow = defaultdict(list)
    for d, v in zip(window, values, strict=True):
        by_dow[d.weekday()].append(v)
    factor = {dow: (sum(v) / len(v) / mean if mean else 1.0) for dow, v in by_dow.items()}
    recent = values[-LEVEL_WEEKS * 7 :]
    level = sum(recent) / len(recent)
    return [
        (start + timedelta(days=i), round(level * factor[(start + timedelta(days=i)).weekday()], 1))
        for i in range(days)
    ]


@dataclass
class LocationForecast:
    location: Location
    history: list[tuple[date, int]]
    forecast: list[tuple[date, float]]

    @property
    def peak(self) -> tuple[date, float] | None:
        return max(self.forecast, key=lambda p: p[1]) if self.forecast else None

    @property
    def over_capacity(self) -> list[date]:
        cap = self.location.daily_capacity
        return [d for d, v in self.forecast if cap and v > cap]


def location_forecasts(*, location_id: int | None = None, channel_id: int | None = None, today: date | None = None):
    today = today or timezone.localdate()
    db = reports_db()
    start = timezone.make_aware(datetime.combine(today - timedelta(days=WEEKS * 7), time.min))
    end = timezone.make_aware(datetime.combine(today, time.min))
    qs = (
        Shipment.objects.using(db)
        .filter(created_at__gte=start, created_at__lt=end)
        .exclude(status=ShipmentStatus.CANCELLED)
    )
    locations = Location.objects.using(db).filter(active=True)
    if location_id:
        qs = qs.filter(location_id=location_id)
        locations = locations.filter(pk=location_id)
    if channel_id:
        qs = qs.filter(order__channel_id=channel_id)
    counts = defaultdict(dict)
    for r in qs.annotate(day=TruncDate("created_at")).values("location_id", "day").annotate(n=Count("id")).order_by():
        counts[r["location_id"]][r["day"]] = r["n"]
    result = []
    for loc in locations:
        history = counts.get(loc.pk, {})
        days = [today - timedelta(days=i) for i in range(WEEKS * 7, 0, -1)]
        result.append(
            LocationForecast(
                location=loc,
                history=[(d, history.get(d, 0)) for d in days],
                forecast=weekly_forecast(history, today),
            )
        )
    return result
