"""Values as an order's adapters parse them (quantities, amounts, dates, countries, phones, texts), and the
rejection every parser and check raises (`OrderRejected` of `FieldError`s). Split from canonical.py, which
re-exports every name here (``from orders.intake.canonical import parse_money`` keeps working)."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, lru_cache

from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise

from oms.encoding import has_undecodable, printable, storable
from oms.money import InvalidAmount, parse_amount

from ..models import Customer, Order, OrderLine
from . import words as w
from .address_check import ISO_COUNTRIES
from .words import in_english, say

# Common names channels send instead of an ISO 3166-1 alpha-2 code (address_check.py ISO_COUNTRIES).
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
SURROGATE = re.compile("[\ud800-\udfff]")  # e.g. a JSON "\\ud800": no database column stores it


@dataclass
class FieldError:
    field: str
    message: str
    row: int | None = None

    def __post_init__(self):
        # A message may quote the value: never a NUL or an undecodable byte, which no column stores.
        # A marked message (words.say) is worded in the active language and kept for the records' English.
        self.marked = self.message if isinstance(self.message, Promise) else None
        self.message = SURROGATE.sub("\ufffd", printable(str(self.message))).replace("\x00", "\\x00")
        self.field = SURROGATE.sub("\ufffd", printable(str(self.field))).replace("\x00", "\\x00")

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}

    def english(self) -> str:
        return self.message if self.marked is None else FieldError(self.field, in_english(self.marked)).message


class OrderRejected(Exception):
    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))

    def __reduce__(self):  # pickled as made (the file's reading process hands rejections over)
        return (self.__class__, (self.errors,))

    def english(self) -> str:  # as the records keep it
        return "; ".join(f"{e.field}: {e.english()}" for e in self.errors)


# ---- value parsing, shared by every adapter -------------------------------------------


def clean_text(value, *, max_length: int | None = None) -> str:
    """The value as one line of text (runs of white space made one space). Nothing is cut unless a
    caller asks for ``max_length``: `check` rejects what does not fit the order's columns."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return text[:max_length] if max_length is not None else text


def shown(text: str, width: int = 40) -> str:
    """A value quoted in an error message, cut so the message stays readable (and storable)."""
    text = storable(str(text))
    return text if len(text) <= width else text[: width - 1] + "…"


def text_problem(value: str) -> str:
    """Why a text cannot be stored as given ("" when it can): a NUL, or a lone surrogate."""
    if "\x00" in value:
        return say(w.NUL)
    if value.isascii():
        return ""  # neither a surrogate nor an undecodable byte: the common case, decided at once
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return say(w.LONE_SURROGATE)
    if has_undecodable(value):
        return say(w.UNDECODABLE)
    return ""


MODELS = {"Order": Order, "OrderLine": OrderLine, "Customer": Customer}

# Quantities a line may ask for; the column (PositiveIntegerField) holds more, no order needs more.
MAX_QUANTITY = 100000
# Dates an order may carry (placed at, promised for): outside them a value is a typo or a placeholder
# such as 0001-01-01 or 9999-12-31, and near the ends a time zone conversion overflows.
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(2100, 12, 31)


def parse_quantity(value, field_name: str = "quantity") -> int:
    text = clean_text(value)
    if isinstance(value, bool):
        raise OrderRejected([FieldError(field_name, say(w.NOT_A_NUMBER, value=text))])
    if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_QUANTITY:
        return int(text)  # plain digits in range: what the checks below would accept, at once
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise OrderRejected([FieldError(field_name, say(w.NOT_A_NUMBER, value=shown(text)))])
    if not number.is_finite():
        raise OrderRejected([FieldError(field_name, say(w.NOT_A_NUMBER, value=shown(text)))])
    if number <= 0:
        raise OrderRejected([FieldError(field_name, say(w.AT_LEAST_ONE_GOT, value=shown(text)))])
    if number > MAX_QUANTITY:
        raise OrderRejected([FieldError(field_name, say(w.MORE_THAN, value=shown(text), most=MAX_QUANTITY))])
    if number != number.to_integral_value():
        raise OrderRejected([FieldError(field_name, say(w.NOT_WHOLE, value=shown(text)))])
    return int(number)


@cache
def column_range(model, field: str) -> tuple[int, int]:
    """An integer column's range in PostgreSQL (the standard ranges; SQLite would hold more)."""
    internal_type = model._meta.get_field(field).get_internal_type()
    return BaseDatabaseOperations.integer_field_ranges[internal_type]


@cache
def money_column(model_name: str = "OrderLine", field: str = "unit_price") -> tuple[int, int]:
    """(max_digits, decimal_places) of a money column: the limits every amount is checked against."""
    column = MODELS[model_name]._meta.get_field(field)
    return column.max_digits, column.decimal_places


@cache
def _largest(model_name: str, field: str) -> Decimal:
    """The largest amount a money column stores (columns are fixed while the process runs)."""
    digits, places = money_column(model_name, field)
    return Decimal(10) ** (digits - places) - Decimal(1).scaleb(-places)


def parse_money(value, field_name: str, *, blank: Decimal | None = Decimal("0"), exact: bool = True) -> Decimal | None:
    """An amount, through the one strict parser (oms/money.py): ``14,00`` or ``1,234`` is an
    "invalid price", never reinterpreted. A JSON number may be passed as it is (rounded to the cent);
    ``exact=False`` also rounds a plain decimal text with more decimals (a channel that sends a
    computed float as text)."""
    if type(value) is str and len(value) <= MEMO_TEXT and value.strip():
        try:
            return _money_text(value, exact)  # the same few prices fill a file's rows
        except OrderRejected:
            pass  # worded below, with this field's name
    return _parse_money(value, field_name, blank, exact)


def _parse_money(value, field_name: str, blank: Decimal | None, exact: bool) -> Decimal | None:
    if not exact and isinstance(value, str) and PLAIN_LONG_DECIMAL.fullmatch(value.strip()):
        value = str(Decimal(value.strip()).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    try:
        amount = parse_amount(value, blank=blank)
    except InvalidAmount as exc:
        raise OrderRejected([FieldError(field_name, f"invalid price: {exc}")]) from None
    if amount is not None and money_problem(amount):
        raise OrderRejected([FieldError(field_name, say(w.INVALID_PRICE, value=amount, problem=money_problem(amount)))])
    return amount


PLAIN_LONG_DECIMAL = re.compile(r"\d{1,12}\.\d{3,}")
# Texts up to this length are parsed once per process (``_money_text``): an amount is a short text.
MEMO_TEXT = 32


@lru_cache(maxsize=4096)
def _money_text(value: str, exact: bool) -> Decimal:
    """``parse_money`` of a text that is not blank, kept: a Decimal never changes, and a text that is no
    amount raises (an exception is not kept), so ``parse_money`` words it with its field's name."""
    return _parse_money(value, "", None, exact)


def money_problem(amount: Decimal, model_name: str = "OrderLine", field: str = "unit_price") -> str:
    """Why an amount does not fit the column ("" when it does)."""
    largest = _largest(model_name, field)
    if abs(amount) > largest:
        return say(w.PAST_LARGEST, largest=largest)
    return ""


def day_problem(day: date) -> str:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        return say(w.BETWEEN_DAYS, earliest=EARLIEST_DAY, latest=LATEST_DAY)
    return ""


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
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        raise OrderRejected([FieldError(field_name, say(w.NOT_A_DATE_OR_TIME, value=shown(text)))])
    problem = day_problem(parsed.date())
    if problem:
        raise OrderRejected([FieldError(field_name, say(w.QUOTED_PROBLEM, value=shown(text), problem=problem))])
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def parse_day(value, field_name: str) -> date | None:
    text = clean_text(value)
    if not text:
        return None
    try:
        parsed = parse_date(text.replace("/", "-"))
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        raise OrderRejected([FieldError(field_name, say(w.NOT_A_DATE, value=shown(text)))])
    problem = day_problem(parsed)
    if problem:
        raise OrderRejected([FieldError(field_name, say(w.QUOTED_PROBLEM, value=shown(text), problem=problem))])
    return parsed


def normalize_country(value) -> str:
    """An ISO code for a code or a known name; otherwise the text as given (check() holds it)."""
    raw = clean_text(value)
    text = raw.upper()
    if len(text) == 2 and text in ISO_COUNTRIES:
        return text
    return COUNTRY_ALIASES.get(text) or COUNTRY_ALIASES.get(raw) or raw


def normalize_phone(value) -> str:
    text = clean_text(value)
    if not text:
        return ""
    plus = text.startswith("+")
    digits = re.sub(r"\D", "", text)
    return ("+" if plus else "") + digits
