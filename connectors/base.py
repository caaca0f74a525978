"""The connector framework: one adapter per ``Channel.platform`` with four optional verbs.

- ``pull_orders(connection, cursor, seen)`` -> ``PullPage``: orders updated since the cursor, raw, for the order
  inbox (orders/intake/inbox.py applies them in batches like webhooks);
- ``confirm_shipment(connection, notice, remote)`` -> ``Confirmation``: one shipment's carrier, tracking numbers
  and lines (the ``channel.shipment`` outbox row logistics writes), created once and updated afterwards;
  ``confirm_shipments(connection, items)`` confirms several of one connection at once (by default one by one;
  Shopify overrides it: one read and one document for the batch), each with its own outcome;
- ``push_stock(connection, figures)`` -> ``StockPushResult``: the channel's stock figures, batched;
- ``cancel_notice(connection, notice)``: a cancellation the platform must hear of (the ``channel.cancel`` row);
- ``lines_cancel_notice(connection, notice)``: the lines and quantities of a partial cancellation (the
  ``channel.lines_cancel`` row: a refund of those lines where the platform takes one).

An adapter leaves out what its platform does not need (``supports(verb)``). Every call of the outside world
raises one of the errors below, which the outbox handlers turn into an outcome: ``RetryLater`` (a 429 with
Retry-After, a throttle; after that time), ``Transient`` (5xx, a timeout, a refused connection; the backoff),
``Refused`` (401/403: dead until a person fixes the credentials), ``Rejected`` (the platform's validation
errors: dead with its message), ``Pending`` (the platform took the request and works on it later, an Amazon
feed: asked again after the backoff), ``PersonMustAct`` (the platform has no API for it: dead with a message,
translated on the sync page, telling the person what to do in the platform's back office). Adapters register
with ``register_adapter(platform, adapter)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VERBS = ("pull_orders", "confirm_shipment", "push_stock", "cancel_notice", "lines_cancel_notice")


class ConnectorError(Exception):
    """The platform did not do what was asked."""


class RetryLater(ConnectorError):
    def __init__(self, message: str, after_seconds: float):
        super().__init__(message)
        self.after_seconds = max(0.0, float(after_seconds))


class Transient(ConnectorError):
    """5xx, a timeout, a refused connection: try again after the backoff."""


class Refused(ConnectorError):
    """401/403: the credentials are wrong or lack a scope; nothing changes until a person fixes them."""


class Rejected(ConnectorError):
    """The platform refused the content (validation errors): sending it again changes nothing."""


class NotSupported(ConnectorError):
    pass


class Pending(ConnectorError):
    """The platform accepted the request and processes it later (an Amazon feed): ask again after the backoff."""


class PersonMustAct(ConnectorError):
    """The platform offers no API for this: a person does it in the platform's back office. The message is a
    msgid without placeholders (marked with ``gettext_noop``): the row keeps the English text, the sync page shows
    it in the reader's language."""


@dataclass
class PullPage:
    orders: list[dict]  # raw order objects, as the platform sent them
    cursor: str  # the newest "updated at" among them (or the cursor asked with)
    has_next: bool = False
    next_page: str = ""
    stamps: list[tuple[str, str]] | None = None  # (id, updated at) per order where the order has no id/updatedAt


@dataclass
class Confirmation:
    remote_id: str
    action: str  # created, updated, adopted (found on the platform after a lost answer), cancelled, unchanged


@dataclass
class StockPushResult:
    pushed: int = 0
    unknown_skus: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # items the platform refused, with its message


class Adapter:
    """The interface; a platform overrides the verbs it supports."""

    platform = ""

    def supports(self, verb: str) -> bool:
        return getattr(type(self), verb, None) is not getattr(Adapter, verb, None)

    def pull_orders(self, connection, *, cursor: str, page: str = "") -> PullPage:
        raise NotSupported(f"{self.platform} has no order pull.")

    def confirm_shipment(self, connection, *, notice: dict, remote) -> Confirmation:
        raise NotSupported(f"{self.platform} has no shipment confirmation.")

    def confirm_shipments(self, connection, items: list[tuple[dict, object]]) -> list[Confirmation | ConnectorError]:
        """``items`` [(notice, remote)] of one connection, at most one per shipment: a ``Confirmation`` or the
        ``ConnectorError`` of each, in order (one item's error never fails the others). This default calls
        ``confirm_shipment`` once per item; a platform that can confirm many in one request overrides it."""
        results: list[Confirmation | ConnectorError] = []
        for notice, remote in items:
            try:
                results.append(self.confirm_shipment(connection, notice=notice, remote=remote))
            except ConnectorError as exc:
                results.append(exc)
        return results

    def push_stock(self, connection, *, figures: list[dict]) -> StockPushResult:
        raise NotSupported(f"{self.platform} has no stock push.")

    def cancel_notice(self, connection, *, notice: dict) -> None:
        raise NotSupported(f"{self.platform} takes no cancellation notices.")

    def lines_cancel_notice(self, connection, *, notice: dict) -> None:
        raise NotSupported(f"{self.platform} takes no notices of cancelled lines.")

    def shipped_remotely(self, connection, *, external_ids: list[str]) -> dict[str, str]:
        """For the reconciliation: which of these orders the platform shows fulfilled ({id: its status})."""
        raise NotSupported(f"{self.platform} cannot say which orders it shows fulfilled.")

    def check_secret(self, secret: str) -> str:
        """Why a new secret cannot be used by this platform's client ("" when it can)."""
        return ""


_adapters: dict[str, Adapter] = {}


def register_adapter(platform: str, adapter: Adapter) -> None:
    _adapters[platform] = adapter


def adapter_for(platform: str) -> Adapter | None:
    return _adapters.get(platform)


def platforms() -> list[str]:
    return sorted(_adapters)


def match_lines(items: list[dict], lines: list[dict]) -> tuple[dict[str, int], list[str]]:
    """Our lines onto the platform's items by SKU, in order: ``items`` ``[{"id", "sku", "left"}]`` (what each
    item can still take: its open, refundable or ordered quantity), ``lines`` ``[{"sku", "product_sku"?,
    "quantity"}]``. Returns ({item id: quantity taken}, ["SKU ×n" our lines could not place]). The confirmations
    (what ships) and the refunds (what was cancelled) of every platform match through this one door."""
    left = {id(item): int(item.get("left") or 0) for item in items}
    taken: dict[str, int] = {}
    missing = []
    for line in lines:
        want = int(line.get("quantity") or 0)
        names = {line.get("sku"), line.get("product_sku")} - {None, ""}
        for item in items:
            if want <= 0:
                break
            if item.get("id") and item.get("sku") in names and left[id(item)] > 0:
                qty = min(want, left[id(item)])
                left[id(item)] -= qty
                want -= qty
                taken[item["id"]] = taken.get(item["id"], 0) + qty
        if want > 0:
            missing.append(f"{line.get('sku')} ×{want}")
    return taken, missing


def refund_marker(notice: dict) -> str:
    """What a refund made for one outbox row carries in its note: a refund with it there already (a retry after a
    lost answer) counts as done, so nothing is refunded twice."""
    return f"[OMS {notice.get('key')}]"


def refund_note(notice: dict, limit: int) -> str:
    """The refund's note (Shopify) or reason (WooCommerce): the marker, the order and why, cut to ``limit``."""
    text = f"{refund_marker(notice)} Cancelled in the OMS ({notice.get('order')}): {notice.get('reason') or ''}"
    return text[:limit]


def mask(secret: str) -> str:
    """A secret as pages and logs show it: never more than its last 4 characters, and those only when long."""
    secret = str(secret or "")
    if not secret:
        return ""
    return "••••" + secret[-4:] if len(secret) >= 16 else "••••"
