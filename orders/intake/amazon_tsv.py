"""Amazon Seller Central's unshipped-orders report (a tab-delimited flat file) to canonical orders.

Seller Central › Orders › Order Reports › Unshipped Orders; through SP-API the report type
``GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING``. One row per order item; an order's items are
on adjacent rows with the same ``order-id``. Its columns::

    order-id  order-item-id  purchase-date  payments-date  reporting-date  promise-date
    days-past-promise  buyer-email  buyer-name  buyer-phone-number  sku  product-name
    quantity-purchased  quantity-shipped  quantity-to-ship  ship-service-level  recipient-name
    ship-address-1  ship-address-2  ship-address-3  ship-city  ship-state  ship-postal-code
    ship-country  is-business-order  purchase-order-number  price-designation  is-prime

(newer files add e.g. ``is-iba``, ``verge-of-cancellation``). The older "new orders" flat file
(``GET_FLAT_FILE_ORDERS_DATA``) has ``currency``, ``item-price`` (the line's total, not a unit
price), ``item-tax``, ``shipping-price``, ``shipping-tax``, ``ship-phone-number``,
``delivery-*`` and ``sales-channel`` instead of the promise columns; both are read by name.
Dates are ISO 8601 with an offset (``2017-09-23T14:18:23-07:00``).

Sources: Amazon Selling Partner API, "Order reports attributes"
(developer-docs.amazon.com/sp-api/docs/order-reports-attributes) and "Report Type Values — Order
reports" (developer-docs.amazon.com/sp-api/docs/report-type-values-order).

The unshipped report carries no prices: its orders have a total of 0 in the channel's default
currency (CNY unless a ``currency`` column says otherwise).
"""

from collections.abc import Iterator
from decimal import Decimal

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
from .rows import Row, csv_rows, group_rejection, grouped, read_header, require, row_errors

REQUIRED = ["order-id", "sku", "quantity-purchased"]
EXPRESS_LEVELS = {"expedited", "nextday", "secondday", "priority", "scheduled"}


def read_orders(handle) -> Iterator[tuple[int, CanonicalOrder | OrderRejected]]:
    yield from read_rows(csv_rows(handle, delimiter="\t"))


def read_rows(rows: Iterator[Row]) -> Iterator[tuple[int, CanonicalOrder | OrderRejected]]:
    rows = iter(rows)
    index = read_header(rows)
    require(index, REQUIRED, "Amazon's unshipped-orders report (tab-delimited: order-id, order-item-id, ...)")
    seen: set[str] = set()
    for group in grouped(rows, index, "order-id"):
        rejected = group_rejection(group)
        yield (group[0][0], rejected) if rejected is not None else build(group, seen)


def service_level(value: str) -> str:
    text = value.lower().replace(" ", "")
    if text in EXPRESS_LEVELS:
        return "express"
    return "standard" if text else ""


def build(group: list[tuple[int, dict]], seen: set[str]) -> tuple[int, CanonicalOrder | OrderRejected]:
    first_row, first = group[0]

    def col(name: str, max_length: int | None = None) -> str:
        return clean_text(first.get(name), max_length=max_length)

    errors: list[FieldError] = []
    external_id = col("order-id")
    if not external_id:
        errors.append(FieldError("order-id", "is required.", first_row))
    elif external_id in seen:
        errors.append(
            FieldError(
                "order-id", f"'{external_id}' appears again further up; keep an order's items together.", first_row
            )
        )
    seen.add(external_id)
    lines = []
    total = Decimal("0")
    for number, row in group:
        sku = clean_text(row.get("sku"), max_length=None)
        if not sku:
            errors.append(FieldError("sku", "is required.", number))
        try:
            quantity = parse_quantity(row.get("quantity-purchased"), "quantity-purchased")
            line_total = parse_money(row.get("item-price"), "item-price")
            shipping = parse_money(row.get("shipping-price"), "shipping-price")
        except OrderRejected as exc:
            row_errors(errors, number, exc)
            continue
        total += line_total + shipping
        if sku:
            unit = (line_total / quantity).quantize(Decimal("0.01"))
            lines.append(
                CanonicalLine(
                    sku=sku,
                    quantity=quantity,
                    unit_price=unit,
                    name=clean_text(row.get("product-name"), max_length=None),
                )
            )
    placed_at = promise = None
    try:
        placed_at = parse_when(first.get("purchase-date"), "purchase-date")
        promised = parse_when(first.get("promise-date"), "promise-date")
        promise = promised.date() if promised else None
    except OrderRejected as exc:
        row_errors(errors, first_row, exc)
    if errors:
        return first_row, OrderRejected(errors)
    address2 = ", ".join(p for p in (col("ship-address-2"), col("ship-address-3")) if p)
    return first_row, CanonicalOrder(
        external_id=external_id,
        channel_order_name=external_id,
        check_prices=False,  # the total is the lines' own sum
        ship_to=CanonicalAddress(
            name=col("recipient-name") or col("buyer-name"),
            phone=col("ship-phone-number") or col("buyer-phone-number"),
            email=col("buyer-email"),
            country=col("ship-country"),
            province=col("ship-state"),
            city=col("ship-city"),
            address1=col("ship-address-1"),
            address2=address2,
            postcode=col("ship-postal-code"),
        ),
        lines=lines,
        customer_name=col("buyer-name"),
        customer_email=col("buyer-email"),
        customer_phone=col("buyer-phone-number"),
        currency=col("currency") or "CNY",
        total=total,
        placed_at=placed_at,
        promise_date=promise,
        requested_service=service_level(col("ship-service-level")),
        note=f"Amazon PO {col('purchase-order-number')}" if col("purchase-order-number") else "",
    )
