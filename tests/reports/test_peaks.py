"""The forecast's peak events (reports/peaks.py): the Chinese calendar's dates, uplifts learned from history or
defaulted, the shop's own events, and the forecast page showing them."""

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from fulfillment.models import Shipment
from oms.roles import MANAGER
from orders import services as order_services
from reports import peaks
from reports.forecast import location_forecasts, peak_outlook, weekly_forecast
from reports.models import PeakEvent
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, make_user, stock

pytestmark = pytest.mark.django_db


def by_key(year):
    return {e.key: (e.start, e.end) for e in peaks.built_in_events(year)}


def test_the_spring_festival_moves_every_year_and_the_sales_do_not():
    assert peaks.spring_festival(2027) == date(2027, 2, 6)
    assert peaks.spring_festival(2026) == date(2026, 2, 17)
    assert peaks.spring_festival(2028) == date(2028, 1, 26)
    assert by_key(2027) == {
        "spring_festival": (date(2027, 2, 1), date(2027, 2, 12)),  # 腊月廿五 .. 正月初七
        "618": (date(2027, 6, 18), date(2027, 6, 20)),
        "double11": (date(2027, 11, 11), date(2027, 11, 13)),
        "double12": (date(2027, 12, 12), date(2027, 12, 13)),
    }
    assert by_key(2026)["spring_festival"] == (date(2026, 2, 12), date(2026, 2, 23))


def _double11(year):
    return next(e for e in peaks.built_in_events(year) if e.key == "double11")


def test_the_uplift_is_learned_from_last_years_event_or_defaults():
    # 2025: a usual day has 10 orders (the 28 days before 11-11), 双11's three days 35 each.
    daily = {date(2025, 11, 11) - timedelta(days=i): 10 for i in range(1, 29)}
    daily.update({date(2025, 11, 11) + timedelta(days=i): 35 for i in range(3)})
    past = peaks.events_between(date(2024, 1, 1), date(2026, 12, 1))

    learned = peaks.learn_uplift(_double11(2026), daily, date(2026, 12, 1), past)
    assert (learned.factor, learned.learned_from, learned.source) == (3.5, (2025,), "learned 2025")

    # 2024 too, at 25 a day: the mean of 3.5 and 2.5.
    daily.update({date(2024, 11, 11) - timedelta(days=i): 10 for i in range(1, 29)})
    daily.update({date(2024, 11, 11) + timedelta(days=i): 25 for i in range(3)})
    both = peaks.learn_uplift(_double11(2026), daily, date(2026, 12, 1), past)
    assert (both.factor, both.learned_from) == (3.0, (2024, 2025))

    # No orders before it: nothing to learn, the default.
    nothing = peaks.learn_uplift(_double11(2026), {}, date(2026, 12, 1), past)
    assert (nothing.factor, nothing.learned_from, nothing.source) == (3.0, (), "default")


def test_a_shutdown_wins_over_a_sale_on_the_same_day():
    sale = peaks.Uplift(peaks.CalendarEvent("a", "A", date(2027, 2, 5), date(2027, 2, 7), 2.0), 2.0)
    shut = peaks.Uplift(peaks.CalendarEvent("b", "B", date(2027, 2, 1), date(2027, 2, 12), 0.15), 0.15)
    assert peaks.for_day([sale, shut], date(2027, 2, 6)) is shut
    assert peaks.for_day([sale, shut], date(2027, 2, 13)) is None


def test_event_days_are_left_out_of_the_weekday_pattern():
    start = date(2026, 3, 2)
    history = {start - timedelta(days=i): 10 for i in range(1, 57)}
    spike = start - timedelta(days=3)
    history[spike] = 500
    assert weekly_forecast(history, start, skip={spike})[0][1] == 10.0
    assert weekly_forecast(history, start)[0][1] > 10.0


def test_the_shops_own_yearly_event_with_a_set_uplift():
    PeakEvent.objects.create(name="店庆", start=date(2024, 9, 9), end=date(2024, 9, 10), uplift="2.20")
    PeakEvent.objects.create(name="old", start=date(2024, 9, 1), end=date(2024, 9, 2), yearly=False)

    found = peaks.events_between(date(2027, 9, 1), date(2027, 9, 30))

    assert [(e.name, e.start, e.end, e.fixed_uplift) for e in found] == [
        ("店庆", date(2027, 9, 9), date(2027, 9, 10), 2.2)
    ]
    assert peaks.learn_uplift(found[0], {}, date(2027, 9, 1), []).source == "set"


def _ship_on(capture, channel, n, day):
    """A real order routed to a shipment, its shipment dated ``day`` (noon, local)."""
    with capture(execute=True):
        order = order_services.order_create(channel=channel, data=canonical(f"H{n}"), source="test").order
    at = timezone.make_aware(datetime.combine(day, time(12)))
    Shipment.objects.filter(order=order).update(created_at=at)


def test_the_forecast_applies_last_years_double12_uplift(django_capture_on_commit_callbacks, client):
    sha = LocationFactory(code="sha")
    stock(sha, ProductFactory(sku="SKU-A"), 1000)
    web = ChannelFactory(slug="web")
    today = date(2026, 12, 5)
    baseline = [date(2025, 12, 12) - timedelta(days=i) for i in range(2, 29, 2)]  # 14 days of 28: 0.5 a day
    peak = [date(2025, 12, 12)] * 2 + [date(2025, 12, 13)] * 2  # 2 a day: ×4
    recent = [today - timedelta(days=i) for i in range(1, 8)]
    for n, day in enumerate(baseline + peak + recent):
        _ship_on(django_capture_on_commit_callbacks, web, n, day)
    assert Shipment.objects.count() == 25

    (fc,) = location_forecasts(today=today)

    assert sorted(fc.events) == [date(2026, 12, 12), date(2026, 12, 13)]
    uplift = fc.events[date(2026, 12, 12)]
    assert (uplift.event.key, uplift.factor, uplift.learned_from) == ("double12", 4.0, (2025,))
    history = dict(fc.history)
    double11 = {date(2026, 11, 11), date(2026, 11, 12), date(2026, 11, 13)}  # in the 8 weeks: left out
    base = dict(weekly_forecast(history, today, skip=double11))
    assert dict(fc.forecast)[date(2026, 12, 12)] == round(base[date(2026, 12, 12)] * 4.0, 1)
    assert dict(fc.forecast)[date(2026, 12, 11)] == base[date(2026, 12, 11)]
    outlook = {u.event.key: (u.event.start, u.factor, u.source) for u in peak_outlook(today=today)}
    assert outlook["double12"] == (date(2026, 12, 12), 4.0, "learned 2025")
    assert outlook["spring_festival"] == (date(2027, 2, 1), 0.15, "default")
    assert outlook["618"] == (date(2027, 6, 18), 2.5, "default")


def test_the_forecast_page_shows_the_peak_events(client):
    LocationFactory(code="sha")
    client.force_login(make_user("boss", MANAGER))

    html = client.get("/reports/forecast/").content.decode()

    assert "Peak events, next 12 months" in html
    spring = peaks.spring_festival(timezone.localdate().year + 1)
    assert "Spring Festival shutdown" in html and "Singles&#x27; Day 11.11" in html
    assert (spring - timedelta(days=5)).isoformat() in html or spring.isoformat() in html
    assert "default (no history yet)" in html
