"""Celery tasks of the workflow actions: ids in, one action each; safe to deliver twice."""

from celery import shared_task

from orders.intake import pipeline

from .channel import order_apply_channel_update


@shared_task(name="workflows.apply_channel_update", acks_late=True)
def apply_channel_update(message_id: int, retry: bool = False) -> None:
    """Apply a channel's update for an existing order (a stored webhook message) and record its outcome."""
    pipeline.inbound_process(message_id, retry=retry, apply_update=order_apply_channel_update)
