"""The public tracking page's data, cached per order.

`selectors.public_tracking` costs about ten queries (events, parcels, scans, returns, lines, rating). Every change
a customer can see on the page writes a row on the order's timeline (tracking scans and expected dates through
`logistics.services`, statuses, address changes, cancellation, returns, ratings through `orders.services`), so
the cache key carries the order's latest `OrderEvent` id: a new event is a new key, and the stale entry simply
expires. The page's one query finds the order and that id together. `PAGE_CACHE_SECONDS` bounds what depends
on the clock alone (the return window closing). Nothing personal is added to what the page already shows; the
signed token stays the only key, and the response stays ``Cache-Control: private, no-store``.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Max

from orders.models import Order

from . import selectors

PAGE_CACHE_SECONDS = 300


def order_for_page(number: str) -> Order | None:
    """The order with ``page_version`` (its latest timeline row's id) in one query."""
    return Order.objects.filter(number=number).annotate(page_version=Max("events__id")).first()


def cache_key(order: Order) -> str:
    return f"logistics:track:v1:{order.pk}:{getattr(order, 'page_version', None) or 0}"


def public_tracking_cached(order: Order) -> dict:
    """`selectors.public_tracking(order)`, from the cache when the order has no newer timeline row."""
    if getattr(order, "page_version", None) is None:
        return selectors.public_tracking(order)
    key = cache_key(order)
    data = cache.get(key)
    if data is None:
        data = selectors.public_tracking(order)
        cache.set(key, data, PAGE_CACHE_SECONDS)
    return data
