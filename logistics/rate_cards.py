"""Rate cards (RateCardRow: zone x weight band -> price per service): the CSV import, all or nothing, and the
row check and save the web import (logistics/importers.py) shares. Rating (logistics/rating.py) reads the rows."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction

from .models import Carrier, RateCardRow, ServiceLevel

RATE_CARD_COLUMNS = ("carrier", "service", "zone", "max_weight_kg", "price", "extra_per_kg", "transit_days")


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict] = field(default_factory=list)


# The largest amount or weight a rate card row holds (price columns: 10 digits, 2 decimals).
RATE_CARD_MAX = Decimal("99999999.99")


def _decimal(value: str, name: str) -> Decimal:
    """A plain number (``12.5``): a comma, an exponent, NaN or more than the columns hold is an error."""
    text = (value or "").strip() or "0"
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{name} is not a number: {value!r}")
    if not result.is_finite() or "," in text or "e" in text.lower():
        raise ValueError(f"{name} is not a plain number: {value!r}")
    if result < 0:
        raise ValueError(f"{name} cannot be negative")
    if result > RATE_CARD_MAX or -result.as_tuple().exponent > 3:
        raise ValueError(f"{name} is out of range or has more than 3 decimals: {value!r}")
    return result


def rate_card_import(
    source: str | bytes | io.TextIOBase, *, dry_run: bool = False, replace: bool = True
) -> ImportResult:
    """Import rate card rows from CSV (columns `RATE_CARD_COLUMNS`; UTF-8 with or without BOM).

    All or nothing: with any row error nothing is written. With ``replace`` the imported services'
    existing rows are replaced by the file's (a rate card is one file per service).
    """
    if isinstance(source, bytes):
        source = source.decode("utf-8-sig")
    text = source if isinstance(source, str) else source.read()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    result = ImportResult()
    missing = [c for c in RATE_CARD_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append({"row": 1, "message": "missing columns: " + ", ".join(missing)})
        return result
    carriers = {c.code: c for c in Carrier.objects.all()}
    parsed = []
    for number, row in enumerate(reader, start=2):
        result.rows += 1
        try:
            parsed.append(rate_card_row_parse(row, carriers))
        except (ValueError, TypeError) as exc:
            result.errors.append({"row": number, "message": str(exc)})
    if result.errors or dry_run:
        return result
    with transaction.atomic():
        if replace:
            RateCardRow.objects.filter(service__in={p[0] for p in parsed}).delete()
        for row in parsed:
            created = rate_card_row_save(row)
            result.created += created
            result.updated += not created
    return result


def rate_card_row_parse(row: dict, carriers: dict) -> tuple:
    """One rate card row (columns `RATE_CARD_COLUMNS`) checked: (service, zone, max grams, price, extra per
    kg, transit days). Raises ValueError with the reason. The CSV import and the web import share it."""
    carrier = carriers.get((row.get("carrier") or "").strip())
    if carrier is None:
        raise ValueError(f"unknown carrier {row.get('carrier')!r}")
    service = ServiceLevel.objects.filter(carrier=carrier, code=(row.get("service") or "").strip()).first()
    if service is None:
        raise ValueError(f"unknown service {row.get('service')!r} of {carrier.code}")
    zone = (row.get("zone") or "").strip().upper()
    if not zone or len(zone) > 16:
        raise ValueError("zone is empty" if not zone else f"zone {zone[:20]!r} is longer than 16 characters")
    max_kg = _decimal(row.get("max_weight_kg"), "max_weight_kg")
    if max_kg <= 0:
        raise ValueError("max_weight_kg must be more than 0")
    try:
        transit = int((row.get("transit_days") or "").strip())
    except ValueError:
        raise ValueError(f"transit_days is not a whole number: {row.get('transit_days')!r}") from None
    if not 0 <= transit <= 60:
        raise ValueError("transit_days must be 0 to 60")
    return (
        service,
        zone,
        int(max_kg * 1000),
        _decimal(row.get("price"), "price"),
        _decimal(row.get("extra_per_kg"), "extra_per_kg"),
        transit,
    )


def rate_card_row_save(parsed: tuple) -> bool:
    """Create or update one checked rate card row; True when it was created."""
    service, zone, max_g, price, extra, transit = parsed
    _, created = RateCardRow.objects.update_or_create(
        service=service,
        zone=zone,
        max_weight_g=max_g,
        defaults={"price": price, "extra_per_kg": extra, "transit_days": transit},
    )
    return created
