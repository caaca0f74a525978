"""The OMS's own JSON order format (the API's POST body) to the canonical order."""

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

ADDRESS_FIELDS = [
    "name",
    "phone",
    "email",
    "country",
    "province",
    "city",
    "district",
    "address1",
    "address2",
    "postcode",
]


def _collect(errors: list[FieldError], func, *args):
    try:
        return func(*args)
    except OrderRejected as exc:
        errors.extend(exc.errors)
        return None


def parse(data: dict) -> tuple[str, CanonicalOrder]:
    """Returns (channel slug, canonical order); raises OrderRejected with every field error found."""
    errors: list[FieldError] = []
    channel = clean_text(data.get("channel"), max_length=40)
    if not channel:
        errors.append(FieldError("channel", "is required (the channel's slug)."))
    ship = data.get("ship_to") or {}
    if not isinstance(ship, dict):
        errors.append(FieldError("ship_to", "must be an object."))
        ship = {}
    customer = data.get("customer") or {}
    if not isinstance(customer, dict):
        errors.append(FieldError("customer", "must be an object."))
        customer = {}
    raw_lines = data.get("lines")
    lines: list[CanonicalLine] = []
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.append(FieldError("lines", "must be a non-empty list."))
        raw_lines = []
    for i, raw in enumerate(raw_lines, start=1):
        if not isinstance(raw, dict):
            errors.append(FieldError(f"lines[{i}]", "must be an object."))
            continue
        sku = clean_text(raw.get("sku"), max_length=64)
        if not sku:
            errors.append(FieldError(f"lines[{i}].sku", "is required."))
        quantity = _collect(errors, parse_quantity, raw.get("quantity"), f"lines[{i}].quantity")
        price = _collect(errors, parse_money, raw.get("unit_price", 0), f"lines[{i}].unit_price")
        if sku and quantity is not None and price is not None:
            lines.append(
                CanonicalLine(
                    sku=sku, quantity=quantity, unit_price=price, name=clean_text(raw.get("name"), max_length=200)
                )
            )
    total = None
    if data.get("total") not in (None, ""):
        total = _collect(errors, parse_money, data.get("total"), "total")
    placed_at = _collect(errors, parse_when, data.get("placed_at"), "placed_at")
    promise_date = _collect(errors, parse_day, data.get("promise_date"), "promise_date")
    priority = data.get("priority")
    if priority is not None and (not isinstance(priority, int) or not 1 <= priority <= 9):
        errors.append(FieldError("priority", "must be a whole number from 1 to 9."))
        priority = None
    if errors:
        raise OrderRejected(errors)
    order = CanonicalOrder(
        external_id=clean_text(data.get("external_id"), max_length=200),
        ship_to=CanonicalAddress(**{f: clean_text(ship.get(f)) for f in ADDRESS_FIELDS}),
        lines=lines,
        customer_name=clean_text(customer.get("name")),
        customer_email=clean_text(customer.get("email")),
        customer_phone=clean_text(customer.get("phone")),
        currency=clean_text(data.get("currency")) or "CNY",
        total=total,
        placed_at=placed_at,
        promise_date=promise_date,
        requested_service=clean_text(data.get("requested_service"), max_length=32),
        priority=priority,
        billing_country=clean_text(data.get("billing_country"), max_length=60),
        payment_method=clean_text(data.get("payment_method"), max_length=16),
        note=clean_text(data.get("note"), max_length=2000),
    )
    return channel, order
