"""Tracking pushes: stored raw first, then parsed and applied (in a task)."""

import os

from django.conf import settings

from orders.models import InboundMessage, InboundStatus
from orders.services import inbound_record_outcome, inbound_store

from .models import Carrier, Parcel, TrackingEvent
from .providers import aftership, easypost, kdniao
from .providers.base import PayloadInvalid, SignatureInvalid
from .services import tracking_event_record

PROVIDERS = {"easypost": easypost, "aftership": aftership, "kdniao": kdniao}


def provider_secret(provider: str) -> str:
    carrier = Carrier.objects.filter(adapter=provider).exclude(webhook_secret="").first()
    if carrier is not None:
        return carrier.webhook_secret
    name = f"{provider.upper()}_WEBHOOK_SECRET"  # for kdniao: the AppKey
    return getattr(settings, name, "") or os.environ.get(name, "")


def tracking_push_receive(*, provider: str, body: bytes, headers: dict) -> tuple[InboundMessage, bool]:
    """Store the push, then check its signature. Returns (message, accepted)."""
    message = inbound_store(source=f"webhook:{provider}", body=body.decode("utf-8", errors="replace"), headers=headers)
    adapter = PROVIDERS[provider]
    try:
        adapter.verify_signature(body, headers, provider_secret(provider))
    except SignatureInvalid as exc:
        inbound_record_outcome(message, status=InboundStatus.REJECTED, error=f"Signature invalid: {exc}")
        return message, False
    return message, True


def tracking_push_process(message_id: int) -> InboundMessage:
    """Parse a stored push and record each event; the outcome is written on the message."""
    message = InboundMessage.objects.get(pk=message_id)
    if message.status in (InboundStatus.PROCESSED, InboundStatus.REJECTED):
        return message
    provider = message.source.split(":", 1)[1]
    try:
        events = PROVIDERS[provider].parse_event(message.body.encode("utf-8"))
    except PayloadInvalid as exc:
        inbound_record_outcome(message, status=InboundStatus.FAILED, error=f"Unreadable payload: {exc}")
        return message
    recorded = duplicates = 0
    unknown: list[str] = []
    parcels: dict[str, object] = {}
    known: set[tuple[int, str]] = set()
    numbers = {event.tracking_number for event in events}
    if numbers:  # providers repeat the whole history in each push: skip what is stored with one query
        parcels = {p.tracking_number: p for p in Parcel.objects.filter(tracking_number__in=numbers)}
        known = set(
            TrackingEvent.objects.filter(
                parcel__in=parcels.values(), dedupe_key__in={event.dedupe_key for event in events}
            ).values_list("parcel_id", "dedupe_key")
        )
    for event in events:
        parcel = parcels.get(event.tracking_number)
        if parcel is None:
            unknown.append(event.tracking_number)
            continue
        if (parcel.pk, event.dedupe_key) in known:
            duplicates += 1  # tracking_event_record would refuse it too (unique parcel + dedupe_key)
            continue
        if tracking_event_record(parcel=parcel, event=event, source=provider):
            recorded += 1
        else:
            duplicates += 1
    result = {
        "events": len(events),
        "recorded": recorded,
        "duplicates": duplicates,
        "unknown_tracking_numbers": sorted(set(unknown)),
    }
    if unknown and not recorded and not duplicates:
        inbound_record_outcome(
            message,
            status=InboundStatus.FAILED,
            result=result,
            error="No parcel with tracking number " + ", ".join(sorted(set(unknown))),
        )
    else:
        inbound_record_outcome(message, status=InboundStatus.PROCESSED, result=result)
    return message
