from celery import shared_task

from . import intake


@shared_task(name="logistics.process_tracking_push", acks_late=True)
def process_tracking_push(message_id: int) -> None:
    intake.tracking_push_process(message_id)
