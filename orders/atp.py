"""Stock for sale on each channel: the figures, their breakdown and publishing them.

The arithmetic is inventory's (``inventory.selectors.atp_for_locations``: available in the
channel's locations less safety stock, floored at 0, less the channel buffer). This module adds
the channel: which locations serve it, its buffer, the figures last published, and the adapters
that bring figures to the channel:

- ``feed``: the channel pulls JSON from /orders/channels/<slug>/stock.json (token);
- ``csv``: the channel pulls CSV from /orders/channels/<slug>/stock.csv (token);
- ``push``: we POST the changed figures as JSON to ``Channel.stock_push_url``.

Publishing sends only the figures that changed since the last successful publication and
records each one (changed rows, outcome, error) as a ``ChannelStockPublication``. A push is an outbox
row (kind ``stock_push``, oms/outbox/) written with the publication and sent by the outbox consumer
with retries and backoff; nothing is sent inside the publishing transaction.
"""

import hmac
import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

from inventory.models import Product, StockMovement
from inventory.selectors import AtpFigure, atp_for_locations
from oms import outbox
from oms.errors import DomainError
from oms.models import OutboxMessage
from oms.outbox import outbox_put
from oms.wording import NUMBER, known, known_shape, msg

from .models import Channel, ChannelStockFigure, ChannelStockPublication, PublicationOutcome, StockAdapter

# The outbox reasons written below (the Background work page reads them in the reader's language).
known(gettext_noop("The publication no longer exists."), gettext_noop("The publication is %(outcome)s already."))
# The default push transport's failures, stored as the outbox row's reason (read in the reader's language there).
PUSH_ANSWERED = gettext_noop("The channel answered %(status)s.")
PUSH_URL = gettext_noop("The push URL must be http(s), not %(url)s.")
known(PUSH_ANSWERED, PUSH_URL)
known_shape(PUSH_ANSWERED, status=NUMBER)

# transport(url, payload) -> None; raises on failure. Tests inject their own.
Transport = Callable[[str, dict], None]
PUSH_TIMEOUT_SECONDS = 10
STOCK_CHANGE_OVERLAP = 60  # seconds of ledger rows the on-change publishing looks at again (late commits)
STOCK_PUSH = "stock_push"  # the outbox kind of a push to a channel


class PushFailed(DomainError):
    pass


class PushMisconfigured(PushFailed):
    """No push URL, or not http(s): trying again changes nothing until a person fixes the channel."""


class PushRefused(PushFailed):
    """The channel refused the push for good (bad credentials, its validation): dead until a person acts."""


class PushRetryAfter(PushFailed):
    """The channel asked us to wait (a 429's Retry-After, a throttle): try again after ``after_seconds``."""

    def __init__(self, message: str, after_seconds: float):
        super().__init__(message)
        self.after_seconds = after_seconds


# A platform's own stock API, registered by the app that speaks it (connectors/): ``pusher(channel, figures)``
# sets ``[{"sku", "quantity"}]`` on the platform and returns True, or returns False when the channel is not
# connected that way (then the push URL is used); it raises a PushFailed (or any error: retried) on failure.
StockPusher = Callable[[Channel, list[dict]], bool]
_pushers: dict[str, StockPusher] = {}


def register_stock_pusher(platform: str, pusher: StockPusher) -> None:
    _pushers[platform] = pusher


def http_post_json(url: str, payload: dict) -> None:
    """The default push transport: POST JSON, any status but 2xx is a failure."""
    if not url.startswith(("http://", "https://")):
        raise PushMisconfigured(msg(PUSH_URL, url=repr(url)))
    body = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=PUSH_TIMEOUT_SECONDS) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise PushFailed(msg(PUSH_ANSWERED, status=response.status))


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
    *, channel: Channel, user=None, full: bool = False, product_ids=None
) -> ChannelStockPublication | None:
    """Publish the figures that changed since the last successful publication (all of them with
    ``full``; only those of ``product_ids`` when given: the on-change path). Returns the publication record,
    or None when nothing changed or the channel is not published. Feed and CSV channels are published at once
    (they pull). A push channel gets a publication ``queued`` and its outbox row in this transaction; the
    outbox consumer POSTs it after commit (``push_stock``), retrying with backoff, and only a successful push
    counts the figures as published. While a push is queued the channel's next run waits for it (returns it)
    instead of queuing the same changes twice."""
    channel = Channel.objects.select_for_update().get(pk=channel.pk)  # one publisher per channel at a time
    if channel.stock_adapter == StockAdapter.NONE or not channel.active:
        return None
    queued = channel.stock_publications.filter(outcome=PublicationOutcome.QUEUED).first()
    if queued is not None:
        return queued
    published = ChannelStockFigure.objects.filter(channel=channel)
    if product_ids is not None:
        product_ids = set(product_ids)
        published = published.filter(product_id__in=list(product_ids))
    previous = {f.product_id: f for f in published}
    figures = channel_figures(channel, product_ids=product_ids)
    # a product the channel's locations do not stock and the channel never had stays unpublished
    new = {pid: f.quantity for pid, f in figures.items() if f.parts or pid in previous}
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
    publication = ChannelStockPublication(
        channel=channel, adapter=channel.stock_adapter, rows=rows, rows_changed=len(rows), user=user
    )
    if channel.stock_adapter == StockAdapter.PUSH:
        publication.outcome = PublicationOutcome.QUEUED
        publication.save()
        outbox_put(
            kind=STOCK_PUSH,
            destination=f"channel:{channel.slug}",
            key=f"{channel.pk}:{publication.pk}",
            payload={"publication": publication.pk},
        )
        return publication
    _figures_published(channel, {r["sku"]: r["new"] for r in rows}, timezone.now())
    publication.outcome = PublicationOutcome.PUBLISHED
    publication.finished_at = timezone.now()
    publication.save()
    return publication


def _figures_published(channel: Channel, figures: dict[str, int], now) -> None:
    products = dict(Product.objects.filter(sku__in=list(figures)).values_list("sku", "pk"))
    for sku, qty in figures.items():
        if sku in products:
            ChannelStockFigure.objects.update_or_create(
                channel=channel, product_id=products[sku], defaults={"quantity": qty, "published_at": now}
            )


def publish_changed_stock() -> dict[str, str]:
    """Stock pushed on change (the beat runs it every ``OMS_STOCK_ON_CHANGE_SECONDS``): for each published
    channel, only the products with stock ledger rows (``inventory.StockMovement``: every reservation, receipt,
    adjustment and shipment writes one) newer than what the channel has seen, figured and published together
    (one publication per channel, batched). A channel seen for the first time is compared in full. Ledger rows
    of transactions that commit late with a lower id are caught by the overlap (rows of the last
    ``STOCK_CHANGE_OVERLAP`` seconds are looked at again) and, at the latest, by the scheduled full comparison
    (``publish_all_channels``)."""
    upto = StockMovement.objects.aggregate(top=Max("pk"))["top"] or 0
    since = timezone.now() - timedelta(seconds=STOCK_CHANGE_OVERLAP)
    result = {}
    published = Channel.objects.filter(active=True).exclude(stock_adapter=StockAdapter.NONE)
    for slug, pk in published.order_by("slug").values_list("slug", "pk"):
        with transaction.atomic():
            channel = Channel.objects.select_for_update().get(pk=pk)  # as the publisher does: one at a time
            if channel.stock_publications.filter(outcome=PublicationOutcome.QUEUED).exists():
                result[slug] = PublicationOutcome.QUEUED  # an earlier push is still on its way: look again next run
                continue
            if channel.stock_movements_seen == 0:
                publication = channel_stock_publish(channel=channel)
            else:
                moved = set(
                    StockMovement.objects.filter(Q(pk__gt=channel.stock_movements_seen) | Q(created_at__gte=since))
                    .filter(location__in=channel.locations.all())
                    .values_list("product_id", flat=True)
                    .distinct()
                )
                publication = channel_stock_publish(channel=channel, product_ids=moved) if moved else None
            Channel.objects.filter(pk=pk, stock_movements_seen__lt=upto).update(stock_movements_seen=upto)
        result[slug] = publication.outcome if publication else PublicationOutcome.UNCHANGED
    return result


def publish_all_channels() -> dict[str, str]:
    """The scheduled job: each active, published channel in its own transaction."""
    result = {}
    for channel in Channel.objects.filter(active=True).exclude(stock_adapter=StockAdapter.NONE).order_by("slug"):
        publication = channel_stock_publish(channel=channel)
        result[channel.slug] = publication.outcome if publication else PublicationOutcome.UNCHANGED
    return result


# ---- pushing: the outbox handler --------------------------------------------------------------------


def push_transport() -> Transport:
    """How pushes travel: ``OMS_STOCK_PUSH_TRANSPORT`` (a dotted path; tests use a loopback server)."""
    return import_string(settings.OMS_STOCK_PUSH_TRANSPORT)


def _push_one(row: OutboxMessage, transport: Transport) -> outbox.Outcome:
    publication = (
        ChannelStockPublication.objects.select_related("channel").filter(pk=row.payload.get("publication")).first()
    )
    if publication is None:
        return outbox.skipped("The publication no longer exists.")
    if publication.outcome != PublicationOutcome.QUEUED:
        return outbox.skipped(f"The publication is {publication.outcome} already.")
    channel = publication.channel
    payload = {
        "channel": channel.slug,
        "published_at": publication.started_at.isoformat(),
        "figures": [{"sku": r["sku"], "quantity": r["new"]} for r in publication.rows],
    }
    try:
        pusher = _pushers.get(channel.platform)
        if pusher is None or not pusher(channel, payload["figures"]):
            if not channel.stock_push_url:
                raise PushMisconfigured("The channel has no push URL.")
            transport(channel.stock_push_url, payload)
    except Exception as exc:  # noqa: BLE001 (any failure of the outside server is recorded, not raised)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        final = isinstance(exc, PushMisconfigured | PushRefused) or row.attempts >= outbox.max_attempts()
        ChannelStockPublication.objects.filter(pk=publication.pk).update(
            error=error, **({"outcome": PublicationOutcome.FAILED, "finished_at": timezone.now()} if final else {})
        )
        if final:
            return outbox.dead(error)
        return outbox.retry(error, after_seconds=getattr(exc, "after_seconds", None))
    with transaction.atomic():
        Channel.objects.select_for_update().filter(pk=channel.pk).first()
        _figures_published(channel, {r["sku"]: r["new"] for r in publication.rows}, timezone.now())
        ChannelStockPublication.objects.filter(pk=publication.pk).update(
            outcome=PublicationOutcome.PUBLISHED, finished_at=timezone.now(), error=""
        )
    return outbox.sent()


def push_stock(rows: list[OutboxMessage]) -> dict[int, outbox.Outcome]:
    """The outbox handler of stock pushes: each queued publication POSTed to its channel."""
    transport = push_transport()
    return {row.pk: _push_one(row, transport) for row in rows}


def register() -> None:
    outbox.register_outbox_handler(STOCK_PUSH, push_stock)
