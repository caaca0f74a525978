"""Celery tasks for intake: ids in, one service call each; safe to deliver twice."""

from celery import shared_task

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
