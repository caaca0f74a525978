"""The reconciliation job (issue 16, "Channels"): for each connection, what the OMS and the platform disagree on.

- **Shipped here, not confirmed there**: shipments of the channel's orders shipped in the last
  ``WINDOW`` (and more than ``GRACE`` ago, so the outbox had its chance) whose latest ``channel.shipment``
  notice was not applied on the platform: no notice at all, a notice still waiting or retrying, dead, skipped
  (e.g. shipped before the channel was connected), or sent without a record of what the platform holds.
  A voided shipment the platform never heard of is not listed (there is nothing to tell).
- **Fulfilled there, open here**: orders of the channel created in the window that are not shipped,
  delivered or cancelled here, which the platform shows fulfilled or completed (the adapter's optional
  ``shipped_remotely``; platforms whose adapter cannot say are skipped and the page says so).

A run reads only (plus the platform's answer) and replaces the connection's ``Reconciliation`` row. The beat
runs ``connectors.reconcile_all`` hourly; the sync page shows the lists with **Confirm again**
(``confirm_again``: the notice is written anew where the shipment's state changed, and the shipment's
latest notice is sent again whatever became of it).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from fulfillment.models import Shipment
from logistics.channel_notices import CHANNEL_SHIPMENT, shipments_channel_notice
from oms import outbox
from oms.models import OutboxMessage, OutboxStatus
from orders.models import Channel, Order

from .base import ConnectorError, NotSupported, adapter_for
from .models import ChannelConnection, Reconciliation, RemoteShipment

WINDOW = timedelta(days=30)
GRACE = timedelta(minutes=15)
LIST_MAX = 500
DONE_HERE = ("shipped", "delivered", "cancelled")


def _latest_notices(shipment_ids: list[int]) -> dict[int, OutboxMessage]:
    latest: dict[int, OutboxMessage] = {}
    rows = OutboxMessage.objects.filter(kind=CHANNEL_SHIPMENT, payload__shipment__in=shipment_ids).only(
        "pk", "payload", "status", "last_error", "key", "kind"
    )
    for row in rows.iterator(chunk_size=2000):
        sid = (row.payload or {}).get("shipment")
        old = latest.get(sid)
        if old is None or int(row.payload.get("version") or 0) > int(old.payload.get("version") or 0):
            latest[sid] = row
    return latest


def unconfirmed_shipments(connection: ChannelConnection, *, now=None) -> list[dict]:
    """The channel's shipments shipped here whose latest state the platform has not applied (oldest first)."""
    now = now or timezone.now()
    shipments = list(
        Shipment.objects.filter(
            order__channel_id=connection.channel_id, shipped_at__gte=now - WINDOW, shipped_at__lte=now - GRACE
        )
        .order_by("shipped_at", "pk")
        .values_list("pk", "number", "order__number", "shipped_at")
    )
    ids = [s[0] for s in shipments]
    latest = _latest_notices(ids)
    records = {
        r.shipment_id: r
        for r in RemoteShipment.objects.filter(connection=connection, shipment_id__in=ids).only(
            "shipment_id", "version", "remote_id", "cancelled"
        )
    }
    found = []
    for pk, number, order_number, shipped_at in shipments:
        row, record = latest.get(pk), records.get(pk)
        if row is None:
            state, error = "no notice", "No confirmation was ever written for this shipment."
        else:
            version = int(row.payload.get("version") or 0)
            if record is not None and record.version >= version:
                continue  # the platform has the latest state
            if row.payload.get("voided") and record is None:
                continue  # voided before the platform heard of it: nothing to tell
            state = row.status if row.status != OutboxStatus.SENT else "sent, no record"
            error = row.last_error
        found.append(
            {
                "shipment": pk,
                "number": number or "",
                "order": order_number,
                "shipped_at": shipped_at.isoformat(),
                "state": state,
                "error": (error or "")[:300],
            }
        )
    return found


def open_here_shipped_there(connection: ChannelConnection, *, now=None) -> tuple[list[dict], bool]:
    """Orders still open here that the platform shows fulfilled; (list, whether the platform could say)."""
    adapter = adapter_for(connection.platform)
    if adapter is None or not adapter.supports("shipped_remotely"):
        return [], False
    now = now or timezone.now()
    orders = list(
        Order.objects.filter(channel_id=connection.channel_id, created_at__gte=now - WINDOW)
        .exclude(status__in=DONE_HERE)
        .exclude(external_id="")
        .order_by("pk")
        .values_list("pk", "number", "external_id", "status")
    )
    if not orders:
        return [], True
    theirs = adapter.shipped_remotely(connection, external_ids=[o[2] for o in orders])
    return [
        {"order": pk, "number": number, "external_id": external, "status": status, "theirs": theirs[external]}
        for pk, number, external, status in orders
        if external in theirs
    ], True


def connection_reconcile(*, connection_id: int) -> Reconciliation:
    """One connection's reconciliation, stored (the platform's failure is stored as the run's error)."""
    connection = ChannelConnection.objects.select_related("channel").get(pk=connection_id)
    now = timezone.now()
    unconfirmed = unconfirmed_shipments(connection, now=now)
    error, open_here, checked = "", [], False
    try:
        open_here, checked = open_here_shipped_there(connection, now=now)
    except NotSupported:
        pass
    except ConnectorError as exc:
        error = f"{type(exc).__name__}: {exc}"
    record, _created = Reconciliation.objects.update_or_create(
        connection=connection,
        defaults={
            "ran_at": now,
            "error": error[:2000],
            "unconfirmed": unconfirmed[:LIST_MAX],
            "unconfirmed_total": len(unconfirmed),
            "open_here": open_here[:LIST_MAX],
            "open_here_total": len(open_here),
            "reverse_checked": checked,
        },
    )
    return record


def reconcile_due_connections() -> list[int]:
    return list(ChannelConnection.objects.filter(active=True).order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def confirm_again(*, channel: Channel, shipment_ids) -> int:
    """Tell the platform again of these shipped shipments of ``channel``: a notice of their state now (written
    when it differs from the last one), and the latest notice of each sent again whatever became of it.
    Returns how many shipments are sent again; ids of other channels or unshipped shipments are ignored."""
    ids = list(
        Shipment.objects.filter(
            pk__in=[int(i) for i in shipment_ids], order__channel=channel, shipped_at__isnull=False
        ).values_list("pk", flat=True)
    )
    if not ids:
        return 0
    shipments_channel_notice(shipment_ids=ids)
    latest = _latest_notices(ids)
    for row in latest.values():  # the outbox's door: pending now, a full set of tries
        outbox.outbox_rearm(kind=row.kind, key=row.key)
    return len(latest)
