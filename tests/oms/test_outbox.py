"""The outbox (issue 14, "Outbox"): rows written in the business transaction, sent by one consumer in
batches with retries, backoff, rate limits and a dead letter on the Background work page."""

import smtplib
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oms import background, outbox
from oms.models import OutboxMessage
from orders.care import notifications
from orders.models import Notification, Order
from orders.services import order_event_record, order_events_record
from tests.factories import make_user
from tests.orders import care

pytestmark = pytest.mark.django_db


@pytest.fixture
def handlers():
    """Handlers of test kinds, removed afterwards; ``calls`` holds the ids of each batch a handler got."""
    registered, calls = [], []

    def register(kind, handler, **kwargs):
        def recording(rows):
            calls.append((kind, [r.pk for r in rows]))
            return handler(rows)

        outbox.register_outbox_handler(kind, recording, **kwargs)
        registered.append(kind)

    yield register, calls
    for kind in registered:
        outbox._handlers.pop(kind, None)


def put(kind, key, destination="test:a", payload=None):
    with transaction.atomic():
        outbox.outbox_put(kind=kind, destination=destination, key=key, payload=payload or {}, subject="")
    return OutboxMessage.objects.get(kind=kind, key=key)


def rows(kind):
    return list(OutboxMessage.objects.filter(kind=kind).order_by("pk").values_list("key", "status", "attempts"))


# ---- writing --------------------------------------------------------------------------------------------


def test_a_duplicate_key_writes_nothing():
    first = put("test.kind", "problem-1", payload={"n": 1})
    with transaction.atomic():
        outbox.outbox_put(kind="test.kind", destination="test:b", key="problem-1", payload={"n": 2})
        outbox.outbox_put_many(
            [
                outbox.outbox_message(kind="test.kind", destination="test:c", key="problem-1", payload={"n": 3}),
                outbox.outbox_message(kind="test.other", destination="test:c", key="problem-1", payload={"n": 4}),
            ]
        )
    assert list(OutboxMessage.objects.order_by("pk").values_list("pk", "kind", "destination", "payload"))[0] == (
        first.pk,
        "test.kind",
        "test:a",
        {"n": 1},
    )
    assert list(OutboxMessage.objects.order_by("pk").values_list("kind", "destination", "payload")) == [
        ("test.kind", "test:a", {"n": 1}),
        ("test.other", "test:c", {"n": 4}),  # the same key of another kind is another message
    ]


def test_a_notification_is_one_outbox_row_in_the_orders_transaction_and_a_rollback_sends_nothing(
    django_capture_on_commit_callbacks,
):
    order = care.shipped(django_capture_on_commit_callbacks)
    mail.outbox.clear()
    before = (OutboxMessage.objects.count(), Notification.objects.count())
    data = {"tracking_number": "TN1", "status": "out_for_delivery"}
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        order_event_record(order=order, kind="tracking", message="out for delivery", data=data)
        [row] = OutboxMessage.objects.filter(kind="notification", payload__notice="out_for_delivery")
        assert (row.status, row.destination, row.subject) == (
            "pending",
            "email:li.lei@example.com",
            f"order:{order.pk}",
        )
        assert not Notification.objects.filter(kind="out_for_delivery").exists()  # nothing rendered in the transaction
        raise RuntimeError("the change fails after the event was written")
    assert (OutboxMessage.objects.count(), Notification.objects.count()) == before
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        order_event_record(order=order, kind="tracking", message="out for delivery", data=data)
    [row] = OutboxMessage.objects.filter(kind="notification", payload__notice="out_for_delivery")
    assert (row.status, row.attempts) == ("sent", 1)
    assert [m.subject for m in mail.outbox] == [f"订单 {order.number} 今天派送"]


def test_a_batch_of_events_writes_its_notices_in_one_insert(django_capture_on_commit_callbacks):
    order = care.shipped(django_capture_on_commit_callbacks)
    rows_in = [
        {"order": order, "kind": "tracking", "message": "scan", "data": {"tracking_number": "TN1", "status": s}}
        for s in ("in_transit", "out_for_delivery", "lost")
    ]
    before = OutboxMessage.objects.count()
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            order_events_record(rows_in)
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"] and '"oms_outboxmessage"' in q["sql"]]
    assert len(inserts) == 1
    assert list(OutboxMessage.objects.order_by("pk")[before:].values_list("payload__notice", "key")) == [
        ("out_for_delivery", f"{order.pk}:out_for_delivery:email:TN1"),
        ("exception", f"{order.pk}:problem:email:TN1:lost"),
    ]
    assert len(callbacks) >= 1  # the consumer is nudged after commit, not before


def test_inside_suppressed_events_write_no_outbox_rows(django_capture_on_commit_callbacks):
    order = care.shipped(django_capture_on_commit_callbacks)
    before = OutboxMessage.objects.count()
    with notifications.suppressed():
        order_event_record(
            order=order, kind="tracking", message="x", data={"tracking_number": "TN1", "status": "out_for_delivery"}
        )
    assert OutboxMessage.objects.count() == before


# ---- the consumer ---------------------------------------------------------------------------------------


class CountingBackend(EmailBackend):
    """locmem, counting the connections opened."""

    opened = 0

    def open(self):
        CountingBackend.opened += 1
        return True


def test_the_consumer_sends_a_batch_of_notices_over_one_connection(django_capture_on_commit_callbacks, settings):
    order = care.shipped(django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = "tests.oms.test_outbox.CountingBackend"
    CountingBackend.opened = 0
    mail.outbox.clear()
    notices = [
        notifications.notification_enqueue(order=order, subject=f"Note {i}", body="Text", reason="t") for i in range(3)
    ]  # their after-commit nudges are not run: the rows wait
    assert [n.status for n in notices] == ["queued"] * 3
    assert outbox.outbox_dispatch() == {"sent": 3}
    assert CountingBackend.opened == 1
    assert [m.subject for m in mail.outbox] == ["Note 0", "Note 1", "Note 2"]
    assert (
        list(Notification.objects.filter(pk__in=[n.pk for n in notices]).values_list("status", flat=True))
        == ["sent"] * 3
    )


class PickyBackend(CountingBackend):
    """Refuses one address for good, sends the rest."""

    def send_messages(self, messages):
        for message in messages:
            if "refused@example.com" in message.to:
                raise smtplib.SMTPRecipientsRefused({"refused@example.com": (550, b"No such user")})
        return super().send_messages(messages)


def test_one_refused_address_in_a_batch_is_dead_alone(django_capture_on_commit_callbacks, settings):
    order = care.shipped(django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = "tests.oms.test_outbox.PickyBackend"
    CountingBackend.opened = 0
    mail.outbox.clear()
    first = notifications.notification_enqueue(order=order, subject="One", body="Text", reason="t")
    Order.objects.filter(pk=order.pk).update(ship_email="refused@example.com")
    order.refresh_from_db()
    refused = notifications.notification_enqueue(order=order, subject="Two", body="Text", reason="t")
    Order.objects.filter(pk=order.pk).update(ship_email="li.lei@example.com")
    order.refresh_from_db()
    third = notifications.notification_enqueue(order=order, subject="Three", body="Text", reason="t")
    assert outbox.outbox_dispatch() == {"sent": 2, "dead": 1}
    assert CountingBackend.opened == 1
    assert [m.subject for m in mail.outbox] == ["One", "Three"]
    statuses = dict(Notification.objects.filter(pk__in=[first.pk, refused.pk, third.pk]).values_list("pk", "status"))
    assert statuses == {first.pk: "sent", refused.pk: "failed", third.pk: "sent"}
    row = OutboxMessage.objects.get(key=refused.dedupe_key)
    assert (row.status, row.destination) == ("dead", "email:refused@example.com")


def test_a_failing_destination_retries_with_backoff_then_goes_dead(handlers, settings):
    settings.OMS_OUTBOX_MAX_ATTEMPTS = 3
    register, calls = handlers
    register("test.flaky", lambda rows: {r.pk: outbox.retry("503 from the channel") for r in rows})
    row = put("test.flaky", "k1")
    t0 = row.next_attempt_at
    assert outbox.outbox_dispatch(now=t0) == {"retry": 1}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == (
        "pending",
        1,
        t0 + timedelta(minutes=1),
        "503 from the channel",
    )
    assert outbox.outbox_dispatch(now=t0 + timedelta(seconds=59)) == {}
    assert outbox.outbox_dispatch(now=t0 + timedelta(minutes=1)) == {"retry": 1}
    row.refresh_from_db()
    assert (row.attempts, row.next_attempt_at) == (2, t0 + timedelta(minutes=3))
    assert outbox.outbox_dispatch(now=t0 + timedelta(minutes=3)) == {"dead": 1}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("dead", 3, "503 from the channel")
    assert outbox.outbox_dispatch(now=t0 + timedelta(days=1)) == {}
    assert len(calls) == 3


def test_a_retry_at_the_other_sides_time_waits_that_long_not_the_backoff(handlers):
    register, _calls = handlers
    register("test.limited", lambda rows: {r.pk: outbox.retry("429, Retry-After: 7", after_seconds=7) for r in rows})
    row = put("test.limited", "k1")
    t0 = row.next_attempt_at
    assert outbox.outbox_dispatch(now=t0) == {"retry": 1}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, t0 + timedelta(seconds=7))
    assert outbox.outbox_dispatch(now=t0 + timedelta(seconds=6)) == {}
    assert outbox.outbox_dispatch(now=t0 + timedelta(seconds=7)) == {"retry": 1}


def test_backoff_is_capped(settings):
    settings.OMS_OUTBOX_BACKOFF_MAX_SECONDS = 3600
    assert [outbox.retry_delay(n).total_seconds() for n in (1, 2, 3, 6, 7, 8, 30)] == [
        60,
        120,
        240,
        1920,
        3600,
        3600,
        3600,
    ]


def test_a_handler_that_raises_retries_its_batch_and_the_others_go_on(handlers):
    register, calls = handlers

    def broken(rows):
        raise ValueError("bug in the handler")

    register("test.broken", broken)
    register("test.ok", lambda rows: {r.pk: outbox.sent() for r in rows})
    put("test.broken", "b1")
    put("test.ok", "o1")
    put("test.unknown", "u1")
    assert outbox.outbox_dispatch() == {"retry": 2, "sent": 1}
    assert rows("test.broken") == [("b1", "pending", 1)]
    assert rows("test.ok") == [("o1", "sent", 1)]
    assert OutboxMessage.objects.get(kind="test.broken").last_error == "ValueError: bug in the handler"
    assert OutboxMessage.objects.get(kind="test.unknown").last_error == (
        "No handler is registered for outbox messages of kind 'test.unknown'."
    )


def test_handlers_get_batches_of_their_size(handlers):
    register, calls = handlers
    register("test.batch", lambda rows: {r.pk: outbox.sent() for r in rows}, batch_size=2)
    ids = [put("test.batch", f"k{i}").pk for i in range(5)]
    assert outbox.outbox_dispatch() == {"sent": 5}
    assert calls == [("test.batch", ids[0:2]), ("test.batch", ids[2:4]), ("test.batch", ids[4:5])]


def test_a_rate_limit_of_two_a_minute_sends_two_of_five_and_schedules_the_rest(handlers):
    register, calls = handlers
    register("test.rate", lambda rows: {r.pk: outbox.sent() for r in rows}, rate_per_minute=2)
    for i in range(5):
        put("test.rate", f"k{i}", destination="channel:tmall")
    put("test.rate", "other", destination="channel:jd")  # another destination has its own budget
    t0 = timezone.now()
    assert outbox.outbox_dispatch(now=t0) == {"sent": 3}
    assert rows("test.rate") == [
        ("k0", "sent", 1),
        ("k1", "sent", 1),
        ("k2", "pending", 0),
        ("k3", "pending", 0),
        ("k4", "pending", 0),
        ("other", "sent", 1),
    ]
    waiting = OutboxMessage.objects.filter(kind="test.rate", status="pending")
    assert set(waiting.values_list("next_attempt_at", flat=True)) == {t0 + timedelta(minutes=1)}
    assert outbox.outbox_dispatch(now=t0 + timedelta(seconds=30)) == {}
    assert outbox.outbox_dispatch(now=t0 + timedelta(minutes=1)) == {"sent": 2}
    assert [s for _k, s, _a in rows("test.rate")] == ["sent", "sent", "sent", "sent", "pending", "sent"]


def test_a_leased_row_is_not_taken_twice_and_comes_back_after_its_lease(handlers):
    register, calls = handlers
    register("test.lease", lambda rows: {r.pk: outbox.sent() for r in rows})
    row = put("test.lease", "k1")
    t0 = timezone.now()
    [claimed] = outbox._claim(10, t0)  # a consumer took it and died before recording the outcome
    assert claimed.pk == row.pk
    assert outbox.outbox_dispatch(now=t0 + timedelta(minutes=1)) == {}
    assert outbox.outbox_dispatch(now=t0 + outbox.lease()) == {"sent": 1}
    assert rows("test.lease") == [("k1", "sent", 2)]


def test_the_sweep_sends_rows_whose_nudge_was_lost(handlers, django_capture_on_commit_callbacks):
    register, calls = handlers
    register("test.sweep", lambda rows: {r.pk: outbox.sent() for r in rows})
    put("test.sweep", "k1")  # the after-commit nudge never runs in this test
    assert rows("test.sweep") == [("k1", "pending", 0)]
    with django_capture_on_commit_callbacks(execute=True):
        assert background.sweep()["outbox_unsent"] == 1
    assert rows("test.sweep") == [("k1", "sent", 1)]
    assert background.sweep()["outbox_unsent"] == 0


# ---- the dead letter on the Background work page ---------------------------------------------------------


def test_dead_and_retrying_rows_are_on_the_page_and_a_person_retries_or_dismisses_them(
    client, handlers, settings, django_capture_on_commit_callbacks
):
    settings.OMS_OUTBOX_MAX_ATTEMPTS = 1
    register, calls = handlers
    answer = {"text": "HTTP 503 from tmall"}
    register("test.push", lambda rows: {r.pk: outbox.retry(answer["text"]) for r in rows})
    dead_row = put("test.push", "k1", destination="channel:tmall")
    other = put("test.push", "k2", destination="channel:tmall")
    assert outbox.outbox_dispatch() == {"dead": 2}
    client.force_login(make_user("boss", "admin"))
    page = client.get("/background/").content.decode()
    assert 'id="outbox"' in page and 'id="outbox-counts"' in page
    assert f'id="outbox-{dead_row.pk}"' in page and "HTTP 503 from tmall" in page and "channel:tmall" in page
    assert "<td><code>test.push</code></td>" in page

    answer["text"] = ""
    register("test.push", lambda rows: {r.pk: outbox.sent() for r in rows})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/background/outbox/{dead_row.pk}/", {"action": "retry"})
    assert response.status_code == 302
    assert client.post(f"/background/outbox/{other.pk}/", {"action": "dismiss"}).status_code == 302
    assert rows("test.push") == [("k1", "sent", 1), ("k2", "dismissed", 1)]
    page = client.get("/background/").content.decode()
    assert 'id="no-outbox-problems"' in page


def test_warehouse_staff_cannot_retry_outbox_rows(client, handlers, settings):
    settings.OMS_OUTBOX_MAX_ATTEMPTS = 1
    register, calls = handlers
    register("test.push", lambda rows: {r.pk: outbox.dead("refused") for r in rows})
    row = put("test.push", "k1")
    outbox.outbox_dispatch()
    client.force_login(make_user("picker", "warehouse"))
    assert client.post(f"/background/outbox/{row.pk}/", {"action": "retry"}).status_code == 403
    assert rows("test.push") == [("k1", "dead", 1)]


# ---- PostgreSQL: consumers side by side ------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_consumers_at_once_send_every_row_once(handlers):
    register, calls = handlers
    sent, lock = [], threading.Lock()

    def handler(rows):
        with lock:
            sent.extend(r.pk for r in rows)
        return {r.pk: outbox.sent() for r in rows}

    register("test.pg", handler, batch_size=10)
    now = timezone.now()
    OutboxMessage.objects.bulk_create(  # written directly: no nudge, the two consumers below take them
        [
            OutboxMessage(kind="test.pg", destination="test:a", key=f"k{i}", next_attempt_at=now, created_at=now)
            for i in range(300)
        ]
    )
    barrier = threading.Barrier(2)

    def consume():
        try:
            barrier.wait()
            outbox.outbox_dispatch_all(limit=20)
        finally:
            connection.close()

    threads = [threading.Thread(target=consume) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = set(OutboxMessage.objects.filter(kind="test.pg").values_list("pk", flat=True))
    assert len(sent) == 300 and set(sent) == ids  # every row once
    assert set(OutboxMessage.objects.filter(kind="test.pg").values_list("status", "attempts")) == {("sent", 1)}


def test_the_outbox_door_moves_only_what_its_table_allows():
    """OutboxMessage.status has one door (oms.outbox.outbox_move): a dismissed row is not made dead or
    skipped behind the person's back, but one that went out is recorded sent; anything may be re-armed."""
    from oms.outbox import outbox_move
    from oms.status import OutboxStatus as S

    rows = {
        status: OutboxMessage.objects.create(
            kind="door",
            destination="x",
            key=f"door-{status}",
            status=status,
            next_attempt_at=timezone.now(),
            created_at=timezone.now(),
        )
        for status in (S.PENDING, S.SENT, S.SKIPPED, S.DEAD, S.DISMISSED)
    }
    ids = [row.pk for row in rows.values()]

    def now_in():
        return {s: OutboxMessage.objects.get(pk=row.pk).status for s, row in rows.items()}

    assert outbox_move(ids, S.DEAD) == 1  # only the pending one
    assert now_in() == {
        S.PENDING: S.DEAD,
        S.SENT: S.SENT,
        S.SKIPPED: S.SKIPPED,
        S.DEAD: S.DEAD,
        S.DISMISSED: S.DISMISSED,
    }
    assert outbox_move(ids, S.SENT) == 1  # the dismissed one that went out anyway
    assert now_in()[S.DISMISSED] == S.SENT
    assert outbox_move(ids, S.PENDING, among=(S.DEAD,)) == 2  # retry: only dead rows (two now)
    assert outbox_move(ids, S.PENDING) == 5  # re-arm: every row
    with pytest.raises(ValueError):
        outbox_move(ids, "lost")
