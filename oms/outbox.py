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

The background sweep (every minute) nudges the consumer for rows past their retry time; its probe lists
rows that should have gone and did not.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, DateTimeField, F, Min, TextField, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from . import background, statements
from .models import OutboxMessage, OutboxStatus
from .models import OutboxStatus as OS
from .status import OUTBOX_TRANSITIONS, outbox_sources
from .wording import known

# The reasons this module writes on a row, read on the Background work page in the reader's language.
known(
    gettext_noop("No handler is registered for outbox messages of kind '%(kind)s'."),
    gettext_noop("The handler returned no outcome for this row."),
)

log = logging.getLogger(__name__)

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


_handlers: dict[str, Registration] = {}


def register_outbox_handler(
    kind: str, handler: Handler, rate_per_minute: int | None = None, *, batch_size: int = DEFAULT_BATCH
) -> None:
    """``handler(rows) -> {row.pk: Outcome}`` sends rows of ``kind``; at most ``rate_per_minute`` rows per
    destination per minute (None: no limit). Registering a kind again replaces its handler."""
    if rate_per_minute is not None and rate_per_minute < 1:
        raise ValueError("rate_per_minute must be at least 1 (or None for no limit).")
    _handlers[kind] = Registration(kind, handler, rate_per_minute, max(1, batch_size))


def outbox_handler(kind: str) -> Registration | None:
    return _handlers.get(kind)


def lease() -> timedelta:
    """How long a consumer holds the rows it took (``OMS_OUTBOX_LEASE_SECONDS``): a dead one's rows come back."""
    return timedelta(seconds=max(1, int(settings.OMS_OUTBOX_LEASE_SECONDS)))


def max_attempts() -> int:
    return max(1, int(settings.OMS_OUTBOX_MAX_ATTEMPTS))


def retry_delay(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed try: 1, 2, 4, 8 ... minutes, at most the setting."""
    cap = timedelta(seconds=settings.OMS_OUTBOX_BACKOFF_MAX_SECONDS)
    return min(cap, BACKOFF_BASE * 2 ** min(max(attempts - 1, 0), 20))


# ---- writing ------------------------------------------------------------------------------------------


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


# ---- the consumer -------------------------------------------------------------------------------------


def _rate_limit(rows: list[OutboxMessage], now: datetime) -> tuple[list[OutboxMessage], dict[int, datetime]]:
    """The rows that may go now, and {row id: when it may go} for rows over their destination's rate."""
    limits = {r.kind: _handlers[r.kind].rate_per_minute for r in rows if r.kind in _handlers}
    limits = {kind: rate for kind, rate in limits.items() if rate}
    if not limits:
        return rows, {}
    limited = [r for r in rows if r.kind in limits]
    since = now - RATE_WINDOW
    used: dict[tuple[str, str], int] = {}
    oldest: dict[tuple[str, str], datetime] = {}
    for row in (
        OutboxMessage.objects.filter(
            kind__in=list(limits),
            destination__in=list({r.destination for r in limited}),
            status=OutboxStatus.SENT,
            sent_at__gt=since,
        )
        .values("kind", "destination")
        .annotate(n=Count("pk"), first=Min("sent_at"))
    ):
        used[(row["kind"], row["destination"])] = row["n"]
        oldest[(row["kind"], row["destination"])] = row["first"]
    keep, deferred = [], {}
    for row in rows:
        rate = limits.get(row.kind)
        pair = (row.kind, row.destination)
        if rate is None or used.get(pair, 0) < rate:
            used[pair] = used.get(pair, 0) + 1
            keep.append(row)
        else:
            deferred[row.pk] = (oldest.get(pair) or now) + RATE_WINDOW
    return keep, deferred


def _claim(limit: int, now: datetime) -> list[OutboxMessage]:
    """Take up to ``limit`` due rows: lease them (and count the try); the rows over a rate limit wait."""
    return _take(limit, now)[0]


def _take(limit: int, now: datetime) -> tuple[list[OutboxMessage], int]:
    """(the leased rows that may go now, how many due rows were taken before the rate limits)."""
    if connection.vendor == "postgresql":
        return _take_leasing(limit, now)
    with transaction.atomic():  # SQLite: one writer at a time, the SELECT and the UPDATE in one transaction
        rows = list(
            OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now).order_by(
                "next_attempt_at", "pk"
            )[:limit]
        )
        if not rows:
            return [], 0
        taken = len(rows)
        rows, deferred = _rate_limit(rows, now)
        by_time: dict[datetime, list[int]] = defaultdict(list)
        for pk, when in deferred.items():
            by_time[when].append(pk)
        for when, pks in by_time.items():
            OutboxMessage.objects.filter(pk__in=pks).update(next_attempt_at=when)
        if rows:
            OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).update(
                attempts=F("attempts") + 1, next_attempt_at=now + lease()
            )
        for row in rows:
            row.attempts += 1
    return rows, taken


_LEASED = ("id", "kind", "destination", "key", "payload", "subject", "status", "attempts", "last_error")
_LEASED += ("created_at", "sent_at")


@lru_cache(maxsize=1)
def _lease_sql() -> str:
    table = OutboxMessage._meta.db_table
    columns = ", ".join(f"o.{c}" for c in _LEASED)
    return (
        f"WITH due AS (SELECT id, next_attempt_at AS due_at FROM {table} "  # noqa: S608 (names from the model)
        "WHERE status = %s AND next_attempt_at <= %s ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED) "
        f"UPDATE {table} AS o SET attempts = o.attempts + 1, next_attempt_at = %s FROM due WHERE o.id = due.id "
        f"RETURNING {columns}, due.due_at"
    )


def _take_leasing(limit: int, now: datetime) -> tuple[list[OutboxMessage], int]:
    """PostgreSQL: one prepared statement leases the due rows (``UPDATE ... FROM (SELECT ... FOR UPDATE SKIP
    LOCKED) RETURNING``), so two consumers take different rows and a round costs one round trip. The rows over a
    rate limit are given back (their try uncounted) with one more UPDATE, only when there are such rows."""
    with statements.cursor() as c:
        c.execute(_lease_sql(), [PENDING, now, limit, now + lease()])
        fetched = c.fetchall()
    if not fetched:
        return [], 0
    payload = OutboxMessage._meta.get_field("payload")
    rows = []
    for values in sorted(fetched, key=lambda v: (v[-1], v[0])):
        values = list(values)
        values[4] = payload.from_db_value(values[4], None, connection)
        row = OutboxMessage.from_db(connection.alias, _LEASED, values[:-1])
        row.next_attempt_at = values[-1]  # when it was due, as the SELECT of the other path reads it
        rows.append(row)
    keep, deferred = _rate_limit(rows, now)
    if deferred:
        statements.update_rows(
            OutboxMessage,
            ["attempts", "next_attempt_at"],
            [(r.pk, r.attempts - 1, deferred[r.pk]) for r in rows if r.pk in deferred],
        )
    return keep, len(rows)


def _call(registration: Registration | None, kind: str, rows: list[OutboxMessage]) -> dict[int, Outcome]:
    if registration is None:
        return {r.pk: retry(f"No handler is registered for outbox messages of kind '{kind}'.") for r in rows}
    outcomes: dict[int, Outcome] = {}
    for start in range(0, len(rows), registration.batch_size):
        batch = rows[start : start + registration.batch_size]
        try:
            result = registration.handler(batch) or {}
        except Exception as exc:  # noqa: BLE001 (a broken batch is retried, never lost)
            log.exception("outbox handler %s failed on %d rows", kind, len(batch))
            error = f"{type(exc).__name__}: {exc}"
            result = {r.pk: retry(error) for r in batch}
        for row in batch:
            outcomes[row.pk] = result.get(row.pk) or retry("The handler returned no outcome for this row.")
    return outcomes


def outbox_move(ids: Iterable[int], target: str, *, among: Iterable[str] | None = None, **fields) -> int:
    """The one door of ``OutboxMessage.status``: move the rows among ``ids`` whose status may go to ``target``
    (oms.status.OUTBOX_TRANSITIONS; ``among`` narrows the statuses further) in one UPDATE with ``fields``
    beside; returns how many moved. A row in a status that may not go there is left as it is."""
    if target not in OUTBOX_TRANSITIONS:
        raise ValueError(f"Unknown outbox status {target!r}.")
    sources = outbox_sources(target)
    if among is not None:
        sources = sources & frozenset(among)
    return OutboxMessage.objects.filter(pk__in=list(ids), status__in=sources).update(status=target, **fields)


def _cases(values: dict[int, object], output_field):
    return Case(*[When(pk=pk, then=Value(v)) for pk, v in values.items()], output_field=output_field)


def _record(rows: list[OutboxMessage], outcomes: dict[int, Outcome], now: datetime) -> Counter:
    """Write every outcome: on PostgreSQL one statement for the round, elsewhere one UPDATE per kind of outcome."""
    done: Counter = Counter()
    writes: list[tuple[int, str | None, datetime | None, datetime | None, str]] = []  # id, target, sent, next, error
    limit = max_attempts()
    for row in rows:
        outcome = outcomes[row.pk]
        error = outcome.error[:2000]
        if outcome.status == "retry" and row.attempts >= limit:
            outcome = dead(error)
        if outcome.status == "sent":
            writes.append((row.pk, SENT, now, None, ""))
        elif outcome.status == "skipped":
            writes.append((row.pk, SKIPPED, now, None, error))
        elif outcome.status == "dead":
            writes.append((row.pk, DEAD, None, now, error))
        else:
            after = outcome.after_seconds
            again = now + (retry_delay(row.attempts) if after is None else timedelta(seconds=after))
            writes.append((row.pk, None, None, again, error))  # stays pending: no status to move
        done[outcome.status] += 1
    if connection.vendor == "postgresql":
        _record_at_once(writes)
    else:
        _record_by_outcome(writes, now)
    return done


def _record_by_outcome(writes, now: datetime) -> None:
    """One UPDATE per kind of outcome, in one transaction (SQLite)."""
    by_target: dict[str | None, dict[int, tuple]] = defaultdict(dict)
    for pk, target, _sent_at, next_at, error in writes:
        by_target[target][pk] = (next_at, error)
    with transaction.atomic():
        if sent_rows := by_target.get(SENT):
            outbox_move(sent_rows, OutboxStatus.SENT, sent_at=now, last_error="")
        if skipped_rows := by_target.get(SKIPPED):
            errors = _cases({pk: error for pk, (_at, error) in skipped_rows.items()}, TextField())
            outbox_move(skipped_rows, OutboxStatus.SKIPPED, sent_at=now, last_error=errors)
        if dead_rows := by_target.get(DEAD):
            errors = _cases({pk: error for pk, (_at, error) in dead_rows.items()}, TextField())
            outbox_move(dead_rows, OutboxStatus.DEAD, next_attempt_at=now, last_error=errors)
        if retry_rows := by_target.get(None):
            OutboxMessage.objects.filter(pk__in=list(retry_rows)).update(
                next_attempt_at=_cases({pk: at for pk, (at, _error) in retry_rows.items()}, DateTimeField()),
                last_error=_cases({pk: error for pk, (_at, error) in retry_rows.items()}, TextField()),
            )


@lru_cache(maxsize=1)
def _record_sql() -> str:
    table = OutboxMessage._meta.db_table
    return (
        f"UPDATE {table} AS o SET status = COALESCE(v.target, o.status), "  # noqa: S608 (names from the model)
        "sent_at = COALESCE(v.sent_at, o.sent_at), next_attempt_at = COALESCE(v.next_at, o.next_attempt_at), "
        "last_error = v.error "
        "FROM unnest(%b::bigint[], %b::text[], %b::timestamptz[], %b::timestamptz[], %b::text[]) "
        "AS v(id, target, sent_at, next_at, error) "
        "WHERE o.id = v.id AND (v.target IS NULL OR (v.target || '<' || o.status) = ANY(%b::text[]))"
    )


def _record_at_once(writes) -> None:
    """PostgreSQL: every outcome of the round in one prepared ``UPDATE ... FROM unnest(...)``; a status moves
    only where ``OUTBOX_TRANSITIONS`` lets it (the door's rule, as ``outbox_move``), a retry keeps its status."""
    if not writes:
        return
    allowed = sorted(f"{target}<{source!s}" for target in (SENT, SKIPPED, DEAD) for source in outbox_sources(target))
    columns = [list(column) for column in zip(*writes, strict=True)]
    with statements.cursor() as c:
        c.execute(_record_sql(), [*columns, allowed])


def outbox_dispatch(*, limit: int = 500, now: datetime | None = None) -> dict[str, int]:
    """Send up to ``limit`` due rows through their kinds' handlers; returns how many got each outcome.
    ``now`` (tests, a replay) is the clock for what is due and for the next tries; by default the real one."""
    return _dispatch(limit, now)[0]


def _dispatch(limit: int, now: datetime | None = None) -> tuple[dict[str, int], int]:
    """One round: (outcomes counted, how many due rows it took)."""
    claimed, taken = _take(limit, now or timezone.now())
    if not claimed:
        return {}, taken
    by_kind: dict[str, list[OutboxMessage]] = defaultdict(list)
    for row in claimed:
        by_kind[row.kind].append(row)
    outcomes: dict[int, Outcome] = {}
    for kind, rows in by_kind.items():
        outcomes.update(_call(_handlers.get(kind), kind, rows))
    return dict(_record(claimed, outcomes, now or timezone.now())), taken


def gather_seconds() -> float:
    """How long the consumer waits after a small round for more rows (``OMS_OUTBOX_GATHER_MS``)."""
    return max(0.0, float(settings.OMS_OUTBOX_GATHER_MS) / 1000)


def outbox_dispatch_all(
    *, limit: int = 500, rounds: int = 20, gather: float | None = None, wait: Callable[[float], None] = time.sleep
) -> dict[str, int]:
    """``outbox_dispatch`` until nothing due is left (at most ``rounds`` batches; the next nudge goes on).

    A full round goes on at once; a round that took fewer rows drained what was due. When that round took a
    few rows (2 or more, fewer than ``OMS_OUTBOX_GATHER_BELOW``: rows trickling in faster than one round
    sends them) the consumer waits ``gather`` seconds (``OMS_OUTBOX_GATHER_MS``; 0: never) and takes what arrived
    meanwhile in one round, so each round's fixed cost is shared by a few rows; otherwise, and at a round that
    finds nothing, it stops (a round of one row: rows arrive slower than a round takes, waiting would only add
    latency and an empty round). ``wait`` is how it waits (a bench counts the time)."""
    gather = gather_seconds() if gather is None else max(0.0, gather)
    below = max(1, int(settings.OMS_OUTBOX_GATHER_BELOW))
    total: Counter = Counter()
    for _round in range(rounds):
        done, taken = _dispatch(limit)
        total.update(done)
        if taken == 0:
            break
        if taken >= limit:
            continue  # more may be due now
        if not gather or taken < 2 or taken >= below:
            break  # drained: what comes next is the next nudge's
        wait(gather)
    return dict(total)


# ---- the dead letter: what a person sees and does -----------------------------------------------------


def outbox_due(now: datetime | None = None):
    return OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now or timezone.now())


@transaction.atomic
def outbox_retry(*, ids: Iterable[int]) -> int:
    """Send dead (or retrying, or dismissed) rows again now, with a full set of tries."""
    count = outbox_move(
        ids,
        OutboxStatus.PENDING,
        among=(OutboxStatus.DEAD, OutboxStatus.PENDING, OutboxStatus.DISMISSED),
        attempts=0,
        next_attempt_at=timezone.now(),
    )
    if count:
        outbox_nudge()
    return count


@transaction.atomic
def outbox_rearm(*, kind: str, key: str) -> int:
    """Send the row of (kind, key) again whatever became of it (a person fixed the address and asks again)."""
    ids = OutboxMessage.objects.filter(kind=kind, key=outbox_key(key)).values_list("pk", flat=True)
    count = outbox_move(ids, OutboxStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), sent_at=None)
    if count:
        outbox_nudge()
    return count


@transaction.atomic
def outbox_dismiss(*, ids: Iterable[int]) -> int:
    """A person decides dead or retrying rows will not be sent; they stay as history."""
    return outbox_move(ids, OutboxStatus.DISMISSED)


def outbox_counts() -> list[dict]:
    """[{kind, pending, retrying, sent, skipped, dead, dismissed}] for the Background work page."""
    table: dict[str, dict] = {}
    for kind, status, failing, n in (
        OutboxMessage.objects.annotate(failing=Case(When(attempts__gt=0, then=Value(True)), default=Value(False)))
        .values_list("kind", "status", "failing")
        .annotate(n=Count("pk"))
        .order_by("kind")
    ):
        row = table.setdefault(kind, {"kind": kind, **{s: 0 for s in (*OutboxStatus.values, "retrying")}})
        name = "retrying" if status == OutboxStatus.PENDING and failing else status
        row[name] += n
    return list(table.values())


def outbox_problems(limit: int = 100) -> list[OutboxMessage]:
    """Dead rows, and pending rows that failed at least once (retrying), the dead first."""
    dead_rows = list(OutboxMessage.objects.filter(status=OutboxStatus.DEAD).order_by("-next_attempt_at", "-pk")[:limit])
    retrying = list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, attempts__gt=0)
        .exclude(last_error="")
        .order_by("next_attempt_at", "pk")[: max(0, limit - len(dead_rows))]
    )
    return dead_rows + retrying


# ---- the sweep's probe --------------------------------------------------------------------------------


def _find_unsent(cutoff: datetime, limit: int):
    return background.stuck_items(
        outbox_due(cutoff).order_by("next_attempt_at", "pk"),
        limit,
        ("pk", "kind", "destination", "next_attempt_at", "last_error"),
        lambda pk, kind, destination, at, error: background.StuckItem(f"#{pk} {kind} → {destination}", at, "", error),
    )


def _resend_unsent(cutoff: datetime) -> int:
    """Every minute: rows past their retry time (and rows whose nudge was lost) go to the consumer."""
    due = outbox_due().count()
    if due:
        background.send(TASK)
    return due


def register_probe() -> None:
    background.register_probe(
        background.Probe(
            key="outbox_unsent",
            label=_("Outbox messages not sent"),
            help=_("E-mails and stock pushes that should have gone out and did not. The sweep sends them."),
            find=_find_unsent,
            resend=_resend_unsent,
        )
    )
