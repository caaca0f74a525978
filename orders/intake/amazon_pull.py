"""Orders pulled from Amazon's Selling Partner API (Orders API v0) to canonical orders.

A pulled order is stored raw in the order inbox as source ``pull:amazon``: the ``Order`` object of
``GET /orders/v0/orders`` with its items (``GET /orders/v0/orders/{id}/orderItems``, all pages) under
``OrderItems``, and applied like an update webhook: created when new, else the channel's update of the order (a
replay changes nothing). Nothing is signed (we fetched it ourselves), so ``verify_signature`` accepts everything.

The fields read (developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference, "Order" and "OrderItem"):
``AmazonOrderId`` (the external id and the channel's order name), ``PurchaseDate``, ``OrderStatus`` (Pending,
Unshipped, PartiallyShipped, Shipped, Canceled, Unfulfillable, InvoiceUnconfirmed, PendingAvailability),
``OrderTotal {CurrencyCode, Amount}``, ``ShipmentServiceLevelCategory``, ``LatestDeliveryDate``,
``ShippingAddress {Name, AddressLine1..3, City, County, District, StateOrRegion, PostalCode, CountryCode,
Phone}`` and ``BuyerInfo {BuyerEmail, BuyerName}`` (both only for an app with the restricted PII role:
without it the order comes without an address and is created held for its address, not dropped), and per item
``SellerSKU``, ``Title``, ``QuantityOrdered``, ``ItemPrice`` (the LINE's total, not a unit price: the unit
price is ItemPrice / QuantityOrdered), ``ShippingPrice``, ``ItemTax``, ``ShippingTax``, ``PromotionDiscount``,
``ShippingDiscount``.

``Canceled`` becomes the cancelled reason (a cancelled order's items often say ``QuantityOrdered`` 0: such a line
is read as 1 so the cancellation is recorded; it reserves nothing). An order Amazon already shows ``Shipped`` that
is new here is held (manual): it was shipped elsewhere. Pending and Amazon-fulfilled (AFN) orders are never
stored (connectors/amazon/adapter.py skips them).
"""

from decimal import Decimal

from ..status import HoldReason
from .amazon_tsv import service_level
from .bodies import json_body
from .bodies import pulled_signature as verify_signature  # noqa: F401 (the adapter's interface)
from .bodies import pulled_topic as topic  # noqa: F401
from .canonical import (
    CanonicalAddress,
    CanonicalLine,
    CanonicalOrder,
    FieldError,
    OrderRejected,
    clean_text,
    parse_money,
    parse_quantity,
    parse_when,
)

CANCELLED = {"canceled": "cancelled on Amazon", "cancelled": "cancelled on Amazon"}
CENT = Decimal("0.01")


def parse(body: bytes) -> CanonicalOrder:
    data = json_body(body)
    return parse_order(data)


def _s(value) -> str:
    return clean_text(value)


def _amount(money, field_name: str) -> Decimal | None:
    if money in (None, ""):
        return None
    if not isinstance(money, dict):
        raise OrderRejected([FieldError(field_name, "must be an object with CurrencyCode and Amount.")])
    return parse_money(money.get("Amount"), f"{field_name}.Amount", blank=None, exact=False)


def parse_order(data) -> CanonicalOrder:
    if not isinstance(data, dict):
        raise OrderRejected([FieldError("order", "must be a JSON object.")])
    errors: list[FieldError] = []
    external_id = _s(data.get("AmazonOrderId"))
    if not external_id:
        errors.append(FieldError("AmazonOrderId", "is required."))
    status = _s(data.get("OrderStatus")).lower()
    cancelled = CANCELLED.get(status, "")
    items = data.get("OrderItems")
    if not isinstance(items, list) or not items:
        errors.append(FieldError("OrderItems", "must be a non-empty list (the order's items)."))
        items = []
    lines: list[CanonicalLine] = []
    sums = {"shipping": Decimal("0"), "tax": Decimal("0"), "discount": Decimal("0"), "lines": Decimal("0")}
    currency = ""
    for i, item in enumerate(items, start=1):
        where = f"OrderItems[{i}]"
        if not isinstance(item, dict):
            errors.append(FieldError(where, "must be an object."))
            continue
        sku = _s(item.get("SellerSKU"))
        if not sku:
            errors.append(FieldError(f"{where}.SellerSKU", "is required: give the listing a seller SKU."))
        try:
            raw_quantity = item.get("QuantityOrdered")
            if cancelled and str(raw_quantity).strip() in ("0", ""):
                raw_quantity = 1
            quantity = parse_quantity(raw_quantity, f"{where}.QuantityOrdered")
            line_total = _amount(item.get("ItemPrice"), f"{where}.ItemPrice")
            for key, name, sign in (
                ("ShippingPrice", "shipping", 1),
                ("ItemTax", "tax", 1),
                ("ShippingTax", "tax", 1),
                ("PromotionDiscount", "discount", 1),
                ("ShippingDiscount", "discount", 1),
            ):
                value = _amount(item.get(key), f"{where}.{key}")
                if value is not None:
                    sums[name] += sign * value
        except OrderRejected as exc:
            errors.extend(exc.errors)
            continue
        if isinstance(item.get("ItemPrice"), dict) and not currency:
            currency = _s(item["ItemPrice"].get("CurrencyCode"))
        line_total = line_total if line_total is not None else Decimal("0")
        sums["lines"] += line_total
        if sku:
            lines.append(
                CanonicalLine(
                    sku=sku,
                    quantity=quantity,
                    unit_price=(line_total / quantity).quantize(CENT),
                    name=_s(item.get("Title")),
                )
            )
    total = placed_at = promise = None
    try:
        total = _amount(data.get("OrderTotal"), "OrderTotal")
        placed_at = parse_when(data.get("PurchaseDate"), "PurchaseDate")
        promised = parse_when(data.get("LatestDeliveryDate"), "LatestDeliveryDate")
        promise = promised.date() if promised else None
    except OrderRejected as exc:
        errors.extend(exc.errors)
    if errors:
        raise OrderRejected(errors)
    if isinstance(data.get("OrderTotal"), dict):
        currency = _s(data["OrderTotal"].get("CurrencyCode")) or currency
    address = data.get("ShippingAddress") if isinstance(data.get("ShippingAddress"), dict) else {}
    buyer = data.get("BuyerInfo") if isinstance(data.get("BuyerInfo"), dict) else {}
    notes = [f"Amazon {external_id}"]
    if not address:
        notes.append("Amazon sent no shipping address (the app needs the restricted PII role to read it)")
    if data.get("IsPrime") is True:
        notes.append("Prime")
    if data.get("IsBusinessOrder") is True:
        notes.append("business order")
    order = CanonicalOrder(
        external_id=external_id,
        channel_order_name=external_id,
        ship_to=CanonicalAddress(
            name=_s(address.get("Name")),
            phone=_s(address.get("Phone")),
            email=_s(buyer.get("BuyerEmail")),
            country=_s(address.get("CountryCode")),
            province=_s(address.get("StateOrRegion")),
            city=_s(address.get("City")),
            district=_s(address.get("District")) or _s(address.get("County")),
            address1=_s(address.get("AddressLine1")),
            address2=", ".join(p for p in (_s(address.get("AddressLine2")), _s(address.get("AddressLine3"))) if p),
            postcode=_s(address.get("PostalCode")),
        ),
        lines=lines,
        customer_name=_s(buyer.get("BuyerName")) or _s(address.get("Name")),
        customer_email=_s(buyer.get("BuyerEmail")),
        customer_phone=_s(address.get("Phone")),
        currency=currency or "USD",
        total=total if total is not None else sums["lines"] + sums["shipping"],
        check_prices=total is not None and not cancelled,
        shipping=sums["shipping"],
        tax=sums["tax"],
        discount=sums["discount"],
        placed_at=placed_at,
        promise_date=promise,
        requested_service=service_level(_s(data.get("ShipmentServiceLevelCategory"))),
        note="; ".join(notes),
        cancelled_reason=cancelled,
    )
    if status == "shipped":
        order.holds.append((HoldReason.MANUAL, "Amazon shows this order shipped already (shipped elsewhere)."))
    return order
