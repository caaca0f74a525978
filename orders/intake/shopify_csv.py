"""Shopify's orders export (Shopify admin › Orders › Export, "CSV for Excel, Numbers, or other
spreadsheet programs") to canonical orders.

The layout, as Shopify writes it: one row per line item; the order's columns (Email, Financial
Status, Paid at, Currency, Total, Created at, Billing*, Shipping*, Notes, Cancelled at, Id, ...)
are filled on the order's first row only, and every row repeats the order's ``Name`` (``#1001``).
Header of a current export::

    Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,
    Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,
    Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,
    Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,
    Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,Billing Zip,
    Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,Shipping Address1,
    Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,
    Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,
    Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,
    Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,...,Tax 5 Value,Phone,
    Receipt Number,Duties,Billing Province Name,Shipping Province Name,Payment ID,
    Payment Terms Name,Next Payment Due At,Payment References

Dates look like ``2025-10-07 09:50:26 +0200``; ``Shipping Country`` and ``Shipping Province``
are codes (``FR``, ``CA``); Shopify prefixes a ZIP with ``'`` to keep its leading zeros.

Sources: Shopify Help Center, "Exporting orders" (help.shopify.com/en/manual/orders/export-orders);
the column reference of Matrixify's Shopify orders template (matrixify.app/documentation/orders/)
and xbp's "Shopify order export format" (docs.xbp.app/docs/development/integrations/shopify/
order-format), which show the one-row-per-line-item layout with order columns on the first row.

The external id is Shopify's order ``Id`` (the same ``id`` the orders/create webhook sends), so a
webhook and a later export of one order are one order; without an ``Id`` column, the ``Name``.
"""

from collections.abc import Iterator

from ..models.memo_tags import clean_message
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

REQUIRED = ["name", "lineitem quantity", "lineitem sku"]
# The columns ``build`` reads; the export has about 80, and only these are taken from each row.
USED = frozenset(
    {
        "name",
        "id",
        "email",
        "phone",
        "financial status",
        "currency",
        "total",
        "shipping",
        "taxes",
        "discount amount",
        "created at",
        "shipping method",
        "notes",
        "cancelled at",
        "lineitem quantity",
        "lineitem name",
        "lineitem price",
        "lineitem sku",
        "billing name",
        "billing phone",
        "shipping name",
        "shipping street",
        "shipping address1",
        "shipping address2",
        "shipping company",
        "shipping city",
        "shipping zip",
        "shipping province",
        "shipping province name",
        "shipping country",
        "shipping phone",
    }
)
CANCELLED_FINANCIAL = {"refunded": "refunded", "voided": "voided"}
PAYMENT_PENDING = {"pending"}


def read_orders(handle) -> Iterator[tuple[int, CanonicalOrder | OrderRejected]]:
    yield from read_rows(csv_rows(handle))


def read_rows(rows: Iterator[Row]) -> Iterator[tuple[int, CanonicalOrder | OrderRejected]]:
    rows = iter(rows)
    index = read_header(rows)
    require(index, REQUIRED, "Shopify's orders export (Name, ..., Lineitem quantity, ..., Lineitem sku, ...)")
    index = {column: i for column, i in index.items() if column in USED}
    seen: set[str] = set()
    for group in grouped(rows, index, "name"):
        rejected = group_rejection(group)
        if rejected is not None:
            yield group[0][0], rejected
            continue
        for part in split_by_id(group):
            yield build(part, seen)


def split_by_id(group: list[tuple[int, dict]]) -> list[list[tuple[int, dict]]]:
    """Rows with one Name are one order, unless a later row carries another order ``Id``: that is
    a second order with the same name (the bulk path reports it as a duplicate), never extra lines."""
    parts = [[group[0]]]
    current = clean_text(group[0][1].get("id"))
    for number, row in group[1:]:
        oid = clean_text(row.get("id"))
        if oid and oid != current:
            parts.append([])
            current = oid
        parts[-1].append((number, row))
    return parts


def requested_service(method: str) -> str:
    text = method.lower()
    if any(word in text for word in ("express", "expedited", "next day", "overnight", "priority", "加急", "顺丰")):
        return "express"
    if "economy" in text:
        return "economy"
    return "standard" if text else ""


def build(group: list[tuple[int, dict]], seen: set[str]) -> tuple[int, CanonicalOrder | OrderRejected]:
    first_row, first = group[0]
    # The first row's cells as clean_text makes them, in one pass (most cells of an export are empty).
    cleaned = {name: " ".join(str(value).split()) for name, value in first.items() if value}

    def col(name: str, max_length: int | None = None) -> str:
        value = cleaned.get(name, "")
        return value[:max_length] if max_length is not None else value

    errors: list[FieldError] = []
    name = col("name")
    external_id = col("id") or name
    if not name:
        errors.append(FieldError("Name", "is required (the order's name, e.g. #1001).", first_row))
    elif external_id in seen:
        errors.append(
            FieldError("Name", f"'{name}' appears again further up; keep the rows of one order together.", first_row)
        )
    seen.add(external_id)

    lines = []
    for number, row in group:
        sku = clean_text(row.get("lineitem sku"), max_length=None)
        if not sku:
            errors.append(FieldError("Lineitem sku", "is required: give the product a SKU in Shopify.", number))
        try:
            quantity = parse_quantity(row.get("lineitem quantity"), "Lineitem quantity")
            price = parse_money(row.get("lineitem price"), "Lineitem price")
        except OrderRejected as exc:
            row_errors(errors, number, exc)
            continue
        if sku:
            lines.append(
                CanonicalLine(
                    sku=sku,
                    quantity=quantity,
                    unit_price=price,
                    name=clean_text(row.get("lineitem name"), max_length=None),
                )
            )
    placed_at = total = None
    try:
        placed_at = parse_when(first.get("created at"), "Created at")
    except OrderRejected as exc:
        row_errors(errors, first_row, exc)
    amounts = {}
    for column, label in (
        ("total", "Total"),
        ("shipping", "Shipping"),
        ("taxes", "Taxes"),
        ("discount amount", "Discount Amount"),
    ):
        try:
            amounts[column] = parse_money(first.get(column), label, blank=None)
        except OrderRejected as exc:
            row_errors(errors, first_row, exc)
    total = amounts.get("total")
    if errors:
        return first_row, OrderRejected(errors)

    financial = col("financial status").lower()
    cancelled = "cancelled" if col("cancelled at") else CANCELLED_FINANCIAL.get(financial, "")
    address2 = ", ".join(p for p in (col("shipping address2"), col("shipping company")) if p)
    order = CanonicalOrder(
        external_id=external_id,
        ship_to=CanonicalAddress(
            name=col("shipping name"),
            phone=col("shipping phone") or col("phone") or col("billing phone"),
            email=col("email"),
            country=col("shipping country"),
            province=col("shipping province name") or col("shipping province"),
            city=col("shipping city"),
            address1=col("shipping address1") or col("shipping street"),
            address2=address2,
            postcode=col("shipping zip").lstrip("'"),
        ),
        lines=lines,
        customer_name=col("billing name") or col("shipping name"),
        customer_email=col("email"),
        customer_phone=col("phone") or col("billing phone"),
        currency=col("currency") or "CNY",
        total=total if total else None,
        shipping=amounts.get("shipping"),
        tax=amounts.get("taxes"),
        discount=amounts.get("discount amount"),
        channel_order_name=name,
        placed_at=placed_at,
        requested_service=requested_service(col("shipping method")),
        note=f"Shopify {name}" if name and name != external_id else "",
        buyer_message=clean_message(first.get("notes")),
        cancelled_reason=cancelled,
    )
    if financial in PAYMENT_PENDING and not cancelled:
        order.holds.append(("payment", "Shopify financial status: pending"))
    return first_row, order
