"""Reads for the channel's sync page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext

from oms.models import OutboxMessage, OutboxStatus
from orders.models import Channel, InboundMessage, InboundStatus

from .base import mask
from .models import ChannelConnection, RemoteShipment
from .services import SYNC_KINDS
from .words import note_words


@dataclass
class SyncState:
    channel: Channel
    connection: ChannelConnection | None
    token_masked: str
    pull_lag_seconds: float | None  # since the last successful pull
    oldest_unsent_at: datetime | None  # the oldest confirmation or stock push still waiting
    counts: dict  # {kind: {status: n}}
    problems: list  # dead and retrying outbox rows of this channel
    pull_failures: list  # pulled orders the inbox could not apply
    recent_confirmations: list


def _status_label(status: str) -> str:
    """An outbox row's status as its label in the reader's language (the kinds stay codes, as Background work
    shows them)."""
    try:
        return str(OutboxStatus(status).label)
    except ValueError:
        return status


def channel_sync_state(channel: Channel) -> SyncState:
    connection = ChannelConnection.objects.filter(channel=channel).first()
    destination = f"channel:{channel.slug}"
    rows = OutboxMessage.objects.filter(kind__in=SYNC_KINDS, destination=destination)
    counts: dict = {}
    for kind, status, n in rows.values_list("kind", "status").annotate(n=Count("pk")).order_by("kind", "status"):
        counts.setdefault(kind, {})[_status_label(status)] = n
    problems = list(
        rows.filter(status__in=[OutboxStatus.DEAD, OutboxStatus.PENDING])
        .exclude(last_error="")
        .order_by("status", "next_attempt_at", "pk")[:100]
    )
    for row in problems:  # a message for the person (connectors.base.PersonMustAct) is a msgid: in their language;
        # the connectors' own phrases (connectors/words.py) are known phrases; a platform's text stays as it came
        said = gettext(row.last_error) if row.last_error else ""
        row.error_text = note_words(row.last_error) if said == row.last_error else said
    oldest = rows.filter(status=OutboxStatus.PENDING).aggregate(at=Min("created_at"))["at"]
    lag = None
    if connection is not None and connection.last_pull_ok_at is not None:
        lag = (timezone.now() - connection.last_pull_ok_at).total_seconds()
    pull_failures = list(
        InboundMessage.objects.filter(
            channel=channel,
            source__startswith="pull:",
            status__in=[InboundStatus.REJECTED, InboundStatus.FAILED],
        ).order_by("-pk")[:50]
    )
    recent = []
    if connection is not None:  # the last errors in the reader's language (their stored text stays English)
        for verb in ("pull", "confirm", "push"):
            setattr(connection, f"last_{verb}_error_text", note_words(getattr(connection, f"last_{verb}_error")))
        recent = list(
            RemoteShipment.objects.filter(connection=connection).select_related("shipment").order_by("-updated_at")[:20]
        )
    return SyncState(
        channel=channel,
        connection=connection,
        token_masked=mask((connection.credentials or {}).get("access_token", "")) if connection else "",
        pull_lag_seconds=lag,
        oldest_unsent_at=oldest,
        counts=counts,
        problems=problems,
        pull_failures=pull_failures,
        recent_confirmations=recent,
    )
