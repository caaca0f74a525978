"""Tell the sales channel what shipped: one outbox row per shipment and version (issue 16, "Channels").

When a shipment of an order from a channel with a platform (Shopify, WooCommerce, Amazon: not the OMS's own)
ships, when its parcels change (a relabel) or when a label is voided, ``shipments_channel_notice`` writes a
generic ``channel.shipment`` row in the SAME transaction: destination ``channel:<slug>``, key
``<shipment id>:<digest of what it says>`` (the same state twice is one row), a ``version`` that grows with
each notice of the shipment, and the carrier, tracking numbers and URLs and the lines with their quantities.
The connectors app (above this one) registers the handler that sends it to the platform; this app knows no
platform. A shipment merged into another travels in the lead's parcel: its notice carries the lead's numbers.
"""

from __future__ import annotations

import hashlib
import json
import time

from fulfillment.models import Shipment, ShipmentLine
from oms.outbox import outbox_put
from orders.models import ChannelPlatform

from .models import Parcel

CHANNEL_SHIPMENT = "channel.shipment"  # the outbox kind (connectors registers its handler)

_last_version = 0


def _version() -> int:
    """Grows with every notice this process writes (nanoseconds, never the same twice): a later notice of a
    shipment supersedes an earlier one even if the earlier one is retried after it."""
    global _last_version
    _last_version = max(time.time_ns(), _last_version + 1)
    return _last_version


def _parcels_of(shipment: Shipment) -> list[Parcel]:
    carrier_of = shipment.merged_into_id or shipment.pk
    return list(
        Parcel.objects.filter(shipment_id=carrier_of, voided_at__isnull=True)
        .select_related("service__carrier")
        .order_by("pk")
    )


def shipment_notice_payload(shipment: Shipment) -> dict:
    """What the channel is told about one shipment now."""
    parcels = _parcels_of(shipment)
    first = parcels[0] if parcels else None
    lines = [
        {"line_no": line_no, "sku": sku, "product_sku": product_sku, "quantity": quantity}
        for line_no, sku, product_sku, quantity in ShipmentLine.objects.filter(shipment=shipment)
        .order_by("order_line__line_no", "pk")
        .values_list("order_line__line_no", "order_line__sku", "product__sku", "quantity")
    ]
    return {
        "shipment": shipment.pk,
        "shipment_number": shipment.number or "",
        "order": shipment.order.number,
        "order_external_id": shipment.order.external_id,
        "channel": shipment.order.channel_id,
        "carrier": first.carrier_display if first else "",
        "carrier_code": first.service.carrier.code if first else "",
        "tracking_numbers": [p.tracking_number for p in parcels],
        "tracking_urls": [p.tracking_url for p in parcels],
        "lines": lines,
        "voided": not parcels,
    }


def _digest(payload: dict) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def shipments_channel_notice(*, shipment_ids) -> int:
    """Write the ``channel.shipment`` row of each shipped shipment among ``shipment_ids`` (and of the shipments
    merged into them) whose order came from a platform channel. Call it inside the transaction that shipped,
    relabelled or voided; the same state twice writes nothing. Returns how many notices were asked."""
    ids = set(shipment_ids)
    ids |= set(Shipment.objects.filter(merged_into_id__in=list(ids)).values_list("pk", flat=True))
    shipments = (
        Shipment.objects.filter(pk__in=list(ids), shipped_at__isnull=False, order__channel__isnull=False)
        .exclude(order__channel__platform=ChannelPlatform.OMS)
        .select_related("order__channel")
        .order_by("pk")
    )
    count = 0
    for shipment in shipments:
        payload = shipment_notice_payload(shipment)
        key = f"{shipment.pk}:{_digest(payload)}"
        payload["version"] = _version()
        outbox_put(
            kind=CHANNEL_SHIPMENT,
            destination=f"channel:{shipment.order.channel.slug}",
            key=key,
            payload=payload,
            subject=f"order:{shipment.order_id}",
        )
        count += 1
    return count
