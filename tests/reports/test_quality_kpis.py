"""Pick accuracy, return rate and customer satisfaction on the small world of conftest.py, with
pack mismatches, returns and ratings made with the real services, then placed in time."""

from dataclasses import replace
from datetime import date

import pytest
from django.contrib.auth import get_user_model

from fulfillment import packing
from fulfillment import services as fulfillment_services
from fulfillment.models import PackMismatch, Shipment
from orders.care import ratings, returns
from orders.models import ReturnRequest
from reports.kpis import REGISTRY, Filters

from .conftest import PERIOD, at
from .test_kpis import query, rows, strip

pytestmark = pytest.mark.django_db

EMPTY = Filters(date_from=date(2025, 1, 1), date_to=date(2025, 1, 7))


def facts(result):
    return {f.label: f.value for f in result.facts}


# ---- pick accuracy ---------------------------------------------------------------------------


@pytest.fixture
def packed(world):
    """O1, O2, O3 packed clean (by the world); O6 packed after a wrong and a surplus scan on a
    pick list made by "lin"; O5 reported short and not packed. Packed: O1 Mon, O2 Tue, O3 Thu,
    O6 Sat; O5's short report on Sun."""
    lin = get_user_model().objects.create_user("lin", password="x")
    s6 = world.o6.shipments.get()
    fulfillment_services.picklist_create(location=s6.location, user=lin, shipment_ids=[s6.pk])
    assert packing.pack_scan(shipment=s6, code="SKU-B").kind == "wrong"
    assert packing.pack_scan(shipment=s6, code="SKU-A").kind == "complete"
    assert packing.pack_scan(shipment=s6, code="SKU-A").kind == "surplus"
    packing.pack_complete(shipment=s6, weight_g=400)
    s5 = world.o5.shipments.get()
    packing.pack_report_short(shipment=s5)
    PackMismatch.objects.filter(shipment=s5).update(created_at=at("2026-03-08", "10:00"))
    for order, when in (
        (world.o1, at("2026-03-02", "13:00")),
        (world.o2, at("2026-03-03", "10:00")),
        (world.o3, at("2026-03-05", "08:00")),
        (world.o6, at("2026-03-07", "09:00")),
    ):
        Shipment.objects.filter(order=order).update(packed_at=when)
    return world


def test_pick_accuracy_shipments_packed_without_mismatch(packed):
    r = REGISTRY["pick-accuracy"].result(PERIOD)
    assert r.available and r.value == 75.0  # 3 of 4 packed shipments without a mismatch (O6 had two)
    fx = facts(r)
    assert (fx["Shipments packed"], fx["Packed with no mismatch"], fx["Packed with a mismatch"]) == ("4", "3", "1")
    assert fx["Mismatches on them"] == "2"
    assert fx["Mismatches on shipments not packed yet"] == "1"  # O5 short, not packed
    assert [strip(x) for x in rows(r, 0)] == [
        {"location": "can", "packed": 1, "accurate": 1, "mismatched": 0, "rate": "100.0 %"},
        {"location": "sha", "packed": 3, "accurate": 2, "mismatched": 1, "rate": "66.7 %"},
    ]
    by_user = {x["user"]: (x["packed"], x["mismatched"]) for x in rows(r, 1)}
    assert by_user["lin"] == (1, 1)
    assert sum(v[0] for v in by_user.values()) == 4
    assert [strip(x) for x in rows(r, 2)] == [
        {"kind": "Wrong item", "mismatches": 1, "units": 1, "shipments": 1},
        {"kind": "Surplus item", "mismatches": 1, "units": 1, "shipments": 1},
    ]
    assert dict(r.series)["03-07"] == 0 and dict(r.series)["03-02"] == 100.0


def test_pick_accuracy_agrees_with_the_pack_station_helper(packed):
    packed_ids = Shipment.objects.filter(packed_at__gte=PERIOD.start, packed_at__lt=PERIOD.end).values("pk")
    helper = packing.pick_accuracy(PackMismatch.objects.filter(shipment__in=packed_ids), 4)
    assert helper["accuracy"] == 0.75 and helper["by_kind"] == {"wrong": 1, "surplus": 1, "short": 0}
    assert REGISTRY["pick-accuracy"].result(PERIOD).value == round(100 * helper["accuracy"], 1)


def test_pick_accuracy_filters_days_and_drilldown(packed):
    k = REGISTRY["pick-accuracy"]
    assert k.result(replace(PERIOD, location=packed.can.pk)).value == 100.0
    assert k.result(replace(PERIOD, date_from=date(2026, 3, 6))).value == 0.0  # only O6 packed on/after 03-06
    assert k.result(replace(PERIOD, date_to=date(2026, 3, 6))).value == 100.0
    path, q = query(rows(k.result(PERIOD), 0)[1]["_url"])
    assert path == "/reports/kpi/pick-accuracy/list/packed/" and q["location"] == [str(packed.sha.pk)]
    assert q["date_from"] == ["2026-03-02"] and q["date_to"] == ["2026-03-08"]


def test_pick_accuracy_without_packed_shipments(world):
    r = REGISTRY["pick-accuracy"].result(EMPTY)
    assert r.value is None and r.display == "–"
    assert all(not t.rows for t in r.tables)
    # The world packs with "now" as packed_at: nothing was packed in March 2026.
    assert REGISTRY["pick-accuracy"].result(PERIOD).value is None


# ---- return rate -----------------------------------------------------------------------------


def _return(order, quantity, reason, when):
    line = order.lines.get()
    ret = returns.return_create(order=order, lines={line.pk: quantity}, reason=reason)
    ReturnRequest.objects.filter(pk=ret.pk).update(created_at=when)
    return ret


def test_return_rate_counts_returns_opened_in_the_period_of_orders_delivered_in_it(world):
    # Delivered in the period: O1 (A×2, 03-04) and O2 (A×1, 03-06): 3 units.
    # O1 returns 1 unit on 03-05 (damaged); O2 returns 1 unit on 03-10, after the period.
    _return(world.o1, 1, "damaged", at("2026-03-05", "09:00"))
    late = _return(world.o2, 1, "size", at("2026-03-10", "09:00"))
    k = REGISTRY["return-rate"]
    r = k.result(PERIOD)
    assert r.available and r.value == 33.3
    fx = facts(r)
    assert (fx["Orders delivered"], fx["Units delivered"], fx["Units returned"], fx["Returns"]) == ("2", "3", "1", "1")
    assert fx["Returned after the period (not counted)"] == "1"
    assert [strip(x) for x in rows(r, 0)] == [{"sku": "SKU-A", "delivered": 3, "returned": 1, "rate": "33.3 %"}]
    assert [strip(x) for x in rows(r, 1)] == [
        {"reason": "Arrived damaged", "returns": 1, "units": 1, "share": "33.3 %"}
    ]
    assert r.series == [("Arrived damaged", 1)]
    path, q = query(rows(r, 1)[0]["_url"])
    assert path == "/reports/kpi/return-rate/list/returns/" and q["reason"] == ["damaged"]
    path, q = query(rows(r, 0)[0]["_url"])
    assert path == "/reports/kpi/return-rate/list/delivered/" and q["sku"] == ["SKU-A"]
    # The same return placed inside the period counts; a cancelled return never does.
    ReturnRequest.objects.filter(pk=late.pk).update(created_at=at("2026-03-08", "20:00"))
    r = k.result(PERIOD)
    assert r.value == 66.7
    assert {x["reason"]: x["units"] for x in rows(r, 1)} == {"Arrived damaged": 1, "Wrong size or fit": 1}
    ReturnRequest.objects.filter(pk=late.pk).update(status="cancelled")
    assert k.result(PERIOD).value == 33.3


def test_return_rate_by_delivery_day_and_channel(world):
    _return(world.o2, 1, "size", at("2026-03-07", "09:00"))
    k = REGISTRY["return-rate"]
    assert k.result(replace(PERIOD, channel=world.app.pk)).value == 100.0  # O2 only
    # Delivered up to 03-05: O1 only (O2 was delivered 03-06); O2's return is not of that cohort.
    r = k.result(replace(PERIOD, date_to=date(2026, 3, 5)))
    assert (r.value, facts(r)["Units delivered"]) == (0.0, "2")


def test_return_rate_without_deliveries_or_returns(world):
    r = REGISTRY["return-rate"].result(EMPTY)
    assert r.value is None and all(not t.rows for t in r.tables)
    r = REGISTRY["return-rate"].result(PERIOD)
    assert r.value == 0.0 and rows(r, 1) == [] and facts(r)["Units delivered"] == "3"


# ---- customer satisfaction -------------------------------------------------------------------


def test_customer_satisfaction_mean_share_by_carrier_and_location(world):
    ratings.delivery_rate(order=world.o1, score=5)
    ratings.delivery_rate(order=world.o2, score=2, comment="late")
    k = REGISTRY["customer-satisfaction"]
    r = k.result(PERIOD)
    assert r.available and r.value == 3.5 and r.display == "3.50 / 5"
    fx = facts(r)
    assert (fx["Share of 4 and 5"], fx["Ratings"], fx["Delivered orders"], fx["Response rate"]) == (
        "50.0 %",
        "2",
        "2",
        "100.0 %",
    )
    assert [strip(x) for x in rows(r, 0)] == [{"name": "Local Express", "ratings": 2, "mean": 3.5, "share": "50.0 %"}]
    assert [strip(x) for x in rows(r, 1)] == [
        {"name": "can", "ratings": 1, "mean": 2.0, "share": "0.0 %"},
        {"name": "sha", "ratings": 1, "mean": 5.0, "share": "100.0 %"},
    ]
    assert r.series == [("1 ★", 0), ("2 ★", 1), ("3 ★", 0), ("4 ★", 0), ("5 ★", 1)]
    path, q = query(rows(r, 1)[0]["_url"])
    assert path == "/reports/kpi/customer-satisfaction/list/rated/" and q["location"] == [str(world.can.pk)]
    assert q["date_from"] == ["2026-03-02"]
    assert k.result(replace(PERIOD, channel=world.app.pk)).value == 2.0
    assert k.result(replace(PERIOD, location=world.sha.pk)).value == 5.0
    # Ratings belong to the orders received in the period: O1 and O2 were received on Monday.
    assert k.result(replace(PERIOD, date_from=date(2026, 3, 3))).value is None


def test_customer_satisfaction_without_ratings(world):
    k = REGISTRY["customer-satisfaction"]
    for f in (EMPTY, PERIOD):
        r = k.result(f)
        assert r.value is None and r.display == "–" and all(not t.rows for t in r.tables)
    assert facts(k.result(PERIOD))["Response rate"] == "0.0 %"
