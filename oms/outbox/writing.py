"""Writing outbox rows inside the business transaction, and nudging the consumer after it commits."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterable

from celery import current_app
from django.db import transaction
from django.utils import timezone

from .. import statements
from ..models import OutboxMessage
from .registry import KEY_MAX, NUDGE_WINDOW_SECONDS, TASK
from .rounds import outbox_dispatch

# ---- writing ------------------------------------------------------------------------------------------

log = logging.getLogger("oms.outbox")  # the module's name before it became a package


def outbox_key(text: str) -> str:
    """A key that fits the column: long ones keep their start and get a hash of the whole."""
    if len(text) <= KEY_MAX:
        return text
    return text[:120] + ":" + hashlib.sha256(text.encode()).hexdigest()[:40]


def outbox_message(*, kind: str, destination: str, key: str, payload: dict | None = None, subject: str = ""):
    """An unsaved row for ``outbox_put_many``."""
    if not kind or not key:
        raise ValueError("An outbox message needs a kind and a key.")
    return OutboxMessage(
        kind=kind,
        destination=destination[:200],
        key=outbox_key(key),
        payload=payload or {},
        subject=subject[:64],
    )


def outbox_put(*, kind: str, destination: str, key: str, payload: dict | None = None, subject: str = "") -> None:
    """Write one outbox row in the current transaction; the same (kind, key) again writes nothing."""
    outbox_put_many([outbox_message(kind=kind, destination=destination, key=key, payload=payload, subject=subject)])


def outbox_put_many(messages: Iterable[OutboxMessage]) -> None:
    """Write many rows in one INSERT ... ON CONFLICT DO NOTHING, inside the current transaction."""
    unique: dict[tuple[str, str], OutboxMessage] = {}
    for message in messages:
        unique.setdefault((message.kind, message.key), message)
    if not unique:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Write outbox rows inside the transaction of the change that causes them.")
    now = timezone.now()
    rows = list(unique.values())
    for row in rows:
        row.created_at = row.created_at or now
        row.next_attempt_at = row.next_attempt_at or now
    statements.create_many(OutboxMessage, rows, ignore_conflicts=True)  # one prepared INSERT (oms/statements.py)
    outbox_nudge()


# ---- nudging the consumer -----------------------------------------------------------------------------

_nudge_lock = threading.Lock()
_last_nudge = 0.0


def outbox_nudge() -> None:
    """After the current transaction commits, make sure a consumer runs soon (see the module doc)."""
    transaction.on_commit(_nudge_now)


def _nudge_now() -> None:
    global _last_nudge
    task = current_app.tasks.get(TASK)
    try:
        if current_app.conf.task_always_eager:
            if task is not None:
                task.apply(throw=False)
            else:
                outbox_dispatch()
            return
        now = time.monotonic()
        with _nudge_lock:
            if now - _last_nudge < NUDGE_WINDOW_SECONDS:
                return  # the task already queued runs at the end of this window and takes our rows too
            _last_nudge = now
        if task is not None:
            task.apply_async(countdown=NUDGE_WINDOW_SECONDS)
        else:
            current_app.send_task(TASK, countdown=NUDGE_WINDOW_SECONDS)
    except Exception:  # noqa: BLE001 (the rows are safe; the sweep sends them if the nudge is lost)
        log.exception("could not nudge the outbox consumer; the sweep will")
