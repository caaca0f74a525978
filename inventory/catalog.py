"""The catalogue's reference data from spreadsheets: products upserted by SKU, locations by code.

``clean_product`` / ``clean_location`` turn a spreadsheet row (lower-case column → text) into
service arguments and field errors, writing nothing; ``product_upsert`` / ``location_upsert`` are
the writes. A blank cell leaves an existing record's value alone; a new record needs a name.
"""

import re
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext_noop

from oms.errors import DomainError
from oms.money import InvalidAmount, parse_amount
from oms.wording import known

from .models import HandlingClass, Location, LocationKind, Product

# The rows' errors below as the import job page reads them in the reader's language (oms/wording.py: the
# stored English text is matched against these phrases; the values, quoted as the row had them, stay).
PHRASES = [
    gettext_noop("%(value)s is not a number."),
    gettext_noop("%(value)s is not a whole number."),
    gettext_noop("%(value)s is out of range."),
    gettext_noop("%(value)s must be %(low)s or more."),
    gettext_noop("%(value)s is not yes or no."),
    gettext_noop("%(value)s is not one of: %(choices)s."),
    gettext_noop("longer than %(length)s characters."),
    gettext_noop("is required."),
    gettext_noop("%(value)s: write length x width x height in mm, e.g. 300x200x100."),
    gettext_noop("invalid price: %(problem)s"),
    gettext_noop("a product has one handling class; %(first)s and %(second)s are both yes."),
    gettext_noop("yes means %(handling)s, but handling_class says %(said)s."),
    gettext_noop("%(value)s: letters, digits, - and _ only, at most 32."),
    gettext_noop("%(value)s is not a two-letter country code."),
    gettext_noop("a new product needs a name."),
    gettext_noop("a new location needs a name."),
    gettext_noop("unknown location %(value)s."),
]
known(*PHRASES)

PRODUCT_COLUMNS = (
    "sku",
    "name",
    "handling_class",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "dimensions",
    "price",
    "barcode",
    "lead_time_days",
    "active",
)
LOCATION_COLUMNS = (
    "code",
    "name",
    "kind",
    "country",
    "province",
    "city",
    "address",
    "postcode",
    "phone",
    "latitude",
    "longitude",
    "cold_chain",
    "handles_bulky",
    "daily_capacity",
    "active",
)
TRUE = {"1", "true", "yes", "y", "是", "x"}
FALSE = {"0", "false", "no", "n", "否", ""}
SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


class Errors(list):
    def add(self, field: str, message: str) -> None:
        self.append({"field": field, "message": message})


def whole_number(value: str, column: str, errors: Errors, *, low=0, high=None):
    """A whole number between ``low`` and ``high`` from a cell (thousands commas allowed); an error otherwise."""
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        errors.add(column, f"{value!r} is not a number.")
        return None
    if number != number.to_integral_value():
        errors.add(column, f"{value!r} is not a whole number.")
        return None
    if number < low or (high is not None and number > high):
        errors.add(column, f"{value} is out of range." if high else f"{value} must be {low} or more.")
        return None
    return int(number)


def flag_value(value: str, column: str, errors: Errors):
    """A yes/no cell (1/0, true/false, yes/no, 是/否, x or empty); an error for anything else."""
    text = value.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    errors.add(column, f"{value!r} is not yes or no.")
    return None


def _choice(value: str, column: str, choices, errors: Errors):
    text = value.strip().lower()
    by_label = {str(label).lower(): key for key, label in choices.choices}
    if text in choices.values:
        return text
    if text in by_label:
        return by_label[text]
    errors.add(column, f"{value!r} is not one of: {', '.join(choices.values)}.")
    return None


def _text(row: dict, column: str, errors: Errors, max_length: int) -> str | None:
    value = (row.get(column) or "").strip()
    if not value:
        return None
    if len(value) > max_length:
        errors.add(column, f"longer than {max_length} characters.")
        return None
    return value


def clean_product(row: dict) -> tuple[str, dict, Errors]:
    """(sku, the fields the row sets, errors)."""
    errors = Errors()
    sku = (row.get("sku") or "").strip()
    if not sku:
        errors.add("sku", "is required.")
    elif len(sku) > 64:
        errors.add("sku", "longer than 64 characters.")
    fields: dict = {}
    for column, length in (("name", 200), ("barcode", 64)):
        value = _text(row, column, errors, length)
        if value is not None:
            fields[column] = value
    if (row.get("handling_class") or "").strip():
        value = _choice(row["handling_class"], "handling_class", HandlingClass, errors)
        if value:
            fields["handling_class"] = value
    for column in ("weight_g", "length_mm", "width_mm", "height_mm", "lead_time_days"):
        if (row.get(column) or "").strip():
            high = 32767 if column == "lead_time_days" else None
            value = whole_number(row[column].strip(), column, errors, high=high)
            if value is not None:
                fields[column] = value
    _handling_from_flags(row, fields, errors)
    dims = (row.get("dimensions") or "").strip()
    if dims:
        parts = re.split(r"\s*[x×*X]\s*", dims.lower().removesuffix("mm").strip())
        if len(parts) != 3:
            errors.add("dimensions", f"{dims!r}: write length x width x height in mm, e.g. 300x200x100.")
        else:
            for column, part in zip(("length_mm", "width_mm", "height_mm"), parts, strict=True):
                value = whole_number(part, "dimensions", errors)
                if value is not None:
                    fields.setdefault(column, value)
    price = (row.get("price") or "").strip()
    if price:
        try:  # the one strict parser: "14,00" or "1,234" is rejected, never reinterpreted
            fields["price"] = parse_amount(price)
        except InvalidAmount as exc:
            errors.add("price", f"invalid price: {exc}")
    if "active" in row and (row.get("active") or "").strip():
        value = flag_value(row["active"], "active", errors)
        if value is not None:
            fields["active"] = value
    return sku, fields, errors


HANDLING_FLAGS = (
    ("perishable", HandlingClass.FRESH),
    ("fragile", HandlingClass.FRAGILE),
    ("bulky", HandlingClass.BULKY),
)


def _handling_from_flags(row: dict, fields: dict, errors: Errors) -> None:
    """``perishable`` / ``fragile`` / ``bulky`` yes-no columns give the handling class; a product has
    one class, so two yeses, or a yes that contradicts ``handling_class``, is an error, not a guess."""
    said = []
    for column, handling in HANDLING_FLAGS:
        if (row.get(column) or "").strip() and flag_value(row[column], column, errors):
            said.append((column, handling))
    if not said:
        return
    if len(said) > 1:
        errors.add(said[1][0], f"a product has one handling class; {said[0][0]} and {said[1][0]} are both yes.")
        return
    column, handling = said[0]
    if fields.get("handling_class", handling) != handling:
        errors.add(column, f"yes means {handling}, but handling_class says {fields['handling_class']}.")
        return
    if "handling_class" not in fields and (row.get("handling_class") or "").strip():
        return  # handling_class itself was refused; its error says why
    fields["handling_class"] = str(handling)


def clean_location(row: dict) -> tuple[str, dict, Errors]:
    errors = Errors()
    code = (row.get("code") or "").strip()
    if not code:
        errors.add("code", "is required.")
    elif len(code) > 32 or not SLUG.match(code):
        errors.add("code", f"{code!r}: letters, digits, - and _ only, at most 32.")
    fields: dict = {}
    for column, length in (
        ("name", 120),
        ("province", 64),
        ("city", 64),
        ("address", 255),
        ("postcode", 16),
        ("phone", 32),
    ):
        value = _text(row, column, errors, length)
        if value is not None:
            fields[column] = value
    country = (row.get("country") or "").strip().upper()
    if country:
        if len(country) != 2 or not country.isalpha():
            errors.add("country", f"{country!r} is not a two-letter country code.")
        else:
            fields["country"] = country
    if (row.get("kind") or "").strip():
        value = _choice(row["kind"], "kind", LocationKind, errors)
        if value:
            fields["kind"] = value
    for column, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
        text = (row.get(column) or "").strip()
        if text:
            try:
                number = float(text)
            except ValueError:
                errors.add(column, f"{text!r} is not a number.")
                continue
            if not low <= number <= high:
                errors.add(column, f"{text} is out of range.")
            else:
                fields[column] = number
    if (row.get("daily_capacity") or "").strip():
        value = whole_number(row["daily_capacity"].strip(), "daily_capacity", errors)
        if value is not None:
            fields["daily_capacity"] = value
    for column in ("cold_chain", "handles_bulky", "active"):
        if (row.get(column) or "").strip():
            value = flag_value(row[column], column, errors)
            if value is not None:
                fields[column] = value
    return code, fields, errors


@transaction.atomic
def product_upsert(*, sku: str, fields: dict) -> tuple[Product, str]:
    """Create the product with this SKU or update the fields given.
    Returns (product, "created" | "updated" | "unchanged")."""
    product = Product.objects.select_for_update(of=("self",)).filter(sku=sku).first()
    if product is None:
        if not fields.get("name"):
            raise DomainError("name: " + gettext_noop("a new product needs a name."))
        return Product.objects.create(sku=sku, **fields), "created"
    changed = [k for k, v in fields.items() if getattr(product, k) != v]
    for key in changed:
        setattr(product, key, fields[key])
    if changed:
        product.save(update_fields=changed)
    return product, "updated" if changed else "unchanged"


@transaction.atomic
def location_upsert(*, code: str, fields: dict) -> tuple[Location, str]:
    """Create the location with this code or update the fields given.
    Returns (location, "created" | "updated" | "unchanged")."""
    location = Location.objects.select_for_update(of=("self",)).filter(code=code).first()
    if location is None:
        if not fields.get("name"):
            raise DomainError("name: " + gettext_noop("a new location needs a name."))
        return Location.objects.create(code=code, **fields), "created"
    changed = [k for k, v in fields.items() if getattr(location, k) != v]
    for key in changed:
        setattr(location, key, fields[key])
    if changed:
        location.save(update_fields=changed)
    return location, "updated" if changed else "unchanged"
