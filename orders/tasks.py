"""Celery tasks for intake: ids in, one service call each; safe to deliver twice."""

from celery import shared_task

from .intake import dropbox, pipeline


@shared_task(name="orders.process_inbound", acks_late=True)
def process_inbound(message_id: int) -> None:
    pipeline.inbound_process(message_id)


@shared_task(name="orders.import_drop_folders", acks_late=True)
def import_drop_folders() -> int:
    return len(dropbox.import_drop_folders())
