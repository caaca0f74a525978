"""WooCommerce's verbs over the REST API v3 (woocommerce.github.io/woocommerce-rest-api-docs).

- pull: ``GET /orders?modified_after=…&dates_are_gmt=true&orderby=modified&order=asc&per_page=100``. WooCommerce's
  ``modified_after`` is strictly after and its times have whole seconds, so each page asks from one second
  before the newest time seen so far (the ids already stored at that time are skipped by the service); a page
  whose orders all carry that very second goes on with ``page=2, 3 …`` (``X-WP-TotalPages`` says when to stop).
  The order objects are the webhook's, so a pulled order and its webhook are one order; each pulled order's
  private notes (``GET /orders/<id>/notes?type=internal``, those a person wrote) come with it as its seller memo
  (orders/intake/woocommerce_pull.py);
- confirm: with the Shipment Tracking extension (the connection's ``tracking_extension``) one tracking item per
  number (``POST /wc-shipment-tracking/v3/orders/<id>/shipment-trackings`` with ``tracking_provider`` when the
  store's provider list names our carrier, else ``custom_tracking_provider`` and ``custom_tracking_link``;
  ``tracking_number``, ``date_shipped``), else an order note to the customer
  (``POST /orders/<id>/notes``, ``customer_note: true``) with carrier, number and link. Before adding, the
  order's items (or notes) are read and a number already there is not added again: a retry after a lost
  answer adds nothing. When the whole order has shipped here its status is set to ``completed``
  (``PUT /orders/<id>``). A relabel adds the new number (and deletes the old tracking item); a void adds a note;
- stock: SKU -> product id (a variation's parent too) by ``GET /products?sku=A,B`` (kept in ``RemoteItem``),
  then ``POST /products/batch`` (and ``/products/<parent>/variations/batch``) with
  ``{"update": [{"id", "stock_quantity", "manage_stock": true}]}``, 100 a call;
- reconciliation: which of our open orders WooCommerce shows ``completed`` (``GET /orders?include=…``).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.translation import gettext

from orders.intake.woocommerce_pull import PRIVATE_NOTES, private_notes

from ..base import (
    Adapter,
    Confirmation,
    ConnectorError,
    PullPage,
    Rejected,
    StockPushResult,
    match_lines,
    refund_marker,
    refund_note,
)
from ..models import RemoteItem
from ..remote_items import remote_items
from .client import TRACKING_API, WooClient

PAGE_SIZE = 100
BATCH = 100  # WooCommerce's batch endpoints take 100 items at most (woocommerce_rest_batch_items_limit)
LOOKUP_BATCH = 50
DONE_STATUSES = {"completed"}
STAMP = "%Y-%m-%dT%H:%M:%S"
CENT = Decimal("0.01")


def client_for(connection) -> WooClient:
    return WooClient(base_url=connection.base_url, secret=str((connection.credentials or {}).get("access_token", "")))


def _before(stamp: str) -> str:
    """One second before a WooCommerce GMT time (``2026-12-05T10:00:00``): ``modified_after`` is strict."""
    try:
        when = datetime.strptime(stamp[:19], STAMP)
    except ValueError:
        return stamp
    return (when - timedelta(seconds=1)).strftime(STAMP)


def _stamp(order: dict) -> str:
    return str(order.get("date_modified_gmt") or order.get("date_created_gmt") or "")[:19]


def _order_path(notice: dict) -> str:
    external = str(notice.get("order_external_id") or "")
    if not external.isdigit():
        raise Rejected(f"WooCommerce order ids are numbers; this order's is {external!r}.")
    return f"orders/{external}"


def _note_text(notice: dict, number: str, url: str) -> str:
    carrier = notice.get("carrier") or "the carrier"
    text = f"Shipped with {carrier}, tracking number {number}"
    return f"{text}: {url}" if url else f"{text}."


class WooCommerceAdapter(Adapter):
    platform = "woocommerce"

    def check_secret(self, secret: str) -> str:
        key, value = secret.partition(":")[::2]
        if not (key.strip() and value.strip()):
            return gettext("For WooCommerce, give the consumer key and secret as ck_…:cs_… .")
        return ""

    # ---- pull ---------------------------------------------------------------------------------------

    def pull_orders(self, connection, *, cursor: str, page: str = "") -> PullPage:
        after, _sep, number = page.partition("|") if page else (cursor, "", "1")
        number = int(number or 1)
        params = {"orderby": "modified", "order": "asc", "per_page": PAGE_SIZE, "page": number, "dates_are_gmt": "true"}
        if after:
            params["modified_after"] = _before(after)
        client = client_for(connection)
        answer = client.get("orders", params)
        orders = [o for o in answer.body or [] if isinstance(o, dict)] if isinstance(answer.body, list) else []
        for order in orders:
            self._add_private_notes(client, order)
        stamps = [(str(o.get("id") or ""), _stamp(o)) for o in orders]
        newest = max([after or "", *(s for _i, s in stamps)])
        has_next = bool(orders) and answer.total_pages > number
        if has_next:
            # From the newest time again (its ids are skipped); the next page only when this one did not move.
            next_page = f"{after}|{number + 1}" if newest == after else f"{newest}|1"
        else:
            next_page = ""
        return PullPage(orders=orders, cursor=newest, has_next=has_next, next_page=next_page, stamps=stamps)

    @staticmethod
    def _add_private_notes(client: WooClient, order: dict) -> None:
        """卖家备注: the order's private notes written by a person (``GET /orders/<id>/notes?type=internal``),
        added to the stored order under ``woocommerce_pull.PRIVATE_NOTES`` for the parser's seller memo. An
        order WooCommerce no longer knows (deleted since the list) is stored without them."""
        oid = str(order.get("id") or "")
        if not oid.isdigit():
            return  # the parser names the bad id
        try:
            notes = client.get(f"orders/{oid}/notes", {"type": "internal"}).body
        except Rejected:
            return
        order[PRIVATE_NOTES] = private_notes(notes if isinstance(notes, list) else [])

    # ---- confirm ------------------------------------------------------------------------------------

    def confirm_shipment(self, connection, *, notice: dict, remote) -> Confirmation:
        client = client_for(connection)
        path = _order_path(notice)
        numbers = [n for n in notice.get("tracking_numbers") or [] if n]
        urls = list(notice.get("tracking_urls") or [])
        order = client.get(path).body or {}
        remote_id = str(order.get("id") or notice.get("order_external_id"))
        if not numbers:  # the label was voided
            if remote is None or remote.cancelled or not remote.tracking_numbers:
                return Confirmation(remote_id if remote else "", "unchanged")
            if connection.tracking_extension:
                self._delete_trackings(client, path, set(remote.tracking_numbers))
            text = f"The label {', '.join(remote.tracking_numbers)} was voided: that parcel will not come."
            self._note_once(client, path, text, lambda note: note == text)
            return Confirmation(remote_id, "cancelled")
        if connection.tracking_extension:
            have = self._trackings(client, path)
            for i, number in enumerate(numbers):
                if number in have:
                    continue
                client.post(
                    f"{path}/shipment-trackings",
                    {
                        **_provider(client, notice, urls[i] if i < len(urls) else ""),
                        "tracking_number": number,
                        "date_shipped": _shipped_on(notice),
                    },
                    api=TRACKING_API,
                )
            if remote is not None and remote.tracking_numbers:
                self._delete_trackings(client, path, set(remote.tracking_numbers) - set(numbers), have=have)
        else:
            for i, number in enumerate(numbers):
                text = _note_text(notice, number, urls[i] if i < len(urls) else "")
                self._note_once(client, path, text, lambda note, number=number: number in note)
        action = "created" if remote is None else "updated"
        if _order_shipped_here(notice) and str(order.get("status")) not in DONE_STATUSES:
            client.put(path, {"status": "completed"})
        return Confirmation(remote_id, action)

    def _trackings(self, client, path: str) -> dict[str, str]:
        try:
            body = client.get(f"{path}/shipment-trackings", api=TRACKING_API).body
        except Rejected as exc:
            if "rest_no_route" not in str(exc):
                raise
            raise Rejected(
                f"{exc} The store has no Shipment Tracking extension: turn Tracking extension off on the connection."
            ) from None
        return {
            str(t.get("tracking_number")): str(t.get("tracking_id"))
            for t in (body if isinstance(body, list) else [])
            if isinstance(t, dict)
        }

    def _delete_trackings(self, client, path: str, numbers: set[str], have: dict | None = None) -> None:
        have = self._trackings(client, path) if have is None else have
        for number in sorted(numbers):
            if number in have:
                client.delete(f"{path}/shipment-trackings/{have[number]}", api=TRACKING_API)

    def _note_once(self, client, path: str, text: str, already) -> None:
        notes = client.get(f"{path}/notes").body
        for note in notes if isinstance(notes, list) else []:
            if isinstance(note, dict) and already(str(note.get("note") or "")):
                return
        client.post(f"{path}/notes", {"note": text, "customer_note": True})

    def cancel_notice(self, connection, *, notice: dict) -> None:
        """The order set to ``cancelled`` (``PUT /orders/<id>``; the same again changes nothing). WooCommerce's
        payment gateways differ: the refund itself stays a person's decision in WooCommerce."""
        client_for(connection).put(_order_path(notice), {"status": "cancelled"})

    def lines_cancel_notice(self, connection, *, notice: dict) -> None:
        """A partial cancellation: ``POST /orders/<id>/refunds`` with ``line_items`` (``id``, ``quantity``,
        ``refund_total`` at the line's paid price and ``refund_tax`` ``[{id: tax rate id, refund_total}]`` at the
        line's paid tax per unit, so the tax goes back with its line), ``amount`` their sum, ``api_refund`` only
        when the connection refunds payments (else WooCommerce records the refund and moves no money),
        ``api_restock`` false (the OMS publishes stock). The reason carries ``[OMS <row key>]``: a refund with it
        already there (a retry after a lost answer) counts as done, so the lines are refunded once."""
        client = client_for(connection)
        path = _order_path(notice)
        marker = refund_marker(notice)
        refunds = client.get(f"{path}/refunds").body
        if any(isinstance(r, dict) and marker in str(r.get("reason") or "") for r in refunds or []):
            return
        order = client.get(path).body or {}
        items = _refund_items(order.get("line_items") or [], notice.get("lines") or [])
        amount = sum(
            Decimal(i["refund_total"]) + sum(Decimal(t["refund_total"]) for t in i.get("refund_tax") or [])
            for i in items
        )
        client.post(
            f"{path}/refunds",
            {
                "amount": f"{amount:.2f}",
                "reason": refund_note(notice, 500),
                "line_items": items,
                "api_refund": bool(connection.refund_payments),
                "api_restock": False,
            },
        )

    # ---- stock --------------------------------------------------------------------------------------

    def push_stock(self, connection, *, figures: list[dict]) -> StockPushResult:
        client = client_for(connection)
        items = self._items(connection, client, [f["sku"] for f in figures])
        groups: dict[str, list[dict]] = {}  # "" for products, the parent's id for variations
        sku_of: dict[tuple[str, int], str] = {}
        for f in figures:
            ref = items.get(f["sku"])
            if not ref:
                continue
            parent, _sep, pid = ref.rpartition("/")
            groups.setdefault(parent, []).append(
                {"id": int(pid), "stock_quantity": int(f["quantity"]), "manage_stock": True}
            )
            sku_of[(parent, int(pid))] = f["sku"]
        errors, pushed = [], 0
        for parent, updates in sorted(groups.items()):
            path = f"products/{parent}/variations/batch" if parent else "products/batch"
            for start in range(0, len(updates), BATCH):
                body = client.post(path, {"update": updates[start : start + BATCH]}).body or {}
                for item in body.get("update") or [] if isinstance(body, dict) else []:
                    error = item.get("error") if isinstance(item, dict) else None
                    if error:
                        sku = sku_of.get((parent, int(item.get("id") or 0)), str(item.get("id")))
                        errors.append(f"{sku}: {error.get('message') or error.get('code')}")
                        RemoteItem.objects.filter(connection=connection, sku=sku).delete()  # looked up again
                    else:
                        pushed += 1
        return StockPushResult(
            pushed=pushed, unknown_skus=sorted(f["sku"] for f in figures if not items.get(f["sku"])), errors=errors
        )

    def _items(self, connection, client: WooClient, skus: list[str]) -> dict[str, str]:
        """SKU -> ``<id>`` (a product) or ``<parent>/<id>`` (a variation) (remote_items: cached, a missing SKU looked
        up again after a day). A SKU with a comma cannot be asked for (the list is comma-separated): not found."""

        def lookup(chunk: list[str]) -> dict[str, str]:
            asked = [s for s in chunk if "," not in s]
            found: dict[str, str] = {}
            page, pages = 1, 1
            while asked and page <= pages:
                answer = client.get("products", {"sku": ",".join(asked), "per_page": 100, "page": page})
                pages = answer.total_pages
                for product in answer.body if isinstance(answer.body, list) else []:
                    sku, pid = product.get("sku"), product.get("id")
                    if sku in asked and pid and sku not in found:
                        parent = product.get("parent_id") if product.get("type") == "variation" else 0
                        found[sku] = f"{parent}/{pid}" if parent else str(pid)
                page += 1
            return found

        return remote_items(connection, skus, lookup, batch=LOOKUP_BATCH)

    # ---- reconciliation -----------------------------------------------------------------------------

    def shipped_remotely(self, connection, *, external_ids: list[str]) -> dict[str, str]:
        """Of these orders, those WooCommerce shows completed: {id: status}."""
        client = client_for(connection)
        ids = sorted({i for i in external_ids if str(i).isdigit()}, key=int)
        done: dict[str, str] = {}
        for start in range(0, len(ids), PAGE_SIZE):
            chunk = ids[start : start + PAGE_SIZE]
            answer = client.get("orders", {"include": ",".join(chunk), "per_page": PAGE_SIZE, "status": "completed"})
            for order in answer.body if isinstance(answer.body, list) else []:
                if isinstance(order, dict) and str(order.get("status")) in DONE_STATUSES:
                    done[str(order.get("id"))] = str(order.get("status"))
        return done


_providers: dict[str, tuple[float, dict[str, str]]] = {}
PROVIDERS_TTL = 3600.0


def _provider(client: WooClient, notice: dict, url: str) -> dict:
    """The store's own provider when one is named like our carrier (its link then comes from the store),
    else a custom provider with our tracking link. The store's list is read once an hour per store."""
    carrier = str(notice.get("carrier") or notice.get("carrier_code") or "Carrier")
    now = time.monotonic()
    hit = _providers.get(client.root)
    if hit is None or hit[0] < now:
        names: dict[str, str] = {}
        try:
            body = client.get("shipment-trackings/providers", api=TRACKING_API).body
        except ConnectorError:
            body = {}
        for group in (body or {}).values() if isinstance(body, dict) else []:
            for name in group if isinstance(group, dict) else []:
                names[str(name).casefold()] = str(name)
        hit = _providers[client.root] = (now + PROVIDERS_TTL, names)
    known = hit[1].get(carrier.casefold())
    if known:
        return {"tracking_provider": known}
    return {"custom_tracking_provider": carrier, "custom_tracking_link": url}


def _shipped_on(notice: dict) -> str:
    from fulfillment.models import Shipment

    shipped = Shipment.objects.filter(pk=notice.get("shipment")).values_list("shipped_at", flat=True).first()
    return timezone.localdate(shipped).isoformat() if shipped else timezone.localdate().isoformat()


def _order_shipped_here(notice: dict) -> bool:
    """The whole order has left here (shipped or delivered): the channel may call it completed."""
    from orders.models import Order

    status = (
        Order.objects.filter(number=notice.get("order"), channel_id=notice.get("channel"))
        .values_list("status", flat=True)
        .first()
    )
    return status in ("shipped", "delivered")


def _share(total, quantity: int, part: int) -> str:
    """``part`` of ``quantity`` units of a line's ``total`` (a price or a tax), to the cent."""
    unit = Decimal(str(total or 0)) / max(1, quantity)
    return f"{(unit * part).quantize(CENT, rounding=ROUND_HALF_UP)}"


def _refund_items(order_lines: list[dict], lines: list[dict]) -> list[dict]:
    """The cancelled lines onto WooCommerce's line items by SKU: [{id, quantity, refund_total, refund_tax}] at each
    line's paid unit price (its ``total`` / ``quantity``) and paid unit tax per rate (its ``taxes``' ``total`` /
    ``quantity``); ``refund_tax`` only on a taxed line."""
    by_id = {li.get("id"): li for li in order_lines if isinstance(li, dict) and li.get("id")}
    left = [{"id": i, "sku": str(li.get("sku") or ""), "left": int(li.get("quantity") or 0)} for i, li in by_id.items()]
    taken, missing = match_lines(left, lines)
    if missing:
        raise Rejected(f"WooCommerce's order has no line to refund for: {', '.join(missing)}.")
    items = []
    for line_id, line in by_id.items():
        qty = taken.get(line_id)
        if not qty:
            continue
        count = int(line.get("quantity") or 1)
        item = {"id": line_id, "quantity": qty, "refund_total": _share(line.get("total"), count, qty)}
        taxes = [t for t in line.get("taxes") or [] if isinstance(t, dict) and t.get("id") and t.get("total")]
        if taxes:
            item["refund_tax"] = [{"id": t["id"], "refund_total": _share(t["total"], count, qty)} for t in taxes]
        items.append(item)
    return items
