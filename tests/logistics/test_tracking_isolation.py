"""One tracking message never harms another (issue 13, item 2): a push that no parser foresaw, or one
whose events cannot be applied, is set aside with its error; the others in its batch and after it go in.
Such a message can be retried from the intake monitor like an order message."""

import pytest
from django.test import Client

from logistics import intake
from logistics.intake import tracking_pushes_process
from logistics.models import TrackingEvent
from logistics.tasks import process_tracking_push
from orders.models import InboundMessage
from tests import journey
from tests.logistics.test_tracking_batch import _fresh_cache, body, parcels, receive  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

DEEP = b'{"event": "tracking_update", "msg": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"


def test_a_push_nested_too_deep_fails_alone_and_later_pushes_still_apply(parcels):  # noqa: F811
    [parcel] = parcels(1)
    poison = receive(DEEP)
    good = receive(body(parcel.tracking_number, [0, 1]))

    process_tracking_push.delay(good.pk)  # the batch takes the older poison message along

    poison.refresh_from_db()
    good.refresh_from_db()
    assert poison.status == "failed"
    assert poison.error == "Unreadable payload: JSON nested too deeply."
    assert good.status == "processed"
    assert TrackingEvent.objects.filter(parcel=parcel).count() == 2

    later = receive(body(parcel.tracking_number, [0, 1, 2]))
    process_tracking_push.delay(later.pk)
    later.refresh_from_db()
    assert later.status == "processed"
    assert TrackingEvent.objects.filter(parcel=parcel).count() == 3


def test_a_message_whose_events_cannot_be_applied_is_set_aside_and_the_batch_goes_on(
    parcels,  # noqa: F811
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    first, second = parcels(2)
    bad = receive(body(first.tracking_number, [0]))
    good = receive(body(second.tracking_number, [0, 1]))
    real = intake.tracking_events_record

    def record(*, entries, **kwargs):
        if any(event.tracking_number == first.tracking_number for event, _provider in entries):
            raise ValueError("a scan the OMS cannot store")
        return real(entries=entries, **kwargs)

    monkeypatch.setattr(intake, "tracking_events_record", record)

    bad_after, good_after = tracking_pushes_process([bad.pk, good.pk])

    assert (bad_after.status, good_after.status, good_after.error) == ("failed", "processed", "")
    assert InboundMessage.objects.get(pk=bad.pk).error == "Could not apply: ValueError: a scan the OMS cannot store"
    assert TrackingEvent.objects.filter(parcel=second).count() == 2
    assert not TrackingEvent.objects.filter(parcel=first).exists()

    monkeypatch.setattr(intake, "tracking_events_record", real)
    client = Client()
    client.force_login(journey.users()["customer_service"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/orders/intake/{bad.pk}/retry/", follow=True)

    assert response.status_code == 200
    bad.refresh_from_db()
    assert (bad.status, bad.error) == ("processed", "")
    assert bad.attempts == 2
    assert TrackingEvent.objects.filter(parcel=first).count() == 1
