"""The canonical order every adapter produces, and the checks that reject or hold it.

A *rejection* (FieldError) means the order cannot be created at all: no external id, no
lines, a zero quantity, a date that is not a date. A *hold* means the order is created but
stops: an incomplete address, an unknown SKU. Nothing after this module knows the channel.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

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
CURRENCIES = frozenset("CNY USD EUR GBP JPY HKD TWD SGD AUD CAD KRW CHF".split())


@dataclass
class FieldError:
    field: str
    message: str
    row: int | None = None

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


# ---- value parsing, shared by every adapter -------------------------------------------


def clean_text(value, *, max_length: int = 255) -> str:
    if value is None:
        return ""
    return " ".join(str(value).split())[:max_length]


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


def parse_money(value, field_name: str) -> Decimal:
    text = clean_text(value).replace(",", "")
    for symbol in ("¥", "￥", "$", "€", "£", "CNY", "USD", "EUR"):
        text = text.replace(symbol, "")
    text = text.strip()
    if not text:
        return Decimal("0")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise OrderRejected([FieldError(field_name, f"'{clean_text(value)}' is not an amount of money.")])
    if not amount.is_finite() or amount < 0:
        raise OrderRejected([FieldError(field_name, f"'{clean_text(value)}' must be zero or more.")])
    return amount.quantize(Decimal("0.01"))


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
    if errors:
        raise OrderRejected(errors)
    order.currency = (order.currency or "CNY").upper()
    if order.total is None:
        order.total = sum((line.unit_price * line.quantity for line in order.lines), Decimal("0"))

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
        sku = clean_text(item.get("sku"), max_length=64)
        if not sku:
            errors.append(FieldError(f"line_items[{i}].sku", f"is required: give the product a SKU in {platform}."))
        price_value = item.get("price")
        try:
            quantity = parse_quantity(item.get("quantity"), f"line_items[{i}].quantity")
            price = parse_money(str(price_value) if price_value is not None else "0", f"line_items[{i}].price")
        except OrderRejected as exc:
            errors.extend(exc.errors)
            continue
        if sku:
            name = next((item.get(key) for key in name_keys if item.get(key)), "")
            lines.append(
                CanonicalLine(sku=sku, quantity=quantity, unit_price=price, name=clean_text(name, max_length=200))
            )
    return lines, errors
