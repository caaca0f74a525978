"""Tracking pushes on the spine (issue 14, "Inbox -> batch apply"): accepting a push is the signature checked in
memory and one INSERT; the consumer is nudged at most once per window per process; it claims pending pushes in
batches and applies them set-based (a statement count that does not grow with the batch); one bad message is set
aside with its error, never the batch; provider secrets are cached and dropped when a carrier changes."""

import threading

import pytest
from celery import current_app
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from fulfillment.status import ShipmentStatus
from logistics import intake
from logistics.models import Carrier, Parcel, TrackingEvent
from logistics.providers.aftership import compute_signature
from logistics.status import TrackingStatus
from logistics.tasks import apply_tracking_pushes
from orders.models import InboundMessage, OrderEvent
from orders.status import EventKind, OrderStatus
from tests.logistics.test_tracking_batch import SECRET, _fresh_cache, body, parcels, receive  # noqa: F401 (fixtures)
from tests.logistics.test_tracking_isolation import DEEP

pytestmark = pytest.mark.django_db
URL = "/webhooks/tracking/aftership/"


def post(client, data: bytes, secret: str = SECRET):
    return client.post(
        URL, data, content_type="application/json", HTTP_AFTERSHIP_HMAC_SHA256=compute_signature(data, secret)
    )


@pytest.fixture
def parcel(parcels):  # noqa: F811
    return parcels(1)[0]


@pytest.fixture
def broker(parcel, monkeypatch, settings):
    """Eager mode off and the broker replaced by a list: the consumer's wake-ups sent, with their countdown."""
    sent = []

    def send_task(name, args=None, kwargs=None, **options):
        if name == intake.APPLY_TASK:
            sent.append((name, {"countdown": options.get("countdown")}))

    monkeypatch.setattr(current_app, "send_task", send_task)
    monkeypatch.setitem(intake._nudged_at, "at", float("-inf"))
    settings.OMS_TRACKING_NUDGE_SECONDS = 3600  # one window for the whole test: no clock in the assertions
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    yield sent
    current_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _no_cached_secrets(monkeypatch):
    monkeypatch.setattr(intake, "_secrets", {})
    monkeypatch.setattr(intake, "_secrets_state", {"version": None, "checked_at": float("-inf")})


def test_accepting_a_push_is_one_insert_and_the_consumer_is_nudged_once_per_window(
    client, parcel, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, body(parcel.tracking_number, [0])).status_code == 200  # reads the secret once
    assert broker == [(intake.APPLY_TASK, {"countdown": 3600.0})]

    data = body(parcel.tracking_number, [0, 1])
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        response = post(client, data)

    assert response.status_code == 200
    assert [q["sql"].split(" (", 1)[0] for q in queries.captured_queries] == ['INSERT INTO "orders_inboundmessage"']
    message = InboundMessage.objects.get(pk=response.json()["received"])
    assert (message.status, message.source, bytes(message.raw)) == ("received", "webhook:aftership", data)
    assert broker == [(intake.APPLY_TASK, {"countdown": 3600.0})]  # same window: the task sent first finds it
    assert not TrackingEvent.objects.filter(parcel=parcel).exists()  # nothing applied in the request

    intake._nudged_at["at"] -= 3600  # the window has passed
    with django_capture_on_commit_callbacks(execute=True):
        post(client, body(parcel.tracking_number, [0, 1, 2]))
    assert len(broker) == 2

    assert apply_tracking_pushes() == 3  # what the nudged task does: all three pushes, one batch
    assert TrackingEvent.objects.filter(parcel=parcel).count() == 3
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {"processed"}


def test_inside_the_window_a_push_leaves_no_commit_hook_and_sends_nothing(
    client, parcel, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        intake.tracking_apply_nudge()
    assert broker == [(intake.APPLY_TASK, {"countdown": 3600.0})]

    with transaction.atomic(), django_capture_on_commit_callbacks(execute=False) as callbacks:
        intake.tracking_apply_nudge()  # a push inside the window: nothing to hook, the task sent finds it
    assert callbacks == []
    assert broker == [(intake.APPLY_TASK, {"countdown": 3600.0})]

    intake._nudged_at["at"] -= 3600  # the window has passed
    with transaction.atomic(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        intake.tracking_apply_nudge()
    assert len(callbacks) == 1
    assert len(broker) == 2


def test_a_bad_signature_is_one_insert_with_its_outcome_and_wakes_nobody(
    client, parcel, broker, django_capture_on_commit_callbacks
):
    intake.provider_secret("aftership")  # warm
    data = body(parcel.tracking_number, [0])
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        response = post(client, data, secret="wrong")

    assert response.status_code == 401
    # the cached secret failed, so the database is asked once whether it changed; then the one INSERT
    assert [q["sql"].split(" ", 1)[0] for q in queries.captured_queries] == ["SELECT", "INSERT"]
    message = InboundMessage.objects.get()
    assert (message.status, message.attempts) == ("rejected", 1)
    assert message.error == "Signature invalid: the signature does not match the body and the webhook secret"
    assert bytes(message.raw) == data
    assert broker == []
    assert not TrackingEvent.objects.exists()


def test_a_carrier_secret_is_cached_and_dropped_when_a_carrier_changes(client, parcel, broker):
    carrier = Carrier.objects.create(code="as", name="AfterShip", adapter="aftership", webhook_secret="one")
    data = body(parcel.tracking_number, [0])

    assert post(client, data, "one").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert post(client, data, "one").status_code == 200
    assert len(queries.captured_queries) == 1  # the secret came from the cache

    carrier.webhook_secret = "two"
    carrier.save()  # this process drops its copy at once
    assert post(client, data, "one").status_code == 401
    assert post(client, data, "two").status_code == 200

    # Another process rotates it: its save bumps the shared version; this process drops its copy at its next look.
    Carrier.objects.filter(pk=carrier.pk).update(webhook_secret="three")
    cache.incr(intake.SECRET_VERSION_KEY)
    intake._secrets_state["checked_at"] = float("-inf")  # the look is due
    assert post(client, data, "two").status_code == 401
    assert post(client, data, "three").status_code == 200
    statuses = list(InboundMessage.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["received", "received", "rejected", "received", "rejected", "received"]


def test_a_secret_rotated_without_notice_is_still_accepted(client, parcel, broker):
    carrier = Carrier.objects.create(code="as", name="AfterShip", adapter="aftership", webhook_secret="old")
    data = body(parcel.tracking_number, [0])
    assert post(client, data, "old").status_code == 200

    Carrier.objects.filter(pk=carrier.pk).update(webhook_secret="new")  # no signal, no version bump

    assert post(client, data, "new").status_code == 200  # the cached secret failed: the database was asked again
    assert post(client, data, "old").status_code == 401


def test_one_bad_message_in_a_consumer_batch_is_set_aside_and_the_good_ones_apply(parcels, monkeypatch):  # noqa: F811
    first, second, third, broken = parcels(4)
    good = [receive(body(p.tracking_number, [0, 1])) for p in (first, second)]
    poison = receive(DEEP)
    unapplicable = receive(body(broken.tracking_number, [0]))
    good.append(receive(body(third.tracking_number, [0, 1, 2])))
    real = intake.tracking_events_record

    def record(*, entries, **kwargs):
        if any(event.tracking_number == broken.tracking_number for event, _provider in entries):
            raise ValueError("a scan the OMS cannot store")
        return real(entries=entries, **kwargs)

    monkeypatch.setattr(intake, "tracking_events_record", record)

    claimed = intake.tracking_pushes_apply_pending()

    assert sorted(m.pk for m in claimed) == sorted([*(m.pk for m in good), poison.pk, unapplicable.pk])
    outcomes = {m.pk: (m.status, m.error) for m in InboundMessage.objects.all()}
    assert outcomes[poison.pk] == ("failed", "Unreadable payload: JSON nested too deeply.")
    assert outcomes[unapplicable.pk] == ("failed", "Could not apply: ValueError: a scan the OMS cannot store")
    assert [outcomes[m.pk] for m in good] == [("processed", "")] * 3
    counts = [TrackingEvent.objects.filter(parcel=p).count() for p in (first, second, third, broken)]
    assert counts == [2, 2, 3, 0]
    assert intake.tracking_pushes_apply_pending() == []  # nothing left without an outcome


def test_the_consumer_takes_a_backlog_in_batches_until_none_is_left(parcels, monkeypatch):  # noqa: F811
    items = parcels(5)
    ids = [receive(body(p.tracking_number, [0])).pk for p in items]
    monkeypatch.setattr(intake, "BATCH_SIZE", 2)

    assert apply_tracking_pushes() == 5  # 2 + 2 + 1

    assert list(InboundMessage.objects.filter(pk__in=ids).values_list("status", flat=True)) == ["processed"] * 5
    assert TrackingEvent.objects.filter(parcel__in=items).count() == 5


def test_a_backlog_is_taken_in_growing_batches(parcels, monkeypatch):  # noqa: F811
    items = parcels(11)
    for p in items:
        receive(body(p.tracking_number, [0]))
    monkeypatch.setattr(intake, "BATCH_SIZE", 2)
    monkeypatch.setattr(intake, "MAX_BATCH_SIZE", 4)
    asked, real = [], intake.tracking_pushes_apply_pending

    def spy(**kwargs):
        asked.append(kwargs["limit"])
        return real(**kwargs)

    monkeypatch.setattr(intake, "tracking_pushes_apply_pending", spy)

    assert apply_tracking_pushes() == 11  # 2 + 4 + 4 + 1

    assert asked == [2, 4, 4, 4]
    assert TrackingEvent.objects.filter(parcel__in=items).count() == 11
    assert intake.next_batch_size(4, 1) == 2  # worked off: back to the usual size


def _deliver_all(items) -> int:
    """Whole journeys (info received .. delivered) of ``items`` in one batch; returns the statements it took."""
    ids = [receive(body(p.tracking_number, [0, 1, 2, 3, 4, 5])).pk for p in items]
    with CaptureQueriesContext(connection) as queries:
        messages = intake.tracking_pushes_process(ids)
    assert [m.status for m in messages] == ["processed"] * len(items)
    return len(queries.captured_queries)


def test_a_batch_moves_parcels_shipments_and_orders_with_statements_that_do_not_grow_with_it(parcels):  # noqa: F811
    items = parcels(9)
    few, many = items[:2], items[2:]

    assert _deliver_all(few) == _deliver_all(many)

    for parcel in [*few, *many]:
        parcel = Parcel.objects.select_related("shipment__order").get(pk=parcel.pk)
        order = parcel.shipment.order
        assert (parcel.status, parcel.shipment.status, order.status) == (
            TrackingStatus.DELIVERED,
            ShipmentStatus.DELIVERED,
            OrderStatus.DELIVERED,
        )
        assert parcel.shipment.delivered_at is not None
        steps = list(
            OrderEvent.objects.filter(order=order, data__shipment=parcel.shipment.number, data__to__isnull=False)
            .order_by("pk")
            .values_list("kind", "data__from", "data__to")
        )
        assert steps[-3:] == [
            (EventKind.STATUS, ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT),
            (EventKind.STATUS, ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY),
            (EventKind.DELIVERED, ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERED),
        ]
        order_moves = list(
            OrderEvent.objects.filter(order=order, kind=EventKind.STATUS, data__shipment__isnull=True)
            .exclude(data__to__isnull=True)
            .order_by("pk")
            .values_list("data__from", "data__to")
        )
        assert order_moves[-1] == (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
        assert TrackingEvent.objects.filter(parcel=parcel).count() == 6


@pytest.mark.postgres
def test_two_consumers_never_take_the_same_push(transactional_db):
    ids = [
        InboundMessage.objects.create(source="webhook:aftership", body=body(f"NOPE{i}", [0]).decode()).pk
        for i in range(4)
    ]
    held, release = threading.Event(), threading.Event()
    taken_by_other: list[int] = []

    def other_worker():
        try:
            with transaction.atomic():
                pending = InboundMessage.objects.filter(status="received").order_by("pk")
                taken_by_other.extend(m.pk for m in intake._claim(pending[:2]))
                held.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert held.wait(30)
        claimed = intake.tracking_pushes_apply_pending(limit=10)
    finally:
        release.set()
        thread.join(30)

    assert taken_by_other == ids[:2]
    assert [m.pk for m in claimed] == ids[2:]
    statuses = dict(InboundMessage.objects.values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["received", "received", "failed", "failed"]


def test_a_merged_shipment_and_its_members_follow_their_parcel_in_a_batch(django_capture_on_commit_callbacks, settings):
    from fulfillment import merge
    from fulfillment import services as fulfillment_services
    from logistics.services import shipment_dispatch
    from tests.fulfillment.test_merge_split import _pair
    from tests.fulfillment.test_merge_split import world as merge_world

    settings.AFTERSHIP_WEBHOOK_SECRET = SECRET
    world = merge_world.__wrapped__()
    lead, member, _other = _pair(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        merge.shipments_merge(shipment_ids=[lead.pk, member.pk], reason_code="consolidation")
    fulfillment_services.picklist_create(location=world["sha"], shipment_ids=[lead.pk])
    fulfillment_services.shipment_pack(shipment=lead)
    with django_capture_on_commit_callbacks(execute=True):
        parcel = shipment_dispatch(shipment=lead)
    alone = receive(body(parcel.tracking_number, [0, 1, 2, 3, 4, 5]))

    [message] = intake.tracking_pushes_process([alone.pk])

    assert message.status == "processed"
    for shipment in (lead, member):
        shipment.refresh_from_db()
        assert shipment.status == ShipmentStatus.DELIVERED
        assert shipment.order.__class__.objects.get(pk=shipment.order_id).status == OrderStatus.DELIVERED
    member_steps = list(
        OrderEvent.objects.filter(order_id=member.order_id, data__shipment=member.number, data__to__isnull=False)
        .order_by("pk")
        .values_list("data__to", flat=True)
    )
    assert member_steps[-3:] == [ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERED]
