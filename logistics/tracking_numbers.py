"""Tracking number formats: UPU S10 (international postal items) and a Luhn-checked 12-digit domestic number.

S10 (UPU standard S10, as summarised by Wikipedia "S10 (UPU standard)"): two service-indicator letters,
an 8-digit serial, one check digit and the two-letter ISO 3166 country code of the issuing operator, e.g.
``RR473124829GB``. Check digit: weights 8, 6, 4, 2, 3, 5, 9, 7 over the serial from left to right,
C = 11 - (sum mod 11), then 10 -> 0 and 11 -> 5. Worked example from the standard's summary: serial
47312482 gives sum 200, 200 mod 11 = 2, C = 9.

Domestic: 11 digits followed by a Luhn (mod 10) check digit, 12 digits in all.

Pure functions, no database.
"""

from __future__ import annotations

import re

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
S10_RE = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")
DOMESTIC_LENGTH = 12


def compact_number(number: object) -> str | None:
    """Upper-case, without the spaces labels print between groups (``RR 473 124 829 GB``); None if not a str."""
    if not isinstance(number, str):
        return None
    return re.sub(r"\s+", "", number).upper()


# --------------------------------------------------------------------------- S10


def s10_check_digit(serial8: str) -> int:
    """The S10 check digit of an 8-digit serial (given as a string, leading zeros kept)."""
    if not (isinstance(serial8, str) and len(serial8) == 8 and serial8.isascii() and serial8.isdigit()):
        raise ValueError(f"an S10 serial is exactly 8 digits, got {serial8!r}")
    total = sum(int(d) * w for d, w in zip(serial8, S10_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 10:
        return 0
    if check == 11:
        return 5
    return check


def make_s10(prefix: str, serial: int, country: str) -> str:
    """``make_s10("RR", 47312482, "GB") == "RR473124829GB"``. Letters are upper-cased."""
    prefix, country = prefix.upper(), country.upper()
    if not re.fullmatch(r"[A-Z]{2}", prefix):
        raise ValueError(f"an S10 service indicator is two letters A-Z, got {prefix!r}")
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise ValueError(f"an S10 country code is two letters A-Z, got {country!r}")
    if isinstance(serial, bool) or not isinstance(serial, int) or not 0 <= serial <= 99_999_999:
        raise ValueError(f"an S10 serial is an integer from 0 to 99999999, got {serial!r}")
    serial8 = f"{serial:08d}"
    return f"{prefix}{serial8}{s10_check_digit(serial8)}{country}"


def is_valid_s10(number: object) -> bool:
    """True for a well-formed S10 number whose check digit is right. Case and inner spaces are ignored."""
    compact = compact_number(number)
    if compact is None:
        return False
    match = S10_RE.match(compact)
    if not match or not compact.isascii():
        return False
    return s10_check_digit(match.group(2)) == int(match.group(3))


# --------------------------------------------------------------------------- Luhn / domestic


def luhn_check_digit(digits: str) -> int:
    """The Luhn (mod 10) check digit to append to ``digits``: ``luhn_check_digit("7992739871") == 3``."""
    if not (isinstance(digits, str) and digits and digits.isascii() and digits.isdigit()):
        raise ValueError(f"expected a non-empty string of digits, got {digits!r}")
    total = 0
    # The digit next to the (future) check digit is doubled, then every second one leftwards.
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def is_valid_luhn(number: object) -> bool:
    """True if the last digit of ``number`` is the Luhn check digit of the rest."""
    compact = compact_number(number)
    if not compact or len(compact) < 2 or not compact.isascii() or not compact.isdigit():
        return False
    return luhn_check_digit(compact[:-1]) == int(compact[-1])


def make_domestic(serial: int) -> str:
    """A 12-digit domestic number: the serial as 11 digits plus its Luhn check digit."""
    if isinstance(serial, bool) or not isinstance(serial, int) or not 0 <= serial < 10 ** (DOMESTIC_LENGTH - 1):
        raise ValueError(f"a domestic serial is an integer from 0 to {10 ** (DOMESTIC_LENGTH - 1) - 1}, got {serial!r}")
    body = f"{serial:0{DOMESTIC_LENGTH - 1}d}"
    return f"{body}{luhn_check_digit(body)}"


def is_valid_domestic(number: object) -> bool:
    """True for exactly 12 digits (spaces ignored) whose last digit is the Luhn check digit."""
    compact = compact_number(number)
    return compact is not None and len(compact) == DOMESTIC_LENGTH and is_valid_luhn(compact)
