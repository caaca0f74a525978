"""Each KPI on the small world of conftest.py, with answers worked out by hand."""

from dataclasses import replace
from datetime import date, time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from inventory.models import Location, StockMovement
from inventory.services import StockRequest, stock_adjust, stock_receive, stock_reserve, stock_ship
from reports.kpis import NO_DATA_SOURCE, REGISTRY, Filters, Kpi
from reports.kpis.base import percentile
from reports.kpis.fulfilment import next_working_day, ship_due
from tests.factories import LocationFactory, ProductFactory

from .conftest import PERIOD, at

pytestmark = pytest.mark.django_db

EMPTY = Filters(date_from=date(2025, 1, 1), date_to=date(2025, 1, 7))


def kpi(slug):
    return REGISTRY[slug]


def rows(result, table=0):
    return result.tables[table].rows


def strip(row):
    return {k: v for k, v in row.items() if k != "_url"}


def query(url):
    parts = urlsplit(url)
    return parts.path, parse_qs(parts.query)


# ---- orders and revenue ----------------------------------------------------------------------


def test_orders_by_day_counts_received_orders_without_cancelled_and_later_ones(world):
    r = kpi("orders-by-day").result(PERIOD)
    assert r.value == 4  # O1, O2, O3, O6; O4 is cancelled, O5 came after the period
    by_day = {row["day"]: (row["orders"], row["revenue"]) for row in rows(r)}
    assert len(by_day) == 7
    assert by_day["2026-03-02"] == (2, Decimal("30.00"))
    assert by_day["2026-03-04"] == (1, Decimal("30.00"))
    assert by_day["2026-03-06"] == (1, Decimal("10.00"))
    assert by_day["2026-03-03"] == (0, Decimal("0.00"))
    assert [f.value for f in r.facts] == ["4", "70.00", "17.50"]
    assert r.series[0] == ("03-02", 2)


def test_orders_by_day_drills_down_to_the_orders_list_with_the_same_filters(world):
    r = kpi("orders-by-day").result(replace(PERIOD, channel=world.web.pk))
    assert r.value == 3
    path, q = query(rows(r)[0]["_url"])
    assert path == "/orders/"
    assert q["created_after"] == ["2026-03-02"] and q["created_before"] == ["2026-03-02"]
    assert q["channel"] == [str(world.web.pk)]
    assert "cancelled" not in q["status"] and "delivered" in q["status"]


def test_orders_by_channel_region_and_product(world):
    r = kpi("orders-by-channel").result(PERIOD)
    assert [strip(x) for x in rows(r)] == [
        {"channel": "Web shop", "orders": 3, "revenue": Decimal("60.00")},
        {"channel": "App", "orders": 1, "revenue": Decimal("10.00")},
    ]
    r = kpi("orders-by-region").result(PERIOD)
    assert [(x["region"], x["orders"], x["revenue"]) for x in rows(r)] == [
        ("Shanghai", 3, Decimal("60.00")),
        ("Guangdong", 1, Decimal("10.00")),
    ]
    assert query(rows(r)[1]["_url"])[1]["province"] == ["Guangdong"]
    r = kpi("orders-by-product").result(PERIOD)
    assert [strip(x) for x in rows(r)] == [
        {"sku": "SKU-A", "units": 4, "orders": 3, "revenue": Decimal("40.00")},
        {"sku": "SKU-B", "units": 3, "orders": 1, "revenue": Decimal("30.00")},
    ]
    assert r.value == 7


def test_location_and_carrier_filters(world):
    assert kpi("orders-by-day").result(replace(PERIOD, location=world.can.pk)).value == 1
    assert kpi("orders-by-day").result(replace(PERIOD, carrier=world.sf.carrier_id)).value == 1


def test_the_drilldown_list_shows_exactly_the_orders_behind_the_figure(world, admin_client):
    r = kpi("orders-by-region").result(PERIOD)
    body = admin_client.get(rows(r)[0]["_url"]).content.decode()
    assert world.o1.number in body and world.o3.number in body and world.o6.number in body
    assert world.o2.number not in body and world.o4.number not in body and world.o5.number not in body
    body = admin_client.get(kpi("orders-by-day").result(replace(PERIOD, carrier=world.sf.carrier_id)).facts[0].url)
    body = body.content.decode()
    assert world.o3.number in body and world.o1.number not in body


# ---- fulfilment ------------------------------------------------------------------------------


def test_lead_time_median_and_p90_received_to_shipped(world):
    r = kpi("lead-time").result(PERIOD)
    # O1 4 h, O2 20 h, O3 16 h; O6 not shipped.
    assert r.value == 16.0
    facts = {f.label: f.value for f in r.facts}
    assert facts["90th percentile"] == "19.2 h"
    assert facts["Shipped shipments"] == "3" and facts["Not shipped yet"] == "1"
    assert {x["location"]: (x["shipments"], x["median"], x["p90"]) for x in rows(r)} == {
        "can": (1, 20.0, 20.0),
        "sha": (2, 10.0, 14.8),
    }


def test_percentile_matches_percentile_cont():
    assert percentile([4, 16, 20], 0.9) == pytest.approx(19.2)
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7


def test_ship_due_day_against_the_cut_off_and_working_days():
    loc = Location(code="x", cutoff_time=time(16, 0))
    assert ship_due(loc, date(2026, 3, 2), True) == date(2026, 3, 2)  # Monday before the cut-off
    assert ship_due(loc, date(2026, 3, 2), False) == date(2026, 3, 3)  # after: Tuesday
    assert ship_due(loc, date(2026, 3, 6), False) == date(2026, 3, 9)  # Friday after: Monday
    assert ship_due(loc, date(2026, 3, 7), True) == date(2026, 3, 9)  # Saturday: Monday
    weekend_shop = Location(code="y", opening_hours={"sat": ["10:00", "18:00"]})
    assert next_working_day(weekend_shop, date(2026, 3, 2)) == date(2026, 3, 7)


def test_on_time_shipping_against_the_cut_off(world):
    # O1 Mon 10:00 < 16:00, shipped Mon: on time. O2 Mon 15:00 < 17:00 (can), shipped Tue: late.
    # O3 Wed 17:00 > 16:00, due Thu, shipped Thu: on time. O6 Fri 18:00, due Mon 03-09, not shipped.
    r = kpi("on-time-shipping").result(PERIOD, today=date(2026, 3, 8))
    assert r.value == 66.7
    facts = {f.label: f.value for f in r.facts}
    assert (facts["On time"], facts["Shipped late"], facts["Not shipped, past due"], facts["Not due yet"]) == (
        "2",
        "1",
        "0",
        "1",
    )
    r = kpi("on-time-shipping").result(PERIOD, today=date(2026, 3, 10))
    assert r.value == 50.0  # O6 is now past due and not shipped: late
    Location.objects.filter(pk=world.can.pk).update(cutoff_time=None)
    r = kpi("on-time-shipping").result(PERIOD, today=date(2026, 3, 8))
    assert r.value == 100.0
    assert {f.label: f.value for f in r.facts}["No cut-off set"] == "1"


def test_fill_rate_first_shipment(world):
    r = kpi("fill-rate").result(PERIOD)
    assert r.value == 100.0
    facts = {f.label: f.value for f in r.facts}
    assert facts["Units ordered"] == "6" and facts["Units on first shipment"] == "6"
    assert facts["Orders shipped"] == "3" and facts["Orders not shipped yet"] == "1"


def test_backlog_ageing_buckets_open_orders_by_age(world):
    r = kpi("backlog-ageing").result(PERIOD, today=date(2026, 3, 10))
    by_age = {x["age"]: x["orders"] for x in rows(r)}
    assert by_age == {"Today": 0, "1 day": 1, "2 days": 0, "3–6 days": 1, "7–13 days": 0, "14 days or more": 0}
    assert r.value == 2
    path, q = query(rows(r)[3]["_url"])
    assert q["created_after"] == ["2026-03-04"] and q["created_before"] == ["2026-03-07"]


# ---- delivery --------------------------------------------------------------------------------


def test_on_time_delivery_against_the_promise(world):
    # O1 delivered 03-04, promised 03-05: on time. O2 delivered 03-06, promised 03-04: late.
    # O3 not delivered, promised 03-06: late once today is past it. O6: no promise date.
    r = kpi("on-time-delivery").result(PERIOD, today=date(2026, 3, 8))
    assert r.value == 33.3
    facts = {f.label: f.value for f in r.facts}
    assert facts["Delivered on time"] == "1" and facts["Delivered late"] == "1"
    assert facts["Not delivered, past promise"] == "1" and facts["Not yet delivered"] == "0"
    assert facts["No promise date"] == "1"
    r = kpi("on-time-delivery").result(PERIOD, today=date(2026, 3, 5))
    assert r.value == 50.0  # O3 not yet due: counted apart as not yet delivered
    assert {f.label: f.value for f in r.facts}["Not yet delivered"] == "1"


def test_logistics_cost_per_order_carrier_and_region(world):
    r = kpi("logistics-cost").result(PERIOD)
    assert r.value == Decimal("11.90")  # (9.60 + 9.60 + 16.50) / 3
    assert {x["name"]: (x["parcels"], x["cost"]) for x in rows(r, 0)} == {
        "Local Express": (2, Decimal("19.20")),
        "SF Express": (1, Decimal("16.50")),
    }
    assert {x["name"]: x["cost"] for x in rows(r, 1)} == {"Shanghai": Decimal("26.10"), "Guangdong": Decimal("9.60")}


def test_carrier_scorecard(world):
    r = kpi("carrier-scorecard").result(PERIOD, today=date(2026, 3, 8))
    card = {x["carrier"]: strip(x) for x in rows(r)}
    assert card["Local Express"] == {
        "carrier": "Local Express",
        "parcels": 2,
        "on_time": 1,
        "late": 1,
        "rate": "50.0 %",
        "transit": 2.46,  # (46 h + 72 h) / 2 / 24
        "exceptions": 1,
        "exception_rate": "50.0 %",
        "cost": Decimal("19.20"),
        "per_parcel": Decimal("9.60"),
    }
    assert card["SF Express"]["rate"] == "–"  # expected 03-09, not due yet
    assert card["SF Express"]["exceptions"] == 1 and card["SF Express"]["transit"] is None
    assert r.value == 50.0


def test_exception_rate_by_type_carrier_and_location(world):
    r = kpi("exception-rate").result(PERIOD)
    assert r.value == 66.7
    assert [(x["type"], x["events"], x["parcels"]) for x in rows(r, 0)] == [
        ("Exception", 1, 1),
        ("Delivery attempt failed", 1, 1),
    ]
    assert {x["name"]: x["rate"] for x in rows(r, 2)} == {"can": "100.0 %", "sha": "50.0 %"}


# ---- inventory -------------------------------------------------------------------------------


def _place_last_movement(when):
    StockMovement.objects.filter(pk=StockMovement.objects.order_by("-pk").values("pk")[:1]).update(created_at=when)


def test_stock_out_days_and_turnover_from_the_ledger():
    loc = LocationFactory(code="ledger")
    p, q = ProductFactory(sku="P-1"), ProductFactory(sku="Q-1")
    stock_receive(location=loc, product=p, quantity=5, reason="t")
    _place_last_movement(at("2026-02-20", "10:00"))
    stock_adjust(location=loc, product=p, delta=-5, reason="damaged", reason_code="damaged")
    _place_last_movement(at("2026-03-03", "10:00"))
    stock_receive(location=loc, product=p, quantity=4, reason="t")
    _place_last_movement(at("2026-03-05", "10:00"))
    stock_reserve(requests=[StockRequest(loc.pk, p.pk, 2)], reference="R1")
    _place_last_movement(at("2026-03-05", "11:00"))
    stock_ship(requests=[StockRequest(loc.pk, p.pk, 2)], reference="S1")
    _place_last_movement(at("2026-03-06", "11:00"))
    stock_receive(location=loc, product=q, quantity=10, reason="t")  # first seen mid-period
    _place_last_movement(at("2026-03-06", "12:00"))
    f = replace(PERIOD, location=loc.pk)
    r = REGISTRY["stock-out-days"].result(f, today=date(2026, 3, 10))
    assert r.value == 2  # P ends 03-03 and 03-04 with nothing available
    assert [strip(x) for x in rows(r)] == [{"sku": "P-1", "location": "ledger", "days": 2, "of": 7}]
    assert {x.label: x.value for x in r.facts}["Share of pair-days"] == "20.0 %"  # 2 of 7 + 3
    r = REGISTRY["stock-turnover"].result(f, today=date(2026, 3, 10))
    # P: on hand 5,0,0,4,2,2,2 -> mean 15/7; shipped 2. Q: 10,10,10 -> mean 10.
    assert r.value == 0.16
    assert {x["sku"]: x["turns"] for x in rows(r)} == {"P-1": 0.93, "Q-1": 0.0}
    # Days after today are not counted.
    r = REGISTRY["stock-out-days"].result(f, today=date(2026, 3, 3))
    assert rows(r)[0]["of"] == 2


# ---- edge cases ------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", sorted(REGISTRY))
def test_every_kpi_on_a_period_without_orders(world, slug):
    r = REGISTRY[slug].result(EMPTY)
    if not r.available:
        assert r.value is None and NO_DATA_SOURCE in r.note
        return
    if slug in ("backlog-ageing", "stock-out-days", "stock-turnover"):
        return  # as of now / the ledger, not the orders of the period
    assert r.value in (0, None)
    assert all(not t.rows or all(not row.get("orders") for row in t.rows) for t in r.tables)


def test_on_an_empty_database_every_kpi_answers():
    for k in REGISTRY.values():
        r = k.result(PERIOD)
        assert r.value in (0, None), k.slug


class _Waiting(Kpi):
    slug = "waiting-example"
    title = "Waiting example"
    unit = "%"
    formula = "Something the OMS does not record yet."
    numerator = "n"
    denominator = "d"
    waiting_for = "survey answers"


def test_a_waiting_kpi_is_listed_with_its_formula_and_never_shows_a_number():
    k = _Waiting()
    assert k.status == "waiting for data: survey answers"
    r = k.result(PERIOD)
    assert r.available is False and r.value is None and r.note.startswith(NO_DATA_SOURCE)


def test_pick_accuracy_return_rate_and_satisfaction_are_live():
    for slug in ("pick-accuracy", "return-rate", "customer-satisfaction"):
        assert REGISTRY[slug].status == "live", slug
        assert REGISTRY[slug].denominator and REGISTRY[slug].statuses, slug
    # Their known answers, including a return after the period: tests/reports/test_quality_kpis.py.


def test_every_live_kpi_documents_its_definition():
    for k in REGISTRY.values():
        assert k.title and k.formula and k.unit and k.timestamps, k.slug
        assert k.numerator, k.slug


def test_exception_rate_counts_the_cases_opened_for_the_cohort(world, client):
    from logistics.cases import services as case_services
    from logistics.models import ExceptionCase
    from tests import journey

    client.force_login(journey.users()["manager"])

    ExceptionCase.objects.all().delete()  # whatever detection opened while the world was built
    case_services.case_open(order=world.o3, case_type="damaged", summary="box crushed", detected_by="staff")
    lost, _ = case_services.case_open(order=world.o2, case_type="lost", summary="no scan", detected_by="staff")
    case_services.case_open(order=world.o1, case_type="lost", summary="no scan", detected_by="staff")
    case_services.case_resolve(case=lost, root_cause="carrier", resolution="found at the depot")
    case_services.case_open(order=world.o5, case_type="lost", summary="after the period", detected_by="staff")
    r = kpi("exception-rate").result(PERIOD)
    cases = {x["type"]: x for x in rows(r, 3)}
    assert {t: (x["cases"], x["open"], x["orders"], x["per_100"]) for t, x in cases.items()} == {
        "Lost": (2, 1, 2, "50.0"),  # o1 and o2 of the four orders received (o4 cancelled, o5 later)
        "Damaged": (1, 1, 1, "25.0"),
    }
    listed = client.get(cases["Lost"]["_url"])
    assert listed.status_code == 200
    assert {o.number for o in listed.context["rows"]} == {world.o1.number, world.o2.number}
    r_app = kpi("exception-rate").result(replace(PERIOD, channel=world.app.pk))
    assert [(x["type"], x["cases"]) for x in rows(r_app, 3)] == [("Lost", 1)]
