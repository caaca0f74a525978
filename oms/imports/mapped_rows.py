"""Applying a confirmed column mapping (oms/imports/column_mapping.py) to an import's rows: ``MappedRows`` turns
each data row into ``{field: text}`` with the units converted exactly (``convert``, ``convert_triple``) and the
choice synonyms resolved (``resolve_value``); ``renamed_header`` names a file's columns by their fields for the
readers that take columns by name."""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext_noop

from .column_mapping import UNIT_ALTERNATION, UNIT_KIND, UNITS, WORD_UNIT, Field, norm

# A cell: a number, and the unit written after it when there is one ("500 g", "1.25kg").
CELL = re.compile(rf"^(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?P<unit>{UNIT_ALTERNATION})?$")
# A cell's value that is not a number (a row's error, kept in English like every row error), and the unit the
# column was read in after it ("'abc' is not a number. (kg)").
NOT_A_NUMBER = gettext_noop("%(value)s is not a number.")
COMMA_NUMBER = gettext_noop(
    "%(value)s: a number with a comma is ambiguous; write it with a dot for decimals and no separators."
)
IN_UNIT = gettext_noop("%(error)s (%(unit)s)")


def parse_number(text: str) -> tuple[Decimal | None, str]:
    """(number, unit written in the cell) or (None, reason)."""
    value = unicodedata.normalize("NFKC", text).strip().lower()
    if "," in value:
        return (
            None,
            COMMA_NUMBER % {"value": repr(text)},
        )
    match = CELL.match(value.replace(" ", "")) or CELL.match(value)
    if not match:
        return None, NOT_A_NUMBER % {"value": repr(text)}
    try:
        number = Decimal(match.group("number"))
    except InvalidOperation:
        return None, NOT_A_NUMBER % {"value": repr(text)}
    return number, WORD_UNIT.get(match.group("unit") or "", "")


def convert(text: str, f: Field, unit: str) -> tuple[str, str]:
    """(value in the stored unit as text, error): exact Decimal conversion, then half-up to whole."""
    number, cell_unit = parse_number(text)
    if number is None:
        return "", cell_unit
    if cell_unit and UNIT_KIND.get(cell_unit) != f.unit_kind:
        return "", f"{text!r}: {cell_unit} is not a {f.unit_kind} unit."
    unit = cell_unit or unit
    if unit not in UNITS[f.unit_kind]:
        return "", f"{unit!r} is not a {f.unit_kind} unit."
    if unit == f.stored_unit and not cell_unit:
        return text.strip(), ""
    exact = number * UNITS[f.unit_kind][unit]
    if not exact.is_finite() or abs(exact) >= Decimal("1e12"):
        return "", f"{text!r} is out of range."
    return str(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))), ""


def convert_triple(text: str, f: Field, unit: str) -> tuple[str, str]:
    """``30 x 20 x 10`` in ``unit`` → ``300x200x100`` in the stored unit; a unit written after the
    last number (``30x20x10 cm``) is the unit of all three."""
    value = unicodedata.normalize("NFKC", text).strip().lower()
    parts = [p for p in re.split(r"\s*[x×*]\s*", value) if p]
    if len(parts) != 3:
        return "", f"{text!r}: write length x width x height, e.g. 30x20x10."
    cells = [CELL.match(p.replace(" ", "")) for p in parts]
    if cells[2] and cells[2].group("unit") and all(c and not c.group("unit") for c in cells[:2]):
        parts = [p + cells[2].group("unit") for p in parts[:2]] + [parts[2]]
    out = []
    for part in parts:
        converted, error = convert(part, f, unit)
        if error:
            return "", error
        out.append(converted)
    return "x".join(out), ""


def value_lookup(f: Field) -> dict[str, str]:
    """{normalized synonym: canonical value} of a choice field."""
    lookup = {}
    for canonical, words in f.values.items():
        lookup.update({norm(w): canonical for w in words})
        lookup[norm(canonical)] = canonical
    return lookup


def resolve_value(text: str, f: Field, lookup: dict | None = None) -> str:
    """A choice's synonym → the canonical value; anything else as written (the importer judges it)."""
    return (lookup if lookup is not None else value_lookup(f)).get(norm(text), text.strip())


@dataclass
class MappedRows:
    """Data rows as ``(row number, {field: text}, [{field, message}])`` under a confirmed mapping."""

    mapping: dict
    fields: list[Field]

    def __post_init__(self):
        by_name = {f.name: f for f in self.fields}
        self.plan = [
            (c["index"], by_name[c["field"]], c.get("unit") or "")
            for c in self.mapping["columns"]
            if c.get("field") in by_name
        ]
        self.lookups = {f.name: value_lookup(f) for _i, f, _u in self.plan if f.values}

    def row(self, cells: list[str]) -> tuple[dict, list[dict]]:
        values: dict = {}
        errors: list[dict] = []
        for index, f, unit in self.plan:
            text = (cells[index] if index < len(cells) else "").strip()
            if text and f.kind == "measure":
                text, error = convert(text, f, unit)
            elif text and f.kind == "measures":
                text, error = convert_triple(text, f, unit)
            elif text and f.values:
                text, error = resolve_value(text, f, self.lookups[f.name]), ""
            else:
                error = ""
            if error:
                errors.append({"field": f.name, "message": IN_UNIT % {"error": error, "unit": unit} if unit else error})
            values[f.name] = text
        return values, errors

    def __call__(self, rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, dict, list[dict]]]:
        for number, cells in rows:
            values, errors = self.row(cells)
            yield number, values, errors


def header_matches(mapping: dict, header: list[str]) -> bool:
    stored = [c["header"] for c in mapping.get("columns", [])]
    return [norm(h) for h in stored] == [norm(h) for h in header]


def renamed_header(rows: Iterator[tuple[int, list[str]]], mapping: dict) -> Iterator[tuple[int, list[str]]]:
    """A row source whose header row names each column by its field (unused columns: blank), for
    readers that take columns by name (the order formats); the data rows pass through unchanged."""
    rows = iter(rows)
    names = {c["index"]: c.get("field") or "" for c in mapping.get("columns", [])}
    for number, cells in rows:
        if any(str(c).strip() for c in cells):
            yield number, [names.get(i, "") for i in range(len(cells))]
            break
        yield number, cells
    yield from rows
