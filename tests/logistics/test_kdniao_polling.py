"""Polling Kdniao's instant query (8001) for carriers that must be asked; on a controlled clock, with a fake
HTTP transport (the database is real)."""

import json
from datetime import timedelta
from pathlib import Path

import pytest

from logistics import polling
from logistics.models import ParcelWatch, TrackingEvent, TrackingMode, TrackingProvider, TrackingSource
from logistics.providers.kdniao import QUERY_URL, data_sign
from logistics.status import TrackingStatus
from orders.models import InboundMessage
from tests.logistics.casework import T0, carrier, order_at, parcel_of, record, world

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kdniao"


@pytest.fixture
def parcel(django_capture_on_commit_callbacks, settings):
    settings.KDNIAO_WEBHOOK_SECRET = "kd-app-key"
    settings.KDNIAO_EBUSINESS_ID = "1237100"
    world()
    parcel = parcel_of(order_at(django_capture_on_commit_callbacks, "shipped", "P1"))
    TrackingSource.objects.create(
        carrier=carrier(),
        provider=TrackingProvider.KDNIAO,
        mode=TrackingMode.POLL,
        carrier_code="YTO",
        poll_every_minutes=60,
    )
    return parcel


class FakeKdniao:
    def __init__(self, parcel, answer=None, error=None):
        data = json.loads((FIXTURES / "query_8001_response.json").read_text(encoding="utf-8"))
        data["LogisticCode"] = parcel.tracking_number
        self.answer = json.dumps(answer if answer is not None else data, ensure_ascii=False)
        self.error = error
        self.calls = []

    def __call__(self, url, form):
        self.calls.append((url, form))
        if self.error:
            raise polling.TransientPollError(self.error)
        return self.answer


def test_a_due_parcel_is_polled_recorded_and_scheduled(parcel):
    fake = FakeKdniao(parcel)

    [report] = polling.tracking_poll_due(now=T0, fetch=fake)

    assert report["status"] == "processed"
    [(url, form)] = fake.calls
    assert url == QUERY_URL
    assert json.loads(form["RequestData"]) == {"ShipperCode": "YTO", "LogisticCode": parcel.tracking_number}
    assert (form["EBusinessID"], form["RequestType"]) == ("1237100", "8001")
    assert form["DataSign"] == data_sign(form["RequestData"], "kd-app-key")
    assert TrackingEvent.objects.filter(parcel=parcel, source="kdniao").count() == 4
    message = InboundMessage.objects.get(source="poll:kdniao")
    assert (message.status, message.result["recorded"]) == ("processed", 4)
    watch = ParcelWatch.objects.get(parcel=parcel)
    assert (watch.last_polled_at, watch.next_poll_at, watch.poll_failures) == (T0, T0 + timedelta(minutes=60), 0)
    parcel.refresh_from_db()
    assert parcel.status == TrackingStatus.IN_TRANSIT


def test_not_due_before_its_time_and_a_repeat_answer_adds_nothing(parcel):
    fake = FakeKdniao(parcel)
    polling.tracking_poll_due(now=T0, fetch=fake)

    assert polling.tracking_poll_due(now=T0 + timedelta(minutes=30), fetch=fake) == []
    [report] = polling.tracking_poll_due(now=T0 + timedelta(minutes=61), fetch=fake)

    assert report["result"]["duplicates"] == 4
    assert TrackingEvent.objects.count() == 4


def test_a_transport_failure_backs_off_and_records_nothing(parcel):
    [report] = polling.tracking_poll_due(now=T0, fetch=FakeKdniao(parcel, error="timed out"))

    assert report["error"] == "timed out"
    watch = ParcelWatch.objects.get(parcel=parcel)
    assert (watch.poll_failures, watch.poll_error, watch.next_poll_at) == (1, "timed out", T0 + timedelta(minutes=120))
    assert TrackingEvent.objects.count() == 0


def test_kdniao_refusal_is_kept_as_a_failed_message(parcel):
    answer = {
        "EBusinessID": "1237100",
        "LogisticCode": parcel.tracking_number,
        "Success": False,
        "Reason": "业务错误[单号不存在]",
    }
    [report] = polling.tracking_poll_due(now=T0, fetch=FakeKdniao(parcel, answer=answer))

    assert report["status"] == "failed"
    assert InboundMessage.objects.get(source="poll:kdniao").error == "Kdniao: 业务错误[单号不存在]"
    assert ParcelWatch.objects.get(parcel=parcel).poll_failures == 1
    assert TrackingEvent.objects.count() == 0


def test_delivered_parcels_and_push_carriers_are_not_polled(parcel):
    record(parcel, TrackingStatus.DELIVERED, T0)
    assert polling.parcels_due(now=T0 + timedelta(days=1)) == []
    TrackingSource.objects.update(mode=TrackingMode.PUSH)
    assert polling.parcels_due(now=T0 + timedelta(days=1)) == []
