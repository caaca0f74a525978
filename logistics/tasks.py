from celery import shared_task

from . import intake, polling
from .cases import rules

MAX_ROUNDS = 20  # batches one task applies before it hands the rest of a backlog to a fresh task


@shared_task(name=intake.APPLY_TASK, acks_late=True)
def apply_tracking_pushes() -> int:
    """The tracking consumer (woken by `intake.tracking_apply_nudge`): apply pending pushes in batches until none
    is left, each batch larger while a backlog fills them (`intake.next_batch_size`). Returns how many messages
    it took."""
    total = 0
    size = intake.BATCH_SIZE
    for _round in range(MAX_ROUNDS):
        taken = len(intake.tracking_pushes_apply_pending(limit=size))
        total += taken
        if taken < size:
            return total
        size = intake.next_batch_size(size, taken)
    apply_tracking_pushes.apply_async()  # a long backlog: let other work in between
    return total


@shared_task(name="logistics.process_tracking_push", acks_late=True)
def process_tracking_push(message_id: int) -> None:
    """Apply one stored message (the sweep and the intake monitor's Retry send its id), after the pushes still
    waiting before it. A message applied meanwhile by the consumer is left as it is."""
    apply_tracking_pushes()
    intake.tracking_pushes_process([message_id])


@shared_task(name="logistics.poll_tracking", acks_late=True)
def poll_tracking() -> int:
    """Ask the carriers that must be asked (logistics/polling.py)."""
    return len(polling.tracking_poll_due())


@shared_task(name="logistics.detect_exceptions", acks_late=True)
def detect_exceptions() -> dict:
    """Scheduled exception detection (logistics/cases/rules.py)."""
    return rules.exceptions_scan()
