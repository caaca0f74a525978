"""A small Amazon Selling Partner API on loopback (on tests/logistics/fake_vendor.py's FakeVendor), with the
documented request and response shapes (developer-docs.amazon.com/sp-api) and the ways it fails.

- LWA: ``POST /auth/o2/token`` (form: ``grant_type=refresh_token``, ``refresh_token``, ``client_id``,
  ``client_secret``) -> ``{"access_token", "token_type", "expires_in", "refresh_token"}``; a wrong one is 400
  ``invalid_grant`` / 401 ``invalid_client``;
- every API call needs ``x-amz-access-token`` of a token this fake issued and did not expire
  (``expire_tokens()``): else 403 ``Unauthorized`` "The access token you provided has expired.";
- Orders API v0: ``GET /orders/v0/orders`` (``LastUpdatedAfter`` (inclusive) or ``CreatedAfter`` or
  ``AmazonOrderIds``, ``MarketplaceIds`` required, ``MaxResultsPerPage``, ``NextToken``), ``GET
  /orders/v0/orders/{id}/orderItems`` (``items_page`` a page, ``NextToken``), ``POST
  /orders/v0/orders/{id}/shipmentConfirmation`` (204; 400 ``InvalidInput`` for a bad field, an unknown
  orderItemId, more than is left to ship, or a packageReferenceId the order has already);
- Feeds API 2021-06-30: ``POST /documents`` -> ``{feedDocumentId, url}`` (the url on this fake: ``PUT
  /upload/<doc>``), ``POST /feeds`` -> ``{feedId}`` (IN_QUEUE until ``process_feeds()``), ``GET /feeds/<id>``,
  ``GET /documents/<id>`` -> ``{url}`` of the processing report (``GET /download/<doc>``). ``process_feeds()``
  applies ``JSON_LISTINGS_FEED`` (a JSON report) and ``POST_ORDER_ACKNOWLEDGEMENT_DATA`` (the XML
  ``OrderAcknowledgement``: StatusCode Failure cancels an order not shipped; an XML ``ProcessingReport`` whose
  ``Result``s name an order that is unknown, shipped or already cancelled; those descriptions are this fake's
  wording, Amazon documents the report's shape, not every text).

Every answer carries ``x-amzn-RateLimit-Limit``. Scripted failures (429, 5xx, 400) with FakeVendor's ``fail``.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from tests.logistics.fake_vendor import FakeVendor, Request, json_answer

CLIENT_ID = "amzn1.application-oa2-client.0123456789abcdef"
CLIENT_SECRET = "amzn1.oa2-cs.v1.fedcba9876543210fedcba9876543210"
REFRESH_TOKEN = "Atzr|IwEBIExampleRefreshToken0123456789"
SECRET = f"{CLIENT_ID}:{CLIENT_SECRET}:{REFRESH_TOKEN}"
MARKETPLACE = "ATVPDKIKX0DER"
SELLER_ID = "A2EXAMPLESELLER"


FEED_TYPES = {"JSON_LISTINGS_FEED", "POST_ORDER_ACKNOWLEDGEMENT_DATA"}


def errors(code: str, message: str, details: str = "") -> dict:
    return {"errors": [{"code": code, "message": message, "details": details}]}


def amazon_order(order_id: str, *, updated: str, status: str = "Unshipped", address: bool = True, **extra) -> dict:
    order = {
        "AmazonOrderId": order_id,
        "PurchaseDate": "2026-12-01T08:00:00Z",
        "LastUpdateDate": updated,
        "OrderStatus": status,
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.com",
        "ShipServiceLevel": "Std US D2D Dom",
        "ShipmentServiceLevelCategory": "Standard",
        "OrderTotal": {"CurrencyCode": "USD", "Amount": "64.00"},
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": 3,
        "MarketplaceId": MARKETPLACE,
        "IsPrime": False,
        "BuyerInfo": {"BuyerEmail": "abc123@marketplace.amazon.com", "BuyerName": "Jane Doe"},
    }
    if address:
        order["ShippingAddress"] = {
            "Name": "Jane Doe",
            "AddressLine1": "410 Terry Ave N",
            "City": "Seattle",
            "StateOrRegion": "WA",
            "PostalCode": "98109",
            "CountryCode": "US",
            "Phone": "+1 206-555-0100",
        }
    order.update(extra)
    return order


def amazon_item(item_id: str, sku: str, quantity: int, line_total: str, **extra) -> dict:
    item = {
        "ASIN": "B00EXAMPLE",
        "OrderItemId": item_id,
        "SellerSKU": sku,
        "Title": f"Item {sku}",
        "QuantityOrdered": quantity,
        "QuantityShipped": 0,
        "ItemPrice": {"CurrencyCode": "USD", "Amount": line_total},
        "ItemTax": {"CurrencyCode": "USD", "Amount": "0.00"},
        "ShippingPrice": {"CurrencyCode": "USD", "Amount": "0.00"},
    }
    item.update(extra)
    return item


class FakeAmazon(FakeVendor):
    def __init__(self):
        super().__init__()
        handler = self.server.RequestHandlerClass
        handler.do_PUT = handler.do_POST  # the feed document upload
        self.orders: dict[str, dict] = {}
        self.items: dict[str, list[dict]] = {}
        self.packages: dict[str, list[dict]] = {}  # order id -> accepted packageDetail
        self.documents: dict[str, dict] = {}
        self.feeds: dict[str, dict] = {}
        self.listings: dict[str, int | None] = {}  # SKU -> quantity (None: never set)
        self.cancelled_reasons: dict[str, list[str]] = {}  # order id -> its CancelReasons
        self.tokens: dict[str, bool] = {}  # issued token -> still valid
        self.items_page = 100
        self.rate_limit = "0.5"
        self.token_lifetime = 3600  # expires_in of the tokens it issues
        self._n = 0

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def add_order(self, order: dict, items: list[dict]) -> dict:
        self.orders[order["AmazonOrderId"]] = order
        self.items[order["AmazonOrderId"]] = items
        return order

    def expire_tokens(self) -> None:
        for token in self.tokens:
            self.tokens[token] = False

    def _next(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    # ---- routes ----------------------------------------------------------------------------------------

    def handle(self, request: Request) -> tuple[int, dict, bytes]:
        parts = urlsplit(request.path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if request.method == "POST" and path == "/auth/o2/token":
            return self._token(request)
        if request.method == "PUT" and path.startswith("/upload/"):
            doc = self.documents.get(path.rsplit("/", 1)[1])
            if doc is None:
                return 404, {}, b"NoSuchKey"
            doc["content"] = request.body
            doc["content_type"] = request.headers.get("Content-Type", "")
            return 200, {}, b""
        if request.method == "GET" and path.startswith("/download/"):
            doc = self.documents.get(path.rsplit("/", 1)[1])
            return (200, {"Content-Type": "application/json"}, doc["content"]) if doc else (404, {}, b"NoSuchKey")
        token = request.headers.get("x-amz-access-token", "")
        if not self.tokens.get(token):
            return self._answer(
                403,
                errors(
                    "Unauthorized",
                    "Access to requested resource is denied.",
                    "The access token you provided has expired.",
                ),
            )
        status, body = self._route(request, path, query)
        return self._answer(status, body)

    def _answer(self, status: int, body) -> tuple[int, dict, bytes]:
        if status == 204:
            return 204, {"x-amzn-RateLimit-Limit": self.rate_limit}, b""
        answer = json_answer(status, body)
        return answer[0], {**answer[1], "x-amzn-RateLimit-Limit": self.rate_limit}, answer[2]

    def _token(self, request: Request) -> tuple[int, dict, bytes]:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "refresh_token":
            return json_answer(400, {"error": "unsupported_grant_type", "error_description": "Unsupported grant type"})
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return json_answer(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if form.get("refresh_token") != REFRESH_TOKEN:
            return json_answer(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "The request has an invalid grant parameter : refresh_token",
                },
            )
        token = self._next("Atza|IwEBIAccessToken")
        self.tokens[token] = True
        return json_answer(
            200,
            {
                "access_token": token,
                "refresh_token": REFRESH_TOKEN,
                "token_type": "bearer",
                "expires_in": self.token_lifetime,
            },
        )

    def _route(self, request: Request, path: str, query: dict):
        segments = path.strip("/").split("/")
        if path == "/orders/v0/orders" and request.method == "GET":
            return self._orders(query)
        if segments[:3] == ["orders", "v0", "orders"] and len(segments) == 4 and request.method == "GET":
            order = self.orders.get(segments[3])
            return (
                (200, {"payload": order}) if order else (404, errors("NotFound", f"Order {segments[3]} was not found."))
            )
        if segments[:3] == ["orders", "v0", "orders"] and len(segments) == 5:
            order_id, what = segments[3], segments[4]
            if order_id not in self.orders:
                return 404, errors("NotFound", f"Order {order_id} was not found.")
            if what == "orderItems" and request.method == "GET":
                return self._items(order_id, query)
            if what == "shipmentConfirmation" and request.method == "POST":
                return self._confirm(order_id, request.json() or {})
        if path == "/feeds/2021-06-30/documents" and request.method == "POST":
            body = request.json() or {}
            if not body.get("contentType"):
                return 400, errors("InvalidInput", "contentType is required.")
            doc = self._next("amzn1.tortuga.doc.")
            self.documents[doc] = {"content": b"", "content_type": body["contentType"]}
            return 201, {"feedDocumentId": doc, "url": f"{self.url}/upload/{doc}"}
        if path == "/feeds/2021-06-30/feeds" and request.method == "POST":
            body = request.json() or {}
            if body.get("feedType") not in FEED_TYPES or not body.get("marketplaceIds"):
                return 400, errors("InvalidInput", "feedType and marketplaceIds are required.")
            if body.get("inputFeedDocumentId") not in self.documents:
                return 400, errors("InvalidInput", "Invalid inputFeedDocumentId.")
            feed = self._next("5000")
            self.feeds[feed] = {
                "feedId": feed,
                "feedType": body["feedType"],
                "processingStatus": "IN_QUEUE",
                "doc": body["inputFeedDocumentId"],
                "marketplaceIds": body["marketplaceIds"],
            }
            return 202, {"feedId": feed}
        if segments[:3] == ["feeds", "2021-06-30", "feeds"] and len(segments) == 4 and request.method == "GET":
            feed = self.feeds.get(segments[3])
            if feed is None:
                return 404, errors("NotFound", "Feed not found.")
            return 200, {k: v for k, v in feed.items() if k not in ("doc",)}
        if segments[:3] == ["feeds", "2021-06-30", "documents"] and len(segments) == 4 and request.method == "GET":
            if segments[3] not in self.documents:
                return 404, errors("NotFound", "Document not found.")
            return 200, {"feedDocumentId": segments[3], "url": f"{self.url}/download/{segments[3]}"}
        return 404, errors("NotFound", f"No route {request.method} {path}.")

    def _orders(self, query: dict):
        if not query.get("MarketplaceIds"):
            return 400, errors("InvalidInput", "Missing required 'MarketplaceIds'.")
        if query.get("NextToken"):
            try:
                state = json.loads(query["NextToken"])
            except ValueError:
                return 400, errors("InvalidInput", "Invalid NextToken.")
        else:
            state = {k: query.get(k) for k in ("LastUpdatedAfter", "CreatedAfter", "AmazonOrderIds")}
            state["size"] = int(query.get("MaxResultsPerPage") or 100)
            state["offset"] = 0
            if not (state["LastUpdatedAfter"] or state["CreatedAfter"] or state["AmazonOrderIds"]):
                return 400, errors("InvalidInput", "Either CreatedAfter or LastUpdatedAfter must be given.")
        found = sorted(self.orders.values(), key=lambda o: (o["LastUpdateDate"], o["AmazonOrderId"]))
        if state.get("LastUpdatedAfter"):
            found = [o for o in found if o["LastUpdateDate"] >= state["LastUpdatedAfter"]]
        if state.get("CreatedAfter"):
            found = [o for o in found if o["PurchaseDate"] >= state["CreatedAfter"]]
        if state.get("AmazonOrderIds"):
            wanted = set(state["AmazonOrderIds"].split(","))
            found = [o for o in found if o["AmazonOrderId"] in wanted]
        start, size = state["offset"], state["size"]
        page = found[start : start + size]
        payload = {"Orders": page, "LastUpdatedBefore": "2026-12-07T00:00:00Z"}
        if start + size < len(found):
            payload["NextToken"] = json.dumps({**state, "offset": start + size})
        return 200, {"payload": payload}

    def _items(self, order_id: str, query: dict):
        start = int(query.get("NextToken") or 0)
        items = self.items[order_id]
        payload = {"AmazonOrderId": order_id, "OrderItems": items[start : start + self.items_page]}
        if start + self.items_page < len(items):
            payload["NextToken"] = str(start + self.items_page)
        return 200, {"payload": payload}

    def _confirm(self, order_id: str, body: dict):
        detail = body.get("packageDetail")
        if not body.get("marketplaceId") or not isinstance(detail, dict):
            return 400, errors("InvalidInput", "marketplaceId and packageDetail are required.")
        if body["marketplaceId"] != self.orders[order_id]["MarketplaceId"]:
            return 400, errors("InvalidInput", "The order does not belong to this marketplaceId.")
        reference = detail.get("packageReferenceId")
        if not isinstance(reference, str) or not reference.isdigit() or int(reference) <= 0:
            return 400, errors(
                "InvalidInput",
                "The input you have submitted is not valid. Please check the fields with invalid type "
                "[packageDetail.packageReferenceId].",
            )
        for name in ("carrierCode", "trackingNumber", "shipDate", "orderItems"):
            if not detail.get(name):
                return 400, errors("InvalidInput", f"packageDetail.{name} is required.")
        if detail["carrierCode"] == "Other" and not detail.get("carrierName"):
            return 400, errors("InvalidInput", "carrierName is required when carrierCode is Other.")
        if any(p["packageReferenceId"] == reference for p in self.packages.get(order_id, [])):
            return 400, errors("InvalidInput", f"Package {reference} has already been shipped for this order.")
        items = {i["OrderItemId"]: i for i in self.items[order_id]}
        for entry in detail["orderItems"]:
            item = items.get(entry.get("orderItemId"))
            if item is None:
                return 400, errors(
                    "InvalidInput", "OrderItemId is invalid, please obtain the value through the getOrderItems API"
                )
            if int(entry.get("quantity") or 0) > item["QuantityOrdered"] - item["QuantityShipped"]:
                return 400, errors("InvalidInput", "Quantity exceeds the quantity left to ship.")
        for entry in detail["orderItems"]:
            items[entry["orderItemId"]]["QuantityShipped"] += int(entry["quantity"])
        self.packages.setdefault(order_id, []).append(detail)
        order = self.orders[order_id]
        done = all(i["QuantityShipped"] >= i["QuantityOrdered"] for i in self.items[order_id])
        order["OrderStatus"] = "Shipped" if done else "PartiallyShipped"
        return 204, None

    # ---- feeds processing --------------------------------------------------------------------------------

    def process_feeds(self) -> None:
        """Amazon processes the queued feeds: known SKUs get their quantity, unknown ones an ERROR issue; an
        acknowledgement with Failure cancels its order."""
        for feed in self.feeds.values():
            if feed["processingStatus"] != "IN_QUEUE":
                continue
            if feed["feedType"] == "POST_ORDER_ACKNOWLEDGEMENT_DATA":
                self._acknowledge(feed)
                continue
            document = json.loads(self.documents[feed["doc"]]["content"])
            issues, accepted = [], 0
            for message in document["messages"]:
                sku = message["sku"]
                if sku not in self.listings:
                    issues.append(
                        {
                            "messageId": message["messageId"],
                            "code": "4000001",
                            "severity": "ERROR",
                            "message": f"The SKU '{sku}' was not found in the Amazon catalog.",
                        }
                    )
                    continue
                value = message["patches"][0]["value"][0]
                self.listings[sku] = value["quantity"]
                accepted += 1
            report = self._next("amzn1.tortuga.report.")
            self.documents[report] = {
                "content": json.dumps(
                    {
                        "header": {
                            "sellerId": document["header"]["sellerId"],
                            "version": "2.0",
                            "feedId": feed["feedId"],
                        },
                        "issues": issues,
                        "summary": {
                            "errors": len(issues),
                            "warnings": 0,
                            "messagesProcessed": len(document["messages"]),
                            "messagesAccepted": accepted,
                            "messagesInvalid": len(issues),
                        },
                    }
                ).encode(),
                "content_type": "application/json",
            }
            feed["processingStatus"] = "DONE"
            feed["resultFeedDocumentId"] = report

    def _acknowledge(self, feed: dict) -> None:
        from xml.etree import ElementTree as ET  # noqa: S405 (our own test document)

        root = ET.fromstring(self.documents[feed["doc"]]["content"])  # noqa: S314
        seller = root.findtext("Header/MerchantIdentifier") or ""
        results = []
        for message in root.iter("Message"):
            message_id = message.findtext("MessageID") or ""
            order_id = message.findtext("OrderAcknowledgement/AmazonOrderID") or ""
            order = self.orders.get(order_id)
            items = [i.findtext("AmazonOrderItemCode") for i in message.iter("Item")]
            reasons = {i.findtext("CancelReason") for i in message.iter("Item")}
            if order is None:
                results.append((message_id, "25", f"We are unable to find the order {order_id}."))
            elif message.findtext("OrderAcknowledgement/StatusCode") != "Failure":
                continue
            elif order["OrderStatus"] == "Canceled":
                results.append((message_id, "18028", f"The order {order_id} has already been cancelled."))
            elif order["OrderStatus"] in ("Shipped", "PartiallyShipped"):
                results.append(
                    (message_id, "18029", f"The order {order_id} has shipped items and cannot be cancelled.")
                )
            elif not reasons <= VALID_CANCEL_REASONS or not items:
                results.append((message_id, "5001", "CancelReason is not valid or no Item was given."))
            else:
                order["OrderStatus"] = "Canceled"
                self.cancelled_reasons[order_id] = sorted(reasons)
        report = ET.Element("AmazonEnvelope")
        header = ET.SubElement(report, "Header")
        ET.SubElement(header, "DocumentVersion").text = "1.02"
        ET.SubElement(header, "MerchantIdentifier").text = seller
        ET.SubElement(report, "MessageType").text = "ProcessingReport"
        processing = ET.SubElement(ET.SubElement(report, "Message"), "ProcessingReport")
        ET.SubElement(processing, "DocumentTransactionID").text = feed["feedId"]
        ET.SubElement(processing, "StatusCode").text = "Complete"
        for message_id, code, text in results:
            result = ET.SubElement(processing, "Result")
            ET.SubElement(result, "MessageID").text = message_id
            ET.SubElement(result, "ResultCode").text = "Error"
            ET.SubElement(result, "ResultMessageCode").text = code
            ET.SubElement(result, "ResultDescription").text = text
        doc = self._next("amzn1.tortuga.report.")
        self.documents[doc] = {"content": ET.tostring(report, encoding="utf-8"), "content_type": "text/xml"}
        feed["processingStatus"] = "DONE"
        feed["resultFeedDocumentId"] = doc


VALID_CANCEL_REASONS = {
    "NoInventory",
    "ShippingAddressUndeliverable",
    "CustomerExchange",
    "BuyerCanceled",
    "GeneralAdjustment",
    "CarrierCreditDecision",
    "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure",
    "CustomerReturn",
    "MerchandiseNotReceived",
}
