"""Celery tasks of orders (intake, and the scheduled stock publishing): ids in, one service call each; safe to
deliver twice."""

from celery import shared_task

from .atp import publish_all_channels, publish_changed_stock
from .intake import dropbox, inbox, pipeline


@shared_task(name="orders.process_inbound", acks_late=True)
def process_inbound(message_id: int) -> None:
    pipeline.inbound_process(message_id)


@shared_task(name="orders.import_drop_folders", acks_late=True)
def import_drop_folders() -> int:
    return len(dropbox.import_drop_folders())


@shared_task(name="orders.apply_inbox", acks_late=True)
def apply_inbox() -> int:
    """Apply every waiting API order and order webhook in batches (orders/intake/inbox.py)."""
    return inbox.apply_all()


@shared_task(name="orders.publish_channel_stock", acks_late=True)
def publish_channel_stock() -> dict:
    """Publish changed figures of every channel: a push channel gets an outbox row, sent (and retried with
    backoff) by the outbox consumer; a push that went dead is queued afresh by a later run."""
    return publish_all_channels()


@shared_task(name="orders.publish_changed_stock", acks_late=True)
def publish_stock_on_change() -> dict:
    """Stock pushed on change: the products moved since each channel last looked, published together."""
    return publish_changed_stock()
