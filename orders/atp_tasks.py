"""Scheduled publishing of channel stock figures (beat entry in oms/celery.py)."""

from celery import shared_task

from .atp import publish_all_channels


@shared_task(name="orders.publish_channel_stock", acks_late=True)
def publish_channel_stock() -> dict:
    """Push changed figures to every channel. A failed push is recorded on its publication row and
    retried by the next run (only changes since the last success are sent), so no Celery retry."""
    return publish_all_channels()
