"""The Chinese calendar's peaks as events for the forecast (reports/forecast.py), not only weekdays.

Built in: 618 (June 18 and the two shipping days after it), 双11 (November 11–13), 双12 (December 12–13) and the
Spring Festival shutdown, from 腊月廿五 to 正月初七 of the lunar calendar (``lunar_python``: the festival moves
every year; 2027's New Year's day is 2027-02-06). Extra events (a shop's own 店庆) are ``reports.PeakEvent`` rows,
kept in the admin.

An event's uplift (orders on its days ÷ a usual day) is learned from history where there is some: for each of
its last ``LEARN_YEARS`` occurrences before today, the mean of its days ÷ the mean of the ``BASELINE_DAYS`` days
before it (other events' days left out); an occurrence whose baseline had no orders at all teaches nothing.
Without history the event's default applies. A person's uplift on an extra event wins over both.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext_lazy as _
from lunar_python import Lunar

from oms.db_router import reports_db

from .models import PeakEvent

LEARN_YEARS = 2
BASELINE_DAYS = 28
DEFAULT_EXTRA_UPLIFT = 1.5
# Days of history the forecast reads so that last year's events can teach their uplift.
HISTORY_DAYS = 366 * LEARN_YEARS + BASELINE_DAYS + 7

BUILT_IN = {
    # key: (name, default uplift)
    "618": (_("618 mid-year sale"), 2.5),
    "double11": (_("Singles' Day 11.11"), 3.0),
    "double12": (_("Double 12 (12.12)"), 1.8),
    "spring_festival": (_("Spring Festival shutdown"), 0.15),
}


@dataclass(frozen=True)
class CalendarEvent:
    key: str  # the event across years: "double11", "spring_festival", "extra:<id>"
    name: str
    start: date
    end: date
    default_uplift: float
    fixed_uplift: float | None = None  # a person's, on an extra event

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class Uplift:
    event: CalendarEvent
    factor: float
    learned_from: tuple[int, ...] = ()  # the years it was learned from; empty: the default (or a person's)

    @property
    def source(self) -> str:
        if self.learned_from:
            return "learned " + ", ".join(str(y) for y in self.learned_from)
        return "set" if self.event.fixed_uplift is not None else "default"


def spring_festival(year: int) -> date:
    """The lunar New Year's day (正月初一) in the Gregorian ``year``."""
    solar = Lunar.fromYmd(year, 1, 1).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _lunar_day(year: int, month: int, day: int) -> date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def built_in_events(year: int) -> list[CalendarEvent]:
    """The built-in peaks of one Gregorian year (the Spring Festival shutdown around that year's New Year)."""

    def event(key, start, end):
        name, uplift = BUILT_IN[key]
        return CalendarEvent(key, str(name), start, end, uplift)

    return [
        event("spring_festival", _lunar_day(year - 1, 12, 25), _lunar_day(year, 1, 7)),
        event("618", date(year, 6, 18), date(year, 6, 20)),
        event("double11", date(year, 11, 11), date(year, 11, 13)),
        event("double12", date(year, 12, 12), date(year, 12, 13)),
    ]


def _shift_year(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without it
        return day.replace(year=day.year + years, day=28)


def extra_events(first: date, last: date) -> list[CalendarEvent]:
    """The active ``PeakEvent`` rows between ``first`` and ``last`` (yearly ones in every year of that span)."""
    found = []
    rows = PeakEvent.objects.using(reports_db()).filter(active=True)
    for row in rows:
        fixed = float(row.uplift) if row.uplift is not None else None
        offsets = range(first.year - row.start.year - 1, last.year - row.start.year + 1) if row.yearly else (0,)
        for offset in offsets:
            start, end = _shift_year(row.start, offset), _shift_year(row.end, offset)
            if end >= first and start <= last:
                found.append(CalendarEvent(f"extra:{row.pk}", row.name, start, end, DEFAULT_EXTRA_UPLIFT, fixed))
    return found


def events_between(first: date, last: date) -> list[CalendarEvent]:
    """Every event with a day between ``first`` and ``last``, by start."""
    found = [
        e
        for year in range(first.year, last.year + 2)
        for e in built_in_events(year)
        if e.end >= first and e.start <= last
    ]
    found += extra_events(first, last)
    return sorted(found, key=lambda e: (e.start, e.key))


def learn_uplift(event: CalendarEvent, daily: dict[date, int], today: date, past: list[CalendarEvent]) -> Uplift:
    """``event``'s uplift: a person's, else learned from its past occurrences in ``past`` (the same key, ended
    before ``today``) with orders in their baseline, else its default. ``daily``: orders per day."""
    if event.fixed_uplift is not None:
        return Uplift(event, event.fixed_uplift)
    occurrences = sorted(
        (e for e in past if e.key == event.key and e.end < today and e.start < event.start),
        key=lambda e: e.start,
        reverse=True,
    )[:LEARN_YEARS]
    busy = {d for e in past for d in e.days}
    ratios, years = [], []
    for o in occurrences:
        baseline_days = [o.start - timedelta(days=i) for i in range(1, BASELINE_DAYS + 1)]
        baseline = [daily.get(d, 0) for d in baseline_days if d not in busy]
        if not baseline or not any(baseline):
            continue  # no history before it: it teaches nothing
        base = sum(baseline) / len(baseline)
        ratios.append(sum(daily.get(d, 0) for d in o.days) / len(o.days) / base)
        years.append(o.start.year)
    if not ratios:
        return Uplift(event, event.default_uplift)
    return Uplift(event, round(sum(ratios) / len(ratios), 2), tuple(sorted(years)))


def uplifts(events: list[CalendarEvent], daily: dict[date, int], today: date) -> list[Uplift]:
    """The uplift of each of ``events``, learned from ``daily`` (orders per day, over ``HISTORY_DAYS``)."""
    past = events_between(today - timedelta(days=HISTORY_DAYS), today - timedelta(days=1))
    return [learn_uplift(e, daily, today, past) for e in events]


def for_day(applied: list[Uplift], day: date) -> Uplift | None:
    """The event that sets ``day``'s forecast: a shutdown wins over a sale, then the larger uplift."""
    covering = [u for u in applied if u.event.covers(day)]
    if not covering:
        return None
    shut = [u for u in covering if u.factor < 1]
    return min(shut, key=lambda u: u.factor) if shut else max(covering, key=lambda u: u.factor)
