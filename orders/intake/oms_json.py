"""The OMS's own JSON order format (the API's POST body) to the canonical order."""

from ..models.memo_tags import clean_message
from . import paste_cn
from .canonical import (
    ADDRESS_FIELDS,
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
    text_problem,
)
from .invoice import parse_invoice

FULL_MAX = 1000  # characters of ship_to.full
MEMO_FIELDS = ("buyer_message", "seller_memo")
TEXT_FIELDS = ("external_id", "currency", "requested_service", "billing_country", "payment_method", "note")
CUSTOMER_FIELDS = ("name", "email", "phone")
SHIP_TO_FIELDS = (*ADDRESS_FIELDS, "full")
LINE_FIELDS = ("sku", "quantity", "unit_price", "name", "gift")
# Every key the format reads, per object: the API's OrderIn schema (orders/intake/order_in.py) lists the same
# (tests/edges/test_api_unknown_keys.py checks it), and a key outside it is refused by name there, never dropped.
ORDER_FIELDS = (
    *("channel", "customer", "ship_to", "lines", "total", "placed_at", "promise_date", "presale", "ship_from"),
    *(*TEXT_FIELDS, *MEMO_FIELDS, "priority", "seller_flag", "invoice"),
)


def _collect(errors: list[FieldError], func, *args):
    try:
        return func(*args)
    except OrderRejected as exc:
        errors.extend(exc.errors)
        return None


def _text(errors: list[FieldError], value, field_name: str) -> str:
    """A text field: a string (or a number, e.g. an id); anything else (an object, a list, true/false)
    is an error, never its Python spelling stored as text."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors.append(FieldError(field_name, f"must be text, got {type(value).__name__.replace('dict', 'object')}."))
        return ""
    return clean_text(value)


def _object(errors: list[FieldError], value, field_name: str) -> dict:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        errors.append(FieldError(field_name, "must be an object."))
        return {}
    return value


def _presale(errors: list[FieldError], data: dict):
    """预售: ``presale`` (true/false) and ``ship_from`` (the day the order ships from). A presale order needs its
    day; a day on an order that says it is not presale is a contradiction, not something to guess about."""
    flag = data.get("presale")
    if flag is not None and not isinstance(flag, bool):
        errors.append(FieldError("presale", "must be true or false."))
        return None
    day = _collect(errors, parse_day, _text(errors, data.get("ship_from"), "ship_from"), "ship_from")
    if flag is True and day is None and data.get("ship_from") in (None, ""):
        errors.append(FieldError("ship_from", "is required when presale is true (the day the order ships from)."))
    if flag is False and day is not None:
        message = "is given but presale is false; send presale true or leave ship_from out."
        errors.append(FieldError("ship_from", message))
        return None
    return day


def parse(data: dict) -> tuple[str, CanonicalOrder]:
    """Returns (channel slug, canonical order); raises OrderRejected with every field error found. A key the
    format does not read is not judged here: the order intake reads a body through orders/intake/order_in.py
    ``parse``, which refuses it by name (the API's published schema).

    Nothing is cut or guessed here: `canonical.check` (run by order_create) checks every value
    against the column that stores it."""
    errors: list[FieldError] = []
    channel = _text(errors, data.get("channel"), "channel")
    if not channel and not errors:
        errors.append(FieldError("channel", "is required (the channel's slug)."))
    elif text_problem(channel):
        errors.append(FieldError("channel", text_problem(channel)))
        channel = ""
    ship = _object(errors, data.get("ship_to"), "ship_to")
    customer = _object(errors, data.get("customer"), "customer")
    raw_lines = data.get("lines")
    lines: list[CanonicalLine] = []
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.append(FieldError("lines", "must be a non-empty list."))
        raw_lines = []
    for i, raw in enumerate(raw_lines, start=1):
        if not isinstance(raw, dict):
            errors.append(FieldError(f"lines[{i}]", "must be an object."))
            continue
        sku = _text(errors, raw.get("sku"), f"lines[{i}].sku")
        if not sku:
            errors.append(FieldError(f"lines[{i}].sku", "is required."))
        quantity = _collect(errors, parse_quantity, raw.get("quantity"), f"lines[{i}].quantity")
        price = _collect(errors, parse_money, raw.get("unit_price", 0), f"lines[{i}].unit_price")
        name = _text(errors, raw.get("name"), f"lines[{i}].name")
        gift = raw.get("gift", False)
        if gift is None:
            gift = False
        if not isinstance(gift, bool):
            errors.append(FieldError(f"lines[{i}].gift", "must be true or false."))
            gift = False
        if sku and quantity is not None and price is not None:
            lines.append(CanonicalLine(sku=sku, quantity=quantity, unit_price=price, name=name, gift=gift))
    total = None
    if data.get("total") not in (None, ""):
        total = _collect(errors, parse_money, data.get("total"), "total")
    placed_at = _collect(errors, parse_when, _text(errors, data.get("placed_at"), "placed_at"), "placed_at")
    promise_date = _collect(errors, parse_day, _text(errors, data.get("promise_date"), "promise_date"), "promise_date")
    ship_from = _presale(errors, data)
    priority = data.get("priority")
    if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 9):
        errors.append(FieldError("priority", "must be a whole number from 1 to 9."))
        priority = None
    texts = {name: _text(errors, data.get(name), name) for name in TEXT_FIELDS}
    address = {f: _text(errors, ship.get(f), f"ship_to.{f}") for f in ADDRESS_FIELDS}
    full = _text(errors, ship.get("full"), "ship_to.full")
    if len(full) > FULL_MAX:
        errors.append(
            FieldError("ship_to.full", f"is {len(full)} characters long; no address has more than {FULL_MAX}.")
        )
    elif text_problem(full):
        errors.append(FieldError("ship_to.full", text_problem(full)))
    elif full:  # one line (name, phone, address): fills the fields left empty
        paste_cn.fill_empty(address, full)
    who = {f: _text(errors, customer.get(f), f"customer.{f}") for f in CUSTOMER_FIELDS}
    # 买家留言 / 卖家备注 keep their lines; 旗帜 is a colour or Taobao's number (checked by canonical.check).
    memo = {f: clean_message(data.get(f)) if _text(errors, data.get(f), f) else "" for f in MEMO_FIELDS}
    flag = _text(errors, data.get("seller_flag"), "seller_flag")
    invoice = _collect(errors, parse_invoice, data.get("invoice"))
    if errors:
        raise OrderRejected(errors)
    order = CanonicalOrder(
        external_id=texts["external_id"],
        ship_to=CanonicalAddress(**address),
        lines=lines,
        customer_name=who["name"],
        customer_email=who["email"],
        customer_phone=who["phone"],
        currency=texts["currency"] or "CNY",
        total=total,
        placed_at=placed_at,
        promise_date=promise_date,
        ship_from=ship_from,
        requested_service=texts["requested_service"],
        priority=priority,
        billing_country=texts["billing_country"],
        payment_method=texts["payment_method"],
        note=texts["note"],
        buyer_message=memo["buyer_message"],
        seller_memo=memo["seller_memo"],
        seller_flag=flag,
        invoice=invoice,
    )
    return channel, order
