"""The one strict parser for amounts of money read from files and messages (order files of every
format, product catalogues).

Accepted: digits with an optional point and cents, ``1234.56``, ``14``, ``0.50`` (a currency symbol
or code before or after is allowed: ``¥12.50``, ``12.50 USD``); a JSON number (``14.5``), which is
unambiguous and is rounded to the cent. Rejected, never reinterpreted: a decimal comma (``14,00``),
thousands separators (``1,234``, ``1.234,56``, ``1 234``), exponents (``1e3``), ``NaN`` and
``Infinity``, more than two decimals that are not zeros (``12.345``), negative amounts, and amounts
beyond what the database stores (12 digits, 2 of them decimals).
"""

import re
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # DecimalField(max_digits=12, decimal_places=2)
PLAIN = re.compile(r"(?P<number>\d+(?:\.\d+)?)")
SYMBOLS = ("¥", "￥", "$", "€", "£", "CNY", "RMB", "USD", "EUR", "GBP")
HINT = "write amounts like 1234.56: digits, a point before the cents, no thousands separators"


class InvalidAmount(ValueError):
    """The value is not an amount this parser accepts; the message says why (without a field name)."""


def _strip_symbol(text: str) -> str:
    for symbol in SYMBOLS:
        if text.startswith(symbol):
            return text[len(symbol) :].strip()
        if text.endswith(symbol):
            return text[: -len(symbol)].strip()
    return text


def parse_amount(value, *, blank: Decimal | None = Decimal("0")) -> Decimal | None:
    """The amount in ``value`` (text or a JSON number) to the cent; ``blank`` for an empty value.

    Raises InvalidAmount with the reason for anything ambiguous or out of range.
    """
    if value is None:
        return blank
    if isinstance(value, bool):
        raise InvalidAmount(f"{value!r} is not an amount ({HINT}).")
    if isinstance(value, int | float):
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not amount.is_finite():
            raise InvalidAmount(f"{value!r} is not an amount ({HINT}).")
        amount = amount.quantize(CENT, rounding=ROUND_HALF_UP) if abs(amount) <= MAX_AMOUNT else amount
        return _in_range(amount, repr(value))
    raw = " ".join(str(value).split())
    if not raw:
        return blank
    # Plain digits first: nothing to strip from them (every symbol starts and ends with a non-digit).
    match = PLAIN.fullmatch(raw) or PLAIN.fullmatch(_strip_symbol(raw))
    if match is None:
        raise InvalidAmount(f"'{raw[:40]}' is not an amount ({HINT}).")
    amount = Decimal(match["number"])
    if amount <= MAX_AMOUNT and amount != amount.quantize(CENT):
        raise InvalidAmount(f"'{raw[:40]}' has more than two decimals.")
    return _in_range(amount, raw)


def _in_range(amount: Decimal, shown: str) -> Decimal:
    if amount < 0:
        raise InvalidAmount(f"'{shown[:40]}' must be zero or more.")
    if amount > MAX_AMOUNT:
        raise InvalidAmount(f"'{shown[:40]}' is more than {MAX_AMOUNT}.")
    return amount.quantize(CENT)
