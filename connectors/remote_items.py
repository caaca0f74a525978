"""The platform's id of each of our SKUs' stock item (``RemoteItem``), looked up once and kept: the one cache of
every stock push (Shopify's inventoryItem, WooCommerce's product or variation, 抖店's product/sku id)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from .models import RemoteItem

MISSING_RECHECK = timedelta(days=1)  # a SKU the platform lacked is asked again after this


def remote_items(
    connection, skus: list[str], lookup: Callable[[list[str]], dict[str, str]], *, batch: int
) -> dict[str, str]:
    """SKU -> the platform's id ("" where the platform has none), from the cache; what it lacks is looked up
    ``batch`` SKUs a call by ``lookup(chunk)`` -> {sku: id} and kept (a SKU it did not find as "")."""
    now = timezone.now()
    known = {
        r.sku: r.remote_id
        for r in RemoteItem.objects.filter(connection=connection, sku__in=skus)
        if r.remote_id or r.looked_up_at > now - MISSING_RECHECK
    }
    wanted = sorted({s for s in skus if s and s not in known})
    for start in range(0, len(wanted), batch):
        chunk = wanted[start : start + batch]
        found = lookup(chunk)
        for sku in chunk:
            RemoteItem.objects.update_or_create(
                connection=connection, sku=sku, defaults={"remote_id": found.get(sku, ""), "looked_up_at": now}
            )
            known[sku] = found.get(sku, "")
    return known
