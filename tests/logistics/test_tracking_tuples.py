"""The tracking batch on tuples (issue 14): parcels, shipments and orders read as values, the expected date worked
out on values (`logistics.eta.eta_values`), timeline rows written without building a model per row
(`orders.services.order_event_rows_record`) — the same outcome as the model path."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from logistics import eta
from logistics.models import Parcel, ParcelWatch
from logistics.services import tracking_events_record
from logistics.status import TrackingStatus
from oms import statements
from oms.models import OutboxMessage
from orders.models import OrderEvent
from orders.services import order_event_rows_record
from tests.logistics.casework import T0, event, order_at, parcel_of, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(django_capture_on_commit_callbacks):
    world()
    return [parcel_of(order_at(django_capture_on_commit_callbacks, "shipped", f"TU{i}")) for i in range(2)]


def test_a_batch_creates_the_missing_watch_and_updates_the_existing_one_as_the_model_path_would(two):
    fresh, watched = two
    ParcelWatch.objects.filter(parcel=fresh).delete()
    ParcelWatch.objects.update_or_create(
        parcel=watched, defaults={"promised_delivery": T0.date(), "eta_basis": "service", "eta_detail": "old"}
    )
    now = T0 + timedelta(hours=2)

    tracking_events_record(
        entries=[
            (event(fresh, TrackingStatus.IN_TRANSIT, T0 + timedelta(hours=1), "Picked up"), "test"),
            (event(watched, TrackingStatus.OUT_FOR_DELIVERY, T0 + timedelta(hours=1), "Out"), "test"),
        ],
        now=now,
    )

    fresh = Parcel.objects.select_related("shipment__order", "shipment__location", "service", "watch").get(pk=fresh.pk)
    watched = Parcel.objects.select_related("watch").get(pk=watched.pk)
    # the fresh parcel: in transit, a watch made now, its date what the model path computes for it
    expected = eta.parcel_estimate(fresh, now=now)
    assert (fresh.status, fresh.expected_delivery) == (TrackingStatus.IN_TRANSIT, expected.date)
    assert (fresh.watch.eta_basis, fresh.watch.eta_detail) == (expected.basis, expected.detail)
    assert fresh.watch.promised_delivery is not None
    assert (fresh.watch.poll_failures, fresh.watch.poll_error) == (0, "")
    # the watched one: out for delivery today, its first promise kept
    assert (watched.status, watched.expected_delivery) == (TrackingStatus.OUT_FOR_DELIVERY, T0.date())
    assert (watched.watch.promised_delivery, watched.watch.eta_basis) == (T0.date(), "out_for_delivery")
    assert ParcelWatch.objects.filter(parcel__in=two).count() == 2


def test_the_estimate_on_values_is_the_estimate_on_the_model(two):
    parcel = Parcel.objects.select_related("shipment__order", "shipment__location", "service").get(pk=two[0].pk)
    now = T0 + timedelta(days=1)
    route = eta.parcel_route(parcel)

    on_values = eta.estimate_of(
        status=parcel.status,
        delivered_at=None,
        last_event_at=None,
        expected_delivery=parcel.expected_delivery,
        route=route,
        now=now,
    )

    assert on_values == eta.parcel_estimate(parcel, now=now)
    assert on_values.basis == "service"
    delivered = eta.estimate_of(
        status=TrackingStatus.DELIVERED,
        delivered_at=T0,
        last_event_at=T0,
        expected_delivery=None,
        route=lambda: pytest.fail("a delivered parcel needs no route"),
        now=now,
    )
    assert (delivered.date, delivered.basis) == (T0.date(), "delivered")


def test_event_rows_are_written_and_only_the_rows_asking_for_a_notice_become_outbox_rows(two):
    order = two[0].shipment.order
    rows = [
        {"order": order, "kind": "tracking", "message": "scan", "data": {"tracking_number": "TN1", "status": s}}
        for s in ("in_transit", "out_for_delivery", "lost")
    ]
    events_before, outbox_before = OrderEvent.objects.count(), OutboxMessage.objects.count()

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert order_event_rows_record(rows) == 3

    written = list(OrderEvent.objects.order_by("pk")[events_before:].values_list("order", "kind", "message", "data"))
    assert written == [(order.pk, r["kind"], r["message"], r["data"]) for r in rows]
    assert list(OutboxMessage.objects.order_by("pk")[outbox_before:].values_list("payload__notice", "key")) == [
        ("out_for_delivery", f"{order.pk}:out_for_delivery:email:TN1"),
        ("exception", f"{order.pk}:problem:email:TN1:lost"),
    ]
    asked = list(OutboxMessage.objects.order_by("pk")[outbox_before:].values_list("payload__event", flat=True))
    assert asked == list(OrderEvent.objects.order_by("pk")[events_before:].values_list("pk", flat=True))[1:]
    if connection.vendor == "postgresql":  # one INSERT of the rows, one of the notices
        inserts = [q["sql"].split("(", 1)[0] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
        assert inserts == ['INSERT INTO "orders_orderevent" ', 'INSERT INTO "oms_outboxmessage" ']


def test_no_rows_write_nothing(two):
    before = OrderEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        assert order_event_rows_record([]) == 0
    assert (len(queries.captured_queries), OrderEvent.objects.count()) == (0, before)


@pytest.mark.postgres
def test_insert_rows_returning_gives_the_keys_in_the_order_of_the_rows(two):
    order = two[0].shipment.order
    fields = ("order", "kind", "message", "data", "words", "user", "created_at")
    rows = [(order.pk, "tracking", f"m{i}", {"i": i}, {}, None, T0) for i in range(5)]

    keys = statements.insert_rows_returning(OrderEvent, fields, rows)

    assert [OrderEvent.objects.get(pk=k).message for k in keys] == ["m0", "m1", "m2", "m3", "m4"]
