"""Amazon's verbs over the Selling Partner API (developer-docs.amazon.com/sp-api), through ``client.AmazonApi``.

- pull: Orders API v0 ``GET /orders/v0/orders`` with ``LastUpdatedAfter`` = the cursor (inclusive: the ids
  already stored at that very time are skipped by the service), ``MarketplaceIds`` and ``MaxResultsPerPage``,
  then ``NextToken`` pages; each order's items by ``GET /orders/v0/orders/{id}/orderItems`` (``NextToken`` too)
  are stored with it under ``OrderItems`` (orders/intake/amazon_pull.py reads them). A page's orders are taken in
  ``LastUpdateDate`` order. ``Pending`` orders (not paid yet: Amazon gives no address and says not to ship them)
  and Amazon-fulfilled orders (``FulfillmentChannel`` AFN) are skipped: a pending order is pulled when it
  becomes ``Unshipped`` (its LastUpdateDate moves). getOrderItems allows 0.5 calls a second (burst 30), so pages
  are small; when Amazon throttles in the middle of a page, the orders read so far are stored and the pull
  stops there (the next one goes on from the cursor). The first pull looks back ``FIRST_PULL_DAYS``;
- confirm: ``POST /orders/v0/orders/{id}/shipmentConfirmation`` per parcel (``packageDetail``: a numeric
  ``packageReferenceId`` from the shipment's id and the parcel's place, ``carrierCode`` (Amazon's code for
  ours, else ``Other`` with ``carrierName``), ``trackingNumber``, ``shipDate``, ``orderItems`` with Amazon's
  ``orderItemId`` (read by ``getOrderItems``, matched by SellerSKU) and this shipment's quantities, spread over
  its parcels). A 400 saying the package or order is *already* shipped/fulfilled counts as done: a retry after a
  lost answer confirms nothing twice. Amazon's Orders API cannot change a confirmed package: a relabel or void
  after confirmation is dead with a message for the person (``notices.NO_EDIT``: edit it in Seller Central);
- cancel: the order acknowledgement feed with StatusCode Failure (connectors/amazon/notices.py); a partial
  cancellation is dead with a message for the person (``notices.NO_LINES_CANCEL``);
- stock: the Feeds API ``JSON_LISTINGS_FEED`` (one feed for all changed SKUs, up to ``FEED_MAX`` messages:
  ``createFeedDocument`` -> PUT the JSON to its pre-signed url -> ``createFeed``), each message a PATCH of
  ``/attributes/fulfillment_availability`` (``fulfillment_channel_code`` DEFAULT, ``quantity``). Feeds, not
  ``patchListingsItem``: one call set per publication instead of one call per SKU (patchListingsItem allows
  5 a second; a catalogue of thousands of SKUs would take minutes and 429s). Amazon processes a feed later:
  the feed ids are kept (``pending_feeds``) and each push first reads the finished ones (``getFeed``, the
  processing report by ``getFeedDocument``); their errors are named on the sync page;
- reconciliation: which of our open orders Amazon shows ``Shipped`` (``getOrders`` with ``AmazonOrderIds``).
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta

from django.utils import timezone
from django.utils.translation import gettext

from ..base import (
    Adapter,
    Confirmation,
    ConnectorError,
    PersonMustAct,
    PullPage,
    Rejected,
    RetryLater,
    StockPushResult,
    match_lines,
)
from ..models import ChannelConnection
from . import notices
from .client import AmazonApi, api_of, split_secret
from .feeds import feed_report, feed_submit

PAGE_SIZE = 20
FIRST_PULL_DAYS = 30
FEED_MAX = 10000
PENDING_FEEDS_MAX = 20
FEED_TYPE = "JSON_LISTINGS_FEED"
FEED_CONTENT_TYPE = "application/json; charset=UTF-8"
SKIPPED_STATUSES = {"Pending", "PendingAvailability"}
IDS_PER_CALL = 50
STAMP = "%Y-%m-%dT%H:%M:%SZ"

# Ours (Carrier.code, or its name) -> Amazon's carrier code (the confirmShipment CarrierCode values).
CARRIER_CODES = {
    "usps": "USPS",
    "ups": "UPS",
    "fedex": "FedEx",
    "dhl": "DHL",
    "dhl ecommerce": "DHL eCommerce",
    "sf": "SF Express",
    "sf express": "SF Express",
    "sf-express": "SF Express",
    "chinapost": "China Post",
    "china post": "China Post",
    "ems": "EMS",
    "royal mail": "Royal Mail",
    "royalmail": "Royal Mail",
    "dpd": "DPD",
    "gls": "GLS",
    "hermes": "Hermes",
    "canada post": "Canada Post",
    "australia post": "Australia Post",
    "japan post": "Japan Post",
    "yamato": "Yamato Transport",
    "yunexpress": "YunExpress",
    "yanwen": "Yanwen",
    "4px": "4PX",
}


def api_for(connection) -> AmazonApi:
    return api_of(
        base_url=connection.base_url,
        secret=str((connection.credentials or {}).get("access_token", "")),
        marketplace_ids=connection.marketplaces,
        lwa_url=connection.auth_url,
    )


def carrier_fields(notice: dict) -> dict:
    """Amazon's ``carrierCode`` for our carrier; ``Other`` and ``carrierName`` when Amazon has no code for it."""
    for key in (notice.get("carrier_code"), notice.get("carrier")):
        code = CARRIER_CODES.get(str(key or "").strip().casefold())
        if code:
            return {"carrierCode": code}
    return {"carrierCode": "Other", "carrierName": str(notice.get("carrier") or notice.get("carrier_code") or "Other")}


def _already_done(exc: Rejected) -> bool:
    """Amazon's answer to a package or order confirmed before (InvalidInput "... already shipped/fulfilled")."""
    text = str(exc).casefold()
    return "already" in text and any(w in text for w in ("ship", "fulfil", "confirm", "exist"))


def _order_items(api: AmazonApi, order_id: str) -> list[dict]:
    """All of an order's items (getOrderItems, following NextToken)."""
    items, token = [], None
    while True:
        payload = api.orders.get_order_items(order_id, **({"NextToken": token} if token else {})).payload or {}
        items.extend(i for i in payload.get("OrderItems") or [] if isinstance(i, dict))
        token = payload.get("NextToken")
        if not token:
            return items


class AmazonAdapter(Adapter):
    platform = "amazon"

    def check_secret(self, secret: str) -> str:
        if not all(split_secret(secret)):
            return gettext("For Amazon, give the LWA client id, client secret and refresh token as id:secret:token .")
        return ""

    # ---- pull ---------------------------------------------------------------------------------------

    def pull_orders(self, connection, *, cursor: str, page: str = "") -> PullPage:
        with api_for(connection) as api:
            if page:
                params = {"NextToken": page, "MarketplaceIds": api.marketplace_ids}
            else:
                after = cursor or (timezone.now() - timedelta(days=FIRST_PULL_DAYS)).strftime(STAMP)
                params = {
                    "LastUpdatedAfter": after,
                    "MarketplaceIds": api.marketplace_ids,
                    "MaxResultsPerPage": PAGE_SIZE,
                }
            payload = api.orders.get_orders(**params).payload or {}
            found = [o for o in payload.get("Orders") or [] if isinstance(o, dict)]
            found.sort(key=lambda o: (str(o.get("LastUpdateDate") or ""), str(o.get("AmazonOrderId") or "")))
            orders, throttled = [], False
            # Stored at the cursor's very time already (the service would skip them): no item calls for them.
            seen = set(connection.pull_cursor_ids or []) if cursor and cursor == connection.pull_cursor else set()
            for order in found:
                if order.get("OrderStatus") in SKIPPED_STATUSES or order.get("FulfillmentChannel") == "AFN":
                    continue
                order_id = str(order.get("AmazonOrderId") or "")
                if order_id in seen and str(order.get("LastUpdateDate") or "") == cursor:
                    continue
                try:
                    items = _order_items(api, order_id)
                except RetryLater:
                    if not orders:
                        raise
                    throttled = True  # keep what was read; the next pull goes on from the cursor
                    break
                orders.append({**order, "OrderItems": items})
        stamps = [(str(o.get("AmazonOrderId") or ""), str(o.get("LastUpdateDate") or "")) for o in orders]
        newest = max([cursor or "", *(s for _i, s in stamps)])
        token = "" if throttled else str(payload.get("NextToken") or "")
        return PullPage(orders=orders, cursor=newest, has_next=bool(token), next_page=token, stamps=stamps)

    # ---- confirm ------------------------------------------------------------------------------------

    def confirm_shipment(self, connection, *, notice: dict, remote) -> Confirmation:
        numbers = [n for n in notice.get("tracking_numbers") or [] if n]
        order_id = str(notice.get("order_external_id") or "")
        if remote is not None and not remote.cancelled:
            if sorted(remote.tracking_numbers or []) == sorted(numbers):
                return Confirmation(remote.remote_id, "unchanged")
            raise PersonMustAct(notices.NO_EDIT)
        if not numbers:
            return Confirmation("", "unchanged")  # voided before Amazon heard of it: nothing to take back
        with api_for(connection) as api:
            items = _order_items(api, order_id)
            packages = _packages(_allocate(items, notice.get("lines") or []), numbers)
            shipped = _ship_date(notice)
            marketplace = api.marketplace_ids[0]
            if len(api.marketplace_ids) > 1:  # the order's own marketplace (getOrder)
                marketplace = str((api.orders.get_order(order_id).payload or {}).get("MarketplaceId") or marketplace)
            done = 0
            for place, (number, order_items) in enumerate(packages, start=1):
                detail = {
                    "packageReferenceId": str(int(notice.get("shipment") or 0) * 100 + place),
                    **carrier_fields(notice),
                    "trackingNumber": number,
                    "shipDate": shipped,
                    "orderItems": [{"orderItemId": i, "quantity": q} for i, q in order_items],
                }
                try:
                    api.orders.confirm_shipment(order_id, marketplaceId=marketplace, packageDetail=detail)
                except Rejected as exc:
                    if not _already_done(exc):
                        raise
                    done += 1
        return Confirmation(order_id, "adopted" if done == len(packages) else "created")

    # ---- cancel -------------------------------------------------------------------------------------

    def cancel_notice(self, connection, *, notice: dict) -> None:
        with api_for(connection) as api:
            notices.cancel_order(api, connection, notice=notice, order_items=_order_items)

    def lines_cancel_notice(self, connection, *, notice: dict) -> None:
        raise PersonMustAct(notices.NO_LINES_CANCEL)

    # ---- stock --------------------------------------------------------------------------------------

    def push_stock(self, connection, *, figures: list[dict]) -> StockPushResult:
        if not connection.location_ref:
            raise Rejected("Set the Amazon seller id (merchant token) in the connection's location to push stock.")
        with api_for(connection) as api:
            pending = list(connection.pending_feeds or [])
            errors, pending = _read_reports(api, pending)
            pushed = 0
            for start in range(0, len(figures), FEED_MAX):
                chunk = figures[start : start + FEED_MAX]
                document = {
                    "header": {"sellerId": connection.location_ref, "version": "2.0", "issueLocale": "en_US"},
                    "messages": [
                        {
                            "messageId": i,
                            "sku": f["sku"],
                            "operationType": "PATCH",
                            "productType": "PRODUCT",
                            "patches": [
                                {
                                    "op": "replace",
                                    "path": "/attributes/fulfillment_availability",
                                    "value": [
                                        {"fulfillment_channel_code": "DEFAULT", "quantity": max(0, int(f["quantity"]))}
                                    ],
                                }
                            ],
                        }
                        for i, f in enumerate(chunk, start=1)
                    ],
                }
                document_bytes = json.dumps(document, ensure_ascii=False).encode()
                feed_id = feed_submit(api, feed_type=FEED_TYPE, content_type=FEED_CONTENT_TYPE, document=document_bytes)
                pending.append({"id": feed_id, "skus": [f["sku"] for f in chunk]})
                pushed += len(chunk)
                _keep_pending(connection, pending)
        _keep_pending(connection, pending)
        return StockPushResult(pushed=pushed, errors=errors)

    # ---- reconciliation -----------------------------------------------------------------------------

    def shipped_remotely(self, connection, *, external_ids: list[str]) -> dict[str, str]:
        """Of these orders, those Amazon shows Shipped: {id: status}."""
        ids = sorted({str(i) for i in external_ids if i})
        done: dict[str, str] = {}
        with api_for(connection) as api:
            for start in range(0, len(ids), IDS_PER_CALL):
                params = {"AmazonOrderIds": ids[start : start + IDS_PER_CALL], "MarketplaceIds": api.marketplace_ids}
                while True:
                    payload = api.orders.get_orders(**params).payload or {}
                    for order in payload.get("Orders") or []:
                        if isinstance(order, dict) and order.get("OrderStatus") == "Shipped":
                            done[str(order.get("AmazonOrderId"))] = "Shipped"
                    if not payload.get("NextToken"):
                        break
                    params = {"NextToken": payload["NextToken"], "MarketplaceIds": api.marketplace_ids}
        return done


def _keep_pending(connection, pending: list[dict]) -> None:
    pending = pending[-PENDING_FEEDS_MAX:]
    ChannelConnection.objects.filter(pk=connection.pk).update(pending_feeds=pending)
    connection.pending_feeds = pending


def _read_reports(api: AmazonApi, pending: list[dict]) -> tuple[list[str], list[dict]]:
    """The finished feeds' processing reports: (errors naming the SKU, the feeds still being processed)."""
    errors, waiting = [], []
    for entry in pending:
        try:
            feed = api.feeds.get_feed(entry["id"]).payload or {}
            status = str(feed.get("processingStatus") or "")
            if status in ("IN_QUEUE", "IN_PROGRESS"):
                waiting.append(entry)
                continue
            if status == "CANCELLED":
                errors.append(f"feed {entry['id']} was cancelled: its figures were not set")
                continue
            report = {}
            if feed.get("resultFeedDocumentId"):
                report = json.loads(feed_report(api, feed["resultFeedDocumentId"]).decode("utf-8"))
        except ConnectorError:
            waiting.append(entry)  # read again at the next push
            continue
        except (ValueError, OSError):
            errors.append(f"feed {entry['id']}: its processing report could not be read")
            continue
        if status == "FATAL" and not report.get("issues"):
            errors.append(f"feed {entry['id']} failed (FATAL) without a report")
        skus = entry.get("skus") or []
        for issue in report.get("issues") or []:
            if not isinstance(issue, dict) or str(issue.get("severity") or "").upper() != "ERROR":
                continue
            message_id = issue.get("messageId")
            sku = skus[message_id - 1] if isinstance(message_id, int) and 0 < message_id <= len(skus) else "?"
            errors.append(f"{sku}: {issue.get('code') or ''} {issue.get('message') or ''}".strip())
    return errors, waiting


def _allocate(items: list[dict], lines: list[dict]) -> list[tuple[str, int]]:
    """This shipment's lines onto Amazon's order items by SellerSKU: [(orderItemId, quantity)]."""
    left = [
        {
            "id": str(i.get("OrderItemId") or ""),
            "sku": str(i.get("SellerSKU") or ""),
            "left": int(i.get("QuantityOrdered") or 0),
        }
        for i in items
    ]
    taken, missing = match_lines(left, lines)
    if missing:
        raise Rejected(f"Amazon's order has no item to confirm for: {', '.join(missing)}.")
    return list(taken.items())


def _packages(allocation: list[tuple[str, int]], numbers: list[str]) -> list[tuple[str, list[tuple[str, int]]]]:
    """One package per parcel (tracking number), the shipment's units spread over them in order; Amazon wants at
    least one item per package, so parcels beyond the number of units are not sent."""
    units = [item for item, qty in allocation for _ in range(qty)]
    count = min(len(numbers), len(units))
    packages = []
    for place in range(count):
        share = units[place * len(units) // count : (place + 1) * len(units) // count]
        grouped: dict[str, int] = {}
        for item in share:
            grouped[item] = grouped.get(item, 0) + 1
        packages.append((numbers[place], list(grouped.items())))
    return packages


def _ship_date(notice: dict) -> str:
    from fulfillment.models import Shipment

    shipped = Shipment.objects.filter(pk=notice.get("shipment")).values_list("shipped_at", flat=True).first()
    return (shipped or timezone.now()).astimezone(UTC).strftime(STAMP)
