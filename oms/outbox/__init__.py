"""The outbox (ARCHITECTURE.md, "The spine"): every effect on the outside world is a row written in the same
transaction as the change that causes it, and sent later by one consumer, in batches.

Writing: ``outbox_put(kind=..., destination=..., key=..., payload=..., subject=...)`` (or
``outbox_put_many`` for a batch) is one INSERT ... ON CONFLICT DO NOTHING, called INSIDE the business
transaction: the row exists exactly when the change does, and the same (kind, key) is written once (one
problem, one message). After commit the consumer is nudged, at most once per short window per process
(in eager mode, the tests' fast lane, it runs at once).

Sending: each kind registers a handler (``register_outbox_handler(kind, handler, rate_per_minute=None)``),
called with a LIST of rows; it returns ``{row id: Outcome}`` — ``sent()``, ``skipped(reason)`` (nothing to
send, e.g. the customer opted out), ``retry(error)`` or ``dead(error)``. ``outbox_dispatch`` claims the due
rows by leasing them for a few minutes, so a consumer that dies mid-batch loses nothing: its rows come back
when the lease ends (``OMS_OUTBOX_LEASE_SECONDS``). A round costs the same for one row as for 500: on
PostgreSQL one prepared ``UPDATE ... RETURNING`` over ``SELECT ... FOR UPDATE SKIP LOCKED`` leases it and one
``UPDATE ... FROM unnest(...)`` records its outcomes (SQLite: a SELECT and an UPDATE in one transaction, one
UPDATE per kind of outcome). ``outbox_dispatch_all`` gathers rows that trickle in: after a small round it
waits ``OMS_OUTBOX_GATHER_MS`` (after a round of a few rows) and sends what arrived meanwhile together.
A row to retry waits 1, 2, 4 ... minutes (at most ``OMS_OUTBOX_BACKOFF_MAX_SECONDS``); after
``OMS_OUTBOX_MAX_ATTEMPTS`` tries it is dead, and the Background work page lists it with Retry and Dismiss.
A kind with a rate limit sends at most that many rows per destination per minute; the rest wait.

The package: ``registry`` (outcomes, the handler and rate limit of each kind, lease/tries/backoff settings),
``writing`` (rows written in the business transaction, the nudge), ``rounds`` (the consumer: lease, call, record),
``door`` (the one door of the status) and ``dead_letters`` (what a person sees and does, the sweep's probe).
Import from ``oms.outbox``: everything is here.
"""

from .dead_letters import (
    outbox_counts,
    outbox_dismiss,
    outbox_due,
    outbox_problems,
    outbox_rearm,
    outbox_retry,
    register_probe,
)
from .door import outbox_move
from .registry import (
    BACKOFF_BASE,
    DEAD,
    DEFAULT_BATCH,
    HANDLERS,
    KEY_MAX,
    NUDGE_WINDOW_SECONDS,
    PENDING,
    RATE_WINDOW,
    SENT,
    SKIPPED,
    TASK,
    Handler,
    Outcome,
    Registration,
    dead,
    lease,
    max_attempts,
    outbox_handler,
    register_outbox_handler,
    retry,
    retry_delay,
    sent,
    skipped,
)
from .rounds import (
    claim,
    gather_seconds,
    outbox_dispatch,
    outbox_dispatch_all,
)
from .writing import outbox_key, outbox_message, outbox_nudge, outbox_put, outbox_put_many

__all__ = [
    "BACKOFF_BASE",
    "DEAD",
    "DEFAULT_BATCH",
    "KEY_MAX",
    "NUDGE_WINDOW_SECONDS",
    "PENDING",
    "RATE_WINDOW",
    "SENT",
    "SKIPPED",
    "TASK",
    "HANDLERS",
    "Handler",
    "Outcome",
    "Registration",
    "claim",
    "dead",
    "gather_seconds",
    "lease",
    "max_attempts",
    "outbox_counts",
    "outbox_dismiss",
    "outbox_dispatch",
    "outbox_dispatch_all",
    "outbox_due",
    "outbox_handler",
    "outbox_key",
    "outbox_message",
    "outbox_move",
    "outbox_nudge",
    "outbox_problems",
    "outbox_put",
    "outbox_put_many",
    "outbox_rearm",
    "outbox_retry",
    "register_outbox_handler",
    "register_probe",
    "retry",
    "retry_delay",
    "sent",
    "skipped",
]

# The names the outbox's tests reach for (kept from the single module).
_handlers = HANDLERS
_claim = claim
