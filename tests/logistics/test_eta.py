"""Expected delivery: lane history, service transit days, the carrier's estimate, scans; on a controlled clock."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from logistics import eta
from logistics.models import ParcelWatch
from logistics.status import TrackingStatus
from orders.models import OrderEvent
from tests.logistics.casework import T0, backdate, carrier, order_at, parcel_of, record, world

pytestmark = pytest.mark.django_db
BEIJING = {"ship_to": {"province": "Beijing", "city": "Beijing"}}


@pytest.fixture
def shipped(django_capture_on_commit_callbacks):
    world()

    def make(external_id: str, **overrides):
        order = order_at(django_capture_on_commit_callbacks, "shipped", external_id, **(overrides or BEIJING))
        backdate(order, shipped=T0)
        return parcel_of(order)

    return make


def deliver_history(shipped, days_list):
    for i, days in enumerate(days_list):
        parcel = shipped(f"H{i}")
        record(parcel, TrackingStatus.DELIVERED, T0 + timedelta(days=days))


def test_lane_figure_is_the_80th_percentile_of_past_deliveries(shipped):
    deliver_history(shipped, [1, 2, 2, 3, 4])

    figure = eta.lane_figure(carrier_id=carrier().pk, origin_province="Shanghai", destination_province="Beijing")

    assert figure == eta.LaneFigure(samples=5, p80_days=3, median_days=2.0, mean_days=2.4)
    other = eta.lane_figure(carrier_id=carrier().pk, origin_province="Shanghai", destination_province="Guangdong")
    assert other == eta.LaneFigure(0, None, None, None)


def test_estimate_uses_the_lane_once_it_has_enough_deliveries(shipped):
    deliver_history(shipped, [1, 2, 2, 3, 4])
    parcel = shipped("NEW")

    estimate = eta.parcel_estimate(parcel, now=T0 + timedelta(hours=1))

    assert estimate == eta.Estimate(
        date(2026, 11, 23), "lane", "Shanghai → Beijing: 3 days (80th percentile of 5 deliveries)"
    )


def test_without_history_the_service_business_days_apply(shipped):
    deliver_history(shipped, [1, 2])  # not enough
    parcel = shipped("NEW")

    estimate = eta.parcel_estimate(parcel, now=T0 + timedelta(hours=1))

    # shipped Friday 2026-11-20, 3 business days: Wednesday
    assert (estimate.date, estimate.basis) == (date(2026, 11, 25), "service")


def test_an_estimate_in_the_past_rolls_to_tomorrow(shipped):
    parcel = shipped("NEW")
    estimate = eta.parcel_estimate(parcel, now=T0 + timedelta(days=10))
    assert estimate.date == date(2026, 12, 1)
    assert estimate.detail.endswith("overdue, rolled to tomorrow")


def test_refresh_stores_the_date_keeps_the_first_promise_and_writes_the_timeline(shipped):
    parcel = shipped("NEW")
    first = parcel.expected_delivery
    events_before = OrderEvent.objects.filter(order=parcel.shipment.order).count()

    estimate = eta.parcel_eta_refresh(parcel=parcel, now=T0 + timedelta(days=10))

    parcel.refresh_from_db()
    assert parcel.expected_delivery == estimate.date == date(2026, 12, 1)
    watch = ParcelWatch.objects.get(parcel=parcel)
    assert (watch.promised_delivery, watch.eta_basis) == (first, "service")
    new_events = OrderEvent.objects.filter(order=parcel.shipment.order).order_by("pk")[events_before:]
    assert [e.data["expected_delivery"] for e in new_events] == ["2026-12-01"]
    # The same again changes nothing.
    eta.parcel_eta_refresh(parcel=parcel, now=T0 + timedelta(days=10))
    assert OrderEvent.objects.filter(order=parcel.shipment.order).count() == events_before + 1


def test_each_event_updates_the_date_carrier_estimate_first_then_the_scans(shipped):
    parcel = shipped("NEW")
    promised = parcel.expected_delivery
    now = timezone.now()
    carrier_date = timezone.localdate() + timedelta(days=4)

    record(parcel, TrackingStatus.IN_TRANSIT, now - timedelta(hours=5), est=carrier_date)
    parcel.refresh_from_db()
    assert parcel.expected_delivery == carrier_date
    assert parcel.watch.eta_basis == "carrier"
    assert parcel.watch.promised_delivery == promised

    record(parcel, TrackingStatus.IN_TRANSIT, now - timedelta(hours=4), description="hub")  # no estimate: kept
    parcel.refresh_from_db()
    assert (parcel.expected_delivery, parcel.watch.eta_basis) == (carrier_date, "carrier")

    record(parcel, TrackingStatus.OUT_FOR_DELIVERY, now - timedelta(hours=1))
    parcel.refresh_from_db()
    assert parcel.expected_delivery == timezone.localtime(now - timedelta(hours=1)).date()
    assert parcel.watch.eta_basis == "out_for_delivery"
