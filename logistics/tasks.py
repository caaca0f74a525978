from celery import shared_task

from . import intake, polling
from .cases import rules


@shared_task(name="logistics.process_tracking_push", acks_late=True)
def process_tracking_push(message_id: int) -> None:
    """Apply a stored push, together with older pushes still waiting (a backlog), in one batch. A message
    whose own task comes later finds it processed and returns at once."""
    backlog = intake.tracking_pushes_pending(before_id=message_id, limit=intake.BATCH_SIZE - 1)
    intake.tracking_pushes_process([*backlog, message_id])


@shared_task(name="logistics.poll_tracking", acks_late=True)
def poll_tracking() -> int:
    """Ask the carriers that must be asked (logistics/polling.py)."""
    return len(polling.tracking_poll_due())


@shared_task(name="logistics.detect_exceptions", acks_late=True)
def detect_exceptions() -> dict:
    """Scheduled exception detection (logistics/cases/rules.py)."""
    return rules.exceptions_scan()
