"""Tracking pushes: stored raw first, then parsed and applied (in a task)."""

import logging
import os
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oms.transient import is_transient
from orders.models import InboundMessage, InboundStatus
from orders.services import inbound_record_outcome, inbound_store

from .models import Carrier
from .providers import aftership, easypost, kdniao
from .providers.base import PayloadInvalid, SignatureInvalid
from .services import rows_update, tracking_events_record

logger = logging.getLogger(__name__)

PROVIDERS = {"easypost": easypost, "aftership": aftership, "kdniao": kdniao}
# Answers of polls whose shape differs from the provider's push (logistics/polling.py stores them raw first).
POLL_PARSERS = {"poll:aftership": aftership.parse_get_tracking}


def provider_secret(provider: str) -> str:
    carrier = Carrier.objects.filter(adapter=provider).exclude(webhook_secret="").first()
    if carrier is not None:
        return carrier.webhook_secret
    name = f"{provider.upper()}_WEBHOOK_SECRET"  # for kdniao: the AppKey
    return getattr(settings, name, "") or os.environ.get(name, "")


def tracking_push_receive(*, provider: str, body: bytes, headers: dict) -> tuple[InboundMessage, bool]:
    """Store the push, then check its signature. Returns (message, accepted)."""
    message = inbound_store(source=f"webhook:{provider}", body=body, headers=headers)  # the exact bytes, kept
    adapter = PROVIDERS[provider]
    try:
        adapter.verify_signature(body, headers, provider_secret(provider))
    except SignatureInvalid as exc:
        inbound_record_outcome(message, status=InboundStatus.REJECTED, error=f"Signature invalid: {exc}")
        return message, False
    return message, True


def tracking_push_refuse(*, provider: str, headers: dict, reason: str) -> InboundMessage:
    """Record a push refused before its body was read (too large): kept with its headers and the reason."""
    return inbound_store(
        source=f"webhook:{provider}", body=b"", headers=headers, status=InboundStatus.REJECTED, error=reason
    )


def tracking_push_process(message_id: int, *, now: datetime | None = None) -> InboundMessage:
    """Parse a stored push and record its events; the outcome is written on the message."""
    return tracking_pushes_process([message_id], now=now)[0]


# The webhook sources whose stored messages a worker may apply together (`tracking_pushes_pending`).
PUSH_SOURCES = tuple(f"webhook:{name}" for name in PROVIDERS)
BATCH_SIZE = 100


def tracking_pushes_pending(*, before_id: int | None = None, limit: int = BATCH_SIZE) -> list[int]:
    """Stored pushes not applied yet (a backlog after a burst or an outage), oldest first."""
    pending = InboundMessage.objects.filter(status=InboundStatus.RECEIVED, source__in=PUSH_SOURCES)
    if before_id is not None:
        pending = pending.filter(pk__lt=before_id)
    return list(pending.order_by("pk").values_list("pk", flat=True)[:limit])


def tracking_pushes_process(message_ids: list[int], *, now: datetime | None = None) -> list[InboundMessage]:
    """Parse stored pushes (webhook or poll answers) and apply all their events in one batch
    (`logistics.services.tracking_events_record`); each message gets its own outcome, written in the same
    transaction as the events. Messages already processed or rejected are returned as they are.

    Returns the messages in the order of ``message_ids``.
    """
    by_id = InboundMessage.objects.in_bulk(list(message_ids))
    messages = [by_id[pk] for pk in message_ids if pk in by_id]
    todo = [m for m in messages if m.status not in (InboundStatus.PROCESSED, InboundStatus.REJECTED)]
    parsed: list[tuple[InboundMessage, list]] = []
    failed: list[InboundMessage] = []
    for message in todo:
        provider = message.source.split(":", 1)[1]
        parse = POLL_PARSERS.get(message.source) or PROVIDERS[provider].parse_event
        try:
            parsed.append((message, parse(message.payload)))
        except PayloadInvalid as exc:
            _outcome(message, status=InboundStatus.FAILED, error=f"Unreadable payload: {exc}")
            failed.append(message)
        except RecursionError:
            _outcome(message, status=InboundStatus.FAILED, error="Unreadable payload: JSON nested too deeply.")
            failed.append(message)
        except aftership.Refused as exc:
            _outcome(message, status=InboundStatus.FAILED, error=str(exc))
            failed.append(message)
        except Exception as exc:  # noqa: BLE001 (a body no parser foresaw, e.g. nested too deep: this message only)
            if is_transient(exc):
                raise
            logger.exception("tracking message %s could not be parsed", message.pk)
            _outcome(
                message, status=InboundStatus.FAILED, error=f"Unreadable payload: {type(exc).__name__}: {exc}"[:2000]
            )
            failed.append(message)
    if failed:
        _outcomes_save(failed)
    if parsed:
        _apply(parsed, now=now)
    return messages


def _apply(parsed: list[tuple[InboundMessage, list]], *, now: datetime | None) -> None:
    """Apply parsed messages in one batch. If the batch fails for a reason that is not transient, each
    message is applied alone, so the one that fails is set aside with its error and the rest go in."""
    try:
        with transaction.atomic():
            _apply_batch(parsed, now=now)
        return
    except Exception as exc:  # noqa: BLE001 (isolation per message, below)
        if is_transient(exc):
            raise
        logger.warning("tracking batch of %d messages failed (%s): applying them one by one", len(parsed), exc)
    outcome_fields = ["status", "error", "result", "processed_at", "attempts"]
    for message, events in parsed:
        message.refresh_from_db(fields=outcome_fields)  # the failed batch set outcomes in memory only
        try:
            with transaction.atomic():
                _apply_batch([(message, events)], now=now)
        except Exception as exc:  # noqa: BLE001
            if is_transient(exc):
                raise
            logger.exception("tracking message %s could not be applied", message.pk)
            message.refresh_from_db(fields=outcome_fields)
            _outcome(message, status=InboundStatus.FAILED, error=f"Could not apply: {type(exc).__name__}: {exc}"[:2000])
            _outcomes_save([message])


def _apply_batch(parsed: list[tuple[InboundMessage, list]], *, now: datetime | None) -> None:
    entries = [(event, m.source.split(":", 1)[1]) for m, events in parsed for event in events]

    def finish(batch) -> None:
        counted: set[tuple[int, str]] = set()  # an event new in this batch is "recorded" in its first message
        for message, events in parsed:
            recorded = duplicates = 0
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
                "events": len(events),
                "recorded": recorded,
                "duplicates": duplicates,
                "unknown_tracking_numbers": sorted(unknown),
            }
            unmapped = sorted({e.carrier_status or e.status for e in events if not e.code_known})
            if unmapped:  # codes not in the provider's table: kept on the events, flagged here for staff
                result["unknown_codes"] = unmapped
            if unknown and not recorded and not duplicates:
                _outcome(
                    message,
                    status=InboundStatus.FAILED,
                    result=result,
                    error="No parcel with tracking number " + ", ".join(sorted(unknown)),
                )
            else:
                _outcome(message, status=InboundStatus.PROCESSED, result=result)
        _outcomes_save([m for m, _ in parsed])

    tracking_events_record(entries=entries, now=now, finish=finish)


def _outcome(message: InboundMessage, *, status: str, error: str = "", result: dict | None = None) -> None:
    """`orders.services.inbound_record_outcome`, in memory: saved for many messages at once by `_outcomes_save`."""
    message.status, message.error, message.result = status, error, result or {}
    message.processed_at = timezone.now()
    message.attempts += 1


def _outcomes_save(messages: list[InboundMessage]) -> None:
    now = timezone.now()
    for message in messages:
        message.processed_at = now  # one moment for the batch, so equal outcomes share one UPDATE
    rows_update(InboundMessage, messages, ["status", "error", "result", "processed_at", "attempts"])
