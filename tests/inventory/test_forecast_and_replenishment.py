"""Forecast and reorder arithmetic on known series; demand attribution from real orders;
suggestions, transfers instead of purchases, and low-stock alerts."""

import math
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from inventory import forecast, replenishment, services
from inventory.demand import daily_series, demand_by_day
from inventory.forecast import WeeklyForecast
from inventory.selectors import low_stock_alerts
from inventory.services import StockRequest
from orders import services as order_services
from orders.status import HoldReason
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, stock
from workflows.cancel import order_cancel

PATTERN = [10, 12, 8, 9, 15, 30, 20]  # Monday first


def test_an_exact_weekly_pattern_is_reproduced_exactly():
    start = date(2026, 1, 7)  # a Wednesday: the series does not begin on Monday
    series = [PATTERN[(start.weekday() + i) % 7] for i in range(8 * 7)]
    model = forecast.fit_weekly(series, start=start)
    after = start + timedelta(days=len(series))
    predicted = model.predict(after, 14)
    assert predicted == pytest.approx([PATTERN[(after.weekday() + i) % 7] for i in range(14)], abs=1e-9)
    assert model.sigma == pytest.approx(0, abs=1e-9)
    assert model.mean_daily == pytest.approx(sum(PATTERN) / 7)


def test_a_step_in_level_is_followed_by_exponential_smoothing():
    series = [10.0] * 28 + [20.0] * 28
    model = forecast.fit_weekly(series, start=date(2026, 1, 5), alpha=0.2)
    assert model.factors == (1.0,) * 7
    assert model.level == pytest.approx(20 - 10 * 0.8**28)
    # one-step errors: 0 for 28 days, then 10 * 0.8**k for k = 0..27
    expected_sigma = math.sqrt(sum((10 * 0.8**k) ** 2 for k in range(28)) / 56)
    assert model.sigma == pytest.approx(expected_sigma)


def test_no_history_forecasts_nothing_and_zero_days_keep_the_level():
    assert forecast.fit_weekly([], start=date(2026, 1, 5)) == WeeklyForecast(0.0, (1.0,) * 7, 0.0, 0)
    closed_sundays = [6, 6, 6, 6, 6, 6, 0] * 4  # starts on a Monday
    model = forecast.fit_weekly(closed_sundays, start=date(2026, 1, 5))
    assert model.factors[6] == 0 and model.factors[0] == pytest.approx(7 / 6)
    assert model.predict(date(2026, 2, 2), 7) == pytest.approx(closed_sundays[:7])


def test_naive_baseline_and_error_measures():
    series = list(range(1, 15))
    assert forecast.naive_same_weekday(series, 9) == [8, 9, 10, 11, 12, 13, 14, 8, 9]
    assert forecast.naive_same_weekday([1, 2], 3) == [0.0, 0.0, 0.0]
    assert forecast.mean_absolute_error([1, 2, 3], [2, 2, 5]) == 1
    assert forecast.weighted_absolute_percentage_error([1, 2, 3], [2, 2, 5]) == 0.5
    assert forecast.weighted_absolute_percentage_error([0, 0], [1, 1]) == 0.0


def test_reorder_point_and_suggested_quantity_arithmetic():
    assert replenishment.z_for(0.95) == pytest.approx(1.644853627)
    rop = replenishment.reorder_point(mean_daily=10, sigma_daily=4, lead_time_days=9, service_level=0.95)
    assert rop == pytest.approx(90 + 1.644853627 * 4 * 3)  # 109.738...
    assert replenishment.suggested_quantity(reorder_point=rop, mean_daily=10, cover_days=14, position=100) == 150
    assert replenishment.suggested_quantity(reorder_point=rop, mean_daily=10, cover_days=14, position=110) == 140
    assert replenishment.suggested_quantity(reorder_point=rop, mean_daily=10, cover_days=14, position=111) == 0
    with pytest.raises(ValueError, match="between 0 and 1"):
        replenishment.z_for(1.0)


# ---- from the database ----------------------------------------------------------------------


@pytest.fixture
def w():
    sha = LocationFactory(code="sha", latitude=31.23, longitude=121.47)
    can = LocationFactory(code="can", latitude=23.13, longitude=113.26)
    a = ProductFactory(sku="SKU-A", lead_time_days=9)
    b = ProductFactory(sku="SKU-B")
    channel = ChannelFactory(slug="web")
    channel.locations.set([sha, can])
    return {"sha": sha, "can": can, "a": a, "b": b, "channel": channel}


def _order(w, capture, external_id, lines, day, **kw):
    placed = timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=10))
    with capture(execute=True):
        return order_services.order_create(
            channel=w["channel"], data=canonical(external_id, lines=lines, placed_at=placed, **kw), source="test"
        ).order


@pytest.mark.django_db
def test_demand_counts_what_was_asked_for_where_it_shipped_or_would_have(w, django_capture_on_commit_callbacks):
    stock(w["can"], w["a"], 10)
    d1, d2 = date(2026, 3, 2), date(2026, 3, 3)
    _order(w, django_capture_on_commit_callbacks, "E1", [("SKU-A", 3)], d1)  # routed to can (the only stock)
    held = _order(w, django_capture_on_commit_callbacks, "E2", [("SKU-A", 50)], d1)  # stock short: held
    assert held.holds.get().reason == HoldReason.STOCK_SHORT
    _order(w, django_capture_on_commit_callbacks, "E3", [("SKU-B", 2)], d2)  # no stock anywhere: held too
    fake = _order(w, django_capture_on_commit_callbacks, "E4", [("SKU-B", 7)], d2)
    order_services.order_hold(order=fake, reason=HoldReason.DUPLICATE, note="same as E3")
    order_cancel(order=fake, reason="duplicate")  # never real: not demand
    gone = _order(w, django_capture_on_commit_callbacks, "E5", [("SKU-A", 1)], d2)
    order_cancel(order=gone, reason="changed mind")  # asked for, then cancelled: demand
    _order(w, django_capture_on_commit_callbacks, "E6", [("SKU-A", 4)], d2 + timedelta(days=1))  # outside

    demand = demand_by_day(start=d1, end=d2)
    a_can, a_sha, b_can = (w["can"].pk, w["a"].pk), (w["sha"].pk, w["a"].pk), (w["can"].pk, w["b"].pk)
    # unrouted lines go to the first location serving the channel by code: "can"
    assert demand == {a_can: {d1: 3 + 50, d2: 1}, b_can: {d2: 2}}
    assert a_sha not in demand
    assert daily_series(demand[a_can], start=d1 - timedelta(days=1), end=d2) == [0, 53, 1]


@pytest.mark.django_db
def test_suggestions_buy_or_transfer_from_a_location_with_excess(w):
    stock(w["sha"], w["a"], 400)
    stock(w["can"], w["a"], 30)
    stock(w["can"], w["b"], 5)
    services.stock_reserve(requests=[StockRequest(w["can"].pk, w["a"].pk, 10)], reference="O1")
    fitted = {
        (w["can"].pk, w["a"].pk): WeeklyForecast(10.0, (1.0,) * 7, 4.0, 84),
        (w["sha"].pk, w["a"].pk): WeeklyForecast(1.0, (1.0,) * 7, 0.0, 84),
        (w["can"].pk, w["b"].pk): WeeklyForecast(2.0, (1.0,) * 7, 1.0, 84),
    }
    rows = {(r.location, r.sku): r for r in replenishment.suggestions(fitted=fitted, service_level=0.95, cover_days=14)}
    can_a = rows[("can", "SKU-A")]
    # lead time 9 days (product): rop = 90 + 1.645*4*3 = 109.7 -> 110; position 20; qty = 110 + 140 - 20
    assert (can_a.reorder_point, can_a.available, can_a.quantity) == (110, 20, 230)
    assert (can_a.action, can_a.transfer_from) == ("transfer", "sha")  # sha: 400 - rop 9 = 391 spare
    sha_a = rows[("sha", "SKU-A")]
    assert (sha_a.reorder_point, sha_a.quantity, sha_a.action) == (9, 0, "ok")
    can_b = rows[("can", "SKU-B")]
    # default lead time 7: rop = 14 + 1.645*1*sqrt(7) = 18.35 -> 19; qty = 19 + 28 - 5 = 42; nobody has spare B
    assert (can_b.reorder_point, can_b.quantity, can_b.action) == (19, 42, "buy")


@pytest.mark.django_db
def test_stock_in_transit_counts_toward_the_position(w):
    stock(w["sha"], w["a"], 300)
    services.transfer_dispatch(from_location=w["sha"], to_location=w["can"], lines=[(w["a"], 200)])
    fitted = {(w["can"].pk, w["a"].pk): WeeklyForecast(10.0, (1.0,) * 7, 4.0, 84)}
    rows = {(r.location, r.sku): r for r in replenishment.suggestions(fitted=fitted)}
    assert (rows[("can", "SKU-A")].in_transit, rows[("can", "SKU-A")].quantity) == (200, 0)


@pytest.mark.django_db
def test_low_stock_alerts_by_threshold_and_by_days_of_cover(w):
    stock(w["sha"], w["a"], 5)
    stock(w["can"], w["a"], 40)
    stock(w["can"], w["b"], 50)
    services.stock_rule_set(location=w["sha"], product=w["a"], low_stock_threshold=5)
    services.stock_rule_set(location=w["can"], product=w["a"], min_days_of_cover=7)
    services.stock_rule_set(location=w["can"], product=w["b"], low_stock_threshold=10, min_days_of_cover=3)
    alerts = low_stock_alerts(daily_demand={(w["can"].pk, w["a"].pk): 8.0, (w["can"].pk, w["b"].pk): 1.0})
    assert [(a["location"], a["sku"], a["available"], a["reason"]) for a in alerts] == [
        ("sha", "SKU-A", 5, "available 5 ≤ threshold 5"),
        ("can", "SKU-A", 40, "5.0 days of cover < 7"),
    ]


@pytest.mark.django_db
def test_low_stock_digest_is_mailed_to_the_managers(w, mailoutbox):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from inventory.tasks import send_low_stock_alerts

    boss = get_user_model().objects.create(username="boss", email="boss@example.com")
    boss.groups.add(Group.objects.get(name="manager"))
    get_user_model().objects.create(username="picker", email="picker@example.com").groups.add(
        Group.objects.get(name="warehouse")
    )
    assert send_low_stock_alerts() == 0  # nothing low: no mail
    stock(w["sha"], w["a"], 3)
    services.stock_rule_set(location=w["sha"], product=w["a"], low_stock_threshold=5)
    assert send_low_stock_alerts.delay().get() == 1
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["boss@example.com"] and mail.subject == "Low stock: 1 product(s)"
    assert "SKU-A" in mail.body and "available 3 ≤ threshold 5" in mail.body


@pytest.mark.django_db
def test_unrouted_fresh_demand_goes_to_a_serving_location_that_can_keep_it_cold(w, django_capture_on_commit_callbacks):
    from inventory.models import HandlingClass

    ProductFactory(sku="FRESH-1", handling_class=HandlingClass.FRESH)
    w["sha"].cold_chain = True
    w["sha"].save()
    day = date(2026, 3, 2)
    _order(w, django_capture_on_commit_callbacks, "F1", [("FRESH-1", 2)], day)  # no stock: held, not routed
    fresh = ProductFactory(sku="FRESH-1")
    assert demand_by_day(start=day, end=day) == {(w["sha"].pk, fresh.pk): {day: 2}}  # "can" comes first but is warm
    rows = replenishment.suggestions(fitted={(w["can"].pk, fresh.pk): WeeklyForecast(5.0, (1.0,) * 7, 1.0, 84)})
    assert [(r.location, r.sku) for r in rows] == []  # never suggest fresh stock for a warm location
