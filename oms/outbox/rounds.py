"""The consumer's rounds: lease the due rows, call their kinds' handlers, record the outcomes (see
oms/outbox/__init__.py)."""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, DateTimeField, F, Min, TextField, Value, When
from django.utils import timezone
from django.utils.translation import gettext_noop

from .. import statements
from ..models import OutboxMessage, OutboxStatus
from ..status import outbox_sources
from ..wording import known
from .door import outbox_move
from .registry import (
    DEAD,
    HANDLERS,
    PENDING,
    RATE_WINDOW,
    SENT,
    SKIPPED,
    Outcome,
    Registration,
    dead,
    lease,
    max_attempts,
    retry,
    retry_delay,
)

# The reasons this module writes on a row, read on the Background work page in the reader's language.
known(
    gettext_noop("No handler is registered for outbox messages of kind '%(kind)s'."),
    gettext_noop("The handler returned no outcome for this row."),
)

# ---- the consumer -------------------------------------------------------------------------------------

log = logging.getLogger("oms.outbox")  # the module's name before it became a package


def _rate_limit(rows: list[OutboxMessage], now: datetime) -> tuple[list[OutboxMessage], dict[int, datetime]]:
    """The rows that may go now, and {row id: when it may go} for rows over their destination's rate."""
    limits = {r.kind: HANDLERS[r.kind].rate_per_minute for r in rows if r.kind in HANDLERS}
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


def claim(limit: int, now: datetime) -> list[OutboxMessage]:
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
        f"UPDATE {table} AS o SET attempts = o.attempts + 1, next_attempt_at = %s FROM due "
        f"{statements.async_commit_where('o.id = due.id')} "
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
        + statements.async_commit_where(
            "o.id = v.id", "v.target IS NULL OR (v.target || '<' || o.status) = ANY(%b::text[])"
        )
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
        outcomes.update(_call(HANDLERS.get(kind), kind, rows))
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
