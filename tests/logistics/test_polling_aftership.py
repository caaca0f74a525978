"""AfterShip as a polling source: GET /v4/trackings/{slug}/{tracking_number} with the aftership-api-key header,
answered as in AfterShip's documentation ("Get a tracking by slug and tracking number": meta + data.tracking with
checkpoints). Only the HTTP call is faked; the database is real and the answer goes through the same intake as a
push."""

import json
from datetime import timedelta

import pytest

from logistics import polling
from logistics.models import ParcelWatch, TrackingEvent, TrackingMode, TrackingProvider, TrackingSource
from logistics.status import TrackingStatus
from orders.models import InboundMessage
from tests.logistics.casework import T0, carrier, order_at, parcel_of, world

pytestmark = pytest.mark.django_db


def documented_answer(tracking_number: str) -> dict:
    """Shaped after the documented sample response of GET /trackings/:slug/:tracking_number (API v4)."""
    return {
        "meta": {"code": 200},
        "data": {
            "tracking": {
                "id": "5b74f4958776db0e00b6f5ed",
                "created_at": "2026-11-20T02:05:00+00:00",
                "updated_at": "2026-11-21T09:30:00+00:00",
                "tracking_number": tracking_number,
                "slug": "sf-express",
                "active": True,
                "expected_delivery": "2026-11-24",
                "origin_country_iso3": "CHN",
                "destination_country_iso3": "CHN",
                "shipment_type": "Standard Express",
                "tag": "InTransit",
                "subtag": "InTransit_001",
                "subtag_message": "In Transit",
                "tracked_count": 3,
                "checkpoints": [
                    {
                        "slug": "sf-express",
                        "city": "Shanghai",
                        "created_at": "2026-11-20T02:10:00+00:00",
                        "location": "Shanghai, CHN",
                        "country_name": "China",
                        "message": "Shipment information received",
                        "country_iso3": "CHN",
                        "tag": "InfoReceived",
                        "subtag": "InfoReceived_001",
                        "subtag_message": "Info Received",
                        "checkpoint_time": "2026-11-20T10:00:00+08:00",
                        "coordinates": [],
                        "state": None,
                        "zip": None,
                    },
                    {
                        "slug": "sf-express",
                        "city": "Shanghai",
                        "created_at": "2026-11-20T09:00:00+00:00",
                        "location": "Shanghai, CHN",
                        "country_name": "China",
                        "message": "Picked up by courier",
                        "country_iso3": "CHN",
                        "tag": "InTransit",
                        "subtag": "InTransit_002",
                        "subtag_message": "Acceptance scan",
                        "checkpoint_time": "2026-11-20T16:40:00+08:00",
                        "coordinates": [],
                        "state": None,
                        "zip": None,
                    },
                    {
                        "slug": "sf-express",
                        "city": "Beijing",
                        "created_at": "2026-11-21T09:30:00+00:00",
                        "location": "Beijing, CHN",
                        "country_name": "China",
                        "message": "Arrived at transit centre",
                        "country_iso3": "CHN",
                        "tag": "InTransit",
                        "subtag": "InTransit_003",
                        "subtag_message": "Arrival scan",
                        "checkpoint_time": "2026-11-21T17:20:00+08:00",
                        "coordinates": [],
                        "state": None,
                        "zip": None,
                    },
                ],
            }
        },
    }


NOT_FOUND = {"meta": {"code": 4004, "message": "Tracking does not exist.", "type": "NotFound"}, "data": {}}


class FakeGet:
    def __init__(self, answer: dict | None = None, error: str = ""):
        self.answer, self.error, self.calls = answer, error, []

    def __call__(self, url, headers):
        self.calls.append((url, headers))
        if self.error:
            raise polling.TransientPollError(self.error)
        return json.dumps(self.answer)


@pytest.fixture
def parcel(django_capture_on_commit_callbacks, settings):
    settings.AFTERSHIP_API_KEY = "as-key-123"
    world()
    parcel = parcel_of(order_at(django_capture_on_commit_callbacks, "shipped", "AS1"))
    TrackingSource.objects.create(
        carrier=carrier(),
        provider=TrackingProvider.AFTERSHIP,
        mode=TrackingMode.POLL,
        carrier_code="sf-express",
        poll_every_minutes=120,
    )
    return parcel


def test_a_due_parcel_is_asked_of_aftership_and_its_checkpoints_recorded(parcel):
    fake = FakeGet(documented_answer(parcel.tracking_number))

    [report] = polling.tracking_poll_due(now=T0, get=fake)

    [(url, headers)] = fake.calls
    assert url == f"https://api.aftership.com/v4/trackings/sf-express/{parcel.tracking_number}"
    assert headers["aftership-api-key"] == "as-key-123"
    assert report["status"] == "processed"
    assert report["result"]["recorded"] == 3
    scans = list(TrackingEvent.objects.filter(parcel=parcel).order_by("occurred_at"))
    assert [s.status for s in scans] == ["info_received", "in_transit", "in_transit"]
    assert scans[0].source == "aftership" and scans[0].raw["checkpoint"]["subtag"] == "InfoReceived_001"
    parcel.refresh_from_db()
    assert parcel.status == TrackingStatus.IN_TRANSIT
    assert str(parcel.expected_delivery) == "2026-11-24"  # AfterShip's expected_delivery is the carrier's estimate
    message = InboundMessage.objects.get(source="poll:aftership")
    assert message.headers == {"url": url}  # stored raw, without the key
    assert "as-key-123" not in message.body
    watch = ParcelWatch.objects.get(parcel=parcel)
    assert watch.next_poll_at == T0 + timedelta(minutes=120) and watch.poll_failures == 0


def test_the_same_answer_again_adds_nothing(parcel):
    fake = FakeGet(documented_answer(parcel.tracking_number))
    polling.parcel_poll(parcel=parcel, now=T0, get=fake)

    report = polling.parcel_poll(parcel=parcel, now=T0 + timedelta(hours=3), get=fake)

    assert report["result"] == {"events": 3, "recorded": 0, "duplicates": 3, "unknown_tracking_numbers": []}
    assert TrackingEvent.objects.filter(parcel=parcel).count() == 3


def test_an_error_answer_is_kept_as_failed_and_the_poll_backs_off(parcel):
    report = polling.parcel_poll(parcel=parcel, now=T0, get=FakeGet(NOT_FOUND))

    assert report["status"] == "failed"
    message = InboundMessage.objects.get(source="poll:aftership")
    assert message.status == "failed" and message.error == "AfterShip 4004: Tracking does not exist."
    assert not TrackingEvent.objects.filter(parcel=parcel).exists()
    watch = ParcelWatch.objects.get(parcel=parcel)
    assert watch.poll_failures == 1
    assert watch.next_poll_at == T0 + timedelta(minutes=240)


def test_no_key_or_no_network_records_nothing_and_backs_off(parcel, settings):
    report = polling.parcel_poll(parcel=parcel, now=T0, get=FakeGet(error="timed out"))
    assert report["error"] == "timed out"
    settings.AFTERSHIP_API_KEY = ""
    fake = FakeGet(documented_answer(parcel.tracking_number))
    report = polling.parcel_poll(parcel=parcel, now=T0 + timedelta(hours=5), get=fake)
    assert "AFTERSHIP_API_KEY" in report["error"] and fake.calls == []
    assert not TrackingEvent.objects.filter(parcel=parcel).exists()
    assert ParcelWatch.objects.get(parcel=parcel).poll_failures == 2
