"""Tracking pushes: accepted with one INSERT, applied later in batches by a consumer.

Accepting a push (`tracking_push_accept`) checks its signature in memory against the provider's secret (cached
per process, see `provider_secret`) and stores the raw message in one prepared INSERT (`oms.statements`), with
its outcome already written when the signature is wrong. Nothing else happens in the request: after commit the
view nudges the consumer (`tracking_apply_nudge`, at most once per short window per process), which claims
pending pushes in batches (`tracking_pushes_apply_pending`, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; growing
while a backlog fills them, `next_batch_size`) and applies them set-based (`logistics.services.
tracking_events_record`). A push carrying many parcels (Kdniao) is one message; a parcel of it that cannot be
read is set aside with its reason and the others apply (the message ends ``partial``). The sweep of messages
without an outcome (orders/intake/background.py) is the safety net.
"""

import logging
import os
import time
from datetime import datetime

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from oms import statements
from oms.encoding import storable, storable_json
from oms.transient import is_transient
from orders.models import InboundMessage, InboundStatus
from orders.services import inbound_store

from .models import Carrier
from .providers import aftership, easypost, kdniao
from .providers.base import PayloadInvalid, SignatureInvalid, Skipped
from .providers.base import storable as fit_text
from .services import TrackingBatch, tracking_batch_read, tracking_events_record

logger = logging.getLogger(__name__)

PROVIDERS = {"easypost": easypost, "aftership": aftership, "kdniao": kdniao}
# Answers of polls whose shape differs from the provider's push (logistics/polling.py stores them raw first).
POLL_PARSERS = {"poll:aftership": aftership.parse_get_tracking}

# ---- provider secrets, cached per process ---------------------------------------------------------------------

# A Carrier row saved or deleted clears this process's cache at once (`provider_secrets_forget`, connected in
# apps.py) and bumps a version in the shared cache; other processes look at that version at most every
# SECRET_RECHECK_SECONDS and drop their copies when it moved. A signature that fails with a cached secret is
# checked once more against the database (a secret rotated a moment ago is not refused).
SECRET_RECHECK_SECONDS = 5.0
SECRET_VERSION_KEY = "logistics:webhook-secrets:version"  # noqa: S105 (a cache key, not a secret)
_secrets: dict[str, str] = {}
_secrets_state: dict = {"version": None, "checked_at": float("-inf")}


def provider_secrets_forget(**_kwargs) -> None:
    """Drop the cached provider secrets here, and (through the shared cache) in every other process."""
    _secrets.clear()
    try:
        try:
            cache.incr(SECRET_VERSION_KEY)
        except ValueError:  # not there yet
            cache.set(SECRET_VERSION_KEY, 1, None)
    except Exception:  # noqa: BLE001 (a cache outage must not fail the admin's save; the local copy is gone)
        logger.warning("could not bump %s: other processes keep their secrets until they expire", SECRET_VERSION_KEY)


def _carrier_secret(provider: str, *, fresh: bool) -> str:
    now = time.monotonic()
    if now - _secrets_state["checked_at"] >= SECRET_RECHECK_SECONDS:
        try:
            version = cache.get(SECRET_VERSION_KEY)
        except Exception:  # noqa: BLE001 (no shared cache: read the database again rather than trust old copies)
            version = object()
        if version != _secrets_state["version"] or not isinstance(version, int | None):
            _secrets.clear()
        _secrets_state.update(version=version, checked_at=now)
    if fresh or provider not in _secrets:
        carrier = Carrier.objects.filter(adapter=provider).exclude(webhook_secret="").only("webhook_secret").first()
        _secrets[provider] = carrier.webhook_secret if carrier is not None else ""
    return _secrets[provider]


def provider_secret(provider: str, *, fresh: bool = False) -> str:
    """The secret a provider signs its pushes with: a carrier's ``webhook_secret`` (cached, see above), else the
    ``<PROVIDER>_WEBHOOK_SECRET`` setting or environment variable (for Kdniao: the AppKey)."""
    secret = _carrier_secret(provider, fresh=fresh)
    if secret:
        return secret
    name = f"{provider.upper()}_WEBHOOK_SECRET"
    return getattr(settings, name, "") or os.environ.get(name, "")


def _signature_error(provider: str, body: bytes, headers: dict) -> str:
    """Why the push's signature is not valid ("" when it is), checked in memory."""
    adapter = PROVIDERS[provider]
    secret = provider_secret(provider)
    try:
        adapter.verify_signature(body, headers, secret)
        return ""
    except SignatureInvalid as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 (a body no check foresaw: refused and kept, never a 500)
        return f"could not be checked: {type(exc).__name__}: {exc}"[:500]
    if provider_secret(provider, fresh=True) == secret:
        return error
    try:  # the secret changed since it was cached
        adapter.verify_signature(body, headers, provider_secret(provider))
        return ""
    except SignatureInvalid as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001
        return f"could not be checked: {type(exc).__name__}: {exc}"[:500]


def tracking_push_accept(*, provider: str, body: bytes, headers: dict) -> tuple[int, bool]:
    """What the webhook view calls: check the push's signature in memory, then store the exact bytes in one
    prepared INSERT (`oms.statements.insert_one`; no model built, in autocommit that statement is the commit, so
    an answered push is durable). A refused push is kept too, with its outcome already written. Returns (message
    id, accepted). Nothing is applied here: the caller nudges the consumer after commit (`tracking_apply_nudge`).
    A Kdniao push carries many parcels' traces (``Count``, ``Data[]``): it is one message, applied as one."""
    error = _signature_error(provider, body, headers)
    if error:
        message = inbound_store(
            source=f"webhook:{provider}",
            body=body,
            headers=headers,
            status=InboundStatus.REJECTED,
            error=f"Signature invalid: {error}",
        )
        return message.pk, False
    return _push_append(provider, body, headers), True


def _push_append(provider: str, body: bytes, headers: dict) -> int:
    """`orders.services.inbound_store` for an accepted push, as one prepared statement: the same columns, the
    same text made storable (`oms.encoding.storable`), the raw bytes kept."""
    raw = bytes(body)
    return statements.insert_one(
        InboundMessage,
        {
            "source": f"webhook:{provider}",
            "headers": storable_json(headers or {}),
            "body": storable(raw.decode("utf-8", errors="replace")),
            "raw": raw,
            "filename": "",
            "received_at": timezone.now(),
            "status": InboundStatus.RECEIVED,
            "error": "",
            "result": {},
            "attempts": 0,
        },
    )


def tracking_push_receive(*, provider: str, body: bytes, headers: dict) -> tuple[InboundMessage, bool]:
    """`tracking_push_accept`, returning the stored message (built in memory from what was stored) for callers
    that want the row rather than its id."""
    pk, accepted = tracking_push_accept(provider=provider, body=body, headers=headers)
    if not accepted:
        return InboundMessage.objects.get(pk=pk), False
    raw = bytes(body)
    message = InboundMessage(
        pk=pk,
        source=f"webhook:{provider}",
        headers=storable_json(headers or {}),
        body=storable(raw.decode("utf-8", errors="replace")),
        raw=raw,
        status=InboundStatus.RECEIVED,
    )
    message._state.adding = False
    return message, True


def tracking_push_refuse(*, provider: str, headers: dict, reason: str) -> InboundMessage:
    """Record a push refused before its body was read (too large): kept with its headers and the reason."""
    return inbound_store(
        source=f"webhook:{provider}", body=b"", headers=headers, status=InboundStatus.REJECTED, error=reason
    )


def tracking_push_process(message_id: int, *, now: datetime | None = None) -> InboundMessage:
    """Parse a stored push and record its events; the outcome is written on the message."""
    return tracking_pushes_process([message_id], now=now)[0]


# The webhook sources whose stored messages the consumer applies together (`tracking_pushes_apply_pending`).
PUSH_SOURCES = tuple(f"webhook:{name}" for name in PROVIDERS)
BATCH_SIZE = 500  # pushes claimed and applied in one transaction
MAX_BATCH_SIZE = 2000  # ... and at most, when a backlog keeps filling them (`next_batch_size`)
FINAL = (InboundStatus.PROCESSED, InboundStatus.REJECTED)


def tracking_pushes_pending(*, before_id: int | None = None, limit: int = BATCH_SIZE) -> list[int]:
    """Stored pushes not applied yet (a backlog after a burst or an outage), oldest first."""
    pending = InboundMessage.objects.filter(status=InboundStatus.RECEIVED, source__in=PUSH_SOURCES)
    if before_id is not None:
        pending = pending.filter(pk__lt=before_id)
    return list(pending.order_by("pk").values_list("pk", flat=True)[:limit])


def next_batch_size(size: int, taken: int) -> int:
    """How many pushes the consumer claims next: twice as many (up to `MAX_BATCH_SIZE`) after a full batch, a
    backlog (fewer commits and round trips per push), `BATCH_SIZE` again once it is worked off."""
    return min(size * 2, MAX_BATCH_SIZE) if taken >= size else BATCH_SIZE


def _claim(queryset) -> list[InboundMessage]:
    """The messages, locked for this transaction; on PostgreSQL those another worker holds are skipped. Their
    headers and their text copy of the body stay in the database (nothing here reads them: a push is parsed from
    its raw bytes, `InboundMessage.payload`; a message stored without them reads its text when asked)."""
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True)
    return list(queryset.defer("headers", "body"))


def tracking_pushes_apply_pending(*, limit: int | None = None, now: datetime | None = None) -> list[InboundMessage]:
    """The consumer: claim up to ``limit`` pushes still without an outcome (oldest first; on PostgreSQL with
    ``FOR UPDATE SKIP LOCKED``, so several workers share a backlog) and apply them in one transaction. Returns the
    claimed messages with their outcomes; fewer than ``limit`` means the backlog is empty (for this worker)."""
    pending = InboundMessage.objects.filter(status=InboundStatus.RECEIVED, source__in=PUSH_SOURCES).order_by("pk")
    return _run(
        lambda: _claim(pending[: limit or BATCH_SIZE]),
        lambda ids: _claim(pending.filter(pk__in=ids)),  # again after a failed batch: those still pending
        now=now,
    )


def tracking_pushes_process(message_ids: list[int], *, now: datetime | None = None) -> list[InboundMessage]:
    """Parse the named stored messages (webhook pushes or poll answers, also failed ones: a retry) and apply all
    their events in one batch (`logistics.services.tracking_events_record`); each message gets its own outcome,
    written in the same transaction as the events. Messages already processed or rejected, or being applied by
    another worker at this moment, are returned as they are.

    Returns the messages in the order of ``message_ids``.
    """
    ids = list(message_ids)
    named = InboundMessage.objects.filter(pk__in=ids).order_by("pk")
    claimed = _run(lambda: _claim(named), lambda _ids: _claim(named), now=now)
    by_id = {m.pk: m for m in claimed}
    missing = [pk for pk in ids if pk not in by_id]
    if missing:
        by_id.update(InboundMessage.objects.in_bulk(missing))
    return [by_id[pk] for pk in ids if pk in by_id]


class _BatchFailed(Exception):
    """A batch applied without a savepoint failed: its transaction goes back and its messages are applied again,
    one by one (`_run`)."""


def _run(claim, claim_again, *, now: datetime | None) -> list[InboundMessage]:
    """Claim messages and apply them in one transaction. When this call opens that transaction (the worker's
    task), the batch is applied without a savepoint (two round trips fewer per batch); if it fails for a reason
    that is not transient, the whole transaction is rolled back and the same messages are claimed again
    (``claim_again(ids)``) and applied one by one, each in its own savepoint, so the bad one is set aside with its
    error and the others go in. Inside a caller's transaction the batch takes a savepoint instead, as it did."""
    own = not connection.in_atomic_block
    claimed: list[InboundMessage] = []
    try:
        with transaction.atomic(savepoint=False):  # the batch's own transaction (joins the caller's, if any)
            claimed = claim()  # (no pipeline: its BEGIN went alone, then the claim, then the pipeline's sync)
            _process([m for m in claimed if m.status not in FINAL], now=now, savepoint=not own)
        return claimed
    except _BatchFailed as exc:
        logger.warning(
            "tracking batch of %d messages failed (%s): applying them one by one", len(claimed), exc.__cause__
        )
    with transaction.atomic(savepoint=False):
        claimed = claim_again([m.pk for m in claimed])
        _process([m for m in claimed if m.status not in FINAL], now=now, savepoint=True, alone=True)
    return claimed


def _process(todo: list[InboundMessage], *, now: datetime | None, savepoint: bool = True, alone: bool = False) -> None:
    """Decode each message, read the parcels of every tracking number they name and the keys of those parcels'
    stored scans in one query (`logistics.services.tracking_batch_read`), parse each message skipping the scans
    stored already (providers carry the whole history in every push: most scans are; they are counted as
    duplicates without being built), then apply the rest together. A message that fails to decode or parse is
    set aside with its error, never the batch. Runs inside the caller's transaction."""
    failed: list[InboundMessage] = []
    decoded: list[tuple[InboundMessage, object, object]] = []  # (message, adapter, decoded body)
    parsed_early: list[tuple[InboundMessage, list, list[str]]] = []  # sources without a decode step (polls)
    for message in todo:
        outcome = _guarded(message, failed, _decode, message)
        if outcome is _FAILED:
            continue
        adapter, value, events, bad_parts = outcome
        if adapter is None:
            parsed_early.append((message, events, bad_parts))
        else:
            decoded.append((message, adapter, value))
    numbers: set[str] = {e.tracking_number for _m, events, _b in parsed_early for e in events}
    for _message, adapter, value in decoded:  # as the events will carry them (a NUL replaced: no parcel)
        numbers.update(fit_text(number) for number in adapter.tracking_numbers(value))
    batch = tracking_batch_read(numbers)
    known = batch.keys_by_number()
    parsed: list[tuple[InboundMessage, list]] = []
    set_aside: dict[int, list[str]] = {}  # message -> the parcels of it set aside (a Kdniao push holds many)
    skipped: dict[int, list[Skipped]] = {}  # message -> its scans stored already (not built)
    for message, events, bad_parts in parsed_early:
        parsed.append((message, events))
        if bad_parts:
            set_aside[message.pk] = bad_parts
    for message, adapter, value in decoded:
        seen: dict = {}
        outcome = _guarded(message, failed, _parse_decoded, adapter, value, known, seen)
        if outcome is _FAILED:
            continue
        events, bad_parts = outcome
        parsed.append((message, events))
        if bad_parts:
            set_aside[message.pk] = bad_parts
        if seen:
            skipped[message.pk] = list(seen.values())
    if failed:
        _outcomes_save(failed)
    if parsed:
        parsed.sort(key=lambda item: item[0].pk)  # the order they were claimed in
        _apply(parsed, now=now, set_aside=set_aside, skipped=skipped, batch=batch, savepoint=savepoint, alone=alone)


_FAILED = object()


def _guarded(message: InboundMessage, failed: list, step, *args):
    """``step(*args)``, or `_FAILED` with the message's outcome written when it cannot be read (a transient
    database error is raised: the batch is retried)."""
    try:
        return step(*args)
    except PayloadInvalid as exc:
        _outcome(message, status=InboundStatus.FAILED, error=f"Unreadable payload: {exc}")
    except RecursionError:
        _outcome(message, status=InboundStatus.FAILED, error="Unreadable payload: JSON nested too deeply.")
    except aftership.Refused as exc:
        _outcome(message, status=InboundStatus.FAILED, error=str(exc))
    except Exception as exc:  # noqa: BLE001 (a body no parser foresaw, e.g. nested too deep: this message only)
        if is_transient(exc):
            raise
        logger.exception("tracking message %s could not be parsed", message.pk)
        _outcome(message, status=InboundStatus.FAILED, error=f"Unreadable payload: {type(exc).__name__}: {exc}"[:2000])
    failed.append(message)
    return _FAILED


def _decode(message: InboundMessage) -> tuple:
    """(adapter, decoded body, None, None) for a provider that decodes first (``decode``, ``tracking_numbers``);
    else (None, None, events, parts set aside), parsed at once."""
    poll_parser = POLL_PARSERS.get(message.source)
    if poll_parser is not None:
        return None, None, poll_parser(message.payload), []
    adapter = PROVIDERS[message.source.split(":", 1)[1]]
    if hasattr(adapter, "decode"):
        return adapter, adapter.decode(message.payload), None, None
    events, bad_parts = _parse(message)
    return None, None, events, bad_parts


def _parse_decoded(adapter, value, known: dict, seen: dict) -> tuple[list, list[str]]:
    parse_parts = getattr(adapter, "parse_parts_decoded", None)
    if parse_parts is not None:
        return parse_parts(value, known=known, skipped=seen)
    return adapter.parse_decoded(value, known=known, skipped=seen), []


def _parse(message: InboundMessage) -> tuple[list, list[str]]:
    """The message's events, and the parts of it set aside: a provider whose push carries many parcels
    (``parse_parts``, Kdniao) parses each on its own, so a bad parcel costs the others nothing."""
    poll_parser = POLL_PARSERS.get(message.source)
    if poll_parser is not None:
        return poll_parser(message.payload), []
    adapter = PROVIDERS[message.source.split(":", 1)[1]]
    parse_parts = getattr(adapter, "parse_parts", None)
    if parse_parts is not None:
        return parse_parts(message.payload)
    return adapter.parse_event(message.payload), []


# ---- waking the consumer --------------------------------------------------------------------------------------

APPLY_TASK = "logistics.apply_tracking_pushes"
_nudged_at = {"at": float("-inf")}


def tracking_apply_nudge() -> None:
    """After the current transaction commits, wake the consumer: at most once per ``OMS_TRACKING_NUDGE_SECONDS``
    per process, with a task that waits that long, so it finds every push stored meanwhile. In eager mode (tests)
    the pushes are applied at once. No push waits for its own task: a nudge lost (a broker outage) is made good
    by the next one or by the sweep of messages without an outcome. Inside the window of a task sent already
    nothing else is looked at (a clock read: about 1 µs, against some 20 µs of Celery configuration and commit
    hooks per push before)."""
    if time.monotonic() - _nudged_at["at"] < _nudge_window() * 0.8:
        return  # the task this process sent a moment ago has not started yet: it will find this push (`_nudge`)
    if current_app.conf.task_always_eager:
        _nudge()  # as a task sent at once would run (the webhook stores in autocommit: the push is committed)
        return
    transaction.on_commit(_nudge)


def _nudge_window() -> float:
    return float(getattr(settings, "OMS_TRACKING_NUDGE_SECONDS", 0.5))


def _nudge() -> None:
    task = current_app.tasks.get(APPLY_TASK)
    if current_app.conf.task_always_eager and task is not None:
        task.apply_async()
        return
    window = _nudge_window()
    now = time.monotonic()
    if now - _nudged_at["at"] < window * 0.8:
        # The task sent earlier in this window has not started yet: it will find this push. (Its last fifth sends
        # another, in case the worker's clock runs a little ahead of ours.)
        return
    _nudged_at["at"] = now
    try:
        current_app.send_task(APPLY_TASK, countdown=window or None)
    except Exception:  # noqa: BLE001 (the push is stored and answered; the sweep applies it)
        _nudged_at["at"] = float("-inf")
        logger.warning("could not wake the tracking consumer; the sweep will apply the push", exc_info=True)


def _apply(
    parsed: list[tuple[InboundMessage, list]],
    *,
    now: datetime | None,
    set_aside: dict,
    skipped: dict | None = None,
    batch: TrackingBatch | None = None,
    savepoint: bool = True,
    alone: bool = False,
) -> None:
    """Apply parsed messages in one batch (``batch``: the parcels and stored keys read for it already). If the
    batch fails for a reason that is not transient, each message is applied alone, so the one that fails is set
    aside with its error and the rest go in: after rolling back to a savepoint taken before the batch, or (no
    ``savepoint``) by raising `_BatchFailed` for `_run` to roll the transaction back and call again with
    ``alone``."""
    skipped = skipped or {}
    if not alone and not savepoint:
        try:
            _apply_batch(parsed, now=now, set_aside=set_aside, skipped=skipped, batch=batch)
        except Exception as exc:
            if is_transient(exc):
                raise
            raise _BatchFailed() from exc
        return
    if not alone:
        try:
            with transaction.atomic():
                _apply_batch(parsed, now=now, set_aside=set_aside, skipped=skipped, batch=batch)
            return
        except Exception as exc:  # noqa: BLE001 (isolation per message, below)
            if is_transient(exc):
                raise
            logger.warning("tracking batch of %d messages failed (%s): applying them one by one", len(parsed), exc)
    outcome_fields = ["status", "error", "result", "processed_at", "attempts"]
    for message, events in parsed:
        message.refresh_from_db(fields=outcome_fields)  # the failed batch set outcomes in memory only
        try:
            with transaction.atomic():  # read afresh: the failed batch's reads are not this message's
                _apply_batch([(message, events)], now=now, set_aside=set_aside, skipped=skipped)
        except Exception as exc:  # noqa: BLE001
            if is_transient(exc):
                raise
            logger.exception("tracking message %s could not be applied", message.pk)
            message.refresh_from_db(fields=outcome_fields)
            _outcome(message, status=InboundStatus.FAILED, error=f"Could not apply: {type(exc).__name__}: {exc}"[:2000])
            _outcomes_save([message])


def _apply_batch(
    parsed: list[tuple[InboundMessage, list]],
    *,
    now: datetime | None,
    set_aside: dict,
    skipped: dict,
    batch: TrackingBatch | None = None,
) -> None:
    entries = [(event, m.source.split(":", 1)[1]) for m, events in parsed for event in events]

    def finish(batch) -> None:
        counted: set[tuple[int, str]] = set()  # an event new in this batch is "recorded" in its first message
        for message, events in parsed:
            known_already = skipped.get(message.pk, ())  # stored before: not built, counted as duplicates
            recorded, duplicates = 0, len(known_already)
            unknown: set[str] = set()
            for event in events:
                pk = batch.parcels.get(event.tracking_number)
                if pk is None:
                    unknown.add(event.tracking_number)
                elif (pk, event.dedupe_key) in batch.stored and (pk, event.dedupe_key) not in counted:
                    counted.add((pk, event.dedupe_key))
                    recorded += 1
                else:
                    duplicates += 1
            result = {
                "events": len(events) + len(known_already),
                "recorded": recorded,
                "duplicates": duplicates,
                "unknown_tracking_numbers": sorted(unknown),
            }
            unmapped = sorted({e.carrier_status or e.status for e in (*events, *known_already) if not e.code_known})
            if unmapped:  # codes not in the provider's table: kept on the events, flagged here for staff
                result["unknown_codes"] = unmapped
            bad_parts = set_aside.get(message.pk, [])
            errors = ["Parcels set aside: " + "; ".join(bad_parts)] if bad_parts else []
            if bad_parts:
                result["set_aside"] = bad_parts
            if unknown and not recorded and not duplicates:
                errors.insert(0, "No parcel with tracking number " + ", ".join(sorted(unknown)))
                _outcome(message, status=InboundStatus.FAILED, result=result, error=". ".join(errors))
            elif bad_parts:  # the readable parcels applied; the bad ones kept in the message with the reason
                _outcome(message, status=InboundStatus.PARTIAL, result=result, error=errors[0])
            else:
                _outcome(message, status=InboundStatus.PROCESSED, result=result)
        _outcomes_save([m for m, _ in parsed])

    tracking_events_record(entries=entries, now=now, finish=finish, batch=batch)


OUTCOME_FIELDS = ("status", "error", "result", "processed_at", "attempts")


def _outcome(message: InboundMessage, *, status: str, error: str = "", result: dict | None = None) -> None:
    """`orders.services.inbound_record_outcome`, in memory: saved for many messages at once by `_outcomes_save`."""
    message.status, message.error, message.result = status, error, result or {}
    message.processed_at = timezone.now()
    message.attempts += 1


def _outcomes_save(messages: list[InboundMessage]) -> None:
    """Every message's outcome in one prepared UPDATE (`oms.statements.update_rows`)."""
    now = timezone.now()
    rows = []
    for message in messages:
        message.processed_at = now  # one moment for the batch
        message.error, message.result = storable(message.error), storable_json(message.result)
        rows.append((message.pk, message.status, message.error, message.result, now, message.attempts))
    statements.update_rows(InboundMessage, OUTCOME_FIELDS, rows)
