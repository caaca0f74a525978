"""The canonical order every adapter produces, and the checks that reject or hold it.

A *rejection* (FieldError) means the order cannot be created at all: no external id, no
lines, a zero quantity, a date that is not a date. A *hold* means the order is created but
stops: an incomplete address, an unknown SKU. Nothing after this module knows the channel.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from oms.encoding import has_undecodable, printable
from oms.money import MAX_AMOUNT, InvalidAmount, parse_amount

from ..status import HoldReason

# ISO 3166-1 alpha-2 codes the OMS accepts, with common names channels send instead.
COUNTRY_ALIASES = {
    "CHINA": "CN",
    "中国": "CN",
    "PRC": "CN",
    "PEOPLE'S REPUBLIC OF CHINA": "CN",
    "UNITED STATES": "US",
    "USA": "US",
    "UNITED STATES OF AMERICA": "US",
    "UNITED KINGDOM": "GB",
    "UK": "GB",
    "GREAT BRITAIN": "GB",
    "GERMANY": "DE",
    "DEUTSCHLAND": "DE",
    "FRANCE": "FR",
    "JAPAN": "JP",
    "日本": "JP",
    "HONG KONG": "HK",
    "香港": "HK",
    "TAIWAN": "TW",
    "台湾": "TW",
    "SINGAPORE": "SG",
    "CANADA": "CA",
    "AUSTRALIA": "AU",
    "NETHERLANDS": "NL",
    "SPAIN": "ES",
    "ITALY": "IT",
    "KOREA": "KR",
    "SOUTH KOREA": "KR",
}
ISO_COUNTRIES = frozenset(
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV "
    "BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET "
    "FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM "
    "IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD "
    "ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE "
    "PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST "
    "SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS "
    "YE YT ZA ZM ZW".split()
)
POSTCODE_PATTERNS = {
    "CN": r"\d{6}",
    "US": r"\d{5}(-\d{4})?",
    "DE": r"\d{5}",
    "FR": r"\d{5}",
    "JP": r"\d{3}-?\d{4}",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
    "CA": r"[A-Z]\d[A-Z] ?\d[A-Z]\d",
    "AU": r"\d{4}",
    "NL": r"\d{4} ?[A-Z]{2}",
    "IT": r"\d{5}",
    "ES": r"\d{5}",
    "KR": r"\d{5}",
    "SG": r"\d{6}",
    "TW": r"\d{3}(\d{2,3})?",
    "IN": r"\d{6}",
}
SURROGATE = re.compile("[\ud800-\udfff]")  # e.g. a JSON "\\ud800": no database column stores it
CURRENCIES = frozenset("CNY USD EUR GBP JPY HKD TWD SGD AUD CAD KRW CHF".split())


@dataclass
class FieldError:
    field: str
    message: str
    row: int | None = None

    def __post_init__(self):
        # A message may quote the value: never a NUL or an undecodable byte, which no column stores.
        self.message = SURROGATE.sub("\ufffd", printable(str(self.message))).replace("\x00", "\\x00")
        self.field = SURROGATE.sub("\ufffd", printable(str(self.field))).replace("\x00", "\\x00")

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}


class OrderRejected(Exception):
    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


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
    holds: list[tuple[str, str]] = field(default_factory=list)
    # Review holds (orders/review.py): optional, from adapters that have them.
    billing_country: str = ""
    payment_method: str = ""  # "prepaid" (empty) or "cod"
    # Non-empty when the channel says the order is already cancelled or refunded: it is kept
    # for the record and the reports, as cancelled, and reserves nothing.
    cancelled_reason: str = ""
    # The channel's own name for the order, as its customers quote it (Shopify ``#1001``,
    # WooCommerce's number, Amazon's order-id); stored on Order.channel_order_name.
    channel_order_name: str = ""
    # What the channel says besides the lines, for the price check (None: not given).
    shipping: Decimal | None = None
    tax: Decimal | None = None
    discount: Decimal | None = None
    # False when the adapter computed ``total`` from the lines itself (nothing to check).
    check_prices: bool = True


# ---- value parsing, shared by every adapter -------------------------------------------


def clean_text(value, *, max_length: int | None = 255) -> str:
    """The value with its whitespace collapsed; cut at ``max_length`` unless it is None (the file
    adapters pass None: a value too long for its column is then an error from ``check``, never cut)."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return text if max_length is None else text[:max_length]


def parse_quantity(value, field_name: str = "quantity") -> int:
    text = clean_text(value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise OrderRejected([FieldError(field_name, f"'{text}' is not a number.")])
    if number != number.to_integral_value():
        raise OrderRejected([FieldError(field_name, f"'{text}' is not a whole number.")])
    if number <= 0:
        raise OrderRejected([FieldError(field_name, f"must be at least 1, got {text}.")])
    if number > 100000:
        raise OrderRejected([FieldError(field_name, f"{text} is more than 100000.")])
    return int(number)


def parse_money(value, field_name: str, *, blank: Decimal | None = Decimal("0")) -> Decimal | None:
    """An amount, through the one strict parser (oms/money.py): ``14,00`` or ``1,234`` is an
    "invalid price", never reinterpreted. A JSON number may be passed as it is."""
    try:
        return parse_amount(value, blank=blank)
    except InvalidAmount as exc:
        raise OrderRejected([FieldError(field_name, f"invalid price: {exc}")]) from None


def parse_when(value, field_name: str) -> datetime | None:
    text = clean_text(value)
    if not text:
        return None
    parsed = None
    try:
        parsed = parse_datetime(text.replace("/", "-"))
        if parsed is None:
            day = parse_date(text.replace("/", "-"))
            if day is not None:
                parsed = datetime(day.year, day.month, day.day)
    except ValueError:
        parsed = None
    if parsed is None:
        raise OrderRejected([FieldError(field_name, f"'{text}' is not a date (use YYYY-MM-DD or ISO 8601).")])
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def parse_day(value, field_name: str) -> date | None:
    text = clean_text(value)
    if not text:
        return None
    try:
        parsed = parse_date(text.replace("/", "-"))
    except ValueError:
        parsed = None
    if parsed is None:
        raise OrderRejected([FieldError(field_name, f"'{text}' is not a date (use YYYY-MM-DD).")])
    return parsed


def normalize_country(value) -> str:
    """An ISO code for a code or a known name; otherwise the text as given (check() holds it)."""
    raw = clean_text(value)
    text = raw.upper()
    if len(text) == 2 and text in ISO_COUNTRIES:
        return text
    return COUNTRY_ALIASES.get(text) or COUNTRY_ALIASES.get(raw) or raw


def normalize_phone(value) -> str:
    text = clean_text(value, max_length=40)
    if not text:
        return ""
    plus = text.startswith("+")
    digits = re.sub(r"\D", "", text)
    return ("+" if plus else "") + digits


# ---- the checks -------------------------------------------------------------------------


def check(order: CanonicalOrder) -> CanonicalOrder:
    """Raise OrderRejected for what cannot be created; record holds for what must stop."""
    errors: list[FieldError] = []
    if not order.external_id:
        errors.append(FieldError("external_id", "is required."))
    elif len(order.external_id) > 64:
        errors.append(FieldError("external_id", "is longer than 64 characters."))
    if not order.lines:
        errors.append(FieldError("lines", "an order needs at least one line."))
    for i, line in enumerate(order.lines, start=1):
        if not line.sku:
            errors.append(FieldError(f"lines[{i}].sku", "is required."))
        if line.quantity <= 0:
            errors.append(FieldError(f"lines[{i}].quantity", "must be at least 1."))
    if order.currency and order.currency.upper() not in CURRENCIES:
        errors.append(FieldError("currency", f"'{order.currency}' is not a supported currency."))
    if (order.payment_method or "").lower() not in ("", "prepaid", "cod"):
        errors.append(FieldError("payment_method", f"'{order.payment_method}' is not prepaid or cod."))
    errors += limit_errors(order)
    if errors:
        raise OrderRejected(errors)
    order.currency = (order.currency or "CNY").upper()
    given_total = order.total
    lines_total = sum((line.unit_price * line.quantity for line in order.lines), Decimal("0"))
    if order.total is None:
        order.total = lines_total
    if order.total > MAX_AMOUNT:
        raise OrderRejected([FieldError("total", f"invalid price: {order.total} is more than {MAX_AMOUNT}.")])
    if given_total is not None and order.check_prices and not order.cancelled_reason:
        note = price_check_note(order, lines_total)
        if note:
            order.holds.append((HoldReason.PRICE_CHECK, note))

    order.ship_to.country = normalize_country(order.ship_to.country)
    order.ship_to.phone = normalize_phone(order.ship_to.phone)
    order.customer_phone = normalize_phone(order.customer_phone)
    billing = normalize_country(order.billing_country)
    order.billing_country = billing if billing in ISO_COUNTRIES else ""
    order.payment_method = (order.payment_method or "prepaid").lower()
    problems = address_problems(order.ship_to)
    if order.ship_to.country not in ISO_COUNTRIES:
        order.ship_to.country = ""
    if problems:
        order.holds.append((HoldReason.ADDRESS_INVALID, "; ".join(problems)))
    return order


def address_problems(address: CanonicalAddress) -> list[str]:
    problems = []
    if not address.name:
        problems.append("recipient name missing")
    if not address.address1:
        problems.append("street address missing")
    if not address.city:
        problems.append("city missing")
    if not address.country:
        problems.append("country missing")
    elif address.country not in ISO_COUNTRIES:
        problems.append(f"unknown country '{address.country}'")
    if not address.phone and not address.email:
        problems.append("no phone or e-mail for the carrier")
    pattern = POSTCODE_PATTERNS.get(address.country)
    if pattern and address.postcode and not re.fullmatch(pattern, address.postcode.upper()):
        problems.append(f"postcode '{address.postcode}' is not valid for {address.country}")
    return problems


def parse_line_items(raw_lines, *, platform: str, name_keys: tuple[str, ...] = ("name",)):
    """The ``line_items`` list that Shopify and WooCommerce orders share: (lines, errors).

    Each item needs a SKU, a whole positive ``quantity`` and a ``price``; every problem is a
    FieldError naming ``line_items[i].field``.
    """
    errors: list[FieldError] = []
    lines: list[CanonicalLine] = []
    if not isinstance(raw_lines, list) or not raw_lines:
        return lines, [FieldError("line_items", "must be a non-empty list.")]
    for i, item in enumerate(raw_lines, start=1):
        if not isinstance(item, dict):
            errors.append(FieldError(f"line_items[{i}]", "must be an object."))
            continue
        sku = clean_text(item.get("sku"), max_length=None)
        if not sku:
            errors.append(FieldError(f"line_items[{i}].sku", f"is required: give the product a SKU in {platform}."))
        try:
            quantity = parse_quantity(item.get("quantity"), f"line_items[{i}].quantity")
            price = parse_money(item.get("price"), f"line_items[{i}].price")
        except OrderRejected as exc:
            errors.extend(exc.errors)
            continue
        if sku:
            name = next((item.get(key) for key in name_keys if item.get(key)), "")
            lines.append(
                CanonicalLine(sku=sku, quantity=quantity, unit_price=price, name=clean_text(name, max_length=None))
            )
    return lines, errors


# ---- limits and the price check ---------------------------------------------------------

MAX_LINES = 32767  # OrderLine.line_no is a small integer
# canonical attribute -> (model, field) whose max_length bounds it
_LIMITS = {
    "channel_order_name": ("Order", "channel_order_name"),
    "customer_name": ("Customer", "name"),
    "customer_email": ("Customer", "email"),
    "customer_phone": ("Customer", "phone"),
    "requested_service": ("Order", "requested_service"),
    "ship_to.name": ("Order", "ship_name"),
    "ship_to.phone": ("Order", "ship_phone"),
    "ship_to.email": ("Order", "ship_email"),
    "ship_to.province": ("Order", "ship_province"),
    "ship_to.city": ("Order", "ship_city"),
    "ship_to.district": ("Order", "ship_district"),
    "ship_to.address1": ("Order", "ship_address1"),
    "ship_to.address2": ("Order", "ship_address2"),
    "ship_to.postcode": ("Order", "ship_postcode"),
}


@cache
def _max_length(model_name: str, field_name: str) -> int:
    from django.apps import apps

    return apps.get_model("orders", model_name)._meta.get_field(field_name).max_length


def _text_problem(value: str, limit: int | None) -> str:
    if "\x00" in value:
        return "contains a NUL character."
    if has_undecodable(value) or SURROGATE.search(value):
        return "contains bytes that are not valid in the file's encoding (save the file as UTF-8)."
    if limit is not None and len(value) > limit:
        return f"is {len(value)} characters long; at most {limit}."
    return ""


def limit_errors(order: CanonicalOrder) -> list[FieldError]:
    """Text that the database cannot store as given (too long, a NUL, undecodable bytes) is an
    error naming the field, never cut or changed; so is an order with more lines than stored."""
    errors = []
    for name, (model, field_name) in _LIMITS.items():
        owner = order.ship_to if name.startswith("ship_to.") else order
        value = getattr(owner, name.removeprefix("ship_to."), "") or ""
        problem = _text_problem(str(value), _max_length(model, field_name))
        if problem:
            errors.append(FieldError(name, problem))
    for name in ("external_id", "note", "currency", "ship_to.country", "billing_country", "payment_method"):
        owner = order.ship_to if name.startswith("ship_to.") else order
        problem = _text_problem(str(getattr(owner, name.removeprefix("ship_to."), "") or ""), None)
        if problem:
            errors.append(FieldError(name, problem))
    sku_limit, name_limit = _max_length("OrderLine", "sku"), _max_length("OrderLine", "name")
    for i, line in enumerate(order.lines, start=1):
        for attr, limit in (("sku", sku_limit), ("name", name_limit)):
            problem = _text_problem(getattr(line, attr) or "", limit)
            if problem:
                errors.append(FieldError(f"lines[{i}].{attr}", problem))
        if line.unit_price > MAX_AMOUNT:
            errors.append(FieldError(f"lines[{i}].unit_price", f"invalid price: more than {MAX_AMOUNT}."))
    if len(order.lines) > MAX_LINES:
        errors.append(FieldError("lines", f"an order has at most {MAX_LINES} lines; this one has {len(order.lines)}."))
    return errors


def price_check_note(order: CanonicalOrder, lines_total: Decimal) -> str:
    """Empty when the lines add up to the order's total (with the shipping, tax and discount the
    channel gave; tax may be included in the prices, a discount already taken off them), within
    0.01 per line; otherwise a note with the numbers, for the price-check hold."""
    shipping, tax, discount = (v or Decimal("0") for v in (order.shipping, order.tax, order.discount))
    tolerance = Decimal("0.01") * max(len(order.lines), 1)
    candidates = {lines_total + shipping + t - d for t in (tax, Decimal("0")) for d in (discount, Decimal("0"))}
    if any(abs(order.total - c) <= tolerance for c in candidates):
        return ""
    expected = lines_total + shipping + tax - discount
    return (
        f"Lines {lines_total:.2f} + shipping {shipping:.2f} + tax {tax:.2f} - discount {discount:.2f} "
        f"= {expected:.2f}, but the order total is {order.total:.2f} {order.currency} "
        f"(difference {order.total - expected:.2f})."
    )
