"""Stock for sale on each channel: the figures, their breakdown and publishing them.

The arithmetic is inventory's (``inventory.selectors.atp_for_locations``: available in the
channel's locations less safety stock, floored at 0, less the channel buffer). This module adds
the channel: which locations serve it, its buffer, the figures last published, and the adapters
that bring figures to the channel:

- ``feed``: the channel pulls JSON from /orders/channels/<slug>/stock.json (token);
- ``csv``: the channel pulls CSV from /orders/channels/<slug>/stock.csv (token);
- ``push``: we POST the changed figures as JSON to ``Channel.stock_push_url``.

Publishing sends only the figures that changed since the last successful publication and
records each attempt (changed rows, outcome, error) as a ``ChannelStockPublication``.
"""

import hmac
import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from inventory.models import Product
from inventory.selectors import AtpFigure, atp_for_locations
from oms.errors import DomainError

from .models import Channel, ChannelStockFigure, ChannelStockPublication, PublicationOutcome, StockAdapter

# transport(url, payload) -> None; raises on failure. Tests inject their own.
Transport = Callable[[str, dict], None]
PUSH_TIMEOUT_SECONDS = 10


class PushFailed(DomainError):
    pass


def http_post_json(url: str, payload: dict) -> None:
    """The default push transport: POST JSON, any status but 2xx is a failure."""
    if not url.startswith(("http://", "https://")):
        raise PushFailed(f"The push URL must be http(s), not {url!r}.")
    body = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=PUSH_TIMEOUT_SECONDS) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise PushFailed(f"The channel answered {response.status}.")


# ---- reads ------------------------------------------------------------------------------------


def channel_location_ids(channel: Channel) -> list[int]:
    return list(channel.locations.filter(active=True).values_list("pk", flat=True))


def channel_figures(channel: Channel, *, product_ids=None) -> dict[int, AtpFigure]:
    """{product_id: AtpFigure} for the products stocked in the channel's locations."""
    return atp_for_locations(
        location_ids=channel_location_ids(channel),
        product_ids=product_ids,
        buffer_percent=channel.buffer_percent,
        buffer_units=channel.buffer_units,
    )


@dataclass(frozen=True)
class AtpRow:
    product: Product
    figure: AtpFigure
    published: int | None
    published_at: object

    @property
    def changed(self) -> bool:
        return self.published != self.figure.quantity


def channel_atp_breakdown(channel: Channel, *, sku: str = "") -> list[AtpRow]:
    """Every product's figure with each location's part, the safety stock, the buffer and what
    was last published: why the channel's figure is what it is."""
    product_ids = None
    if sku:
        product_ids = list(Product.objects.filter(sku__icontains=sku).values_list("pk", flat=True))
    figures = channel_figures(channel, product_ids=product_ids)
    published = {
        f.product_id: f for f in ChannelStockFigure.objects.filter(channel=channel, product_id__in=list(figures))
    }
    products = Product.objects.in_bulk(list(figures))
    rows = [
        AtpRow(
            products[pid],
            figure,
            published[pid].quantity if pid in published else None,
            published[pid].published_at if pid in published else None,
        )
        for pid, figure in figures.items()
        if pid in products
    ]
    rows.sort(key=lambda r: r.product.sku)
    return rows


def published_figures(channel: Channel) -> list[dict]:
    """What the pull adapters serve: the last published figure per SKU."""
    return [
        {"sku": sku, "quantity": qty, "updated_at": at.isoformat()}
        for sku, qty, at in ChannelStockFigure.objects.filter(channel=channel)
        .order_by("product__sku")
        .values_list("product__sku", "quantity", "published_at")
    ]


def feed_token_ok(channel: Channel, token: str) -> bool:
    expected = channel.stock_feed_token or channel.webhook_secret
    return bool(expected) and bool(token) and hmac.compare_digest(expected, token)


def last_publication(channel: Channel) -> ChannelStockPublication | None:
    return channel.stock_publications.first()


# ---- writes -----------------------------------------------------------------------------------


@transaction.atomic
def channel_stock_publish(
    *, channel: Channel, transport: Transport | None = None, user=None, full: bool = False
) -> ChannelStockPublication | None:
    """Publish the figures that changed since the last successful publication (all of them with
    ``full``). Returns the publication record, or None when nothing changed or the channel is not
    published. A failed push records the error and leaves the published figures as they were, so
    the next run sends the same changes again."""
    channel = Channel.objects.select_for_update().get(pk=channel.pk)  # one publisher per channel at a time
    if channel.stock_adapter == StockAdapter.NONE or not channel.active:
        return None
    figures = channel_figures(channel)
    previous = {f.product_id: f for f in ChannelStockFigure.objects.filter(channel=channel)}
    new = {pid: f.quantity for pid, f in figures.items()}
    for pid in previous:  # a product no longer stocked in the channel's locations goes to 0
        new.setdefault(pid, 0)
    changed = {pid: qty for pid, qty in new.items() if full or pid not in previous or previous[pid].quantity != qty}
    if not changed:
        return None
    skus = dict(Product.objects.filter(pk__in=list(changed)).values_list("pk", "sku"))
    rows = sorted(
        (
            {"sku": skus[pid], "old": previous[pid].quantity if pid in previous else None, "new": qty}
            for pid, qty in changed.items()
        ),
        key=lambda r: r["sku"],
    )
    now = timezone.now()
    publication = ChannelStockPublication(
        channel=channel, adapter=channel.stock_adapter, rows=rows, rows_changed=len(rows), user=user
    )
    if channel.stock_adapter == StockAdapter.PUSH:
        payload = {
            "channel": channel.slug,
            "published_at": now.isoformat(),
            "figures": [{"sku": r["sku"], "quantity": r["new"]} for r in rows],
        }
        try:
            if not channel.stock_push_url:
                raise PushFailed("The channel has no push URL.")
            (transport or http_post_json)(channel.stock_push_url, payload)
        except Exception as exc:  # noqa: BLE001 (any failure of the outside server is recorded, not raised)
            publication.outcome = PublicationOutcome.FAILED
            publication.error = f"{type(exc).__name__}: {exc}"[:2000]
            publication.finished_at = timezone.now()
            publication.save()
            return publication
    for pid, qty in changed.items():
        ChannelStockFigure.objects.update_or_create(
            channel=channel, product_id=pid, defaults={"quantity": qty, "published_at": now}
        )
    publication.outcome = PublicationOutcome.PUBLISHED
    publication.finished_at = timezone.now()
    publication.save()
    return publication


def publish_all_channels(*, transport: Transport | None = None) -> dict[str, str]:
    """The scheduled job: each active, published channel in its own transaction."""
    result = {}
    for channel in Channel.objects.filter(active=True).exclude(stock_adapter=StockAdapter.NONE).order_by("slug"):
        publication = channel_stock_publish(channel=channel, transport=transport)
        result[channel.slug] = publication.outcome if publication else PublicationOutcome.UNCHANGED
    return result
