"""The official suppress switch of customer notifications: ``orders.care.notifications.suppressed()`` and the
setting ``OMS_NOTIFICATIONS_SUPPRESSED``; the demo seed uses it."""

import pytest
from django.core import mail

from demo.seed import customer_notifications_off
from orders.care import notifications
from orders.models import Notification
from tests.orders import care

pytestmark = pytest.mark.django_db


def test_inside_suppressed_order_events_queue_nothing_and_afterwards_they_do(django_capture_on_commit_callbacks):
    with notifications.suppressed():
        assert notifications.is_suppressed()
        order = care.shipped(django_capture_on_commit_callbacks)  # confirmed and shipped: no notice
        parcel = order.shipments.get().parcels.get()
        care.record(django_capture_on_commit_callbacks, parcel, "out_for_delivery", 300)
    assert not notifications.is_suppressed()
    assert Notification.objects.count() == 0 and mail.outbox == []

    care.record(django_capture_on_commit_callbacks, parcel, "delivered", 600)
    assert list(order.notifications.values_list("kind", "status")) == [("delivered", "sent")]


def test_a_direct_notify_inside_is_recorded_as_suppressed_and_never_sent(django_capture_on_commit_callbacks):
    order = care.shipped(django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), notifications.suppressed():
        with notifications.suppressed():  # nests
            pass
        assert notifications.is_suppressed()
        notice = notifications.notification_enqueue(order=order, subject="Hello", body="Text", reason="test")
    assert (notice.status, notice.last_error) == ("suppressed", notifications.SUPPRESSED_ERROR)
    assert mail.outbox == []


def test_the_setting_suppresses_too(settings, django_capture_on_commit_callbacks):
    settings.OMS_NOTIFICATIONS_SUPPRESSED = True
    order = care.shipped(django_capture_on_commit_callbacks)
    assert order.notifications.count() == 0 and mail.outbox == []


def test_the_demo_seed_switch_is_the_official_one():
    assert not notifications.is_suppressed()
    with customer_notifications_off():
        assert notifications.is_suppressed()
    assert not notifications.is_suppressed()


def test_suppression_ends_when_the_block_raises():
    with pytest.raises(RuntimeError), notifications.suppressed():
        raise RuntimeError("boom")
    assert not notifications.is_suppressed()
