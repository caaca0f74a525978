"""The canonical order every adapter produces, and the checks that reject or hold it.

A *rejection* (FieldError) means the order cannot be created at all: no external id, no
lines, a zero quantity, a date that is not a date. A *hold* means the order is created but
stops: an incomplete address, an unknown SKU. Nothing after this module knows the channel.
"""

import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from operator import attrgetter, gt

from oms.money import MAX_AMOUNT

from ..models import OrderLine, parse_flag
from ..status import HoldReason
from . import words as w
from .address_check import ISO_COUNTRIES, address_problems, fill_cn_address
from .price_check import price_check_note
from .values import (  # noqa: F401 (re-exported: the adapters import them from here)
    COUNTRY_ALIASES,
    EARLIEST_DAY,
    LATEST_DAY,
    MAX_QUANTITY,
    MODELS,
    PLAIN_LONG_DECIMAL,
    SURROGATE,
    FieldError,
    OrderRejected,
    clean_text,
    column_range,
    day_problem,
    money_column,
    money_problem,
    normalize_country,
    normalize_phone,
    parse_day,
    parse_money,
    parse_quantity,
    parse_when,
    shown,
    text_problem,
)
from .words import say

CURRENCIES = frozenset("CNY USD EUR GBP JPY HKD TWD SGD AUD CAD KRW CHF".split())


@dataclass
class CanonicalAddress:
    name: str = ""
    phone: str = ""
    email: str = ""
    country: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    address1: str = ""
    address2: str = ""
    postcode: str = ""


@dataclass
class CanonicalLine:
    sku: str
    quantity: int
    unit_price: Decimal = Decimal("0")
    name: str = ""
    # 赠品 the channel sent as such (oms_json ``"gift": true``): zero price, left out of the price check.
    gift: bool = False


@dataclass
class CanonicalOrder:
    external_id: str
    ship_to: CanonicalAddress
    lines: list[CanonicalLine]
    customer_name: str = ""
    customer_email: str = ""
    customer_phone: str = ""
    currency: str = "CNY"
    total: Decimal | None = None
    placed_at: datetime | None = None
    promise_date: date | None = None
    requested_service: str = ""
    priority: int | None = None
    note: str = ""
    # 买家留言 / 卖家备注 / 旗帜 (orders/models/memo_tags.py): from adapters whose channels have them.
    buyer_message: str = ""
    seller_memo: str = ""
    seller_flag: str = ""
    holds: list[tuple[str, str]] = field(default_factory=list)
    # Review holds (orders/rules/review.py): optional, from adapters that have them.
    billing_country: str = ""
    payment_method: str = ""  # "prepaid" (empty) or "cod"
    # Non-empty when the channel says the order is already cancelled or refunded: it is kept
    # for the record and the reports, as cancelled, and reserves nothing.
    cancelled_reason: str = ""
    # 预售 from the channel (orders/services/presale.py): the order ships from ``ship_from`` (oms_json
    # ``presale``/``ship_from``); lines of products or listings marked presale make it one too.
    ship_from: date | None = None
    # The channel's own name for the order, as its customers quote it (Shopify ``#1001``,
    # WooCommerce's number, Amazon's order-id); stored on Order.channel_order_name.
    channel_order_name: str = ""
    # What the channel says besides the lines, for the price check (None: not given).
    shipping: Decimal | None = None
    tax: Decimal | None = None
    discount: Decimal | None = None
    # False when the adapter computed ``total`` from the lines itself (nothing to check).
    check_prices: bool = True
    # The address parts intake filled from a Chinese address line (``fill_cn_address``), for the event.
    address_filled: dict = field(default_factory=dict)
    # An invoice request (orders/intake/invoice.py CanonicalInvoice), None when the buyer asked for none.
    invoice: object = None


# ---- the checks -------------------------------------------------------------------------


# The parts of an address, in the order of the form and of the Order's ship_* columns.
ADDRESS_FIELDS = (
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
)

# Where each text of the canonical order is stored: (error field name, attribute path, model, column).
# The lengths are the columns' own max_length, read from the models.
TEXT_COLUMNS = [
    ("external_id", "external_id", "Order", "external_id"),
    ("channel_order_name", "channel_order_name", "Order", "channel_order_name"),
    ("customer.name", "customer_name", "Customer", "name"),
    ("customer.email", "customer_email", "Customer", "email"),
    ("customer.phone", "customer_phone", "Customer", "phone"),
    ("currency", "currency", "Order", "currency"),
    ("requested_service", "requested_service", "Order", "requested_service"),
    ("note", "note", "Order", "note"),
    ("buyer_message", "buyer_message", "Order", "buyer_message"),
    ("seller_memo", "seller_memo", "Order", "seller_memo"),
    ("seller_flag", "seller_flag", "Order", "seller_flag"),
    ("billing_country", "billing_country", None, None),
    ("payment_method", "payment_method", None, None),
    *[(f"ship_to.{name}", f"ship_to.{name}", "Order", f"ship_{name}") for name in ADDRESS_FIELDS],
]
LINE_COLUMNS = [("sku", "OrderLine", "sku"), ("name", "OrderLine", "name")]
# A country as sent (a code or a name) before it becomes a code; longer is no country.
COUNTRY_TEXT_MAX = 64


def _max_length(model_name: str | None, column: str | None) -> int | None:
    if model_name is None:
        return None
    return getattr(MODELS[model_name]._meta.get_field(column), "max_length", None)


@cache
def _text_columns() -> tuple[tuple, tuple]:
    """TEXT_COLUMNS and LINE_COLUMNS as (field, getter, max_length), read from the models once."""
    order = tuple((name, attrgetter(path), _max_length(m, c)) for name, path, m, c in TEXT_COLUMNS)
    line = tuple((attr, attrgetter(attr), _max_length(m, c)) for attr, m, c in LINE_COLUMNS)
    return order, line


@cache
def _text_getters() -> tuple:
    """One getter for all the order's texts, one for a line's (each returns a tuple, in TEXT_COLUMNS
    and LINE_COLUMNS order), and their max lengths (no limit: a length nothing reaches)."""
    order_columns, line_columns = _text_columns()
    return (
        attrgetter(*(path for _name, path, _m, _c in TEXT_COLUMNS)),
        attrgetter(*(attr for attr, _m, _c in LINE_COLUMNS)),
        tuple(sys.maxsize if limit is None else limit for _n, _g, limit in order_columns),
        tuple(sys.maxsize if limit is None else limit for _n, _g, limit in line_columns),
    )


def _all_texts_storable(order: CanonicalOrder) -> bool:
    """True when every text of the order is a str a column stores as given (no NUL, no surrogate):
    one look at all of them together, the case of nearly every order (``_value_errors`` then skips
    the field-by-field checks)."""
    get_order, get_line, _, _ = _text_getters()
    try:
        joined = "".join(get_order(order)) + "".join(["".join(get_line(line)) for line in order.lines])
    except TypeError:  # a value that is not text: the field-by-field checks name it
        return False
    if "\x00" in joined:
        return False
    if joined.isascii():
        return True
    try:
        joined.encode("utf-8")  # fails on any lone surrogate, undecodable bytes included
    except UnicodeEncodeError:
        return False
    return True


def _too_long(order: CanonicalOrder) -> bool:
    """Whether any text of the order is longer than its column (``_length_errors`` then names it)."""
    get_order, get_line, order_limits, line_limits = _text_getters()
    if any(map(gt, map(len, get_order(order)), order_limits)):
        return True
    for line in order.lines:
        if any(map(gt, map(len, get_line(line)), line_limits)):
            return True
    return False


def _texts(order: CanonicalOrder):
    """(field, value, max_length) of every text of the order, lines included."""
    order_columns, line_columns = _text_columns()
    for field_name, get, limit in order_columns:
        yield field_name, get(order), limit
    for i, line in enumerate(order.lines, start=1):
        for attr, get, limit in line_columns:
            yield f"lines[{i}].{attr}", get(line), limit


def _value_errors(order: CanonicalOrder) -> list[FieldError]:
    """What the database could not store as given: bad characters, amounts past the money columns, too
    many lines for the line numbers. Texts' lengths are checked after normalization (`_length_errors`)."""
    errors: list[FieldError] = []
    for field_name, value, _limit in () if _all_texts_storable(order) else _texts(order):
        if not isinstance(value, str):
            errors.append(FieldError(field_name, say(w.MUST_BE_TEXT)))
            continue
        problem = text_problem(value)
        if problem:
            errors.append(FieldError(field_name, problem))
    for name in ("country",):
        value = getattr(order.ship_to, name)
        if isinstance(value, str) and len(value) > COUNTRY_TEXT_MAX:
            errors.append(FieldError(f"ship_to.{name}", say(w.NO_COUNTRY_NAME, length=len(value))))
    most = column_range(OrderLine, "line_no")[1]  # lines are numbered 1..n
    if len(order.lines) > most:
        errors.append(FieldError("lines", say(w.TOO_MANY_LINES, count=len(order.lines), most=most)))
    for i, line in enumerate(order.lines, start=1):
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool):
            errors.append(FieldError(f"lines[{i}].quantity", say(w.MUST_BE_WHOLE)))
        elif line.quantity > MAX_QUANTITY:
            errors.append(FieldError(f"lines[{i}].quantity", say(w.MORE_THAN, value=line.quantity, most=MAX_QUANTITY)))
        if isinstance(line.unit_price, int) and not isinstance(line.unit_price, bool):
            line.unit_price = Decimal(line.unit_price)  # a whole amount from code (0 for "no price")
        price = line.unit_price
        if not isinstance(price, Decimal) or not price.is_finite() or price < 0:
            errors.append(FieldError(f"lines[{i}].unit_price", say(w.NOT_AN_AMOUNT, value=shown(price))))
        elif money_problem(price):
            problem = money_problem(price)
            errors.append(FieldError(f"lines[{i}].unit_price", say(w.VALUE_PROBLEM, value=price, problem=problem)))
    if order.total is not None:
        if not isinstance(order.total, Decimal) or not order.total.is_finite() or order.total < 0:
            errors.append(FieldError("total", say(w.NOT_AN_AMOUNT, value=shown(order.total))))
        elif money_problem(order.total, "Order", "total"):
            problem = money_problem(order.total, "Order", "total")
            errors.append(FieldError("total", say(w.VALUE_PROBLEM, value=order.total, problem=problem)))
    for field_name in ("placed_at", "promise_date", "ship_from"):
        value = getattr(order, field_name)
        if value is not None:
            day = value.date() if isinstance(value, datetime) else value
            problem = day_problem(day)
            if problem:
                errors.append(FieldError(field_name, say(w.VALUE_PROBLEM, value=value, problem=problem)))
    if order.priority is not None and (
        isinstance(order.priority, bool) or not isinstance(order.priority, int) or not 1 <= order.priority <= 9
    ):
        errors.append(FieldError("priority", say(w.PRIORITY_RANGE)))
    return errors


def _length_errors(order: CanonicalOrder) -> list[FieldError]:
    errors = []
    for field_name, value, limit in _texts(order) if _too_long(order) else ():
        if limit is not None and len(value) > limit:
            errors.append(FieldError(field_name, say(w.TOO_LONG, length=len(value), limit=limit)))
    problem = money_problem(order.total, "Order", "total") if order.total is not None else ""
    if problem:
        errors.append(FieldError("total", say(w.LINES_ADD_UP, total=order.total, problem=problem)))
    return errors


def check(order: CanonicalOrder) -> CanonicalOrder:
    """Raise OrderRejected for what cannot be created; record holds for what must stop.

    This is the one place every order passes (API, form, webhooks, files, channel updates): each value
    is checked against the column that stores it (lengths, money digits, quantities, dates), so an order
    is either stored exactly as given or rejected with every field named."""
    errors: list[FieldError] = []
    if not order.external_id:
        errors.append(FieldError("external_id", say(w.REQUIRED)))
    if not order.lines:
        errors.append(FieldError("lines", say(w.NEEDS_A_LINE)))
    for i, line in enumerate(order.lines, start=1):
        if not line.sku:
            errors.append(FieldError(f"lines[{i}].sku", say(w.REQUIRED)))
        if isinstance(line.quantity, int) and line.quantity <= 0:
            errors.append(FieldError(f"lines[{i}].quantity", say(w.AT_LEAST_ONE)))
        if line.gift and isinstance(line.unit_price, Decimal) and line.unit_price != 0:
            errors.append(FieldError(f"lines[{i}].unit_price", say(w.GIFT_AT_ZERO, price=line.unit_price)))
    flag = parse_flag(order.seller_flag)
    if flag is None:
        errors.append(
            FieldError(
                "seller_flag",
                f"'{shown(str(order.seller_flag))}' is no flag: red, yellow, green, blue, purple (or 1-5, 0 for none).",
            )
        )
    else:
        order.seller_flag = flag
    errors += _value_errors(order)
    if errors:
        raise OrderRejected(errors)
    if order.currency and order.currency.upper() not in CURRENCIES:
        errors.append(FieldError("currency", say(w.NOT_A_CURRENCY, value=shown(order.currency))))
    if (order.payment_method or "").lower() not in ("", "prepaid", "cod"):
        errors.append(FieldError("payment_method", say(w.NOT_PREPAID_OR_COD, value=shown(order.payment_method))))
    if errors:
        raise OrderRejected(errors)
    order.currency = (order.currency or "CNY").upper()
    given_total = order.total
    lines_total = sum((line.unit_price * line.quantity for line in order.lines), Decimal("0"))
    if order.total is None:
        order.total = lines_total
    if order.total > MAX_AMOUNT:
        raise OrderRejected([FieldError("total", say(w.INVALID_PRICE_MORE, value=order.total, most=MAX_AMOUNT))])
    if given_total is not None and order.check_prices and not order.cancelled_reason:
        note = price_check_note(order, lines_total)
        hold = (HoldReason.FINANCE_REVIEW, note)
        if note and hold not in order.holds:  # the finance review (orders/rules/review.py finance_findings)
            order.holds.append(hold)
    if order.invoice is not None:
        invoice_amount_check(order.invoice, order.total)

    order.ship_to.country = normalize_country(order.ship_to.country)
    order.ship_to.phone = normalize_phone(order.ship_to.phone)
    order.customer_phone = normalize_phone(order.customer_phone)
    billing = normalize_country(order.billing_country)
    order.billing_country = billing if billing in ISO_COUNTRIES else ""
    order.payment_method = (order.payment_method or "prepaid").lower()
    cn_problem = fill_cn_address(order) if order.ship_to.country == "CN" else ""
    problems = address_problems(order.ship_to) + ([cn_problem] if cn_problem else [])
    if order.ship_to.country not in ISO_COUNTRIES:
        order.ship_to.country = ""
    errors = _length_errors(order)
    if errors:
        raise OrderRejected(errors)
    hold = (HoldReason.ADDRESS_INVALID, "; ".join(problems))
    if problems and hold not in order.holds:  # checked twice (the API's answer, then its batch): held once
        order.holds.append(hold)
    return order


def invoice_amount_check(invoice, total: Decimal, prefix: str = "invoice") -> None:
    """An invoice request's amount (orders/intake/invoice.py): the order's total when not given; above the
    total it is an error."""
    if invoice.amount is None:
        invoice.amount = total
    elif invoice.amount > total:
        raise OrderRejected(
            [FieldError(f"{prefix}.amount", say(w.MORE_THAN_TOTAL, amount=invoice.amount, total=total))]
        )


def parse_line_items(raw_lines, *, platform: str, name_keys: tuple[str, ...] = ("name",), exact_prices: bool = True):
    """The ``line_items`` list that Shopify and WooCommerce orders share: (lines, errors).

    Each item needs a SKU, a whole positive ``quantity`` and a ``price``; every problem is a
    FieldError naming ``line_items[i].field``. ``exact_prices=False`` rounds a price to the cent (a
    channel that sends a computed float).
    """
    errors: list[FieldError] = []
    lines: list[CanonicalLine] = []
    if not isinstance(raw_lines, list) or not raw_lines:
        return lines, [FieldError("line_items", "must be a non-empty list.")]
    for i, item in enumerate(raw_lines, start=1):
        if not isinstance(item, dict):
            errors.append(FieldError(f"line_items[{i}]", "must be an object."))
            continue
        sku = clean_text(item.get("sku"))
        if not sku:
            errors.append(FieldError(f"line_items[{i}].sku", f"is required: give the product a SKU in {platform}."))
        try:
            quantity = parse_quantity(item.get("quantity"), f"line_items[{i}].quantity")
            price = parse_money(item.get("price"), f"line_items[{i}].price", exact=exact_prices)
        except OrderRejected as exc:
            errors.extend(exc.errors)
            continue
        if sku:
            name = next((item.get(key) for key in name_keys if item.get(key)), "")
            lines.append(CanonicalLine(sku=sku, quantity=quantity, unit_price=price, name=clean_text(name)))
    return lines, errors
