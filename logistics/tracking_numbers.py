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


# --------------------------------------------------------------------------- carriers' own formats
#
# Which carriers have a check digit, and where that is written down:
# - S10 (China Post / EMS international, our local carrier): above, UPU S10.
# - USPS Intelligent Mail package barcode (IMpb, 20 or 22 digits, e.g. EasyPost's USPS test label
#   9400100105442285876350): USPS Publication 199, "Mod 10" check digit: from the digit next to the check
#   digit leftwards, weights 3, 1, 3, 1, ...; check = (10 - sum mod 10) mod 10.
# - UPS "1Z" numbers (1Z + 6 shipper + 2 service + 7 package + 1 check): the check digit over the 15
#   characters after "1Z", letters as (ord - 63) mod 10, odd positions x1, even positions x2, (10 - sum
#   mod 10) mod 10; UPS's sample 1Z999AA10123456784 checks.
# - SF Express (12 digits, or "SF" + 13 digits since 2020), ZTO (12 to 14 digits), YTO ("YT" + 13 digits):
#   these carriers publish no check digit; only the shape is checked.
# - EasyPost test tracking codes (EZ1000000001 ... EZ7000000007, EasyPost's Trackers guide): shape only.

USPS_RE = re.compile(r"^\d{20}$|^\d{22}$")
UPS_RE = re.compile(r"^1Z[0-9A-Z]{16}$")
SF_RE = re.compile(r"^(SF\d{13}|\d{12})$")
ZTO_RE = re.compile(r"^\d{12,14}$")
YTO_RE = re.compile(r"^YT\d{13}$")
EASYPOST_TEST_RE = re.compile(r"^EZ\d{10}$")


def usps_check_digit(body: str) -> int:
    """The IMpb Mod 10 check digit of the digits before it (weights 3, 1, ... from the right)."""
    if not (isinstance(body, str) and body and body.isascii() and body.isdigit()):
        raise ValueError(f"expected a non-empty string of digits, got {body!r}")
    total = sum(int(ch) * (3 if i % 2 == 0 else 1) for i, ch in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_usps(number: object) -> bool:
    compact = compact_number(number)
    return bool(compact and USPS_RE.match(compact)) and usps_check_digit(compact[:-1]) == int(compact[-1])


def ups_check_digit(body15: str) -> int:
    """The check digit of the 15 characters between "1Z" and the check digit."""
    if not re.fullmatch(r"[0-9A-Z]{15}", body15 or ""):
        raise ValueError(f"expected 15 characters 0-9/A-Z, got {body15!r}")
    total = 0
    for i, ch in enumerate(body15):
        value = int(ch) if ch.isdigit() else (ord(ch) - 63) % 10
        total += value * 2 if i % 2 == 1 else value
    return (10 - total % 10) % 10


def is_valid_ups(number: object) -> bool:
    compact = compact_number(number)
    if not compact or not UPS_RE.match(compact) or not compact[-1].isdigit():
        return False
    return ups_check_digit(compact[2:-1]) == int(compact[-1])


# format name (Carrier.tracking_format) -> (validator, has a check digit, description)
FORMATS = {
    "s10": (is_valid_s10, True, "UPU S10: 2 letters, 8 digits, check digit, country"),
    "domestic": (is_valid_domestic, True, "12 digits with a Luhn check digit"),
    "usps": (is_valid_usps, True, "USPS IMpb: 20 or 22 digits, Mod 10 check digit"),
    "ups": (is_valid_ups, True, "UPS: 1Z + 16 characters, last one a check digit"),
    "sf": (lambda n: bool(SF_RE.match(compact_number(n) or "")), False, "SF Express: 12 digits or SF + 13 digits"),
    "zto": (lambda n: bool(ZTO_RE.match(compact_number(n) or "")), False, "ZTO: 12 to 14 digits"),
    "yto": (lambda n: bool(YTO_RE.match(compact_number(n) or "")), False, "YTO: YT + 13 digits"),
    "easypost": (
        lambda n: bool(EASYPOST_TEST_RE.match(compact_number(n) or "")) or is_valid_usps(n) or is_valid_ups(n),
        False,
        "EasyPost: its test codes EZ + 10 digits, or the underlying carrier's number (USPS, UPS)",
    ),
}


def is_valid_for(format_name: str, number: object) -> bool:
    """True when ``number`` has the shape (and check digit, where there is one) of ``format_name``.

    An empty or unknown format accepts any non-empty number of 6 to 40 letters and digits."""
    entry = FORMATS.get((format_name or "").lower())
    if entry is None:
        compact = compact_number(number)
        return bool(compact and re.fullmatch(r"[0-9A-Z]{6,40}", compact))
    return entry[0](number)
