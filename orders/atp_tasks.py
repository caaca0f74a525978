"""Scheduled publishing of channel stock figures (beat entry in oms/celery.py)."""

from celery import shared_task

from .atp import publish_all_channels


@shared_task(name="orders.publish_channel_stock", acks_late=True)
def publish_channel_stock() -> dict:
    """Publish changed figures of every channel: a push channel gets an outbox row, sent (and retried with
    backoff) by the outbox consumer; a push that went dead is queued afresh by a later run."""
    return publish_all_channels()
