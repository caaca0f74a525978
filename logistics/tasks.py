from celery import shared_task

from . import intake, polling
from .exceptions import rules


@shared_task(name="logistics.process_tracking_push", acks_late=True)
def process_tracking_push(message_id: int) -> None:
    intake.tracking_push_process(message_id)


@shared_task(name="logistics.poll_tracking", acks_late=True)
def poll_tracking() -> int:
    """Ask the carriers that must be asked (logistics/polling.py)."""
    return len(polling.tracking_poll_due())


@shared_task(name="logistics.detect_exceptions", acks_late=True)
def detect_exceptions() -> dict:
    """Scheduled exception detection (logistics/exceptions/rules.py)."""
    return rules.exceptions_scan()
