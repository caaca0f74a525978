"""The public tracking page, cached per order: its data, and the page itself as the customer gets it.

`selectors.public_tracking` costs a handful of queries (timeline, parcels, scans, returns; lines and rating once
delivered) and rendering the page costs more than all of them. Every change a customer can see on the page
writes a row on the order's timeline (tracking scans and expected dates through `logistics.services`, statuses,
address changes, cancellation, returns, ratings through `orders.services`) or saves the order, so the cache
keys carry the order's latest `OrderEvent` id and its ``updated_at``: a change is a new key, and the stale
entry simply expires. `PAGE_CACHE_SECONDS` bounds what depends on the clock alone (the return window closing).

Every view costs one query (`order_for_page`): the order's key fields, its latest timeline row and its own
e-mail and phone (read fresh each time). The ORM writes that query once per process; building it took longer
than running it. It is also the kept connection's health check (`_fetch_checked`): no ``SELECT 1`` round trip
before it. Where a one-time code would go matters only to a view-only link (a change link shows no code box),
so only there is it worked out: from the order's own e-mail and phone, and for an order without an e-mail of
its own from its customer's contact too (one more query, then, read fresh each view).

The rendered page is kept per order version, language, kind of link (may change or view only) and, for a
view-only link, where a one-time code would go: everything else the template shows is the same for every
visitor. What belongs to one request (its path, in the forms' actions and the language switch, and its CSRF
token) is rendered as a random placeholder, and put in for each request (`page_html`); the result is byte for
byte what rendering the template for that request gives. A request with a notice to show (after an action) is
rendered for itself alone. A deploy that changes the templates or the stylesheet starts new keys (`_build`). In
front of a shared cache (Redis) each process keeps its latest pages (`RecentPages`), so a repeat view asks
nothing of it.

Nothing personal is added to what the page already shows; the signed token stays the only key, and the
response stays ``Cache-Control: private, no-store`` (so a browser keeps no copy to revalidate: no ETag).
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import threading
import time
from collections import OrderedDict
from contextlib import suppress
from pathlib import Path
from types import SimpleNamespace

from django.contrib.messages import get_messages
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections, router
from django.db.models import OuterRef, Subquery
from django.template.loader import get_template, render_to_string
from django.templatetags.static import static
from django.utils import translation
from django.utils.html import escape

from oms.csrf import get_token
from orders.models import Order, OrderEvent

from . import selectors
from .access_codes import code_channel

PAGE_CACHE_SECONDS = 300
TEMPLATE = "logistics/track_order.html"
_HOLES = ("path", "full", "csrf")


def _in_model_order(model, names: set[str]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in names)  # as `from_db` takes them


# What every view reads: enough to key the caches and, with the order's own contact, to say where a one-time
# code would go (the customer's contact only if the order has no e-mail: `code_channel`). No join to the customer:
# PostgreSQL planned and ran it on every view for what a view-only link of an order without an e-mail needs.
_ORDER_FIELDS = _in_model_order(Order, {"id", "number", "ship_email", "ship_phone", "customer_id"})
_PROBE = "\x00number"


@functools.cache
def _order_sql(alias: str) -> str:
    """The page's one query, written by the ORM once per process (building a query costs far more than running
    it): the order's fields above, its latest timeline row id and updated_at."""
    latest = OrderEvent.objects.filter(order=OuterRef("pk")).order_by("-id").values("id")[:1]
    queryset = (
        Order.objects.filter(number=_PROBE)
        .annotate(page_version=Subquery(latest))
        .values_list(*_ORDER_FIELDS, "page_version", "updated_at")
        .order_by()
    )
    sql, params = queryset.query.get_compiler(using=alias).as_sql()
    if list(params) != [_PROBE]:  # the number must be the query's only parameter
        raise RuntimeError(f"unexpected parameters in the tracking page's query: {params!r}")
    return sql


def _fetch(connection, sql: str, number: str):
    with connection.cursor() as cursor:
        cursor.execute(sql, [number])
        return cursor.fetchone()


def _fetch_checked(connection, sql: str, number: str):
    """The page's query, which is also the health check of a kept connection (``CONN_HEALTH_CHECKS``): Django
    would first send ``SELECT 1`` on it, one more round trip per view. Here the query goes first, and if the
    server dropped the connection (a restart, an idle timeout) it is closed and the query sent once more on a
    new one, which is what the health check would have done. Inside a transaction, or with no kept
    connection, the query runs as usual."""
    if (
        connection.connection is None
        or connection.health_check_done
        or not connection.health_check_enabled
        or connection.in_atomic_block
    ):
        return _fetch(connection, sql, number)
    connection.health_check_done = True
    try:
        return _fetch(connection, sql, number)
    except (InterfaceError, OperationalError):
        with suppress(DatabaseError):
            connection.close()
        return _fetch(connection, sql, number)


def _stamp(updated_at) -> str:
    text = updated_at.isoformat() if hasattr(updated_at, "isoformat") else str(updated_at or "")
    return text.replace(" ", "T")  # a cache key has no spaces


def order_for_page(number: str) -> Order | None:
    """The order in one query, with ``page_version`` (its latest timeline row's id and its ``updated_at``): only
    what every view needs. Its other fields are deferred, its customer is not read (``order.customer`` is a query,
    as on any order); the page reads the whole order once when it renders it (`public_tracking_cached`)."""
    alias = router.db_for_read(Order) or DEFAULT_DB_ALIAS
    row = _fetch_checked(connections[alias], _order_sql(alias), number)
    if row is None:
        return None
    n = len(_ORDER_FIELDS)
    order = Order.from_db(alias, _ORDER_FIELDS, row[:n])
    event_id, updated_at = row[n:]
    order.page_version = f"{event_id or 0}-{_stamp(updated_at)}"
    return order


def _version(order: Order) -> str:
    return f"{order.pk}:{order.page_version}"


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
        if order.get_deferred_fields():  # from `order_for_page`: one read of the whole order, not one per field
            order = Order.objects.select_related("customer").get(pk=order.pk)
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


class RecentPages:
    """The pages this process rendered or fetched lately, in front of the shared cache (Redis in production), so
    a repeat view costs no round trip to it: a small LRU. An entry never changes under its key (a change of the
    order is a new key) and expires with the shared entry it copies (rendered at + PAGE_CACHE_SECONDS)."""

    def __init__(self, size: int = 256):
        self.size = size
        self.entries: OrderedDict[str, tuple[float, tuple]] = OrderedDict()
        self.lock = threading.Lock()  # gunicorn's threaded workers share it

    def get(self, key: str, now: float) -> tuple | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if entry[0] <= now:
                del self.entries[key]
                return None
            self.entries.move_to_end(key)
            return entry[1]

    def put(self, key: str, value: tuple, expires: float) -> None:
        with self.lock:
            self.entries[key] = (expires, value)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


RECENT = RecentPages()


def recent_pages() -> RecentPages | None:
    """The process's own copies, unless the shared cache is this process's memory already (no REDIS_URL)."""
    return None if isinstance(caches[DEFAULT_CACHE_ALIAS], LocMemCache) else RECENT


def _render_shared(order: Order, context: dict) -> tuple[str, str, float]:
    """(nonce, html, rendered at): the page rendered once for every request, with ``zq<hole><nonce>`` where a
    request's own values go. The nonce is random, so no text on the page (a carrier's scan description) can be
    taken for a placeholder."""
    nonce = secrets.token_hex(16)
    holes = {name: f"zq{name}{nonce}" for name in _HOLES}
    request = SimpleNamespace(path=holes["path"], get_full_path=holes["full"])
    shared = {"t": public_tracking_cached(order), **context, "request": request, "csrf_token": holes["csrf"]}
    return nonce, get_template(TEMPLATE).render({**shared, "messages": ()}), time.time()


def _shared_page(order: Order, context: dict, key: str) -> tuple[str, str, float]:
    now, recent = time.time(), recent_pages()
    cached = recent.get(key, now) if recent else None
    if cached is None:
        cached = cache.get(key)
        if cached is None:
            cached = _render_shared(order, context)
            cache.set(key, cached, PAGE_CACHE_SECONDS)
        if recent:
            recent.put(key, cached, cached[2] + PAGE_CACHE_SECONDS)
    return cached


def page_html(request, order: Order, *, can_change: bool) -> str:
    """The tracking page of ``order`` for this request (see the module docstring)."""
    # The template shows where a code would go only to a view-only link: a change link's page never reads it.
    context = {"can_change": can_change, "code_channel": None if can_change else code_channel(order)}
    if get_messages(request):  # a notice after an action: this request's page alone
        return render_to_string(TEMPLATE, {"t": public_tracking_cached(order), **context}, request=request)
    language = translation.get_language()
    key = (
        f"logistics:track:html:{_build()}:{_version(order)}:{language}:"
        f"{int(bool(can_change))}:{context['code_channel'] or '-'}"
    )
    nonce, html, _rendered = _shared_page(order, context, key)
    values = {"path": escape(request.path), "full": escape(request.get_full_path())}
    pieces = _pieces(nonce, html)
    if "csrf" in pieces[1::2]:
        values["csrf"] = get_token(request)  # once, as the template does: one token for every form
    return "".join([piece if i % 2 == 0 else values[piece] for i, piece in enumerate(pieces)])


@functools.lru_cache(maxsize=512)
def _pieces(nonce: str, html: str) -> tuple[str, ...]:
    """The shared page cut at its holes, once per page and process: text, hole name, text, … (a request's
    values are then joined in; no pattern is searched per view)."""
    return tuple(re.split(f"zq(path|full|csrf){nonce}", html))
