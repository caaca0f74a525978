"""Orders pulled from WooCommerce's REST API (``GET /wp-json/wc/v3/orders``) to canonical orders.

A pulled order is stored raw in the order inbox as source ``pull:woocommerce`` (one message per order object,
as WooCommerce sent it) and applied like an ``order.updated`` webhook: created when new, else the channel's
update of the order (a replay changes nothing). The REST order object is the webhook's body, so it is read by
the webhook's parser and a pulled order and its webhook are one order (``id`` is the external id). Nothing
is signed (we fetched it ourselves with our key), so ``verify_signature`` accepts everything.

卖家备注: WooCommerce's private order notes (``GET /orders/<id>/notes?type=internal``, ``customer_note: false``)
are the shop's seller memo. The webhook does not carry them; the pull connector (connectors/woocommerce/adapter.py)
reads them for each pulled order and adds them to the stored object under ``PRIVATE_NOTES``, and ``parse`` makes
the seller memo of the notes a person wrote (``author`` is not ``system``: WooCommerce's own status notes and the
notes this OMS adds through the API are left out), oldest first, one a line; past ``MESSAGE_MAX`` the oldest go.
An order without the key (the webhook's body) has no seller memo from here.
"""

from ..models.memo_tags import MESSAGE_MAX, clean_message
from .bodies import json_body
from .bodies import pulled_signature as verify_signature  # noqa: F401 (the adapter's interface)
from .bodies import pulled_topic as topic  # noqa: F401
from .canonical import CanonicalOrder, FieldError, OrderRejected
from .woocommerce_json import parse_order as webhook_order

PRIVATE_NOTES = "oms_private_notes"  # the key the connector adds to a pulled order: its private notes


def parse(body: bytes) -> CanonicalOrder:
    return parse_order(json_body(body))


def parse_order(data) -> CanonicalOrder:
    order = webhook_order(data)
    if isinstance(data, dict) and PRIVATE_NOTES in data:
        order.seller_memo = seller_memo(data[PRIVATE_NOTES])
    return order


def private_notes(notes) -> list[dict]:
    """The notes of ``GET /orders/<id>/notes`` that are the seller memo: private, written by a person."""
    return [
        {k: n.get(k) for k in ("id", "author", "date_created_gmt", "note")}
        for n in notes
        if isinstance(n, dict) and n.get("customer_note") is False and n.get("author") not in (None, "", "system")
    ]


def seller_memo(notes) -> str:
    """The seller memo of the private notes (as ``private_notes`` keeps them), oldest first."""
    if not isinstance(notes, list) or not all(isinstance(n, dict) for n in notes):
        raise OrderRejected([FieldError(PRIVATE_NOTES, "must be a list of WooCommerce order notes.")])
    ordered = sorted(notes, key=lambda n: (str(n.get("date_created_gmt") or ""), str(n.get("id") or "")))
    texts = [clean_message(n.get("note")) for n in ordered]
    texts = [t for t in texts if t]
    while texts and len("\n".join(texts)) > MESSAGE_MAX:
        texts.pop(0)  # the oldest note goes first
    if not texts and ordered:
        return clean_message(ordered[-1].get("note"))[:MESSAGE_MAX]  # one note longer than a memo: its start
    return "\n".join(texts)
