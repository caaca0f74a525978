import re
import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from oms import outbox
from oms.models import OutboxMessage
from orders.care import notifications
from orders.care.tracking_links import order_number_from_token
from orders.models import Customer, Notification, NotificationOptOut, Order
from tests import journey
from tests.orders import care

pytestmark = pytest.mark.django_db


def links(text):
    """The tracking links in a text, as the order number each opens (the token is signed with a timestamp)."""
    return [
        order_number_from_token(t) + (frag or "")
        for t, frag in re.findall(r"http://127.0.0.1:8000/track/([^/]+)/(#rate)?", text)
    ]


def kinds(order):
    return list(order.notifications.order_by("id").values_list("kind", "status", "language"))


def test_the_journey_queues_and_sends_confirmed_shipped_out_for_delivery_delivered_in_english(
    django_capture_on_commit_callbacks,
):
    order = care.shipped(django_capture_on_commit_callbacks)
    parcel = order.shipments.get().parcels.get()
    care.record(django_capture_on_commit_callbacks, parcel, "in_transit", 10)
    care.record(django_capture_on_commit_callbacks, parcel, "out_for_delivery", 300)
    care.record(django_capture_on_commit_callbacks, parcel, "delivered", 600)
    order.refresh_from_db()

    assert kinds(order) == [
        ("confirmed", "sent", "zh-hans"),  # ship-to CN and no language on the customer: Chinese
        ("shipped", "sent", "zh-hans"),
        ("out_for_delivery", "sent", "zh-hans"),
        ("delivered", "sent", "zh-hans"),
    ]
    assert [m.subject for m in mail.outbox] == [
        f"我们已收到您的订单 {order.number}",
        f"您的订单 {order.number} 已发货",
        f"订单 {order.number} 今天派送",
        f"订单 {order.number} 已签收 — 配送体验如何？",
    ]
    assert all(m.to == ["li.lei@example.com"] for m in mail.outbox)
    shipped = mail.outbox[1]
    assert links(shipped.body) == [order.number] and parcel.tracking_number in shipped.body
    assert links(shipped.alternatives[0][0]) == [order.number]
    delivered = mail.outbox[3]
    assert links(delivered.body) == [f"{order.number}#rate"]
    assert delivered.extra_headers["List-Unsubscribe"].startswith("<http://")
    assert "退订" in delivered.body
    # Transactional notices carry no unsubscribe link.
    assert "List-Unsubscribe" not in shipped.extra_headers and "退订" not in shipped.body


def test_customer_language_wins_and_english_templates_render(django_capture_on_commit_callbacks):
    journey.world()
    Customer.objects.create(name="Li Lei", email="li.lei@example.com", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        order = journey.order_through(django_capture_on_commit_callbacks, "shipped")
    assert kinds(order) == [("confirmed", "sent", "en"), ("shipped", "sent", "en")]
    assert [m.subject for m in mail.outbox] == [
        f"We have your order {order.number}",
        f"Your order {order.number} is on its way",
    ]
    body = mail.outbox[1].body
    assert body.startswith("Your parcel is on its way\n\nHello Li,\n\n")
    assert "Expected delivery: " in body and "Track your parcel: http://" in body


def test_same_notice_is_queued_once(django_capture_on_commit_callbacks):
    order = care.shipped(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        again = notifications.notify(order=order, kind="confirmed")
    assert again == order.notifications.get(kind="confirmed")
    assert Notification.objects.filter(order=order).count() == 2
    assert len(mail.outbox) == 2


def test_delay_sends_the_new_date_with_an_apology_once(django_capture_on_commit_callbacks):
    order = care.shipped(django_capture_on_commit_callbacks)
    parcel = order.shipments.get().parcels.get()
    old = parcel.expected_delivery
    new = old + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        from orders.services import order_event_record

        for _ in range(2):  # the shape logistics.eta writes when the expected date moves
            order_event_record(
                order=order,
                kind="tracking",
                message="expected later",
                data={
                    "tracking_number": parcel.tracking_number,
                    "expected_delivery": new.isoformat(),
                    "previous": old.isoformat(),
                    "basis": "lane",
                },
            )
    delayed = order.notifications.get(kind="delayed")
    assert delayed.status == "sent"
    assert delayed.subject == f"订单 {order.number} 将晚些送达，抱歉"
    assert f"新的预计送达日期是 {new.isoformat()}（原为 {old.isoformat()}）" in delayed.body_text
    assert "深表歉意" in delayed.body_text


def test_a_problem_scan_tells_the_customer_in_plain_words(django_capture_on_commit_callbacks):
    order = care.shipped(django_capture_on_commit_callbacks)
    parcel = order.shipments.get().parcels.get()
    care.record(django_capture_on_commit_callbacks, parcel, "failed_attempt", 30)
    # The scan opens the failed-attempt case at once; its playbook message is the one message of this problem
    # (the automatic tracking notice shares its problem key and is not sent again).
    [notice] = order.notifications.exclude(kind__in=["confirmed", "shipped"])
    assert notice.subject == f"订单 {order.number} 未能成功派送"
    assert "快递员尝试派送您的包裹，但未能成功" in notice.body_text


def test_opt_out_suppresses_optional_notices_only(django_capture_on_commit_callbacks, client):
    order = care.shipped(django_capture_on_commit_callbacks)
    token = notifications.unsubscribe_token("li.lei@example.com")
    page = client.get(f"/notifications/unsubscribe/{token}/")
    assert page.status_code == 200 and NotificationOptOut.objects.count() == 0  # GET changes nothing
    assert client.post(f"/notifications/unsubscribe/{token}/").status_code == 200
    assert list(NotificationOptOut.objects.values_list("address", flat=True)) == ["li.lei@example.com"]

    parcel = order.shipments.get().parcels.get()
    care.record(django_capture_on_commit_callbacks, parcel, "out_for_delivery", 300)
    care.record(django_capture_on_commit_callbacks, parcel, "delivered", 600)
    assert kinds(order)[-2:] == [("out_for_delivery", "sent", "zh-hans"), ("delivered", "suppressed", "zh-hans")]
    assert order.notifications.get(kind="delivered").last_error == "The customer opted out of optional messages."
    assert [m.subject for m in mail.outbox][-1] == f"订单 {order.number} 今天派送"


def test_a_forged_unsubscribe_link_changes_nothing(client):
    assert client.post("/notifications/unsubscribe/not-a-token/").status_code == 404
    assert NotificationOptOut.objects.count() == 0


class FlakyBackend:
    """Fails with a transient SMTP error the first `failures` times, then sends."""

    failures = 0
    sent: list = []

    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        FlakyBackend.sent.extend(messages)
        return len(messages)


class RefusingBackend(FlakyBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"No such user")})


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.orders.test_notifications.FlakyBackend"
    FlakyBackend.sent = []
    return FlakyBackend


def outbox_row(notice):
    return OutboxMessage.objects.get(kind="notification", key=notice.dedupe_key)


def test_transient_smtp_errors_retry_the_outbox_row_with_backoff(django_capture_on_commit_callbacks, flaky):
    order = care.shipped(django_capture_on_commit_callbacks)
    flaky.sent = []
    flaky.failures = 2
    with django_capture_on_commit_callbacks(execute=True):
        notice = notifications.notification_enqueue(order=order, subject="Hello", body="A word from us.", reason="t")
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.retryable) == ("failed", 1, True)
    assert notice.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    row = outbox_row(notice)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, notice.last_error)
    first_retry = row.next_attempt_at
    assert outbox.outbox_dispatch(now=first_retry - timedelta(seconds=1)) == {}  # not before its backoff
    assert outbox.outbox_dispatch(now=first_retry) == {"retry": 1}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 2, first_retry + timedelta(minutes=2))
    assert outbox.outbox_dispatch(now=row.next_attempt_at) == {"sent": 1}
    notice.refresh_from_db()
    row.refresh_from_db()
    assert (notice.status, notice.attempts, notice.last_error) == ("sent", 3, "")
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")
    assert [m.subject for m in flaky.sent] == ["Hello"]
    # The row taken again (a consumer that died before recording the outcome): the notice is not sent twice.
    outbox.outbox_rearm(kind="notification", key=notice.dedupe_key)
    assert outbox.outbox_dispatch() == {"sent": 1}
    assert len(flaky.sent) == 1


def test_a_notice_that_keeps_failing_goes_dead_and_a_person_sends_it_again(
    django_capture_on_commit_callbacks, flaky, settings
):
    settings.OMS_OUTBOX_MAX_ATTEMPTS = 2
    order = care.shipped(django_capture_on_commit_callbacks)
    flaky.sent = []
    flaky.failures = 2
    with django_capture_on_commit_callbacks(execute=True):
        notice = notifications.notification_enqueue(order=order, subject="Hi", body="Text", reason="t")
    row = outbox_row(notice)
    assert outbox.outbox_dispatch(now=row.next_attempt_at) == {"dead": 1}
    row.refresh_from_db()
    notice.refresh_from_db()
    assert (row.status, row.attempts) == ("dead", 2)
    assert (notice.status, notice.attempts, notice.retryable) == ("failed", 2, False)
    assert outbox.outbox_dispatch(now=timezone.now() + timedelta(days=1)) == {}  # dead rows are not taken
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notification_resend(notification=notice)
    notice.refresh_from_db()
    row.refresh_from_db()
    assert (notice.status, notice.attempts, row.status) == ("sent", 3, "sent")
    assert [m.subject for m in flaky.sent] == ["Hi"]


def test_a_refused_address_fails_for_good(django_capture_on_commit_callbacks, settings):
    order = care.shipped(django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = "tests.orders.test_notifications.RefusingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        notice = notifications.notification_enqueue(order=order, subject="Hi", body="Text", reason="t")
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.retryable) == ("failed", 1, False)
    row = outbox_row(notice)
    assert (row.status, row.attempts) == ("dead", 1)
    assert row.last_error == notice.last_error == "SMTPRecipientsRefused: {'x@example.com': (550, b'No such user')}"
    assert outbox.outbox_dispatch(now=timezone.now() + timedelta(days=1)) == {}


def test_sms_goes_through_the_adapter(django_capture_on_commit_callbacks, settings):
    settings.OMS_SMS_ADAPTER = "orders.care.notifications.MemorySmsAdapter"
    notifications.MemorySmsAdapter.outbox = []
    order = care.shipped(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        notice = notifications.notify(order=order, kind="shipped", channel="sms", dedupe="x")
    notice.refresh_from_db()
    assert notice.status == "sent" and notice.to == "+8613800138000"
    [sms] = notifications.MemorySmsAdapter.outbox
    assert sms["to"] == "+8613800138000"
    assert sms["text"].startswith(f"您的订单 {order.number} 已发货 http://127.0.0.1:8000/track/")
    assert links(sms["text"]) == [order.number]


def test_order_without_address_is_recorded_not_sent(django_capture_on_commit_callbacks):
    order = care.shipped(django_capture_on_commit_callbacks)
    Order.objects.filter(pk=order.pk).update(ship_email="")
    Customer.objects.filter(pk=order.customer_id).update(email="")
    order.refresh_from_db()
    notice = notifications.notify(order=order, kind="message", context={"subject": "s", "body": "b"}, dedupe="n")
    assert (notice.status, notice.to, notice.last_error) == ("suppressed", "", "The order has no e-mail address.")


def test_the_notification_door_moves_only_what_its_table_allows():
    """Notification.status has one door (orders.care.notifications.notifications_move): a sent or
    suppressed notice never moves again; a failed one may be queued again; the rest stay as they are."""
    from orders.care.notifications import notifications_move
    from orders.status import NotificationStatus as N

    made = {
        status: Notification.objects.create(
            kind="message",
            channel="email",
            language="en",
            to="a@example.com",
            status=status,
            dedupe_key=f"door-{status}",
        )
        for status in (N.QUEUED, N.SENDING, N.SENT, N.FAILED, N.SUPPRESSED)
    }
    assert notifications_move([n.pk for n in made.values()], N.QUEUED) == 1  # only the failed one
    assert {s: Notification.objects.get(pk=n.pk).status for s, n in made.items()} == {
        N.QUEUED: N.QUEUED,
        N.SENDING: N.SENDING,
        N.SENT: N.SENT,
        N.FAILED: N.QUEUED,
        N.SUPPRESSED: N.SUPPRESSED,
    }
    assert notifications_move([n.pk for n in made.values()], N.SENDING) == 3  # queued (twice) and sending
    assert notifications_move([n.pk for n in made.values()], N.SENT, last_error="") == 3
    assert Notification.objects.filter(status=N.SENT).count() == 4
    assert Notification.objects.get(pk=made[N.SUPPRESSED].pk).status == N.SUPPRESSED
    with pytest.raises(ValueError):
        notifications_move([made[N.SENT].pk], "lost")
