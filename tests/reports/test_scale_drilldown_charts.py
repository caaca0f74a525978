"""Issue 8 at scale: charts leave gaps where a value is undefined, the lists behind figures counted
on packed / delivery / return days hold exactly the rows counted, the short report cache, and (on
PostgreSQL) the one-statement SQL paths agree with the ORM paths on the small world."""

from dataclasses import replace
from datetime import date
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.db.models.functions import TruncDate

from fulfillment.models import Shipment
from orders.care import ratings
from orders.models import Order
from reports import charts
from reports.kpis import REGISTRY
from reports.kpis.base import grouping_sets, is_postgres
from reports.kpis.fulfilment import shipment_cohort

from .conftest import PERIOD, at
from .test_kpis import rows
from .test_pages import manager_client, users  # noqa: F401 - fixtures
from .test_quality_kpis import _return, facts, packed  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def _num(text: str) -> int:
    return int(text.replace(",", ""))


def _list_count(client, url: str) -> int:
    path = urlsplit(url)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert path.path.startswith("/reports/kpi/")
    return response.context["count"]


# ---- charts: undefined is a gap, zero is a zero ------------------------------------------------


def test_line_chart_leaves_a_gap_for_undefined_values_and_draws_real_zeros():
    svg = charts.line_chart([("a", 50.0), ("b", None), ("c", 0.0), ("d", 100.0)], "rate")
    assert svg.count("<polyline") == 2  # a | c-d: the undefined day splits the line
    assert svg.count("<circle") == 3  # no point for b; c (a real 0) has one
    assert "b: " not in svg and "c: 0" in svg
    assert charts.line_segments([None, 1, 2, None, None, 3]) == [[1, 2], [5]]
    assert "no data" not in charts.line_chart([("a", None)], "t")  # the frame stays, with no line
    assert charts.line_chart([("a", None)], "t").count("<polyline") == 0


def test_bar_chart_draws_no_bar_for_undefined_but_a_zero_bar_for_zero():
    svg = charts.bar_chart([("x", None), ("y", 0), ("z", 4)], "count")
    assert svg.count("<rect") == 2 and "y: 0" in svg and "x: " not in svg


def test_rate_and_median_series_are_undefined_on_days_without_data(world):
    # Nothing was shipped from the orders received on Tue 03-03: lead time and fill rate are undefined.
    lead = dict(REGISTRY["lead-time"].result(PERIOD).series)
    assert lead["03-03"] is None and lead["03-02"] is not None
    fill = dict(REGISTRY["fill-rate"].result(PERIOD).series)
    assert fill["03-03"] is None and fill["03-02"] == 100.0
    on_time = dict(REGISTRY["on-time-shipping"].result(PERIOD, today=date(2026, 3, 20)).series)
    assert on_time["03-07"] is None  # a Saturday: nothing routed
    # Counts keep their real zeros.
    orders = dict(REGISTRY["orders-by-day"].result(PERIOD).series)
    assert orders["03-03"] == 0 and orders["03-02"] == 2


def test_the_kpi_page_chart_has_a_gap_not_a_zero(manager_client, world):  # noqa: F811
    body = manager_client.get("/reports/kpi/lead-time/?date_from=2026-03-02&date_to=2026-03-08").content.decode()
    assert "03-03: " not in body  # no point for the quiet day
    assert body.count("<polyline") >= 2


# ---- the list behind a figure holds exactly what the figure counted ----------------------------


def test_pick_accuracy_lists_hold_the_packed_shipments_counted(manager_client, packed):  # noqa: F811
    r = REGISTRY["pick-accuracy"].result(PERIOD)
    fx = {f.label: f for f in r.facts}
    for label in ("Shipments packed", "Packed with no mismatch", "Packed with a mismatch"):
        assert _list_count(manager_client, fx[label].url) == _num(fx[label].value), label
    for row in rows(r, 0):  # per location
        assert _list_count(manager_client, row["_url"]) == row["packed"], row
    # A narrower period: the list follows the packed day, not the received day.
    r = REGISTRY["pick-accuracy"].result(replace(PERIOD, date_from=date(2026, 3, 6)))
    fx = {f.label: f for f in r.facts}
    assert _num(fx["Shipments packed"].value) == 1
    assert _list_count(manager_client, fx["Shipments packed"].url) == 1
    body = manager_client.get(fx["Shipments packed"].url).content.decode()
    assert packed.o6.number in body and packed.o1.number not in body


def test_return_rate_lists_hold_the_delivered_orders_and_returns_counted(manager_client, world):  # noqa: F811
    _return(world.o1, 1, "damaged", at("2026-03-05", "09:00"))
    _return(world.o2, 1, "size", at("2026-03-10", "09:00"))  # after the period: not counted
    r = REGISTRY["return-rate"].result(PERIOD)
    fx = {f.label: f for f in r.facts}
    assert _list_count(manager_client, fx["Orders delivered"].url) == _num(fx["Orders delivered"].value) == 2
    assert _list_count(manager_client, fx["Returns"].url) == _num(fx["Returns"].value) == 1
    for row in rows(r, 1):  # per reason
        assert _list_count(manager_client, row["_url"]) == row["returns"]
    sku_row = rows(r, 0)[0]
    assert _list_count(manager_client, sku_row["_url"]) == 2  # the orders delivered with SKU-A
    # An order delivered after the period is not in the list (delivery day, not received day).
    r = REGISTRY["return-rate"].result(replace(PERIOD, date_to=date(2026, 3, 5)))
    fx = {f.label: f for f in r.facts}
    assert _list_count(manager_client, fx["Orders delivered"].url) == _num(fx["Orders delivered"].value) == 1


def test_return_rate_without_deliveries_has_empty_lists(manager_client, world):  # noqa: F811
    r = REGISTRY["return-rate"].result(replace(PERIOD, date_from=date(2025, 1, 1), date_to=date(2025, 1, 7)))
    fx = {f.label: f for f in r.facts}
    assert _list_count(manager_client, fx["Orders delivered"].url) == 0
    assert "Nothing behind this figure" in manager_client.get(fx["Returns"].url).content.decode()


def test_rated_orders_list_matches_the_ratings_figure(manager_client, world):  # noqa: F811
    ratings.delivery_rate(order=world.o1, score=5)
    ratings.delivery_rate(order=world.o2, score=2)
    r = REGISTRY["customer-satisfaction"].result(PERIOD)
    fx = {f.label: f for f in r.facts}
    assert _list_count(manager_client, fx["Ratings"].url) == _num(fx["Ratings"].value) == 2
    for row in rows(r, 0) + rows(r, 1):
        assert _list_count(manager_client, row["_url"]) == row["ratings"], row


def test_drilldown_pages_need_the_permission_and_a_known_part(client, users, world):  # noqa: F811
    url = "/reports/kpi/pick-accuracy/list/packed/?date_from=2026-03-02&date_to=2026-03-08"
    client.force_login(users["warehouse"])
    assert client.get(url).status_code == 403
    client.force_login(users["manager"])
    assert client.get(url).status_code == 200
    assert client.get("/reports/kpi/pick-accuracy/list/nothing/").status_code == 404
    assert client.get("/reports/kpi/orders-by-day/list/packed/").status_code == 404
    assert client.get("/reports/kpi/no-such-kpi/list/packed/").status_code == 404
    assert client.get(url + "&page=x").status_code == 200  # bad input: the first page, never a 500


# ---- the short report cache --------------------------------------------------------------------


def test_kpi_page_is_served_from_the_cache_until_recomputed(manager_client, world):  # noqa: F811
    url = "/reports/kpi/orders-by-day/?date_from=2026-03-02&date_to=2026-03-08"
    first = manager_client.get(url)
    assert first.context["section"]["result"].value == 4 and "recompute now" in first.content.decode()
    Shipment.objects.filter(order=world.o6).update(status="cancelled")
    Order.objects.filter(pk=world.o6.pk).update(status="cancelled")
    assert manager_client.get(url).context["section"]["result"].value == 4  # cached
    assert manager_client.get(url + "&fresh=1").context["section"]["result"].value == 3  # recomputed
    assert manager_client.get(url).context["section"]["result"].value == 3  # and kept
    # Other filters are another entry.
    other = manager_client.get("/reports/kpi/orders-by-day/?date_from=2026-03-02&date_to=2026-03-03")
    assert other.context["section"]["result"].value == 2


def test_the_cache_can_be_turned_off(manager_client, world, settings):  # noqa: F811
    settings.REPORTS_CACHE_SECONDS = 0
    url = "/reports/kpi/orders-by-day/?date_from=2026-03-02&date_to=2026-03-08"
    assert manager_client.get(url).context["section"]["result"].value == 4
    Order.objects.filter(pk=world.o6.pk).update(status="cancelled")
    assert manager_client.get(url).context["section"]["result"].value == 3
    assert not cache.get("reports:v1:anything")


def test_dashboard_is_cached_and_recomputed_on_request(manager_client, world):  # noqa: F811
    first = manager_client.get("/reports/dashboard/")
    assert first.status_code == 200 and "Figures as of" in first.content.decode()
    held = first.context["f"]["on_hold"]
    Order.objects.filter(pk=world.o6.pk).update(on_hold=True)
    assert manager_client.get("/reports/dashboard/").context["f"]["on_hold"] == held
    assert manager_client.get("/reports/dashboard/?fresh=1").context["f"]["on_hold"] == held + 1


# ---- PostgreSQL: the one-statement paths agree with the ORM paths ------------------------------


@pytest.mark.postgres
def test_sql_paths_agree_with_the_orm_paths(world):
    assert is_postgres("default")
    lt = REGISTRY["lead-time"]
    for f in (PERIOD, replace(PERIOD, location=world.sha.pk)):
        cohort = shipment_cohort(f, "default")
        shipped = cohort.filter(shipped_at__isnull=False)
        overall, waiting, by_loc, by_day = lt._grouped_sql(cohort)
        assert overall == lt._durations(shipped)
        assert waiting == cohort.filter(shipped_at__isnull=True).count()
        assert by_loc == lt._by(shipped, "location_id")
        assert by_day == lt._by(shipped.annotate(day=TruncDate("order__created_at")), "day")
    assert grouping_sets(
        Order.objects.values_list("channel_id", "total"),
        ["channel_id", "total"],
        [(), ("channel_id",)],
        {"n": "COUNT(*)"},
        "default",
    )[0] == [{"channel_id": None, "n": Order.objects.count()}]  # the total row: grouped columns are NULL


@pytest.mark.postgres
@pytest.mark.parametrize("slug", ["lead-time"])
def test_each_rewritten_kpi_shows_the_same_page_on_both_paths(world, monkeypatch, slug):
    """The PostgreSQL statements against the portable ORM/Python path, whole results compared."""
    from reports.kpis import fulfilment

    _return(world.o1, 1, "damaged", at("2026-03-05", "09:00"))
    kpi = REGISTRY[slug]
    filters = [PERIOD, replace(PERIOD, location=world.sha.pk), replace(PERIOD, channel=world.app.pk)]
    fast = [kpi.result(f) for f in filters]
    monkeypatch.setattr(fulfilment, "is_postgres", lambda db: False)
    portable = [kpi.result(f) for f in filters]
    for a, b in zip(fast, portable, strict=True):
        assert (a.value, a.display) == (b.value, b.display)
        assert [(x.label, x.value, x.url) for x in a.facts] == [(x.label, x.value, x.url) for x in b.facts]
        assert [t.rows for t in a.tables] == [t.rows for t in b.tables]
        assert a.series == b.series


def test_bar_labels_fit_their_slot_and_say_when_they_are_cut():
    few = charts.bar_chart([("Delivery attempt failed", 2), ("Exception", 1)], "t")
    assert ">Delivery attempt failed<" in few  # two bars: room for the whole label
    many = charts.bar_chart([(f"Carrier number {i} long name", i) for i in range(12)], "t")
    assert ">Carrier number 0 …<" in many and "long name<" not in many  # rotated: 18 characters at most
