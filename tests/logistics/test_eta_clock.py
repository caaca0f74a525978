"""The expected date is computed as of the scan's `now`, so seeded history and tests on a controlled clock get
the date they would have had then, not "overdue, rolled to tomorrow" (issue 7, item 4)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from logistics.services import tracking_event_record
from logistics.status import TrackingStatus
from tests.logistics.casework import backdate, event, order_at, parcel_of, world

pytestmark = pytest.mark.django_db
LONG_AGO = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai, months before the test's clock


def record(parcel, status, when, description="", now=None) -> bool:
    return tracking_event_record(
        parcel=parcel, event=event(parcel, status, when, description=description), source="test", now=now
    )


@pytest.fixture
def old_parcel(django_capture_on_commit_callbacks):
    cache.clear()
    world()
    order = order_at(django_capture_on_commit_callbacks, "shipped", "OLD1")
    backdate(order, shipped=LONG_AGO)
    return parcel_of(order)


def test_a_scan_recorded_with_its_own_clock_gets_the_date_of_then(old_parcel):
    assert record(
        old_parcel, TrackingStatus.IN_TRANSIT, LONG_AGO + timedelta(hours=5), now=LONG_AGO + timedelta(hours=5)
    )

    old_parcel.refresh_from_db()
    assert old_parcel.expected_delivery == date(2026, 3, 6)  # 3 business days after Tuesday 3 March
    assert old_parcel.watch.eta_basis == "service"
    assert "rolled to tomorrow" not in old_parcel.watch.eta_detail


def test_without_a_clock_the_same_scan_is_overdue_today(old_parcel):
    assert record(old_parcel, TrackingStatus.IN_TRANSIT, LONG_AGO + timedelta(hours=5))

    old_parcel.refresh_from_db()
    assert old_parcel.expected_delivery == timezone.localdate() + timedelta(days=1)
    assert old_parcel.watch.eta_detail.endswith("overdue, rolled to tomorrow")


def test_a_late_scan_then_moves_the_date_on_the_same_clock(old_parcel):
    record(old_parcel, TrackingStatus.IN_TRANSIT, LONG_AGO + timedelta(hours=5), now=LONG_AGO + timedelta(hours=5))
    later = LONG_AGO + timedelta(days=5)  # Sunday 8 March: the 6 March estimate has passed

    record(old_parcel, TrackingStatus.IN_TRANSIT, later, description="still moving", now=later)

    old_parcel.refresh_from_db()
    assert old_parcel.expected_delivery == date(2026, 3, 9)
    assert old_parcel.watch.promised_delivery is not None
    assert old_parcel.watch.eta_detail.endswith("overdue, rolled to tomorrow")
