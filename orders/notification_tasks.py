"""Celery tasks of the notifications outbox (orders/notifications.py): ids in, one service call each.

Registered by OrdersConfig.ready (Celery's autodiscovery only reads tasks.py).
"""

from celery import shared_task

from . import notifications


@shared_task(name="orders.send_notification", bind=True, acks_late=True, max_retries=notifications.MAX_ATTEMPTS - 1)
def send_notification(self, notification_id: int) -> str:
    """Send one notice. A transient error retries with backoff (1, 2, 4 ... minutes, as the beat job
    would); a repeat delivery is a no-op. Run eagerly (tests), the beat job does the retrying."""
    try:
        return notifications.notification_send(notification_id).status
    except notifications.TransientSendError as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            return "failed"  # stays failed + retryable: orders.retry_notifications picks it up
        delay = notifications.retry_delay(self.request.retries + 1).total_seconds()
        raise self.retry(exc=exc, countdown=delay) from exc


@shared_task(name="orders.retry_notifications", acks_late=True)
def retry_notifications() -> int:
    """Beat, every minute: failed notices whose backoff has passed go out again."""
    return len(notifications.notifications_retry_due())
