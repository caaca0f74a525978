"""The OMS's own CSV template: one row per order line; the order's columns repeat on each
row of the order (rows of one order are adjacent). See README "Importing orders"."""

from collections.abc import Iterator

from ..models.memo_tags import clean_message
from .canonical import (
    CanonicalAddress,
    CanonicalLine,
    CanonicalOrder,
    FieldError,
    OrderRejected,
    clean_text,
    parse_day,
    parse_money,
    parse_quantity,
    parse_when,
)
from .invoice import INVOICE_INPUTS, parse_invoice
from .rows import Row, csv_rows, group_rejection, grouped, read_header, require

COLUMNS = [
    "external_id",
    "placed_at",
    "customer_name",
    "customer_email",
    "customer_phone",
    "ship_name",
    "ship_phone",
    "ship_email",
    "ship_country",
    "ship_province",
    "ship_city",
    "ship_district",
    "ship_address1",
    "ship_address2",
    "ship_postcode",
    "currency",
    "requested_service",
    "promise_date",
    "billing_country",
    "payment_method",
    "note",
    "buyer_message",
    "seller_memo",
    "seller_flag",
    "sku",
    "quantity",
    "unit_price",
    "line_name",
]
REQUIRED = ["external_id", "sku", "quantity"]
# Optional: an invoice request (发票) on the order's first row, ``invoice_kind`` … ``invoice_amount``
# (orders/intake/invoice.py); any of them filled asks for one.
INVOICE_COLUMNS = [f"invoice_{name}" for name in INVOICE_INPUTS]


def read_orders(handle) -> Iterator[tuple[int, CanonicalOrder | OrderRejected]]:
    """Yield (first row number, canonical order or the rejection) per order, streaming."""
    yield from read_rows(csv_rows(handle))


def read_rows(rows: Iterator[Row]) -> Iterator[tuple[int, CanonicalOrder | OrderRejected]]:
    """The template's rows from any row source (CSV here, XLSX in oms_xlsx)."""
    rows = iter(rows)
    index = read_header(rows)
    require(index, REQUIRED, "the OMS template: " + ", ".join(COLUMNS))
    seen: set[str] = set()
    for group in grouped(rows, index, "external_id"):
        rejected = group_rejection(group)
        if rejected is not None:
            yield group[0][0], rejected
            continue
        for _number, row in group:
            row["external_id_clean"] = clean_text(row.get("external_id"))
        yield _build(group, seen)


def _build(group: list[tuple[int, dict]], seen: set[str]) -> tuple[int, CanonicalOrder | OrderRejected]:
    first_row, first = group[0]
    external_id = first["external_id_clean"]
    errors: list[FieldError] = []
    if not external_id:
        errors.append(FieldError("external_id", "is required.", first_row))
    elif external_id in seen:
        errors.append(
            FieldError(
                "external_id",
                f"'{external_id}' appears again further up; keep the rows of one order together.",
                first_row,
            )
        )
    seen.add(external_id)
    lines = []
    for row_number, row in group:
        sku = clean_text(row.get("sku"), max_length=None)
        if not sku:
            errors.append(FieldError("sku", "is required.", row_number))
        try:
            quantity = parse_quantity(row.get("quantity"))
            price = parse_money(row.get("unit_price"), "unit_price")
        except OrderRejected as exc:
            errors.extend(FieldError(e.field, e.message, row_number) for e in exc.errors)
            continue
        if sku:
            lines.append(
                CanonicalLine(
                    sku=sku, quantity=quantity, unit_price=price, name=clean_text(row.get("line_name"), max_length=None)
                )
            )
    placed_at = promise_date = ship_from = None
    try:
        placed_at = parse_when(first.get("placed_at"), "placed_at")
    except OrderRejected as exc:
        errors.extend(FieldError(e.field, e.message, first_row) for e in exc.errors)
    try:
        promise_date = parse_day(first.get("promise_date"), "promise_date")
    except OrderRejected as exc:
        errors.extend(FieldError(e.field, e.message, first_row) for e in exc.errors)
    invoice = None
    raw_invoice = {name: first.get(f"invoice_{name}") for name in INVOICE_INPUTS}
    if any(clean_text(v) for v in raw_invoice.values()):
        try:
            invoice = parse_invoice(raw_invoice)
        except OrderRejected as exc:
            errors.extend(FieldError(e.field, e.message, first_row) for e in exc.errors)
    try:  # optional: 预售, the day a presale order ships from (orders/services/presale.py)
        ship_from = parse_day(first.get("ship_from"), "ship_from")
    except OrderRejected as exc:
        errors.extend(FieldError(e.field, e.message, first_row) for e in exc.errors)
    if errors:
        return first_row, OrderRejected(errors)

    def col(name, max_length=None):
        return clean_text(first.get(name), max_length=max_length)

    return first_row, CanonicalOrder(
        external_id=external_id,
        ship_to=CanonicalAddress(
            name=col("ship_name") or col("customer_name"),
            phone=col("ship_phone") or col("customer_phone"),
            email=col("ship_email") or col("customer_email"),
            country=col("ship_country"),
            province=col("ship_province"),
            city=col("ship_city"),
            district=col("ship_district"),
            address1=col("ship_address1"),
            address2=col("ship_address2"),
            postcode=col("ship_postcode"),
        ),
        lines=lines,
        customer_name=col("customer_name"),
        customer_email=col("customer_email"),
        customer_phone=col("customer_phone"),
        currency=col("currency") or "CNY",
        placed_at=placed_at,
        promise_date=promise_date,
        ship_from=ship_from,
        requested_service=col("requested_service"),
        billing_country=col("billing_country", 60),
        payment_method=col("payment_method", 16),
        note=col("note", 2000),
        buyer_message=clean_message(first.get("buyer_message")),
        seller_memo=clean_message(first.get("seller_memo")),
        seller_flag=col("seller_flag"),
        channel_order_name=col("channel_order_name"),  # optional: the channel's own order name
        invoice=invoice,
    )
