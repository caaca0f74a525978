"""A worker's batch opens its own transaction and applies without a savepoint (two round trips fewer per batch,
issue 14); when it fails, the whole transaction goes back and the same messages are applied again one by one, so
the bad one is set aside with its error and nothing it half-wrote stays."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logistics import intake
from logistics.intake import tracking_pushes_apply_pending, tracking_pushes_process
from logistics.models import TrackingEvent
from orders.models import InboundMessage
from tests.logistics.test_tracking_batch import _fresh_cache, body, parcels, receive  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_batch_in_its_own_transaction_takes_no_savepoint(parcels):  # noqa: F811
    first, second = parcels(2)
    ids = [receive(body(p.tracking_number, [0, 1])).pk for p in (first, second)]

    with CaptureQueriesContext(connection) as queries:
        messages = tracking_pushes_apply_pending(limit=10)

    assert sorted(m.pk for m in messages) == sorted(ids)
    assert [m.status for m in messages] == ["processed", "processed"]
    assert [q["sql"] for q in queries.captured_queries if "SAVEPOINT" in q["sql"]] == []
    assert TrackingEvent.objects.filter(parcel__in=[first, second]).count() == 4


@pytest.mark.parametrize("consumer", ["pending", "named"])
def test_a_failed_batch_is_rolled_back_whole_and_applied_again_one_by_one(parcels, monkeypatch, consumer):  # noqa: F811
    first, second = parcels(2)
    bad = receive(body(first.tracking_number, [0]))
    good = receive(body(second.tracking_number, [0, 1]))
    real = intake.tracking_events_record

    def record(*, entries, **kwargs):  # writes the scans, then fails: the batch must leave nothing behind
        batch = real(entries=entries, **kwargs)
        if any(event.tracking_number == first.tracking_number for event, _provider in entries):
            raise ValueError("a scan the OMS cannot store")
        return batch

    monkeypatch.setattr(intake, "tracking_events_record", record)

    if consumer == "pending":
        messages = {m.pk: m for m in tracking_pushes_apply_pending(limit=10)}
    else:
        messages = {m.pk: m for m in tracking_pushes_process([bad.pk, good.pk])}

    assert (messages[bad.pk].status, messages[good.pk].status) == ("failed", "processed")
    stored = InboundMessage.objects.get(pk=bad.pk)
    assert (stored.status, stored.error, stored.attempts) == (
        "failed",
        "Could not apply: ValueError: a scan the OMS cannot store",
        1,
    )
    assert InboundMessage.objects.get(pk=good.pk).attempts == 1
    assert not TrackingEvent.objects.filter(parcel=first).exists()
    assert TrackingEvent.objects.filter(parcel=second).count() == 2
