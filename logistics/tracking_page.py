"""The public tracking page, cached per order: its data, and the page itself as the customer gets it.

`selectors.public_tracking` costs a handful of queries (timeline, parcels, scans, returns; lines and rating once
delivered) and rendering the page costs more than all of them. Every change a customer can see on the page
writes a row on the order's timeline (tracking scans and expected dates through `logistics.services`, statuses,
address changes, cancellation, returns, ratings through `orders.services`) or saves the order, so the cache
keys carry the order's latest `OrderEvent` id and its ``updated_at``: a change is a new key, and the stale
entry simply expires. The page's one query finds the order, its customer (where a code would go) and that id
together (`order_for_page`). `PAGE_CACHE_SECONDS` bounds what depends on the clock alone (the return window
closing).

The rendered page is kept per order version, language, kind of link (may change or view only) and where a
one-time code would go: everything else the template shows is the same for every visitor. What belongs to
one request (its path, in the forms' actions and the language switch, and its CSRF token) is rendered as
a random placeholder, and put in for each request (`page_html`); the result is byte for byte what rendering
the template for that request gives. A request with a notice to show (after an action) is rendered for
itself alone. A deploy that changes the templates or the stylesheet starts new keys (`_build`).

Nothing personal is added to what the page already shows; the signed token stays the only key, and the
response stays ``Cache-Control: private, no-store`` (so a browser keeps no copy to revalidate: no ETag).
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from pathlib import Path
from types import SimpleNamespace

from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db.models import OuterRef, Subquery
from django.middleware.csrf import get_token
from django.template.loader import get_template, render_to_string
from django.templatetags.static import static
from django.utils import translation
from django.utils.html import escape

from orders.models import Order, OrderEvent

from . import selectors
from .access_codes import code_channel

PAGE_CACHE_SECONDS = 300
TEMPLATE = "logistics/track_order.html"
_HOLES = ("path", "full", "csrf")


def order_for_page(number: str) -> Order | None:
    """The order with its customer and ``page_version`` (its latest timeline row's id) in one query."""
    latest = OrderEvent.objects.filter(order=OuterRef("pk")).order_by("-id").values("id")[:1]
    return (
        Order.objects.select_related("customer")
        .filter(number=number)
        .annotate(page_version=Subquery(latest))
        .order_by()
        .first()
    )


def _version(order: Order) -> str:
    updated = order.updated_at.timestamp() if order.updated_at else 0
    return f"{order.pk}:{getattr(order, 'page_version', None) or 0}:{updated:.6f}"


def cache_key(order: Order) -> str:
    return f"logistics:track:v2:{_version(order)}"


def _pack(data: dict) -> dict:
    """The page data as cached: without the reference data every order shares (lazy labels are costly to
    unpickle; `_unpack` puts them back from this process)."""
    return {**data, "self_service": {**data["self_service"], "return_reasons": None}}


def _unpack(data: dict) -> dict:
    data["self_service"]["return_reasons"] = selectors.RETURN_REASONS
    return data


def public_tracking_cached(order: Order) -> dict:
    """`selectors.public_tracking(order)`, from the cache while the order has no newer timeline row and was not
    saved since (an order not read by `order_for_page` is read fresh)."""
    if not hasattr(order, "page_version"):
        return selectors.public_tracking(order)
    key = cache_key(order)
    data = cache.get(key)
    if data is None:
        data = selectors.public_tracking(order)
        cache.set(key, _pack(data), PAGE_CACHE_SECONDS)
        return data
    return _unpack(data)


@functools.cache
def _build() -> str:
    """What the rendered page depends on besides the order and the request: the templates' text and the
    stylesheet's (hashed) URL. Read once per process."""
    digest = hashlib.sha256()
    for name in (TEMPLATE, "public_base.html"):
        digest.update(Path(get_template(name).origin.name).read_bytes())
    digest.update(static("oms/css/public.css").encode())
    return digest.hexdigest()[:16]


def _render_shared(order: Order, context: dict) -> tuple[str, str]:
    """(nonce, html): the page rendered once for every request, with ``zq<hole><nonce>`` where a request's own
    values go. The nonce is random, so no text on the page (a carrier's scan description) can be taken for a
    placeholder."""
    nonce = secrets.token_hex(16)
    holes = {name: f"zq{name}{nonce}" for name in _HOLES}
    request = SimpleNamespace(path=holes["path"], get_full_path=holes["full"])
    shared = {"t": public_tracking_cached(order), **context, "request": request, "csrf_token": holes["csrf"]}
    return nonce, get_template(TEMPLATE).render({**shared, "messages": ()})


def page_html(request, order: Order, *, can_change: bool) -> str:
    """The tracking page of ``order`` for this request (see the module docstring)."""
    context = {"can_change": can_change, "code_channel": code_channel(order)}
    if get_messages(request):  # a notice after an action: this request's page alone
        return render_to_string(TEMPLATE, {"t": public_tracking_cached(order), **context}, request=request)
    language = translation.get_language()
    key = (
        f"logistics:track:html:{_build()}:{_version(order)}:{language}:"
        f"{int(bool(can_change))}:{context['code_channel'] or '-'}"
    )
    cached = cache.get(key)
    if cached is None:
        cached = _render_shared(order, context)
        cache.set(key, cached, PAGE_CACHE_SECONDS)
    nonce, html = cached
    values = {"path": escape(request.path), "full": escape(request.get_full_path())}

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            values[name] = get_token(request)  # once, as the template does: one token for every form
        return values[name]

    return re.sub(f"zq(path|full|csrf){nonce}", fill, html)
