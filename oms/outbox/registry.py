"""The outbox's registry: the outcomes a handler gives, the handler (and rate limit) of each kind of message,
and the settings every round reads (lease, tries, backoff). See oms/outbox/__init__.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from ..models import OutboxMessage
from ..models import OutboxStatus as OS

TASK = "oms.outbox_dispatch"
NUDGE_WINDOW_SECONDS = 1.0  # at most one dispatch task per process per window; it runs at the window's end
BACKOFF_BASE = timedelta(minutes=1)
RATE_WINDOW = timedelta(minutes=1)
DEFAULT_BATCH = 100
KEY_MAX = 200
# The statuses as plain text (the set-based statements bind them in arrays).
PENDING, SENT, SKIPPED, DEAD = (str(s.value) for s in (OS.PENDING, OS.SENT, OS.SKIPPED, OS.DEAD))


# ---- outcomes and handlers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status: str  # "sent", "skipped", "retry" or "dead"
    error: str = ""
    after_seconds: float | None = None  # retry: the other side said when (Retry-After); None: the backoff


_SENT = Outcome("sent")


def sent() -> Outcome:
    return _SENT


def skipped(reason: str) -> Outcome:
    """Nothing to send, and that is the outcome (an opted-out customer, a notice already sent)."""
    return Outcome("skipped", reason)


def retry(error: str, *, after_seconds: float | None = None) -> Outcome:
    """Try again later: after ``after_seconds`` when the other side said when (a 429's Retry-After, a
    throttle's restore time), else after the backoff (1, 2, 4 ... minutes)."""
    return Outcome("retry", error, None if after_seconds is None else max(0.0, float(after_seconds)))


def dead(error: str) -> Outcome:
    return Outcome("dead", error)


Handler = Callable[[list[OutboxMessage]], dict[int, Outcome]]


@dataclass(frozen=True)
class Registration:
    kind: str
    handler: Handler
    rate_per_minute: int | None = None
    batch_size: int = DEFAULT_BATCH


HANDLERS: dict[str, Registration] = {}  # kind -> its registration (register_outbox_handler)


def register_outbox_handler(
    kind: str, handler: Handler, rate_per_minute: int | None = None, *, batch_size: int = DEFAULT_BATCH
) -> None:
    """``handler(rows) -> {row.pk: Outcome}`` sends rows of ``kind``; at most ``rate_per_minute`` rows per
    destination per minute (None: no limit). Registering a kind again replaces its handler."""
    if rate_per_minute is not None and rate_per_minute < 1:
        raise ValueError("rate_per_minute must be at least 1 (or None for no limit).")
    HANDLERS[kind] = Registration(kind, handler, rate_per_minute, max(1, batch_size))


def outbox_handler(kind: str) -> Registration | None:
    return HANDLERS.get(kind)


def lease() -> timedelta:
    """How long a consumer holds the rows it took (``OMS_OUTBOX_LEASE_SECONDS``): a dead one's rows come back."""
    return timedelta(seconds=max(1, int(settings.OMS_OUTBOX_LEASE_SECONDS)))


def max_attempts() -> int:
    return max(1, int(settings.OMS_OUTBOX_MAX_ATTEMPTS))


def retry_delay(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed try: 1, 2, 4, 8 ... minutes, at most the setting."""
    cap = timedelta(seconds=settings.OMS_OUTBOX_BACKOFF_MAX_SECONDS)
    return min(cap, BACKOFF_BASE * 2 ** min(max(attempts - 1, 0), 20))
