"""Amazon hears of an order cancelled here: the order acknowledgement feed (``POST_ORDER_ACKNOWLEDGEMENT_DATA``,
the Feeds API 2021-06-30 the stock push uses; Amazon's order feeds have no JSON form, the document is the XML of
``OrderAcknowledgement.xsd``) with ``StatusCode`` ``Failure`` and a ``CancelReason`` per item
(``AmazonOrderItemCode`` from getOrderItems). Amazon's guide for the feed: a Failure acknowledgement cancels an
order not shipped yet; never send it after an item was confirmed shipped (it would refund the whole order).

A feed is processed later, so a notice takes several tries of its outbox row:

1. ``getOrder``: an order Amazon shows ``Canceled`` is done (a retry after a lost answer, or the feed processed);
   ``Shipped``/``PartiallyShipped`` is refused (see above);
2. a feed sent before for this row (``RemoteNotice``, keyed by the row's key) is read with ``getFeed``: still
   ``IN_QUEUE``/``IN_PROGRESS`` -> ``Pending`` (asked again after the backoff); ``DONE`` -> its processing report
   (XML ``ProcessingReport``): an ``Error`` result is dead with Amazon's code and text, unless it says the order
   is cancelled already (done); ``CANCELLED``/``FATAL`` -> sent again at the next try;
3. else the feed is sent (``createFeedDocument`` -> PUT -> ``createFeed``), remembered, and the row is ``Pending``.

A partial cancellation (some lines) has no acknowledgement (Amazon cancels whole orders that way; a partial
refund is an adjustment in Seller Central): the row is dead with a message for the person.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET  # noqa: S405 (we build XML, and read Amazon's own report over TLS)

from django.utils.translation import gettext_noop

from ..base import Pending, Rejected, Transient
from ..models import RemoteNotice
from .client import AmazonApi
from .feeds import feed_report, feed_submit

FEED_TYPE = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
FEED_CONTENT_TYPE = "text/xml; charset=UTF-8"
# Our reason codes (orders.status.ChangeReason) -> Amazon's CancelReason (OrderAcknowledgement.xsd).
CANCEL_REASONS = {
    "out_of_stock": "NoInventory",
    "capacity": "NoInventory",
    "customer_request": "BuyerCanceled",
    "address_correction": "ShippingAddressUndeliverable",
}
DEFAULT_REASON = "GeneralAdjustment"
SHIPPED = {"Shipped", "PartiallyShipped"}

NO_LINES_CANCEL = gettext_noop(
    "Amazon cancels only whole orders through its API: refund the cancelled items in Seller Central (Manage "
    "Orders › Refund order), then dismiss this row."
)
NO_EDIT = gettext_noop(
    "Amazon's API cannot change a confirmed shipment (a new or voided label): correct the tracking in Seller "
    "Central (Manage Orders › Edit shipment), then dismiss this row."
)


def acknowledgement_xml(*, seller_id: str, order_id: str, item_codes: list[str], reason: str) -> bytes:
    envelope = ET.Element(
        "AmazonEnvelope",
        {
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "amzn-envelope.xsd",
        },
    )
    header = ET.SubElement(envelope, "Header")
    ET.SubElement(header, "DocumentVersion").text = "1.01"
    ET.SubElement(header, "MerchantIdentifier").text = seller_id
    ET.SubElement(envelope, "MessageType").text = "OrderAcknowledgement"
    message = ET.SubElement(envelope, "Message")
    ET.SubElement(message, "MessageID").text = "1"
    ET.SubElement(message, "OperationType").text = "Update"
    ack = ET.SubElement(message, "OrderAcknowledgement")
    ET.SubElement(ack, "AmazonOrderID").text = order_id
    ET.SubElement(ack, "StatusCode").text = "Failure"
    for code in item_codes:
        item = ET.SubElement(ack, "Item")
        ET.SubElement(item, "AmazonOrderItemCode").text = code
        ET.SubElement(item, "CancelReason").text = reason
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(envelope, encoding="utf-8", xml_declaration=False)


def report_errors(raw: bytes) -> list[tuple[str, str]]:
    """The ``Error`` results of an XML processing report: [(ResultMessageCode, ResultDescription)]."""
    try:
        root = ET.fromstring(raw)  # noqa: S314 (Amazon's report, fetched over TLS from the URL Amazon gave)
    except ET.ParseError:
        raise Transient("Amazon's processing report of the cancellation feed could not be read.") from None
    found = []
    for result in root.iter("Result"):
        if (result.findtext("ResultCode") or "").strip() == "Error":
            found.append(
                ((result.findtext("ResultMessageCode") or "").strip(), (result.findtext("ResultDescription") or ""))
            )
    return found


def _already_cancelled(text: str) -> bool:
    text = text.casefold()
    return "already" in text and "cancel" in text


def cancel_order(api: AmazonApi, connection, *, notice: dict, order_items) -> None:
    """One try of the cancellation notice (the module's docstring); returns when Amazon has cancelled it."""
    order_id = str(notice.get("order_external_id") or "")
    key = str(notice.get("key") or f"{notice.get('order_id')}:cancel")
    if not order_id:
        raise Rejected("The order has no Amazon order id.")
    status = str((api.orders.get_order(order_id).payload or {}).get("OrderStatus") or "")
    record = RemoteNotice.objects.filter(connection=connection, key=key).first()
    if status == "Canceled":
        _done(connection, key, record)
        return
    if status in SHIPPED:
        raise Rejected(
            f"Amazon shows order {order_id} {status}: a cancellation now would refund the whole order. "
            "Refund what was cancelled in Seller Central."
        )
    if record is not None and record.remote_id and record.state == RemoteNotice.State.PROCESSING:
        _read_feed(api, record)  # raises while Amazon works on it or when it refused
        _done(connection, key, record)
        return
    if not connection.location_ref:
        raise Rejected("Set the Amazon seller id (merchant token) in the connection's location to send cancellations.")
    codes = [str(i.get("OrderItemId")) for i in order_items(api, order_id) if i.get("OrderItemId")]
    document = acknowledgement_xml(
        seller_id=connection.location_ref,
        order_id=order_id,
        item_codes=codes,
        reason=CANCEL_REASONS.get(str(notice.get("reason_code") or ""), DEFAULT_REASON),
    )
    feed_id = feed_submit(api, feed_type=FEED_TYPE, content_type=FEED_CONTENT_TYPE, document=document)
    RemoteNotice.objects.update_or_create(
        connection=connection, key=key, defaults={"remote_id": feed_id, "state": RemoteNotice.State.PROCESSING}
    )
    raise Pending(f"Amazon took the cancellation as feed {feed_id}; its result is read when Amazon has processed it.")


def _read_feed(api: AmazonApi, record: RemoteNotice) -> None:
    feed = api.feeds.get_feed(record.remote_id).payload or {}
    status = str(feed.get("processingStatus") or "")
    if status in ("IN_QUEUE", "IN_PROGRESS", ""):
        raise Pending(f"Amazon is processing the cancellation feed {record.remote_id} ({status or 'no status'}).")
    if status != "DONE" or not feed.get("resultFeedDocumentId"):
        RemoteNotice.objects.filter(pk=record.pk).delete()  # sent again at the next try
        raise Transient(f"Amazon's cancellation feed {record.remote_id} ended {status}: it is sent again.")
    try:
        raw = feed_report(api, feed["resultFeedDocumentId"])
    except OSError:
        raise Transient("Amazon's processing report of the cancellation feed could not be read.") from None
    problems = [(code, text) for code, text in report_errors(raw) if not _already_cancelled(text)]
    if problems:
        RemoteNotice.objects.filter(pk=record.pk).delete()  # a Retry after the person fixed it sends it again
        text = "; ".join(f"{code}: {text}".strip(": ") for code, text in problems[:5])
        raise Rejected(f"Amazon refused the cancellation (feed {record.remote_id}): {text}")


def _done(connection, key: str, record: RemoteNotice | None) -> None:
    RemoteNotice.objects.update_or_create(
        connection=connection,
        key=key,
        defaults={"state": RemoteNotice.State.DONE, "remote_id": record.remote_id if record else ""},
    )
