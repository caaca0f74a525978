"""The column-mapping step of every import (oms/imports/): which file column feeds which field of
the importer, in which unit, and which columns are not used.

An importer declares its fields (``Importer.fields()``): a name, a type, synonyms (English and
Chinese headers), a unit kind with the unit the database stores, and value synonyms for choices.
``propose`` matches a file's header to them; the person sees the proposal on the mapping page,
changes it if need be and confirms; ``MappedRows`` turns each data row into ``{field: text}`` with
the units converted and the choice synonyms resolved, so the importer's own validation sees the
canonical names and values.

Units are converted exactly, in ``Decimal``: 1 kg = 1000 g, 1 lb = 453.59237 g (the international
pound), 1 oz = 28.349523125 g, 1 cm = 10 mm, 1 m = 1000 mm, 1 in = 25.4 mm; the exact result is
then rounded half-up to the whole stored unit (grams, millimetres), because that is what the
catalogue stores. A value in the stored unit itself is passed on as written (the importer refuses
a fraction of a gram). A cell may carry its own unit (``500 g`` in a kg column). A number with a
comma is refused as ambiguous (``1,5``: one and a half, or fifteen?), never guessed.

The mapping is JSON on the job (``options["column_mapping"]``), so the preview and the background
job read the confirmed mapping the same way::

    {"confirmed": true, "columns": [{"index": 0, "header": "Weight (kg)", "field": "weight_g",
     "unit": "kg", "unit_assumed": false, "samples": ["1.25", "0.4"]}, ...]}
"""

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import get_language, gettext, gettext_noop

OPTION_KEY = "column_mapping"
SAMPLE_ROWS = 20  # data rows read for the sample values on the mapping page
SAMPLES = 3  # sample values shown per column

# unit kind -> {unit: its size in the stored unit of that kind}; the stored unit is the one of size 1
UNITS: dict[str, dict[str, Decimal]] = {
    "weight": {"g": Decimal(1), "kg": Decimal(1000), "lb": Decimal("453.59237"), "oz": Decimal("28.349523125")},
    "length": {"mm": Decimal(1), "cm": Decimal(10), "m": Decimal(1000), "in": Decimal("25.4")},
}
UNIT_WORDS = {
    "g": ("g", "gr", "gram", "grams", "克"),
    "kg": ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "千克", "公斤"),
    "lb": ("lb", "lbs", "pound", "pounds", "磅"),
    "oz": ("oz", "ounce", "ounces", "盎司"),
    "mm": ("mm", "millimetre", "millimetres", "millimeter", "millimeters", "毫米"),
    "cm": ("cm", "centimetre", "centimetres", "centimeter", "centimeters", "厘米", "公分"),
    "m": ("m", "metre", "metres", "meter", "meters", "米"),
    "in": ("in", "inch", "inches", "英寸"),
}
WORD_UNIT = {word: unit for unit, words in UNIT_WORDS.items() for word in words}
UNIT_KIND = {unit: kind for kind, units in UNITS.items() for unit in units}
_CJK = "\u3400-\u9fff"
UNIT_ALTERNATION = "|".join(sorted(map(re.escape, WORD_UNIT), key=len, reverse=True))
# "weight (kg)", "weight [kg]", "weight kg", "weight/kg", "重量kg", "重量(千克)"
_HEADER_UNIT = re.compile(
    rf"^(?P<base>.*?)(?:\s*[(\[]\s*|\s+|\s*/\s*|(?<=[{_CJK}]))(?P<unit>{UNIT_ALTERNATION})\s*[)\]]?$"
)


_FIELD_TITLES: set[str] = set()  # the English labels of the fields made so far (``field_words``)


@dataclass(frozen=True)
class Field:
    """One thing an importer reads. ``kind``: text, number, choice, flag, measure (a number in a
    unit of ``unit_kind``), measures (``l x w x h`` in a unit of ``unit_kind``)."""

    name: str
    label: str = ""
    kind: str = "text"
    required: bool = False
    synonyms: tuple[str, ...] = ()
    unit_kind: str = ""  # weight, length
    stored_unit: str = ""  # g, mm: what the database keeps
    values: dict = field(default_factory=dict)  # choice: canonical value -> its synonyms
    help: str = ""

    @property
    def units(self) -> list[str]:
        return list(UNITS.get(self.unit_kind, {}))

    def __post_init__(self):
        if self.label:
            _FIELD_TITLES.add(str(self.label))

    @property
    def english_title(self) -> str:
        """Its English label, else its name: what a stored message names it by."""
        return str(self.label) if self.label else self.name

    @property
    def title(self) -> str:
        """The field's label in the reader's language (its own label, else the common one for its name, else its
        name): what the mapping and preview pages show beside the file's own column names."""
        return gettext(str(self.label)) if self.label else field_label(self.name)


# Headers people write for the columns every app uses; an importer's own Field synonyms add to them.
COMMON_SYNONYMS: dict[str, tuple[str, ...]] = {
    "sku": (
        "sku code",
        "item code",
        "item no",
        "item number",
        "product code",
        "article number",
        "商品编码",
        "商品编号",
        "货号",
        "sku编码",
        "产品编码",
        "物料编码",
        "编码",
    ),
    "name": ("title", "product name", "item name", "product", "品名", "名称", "商品名称", "产品名称", "商品名"),
    "quantity": ("qty", "quantity", "数量", "件数"),
    "location": ("location code", "warehouse", "warehouse code", "仓库", "仓库编码", "库房"),
    "from_location": ("from", "source", "source location", "from warehouse", "调出仓", "调出仓库"),
    "to_location": ("to", "destination", "destination location", "to warehouse", "调入仓", "调入仓库"),
    "bin": ("bin location", "bin code", "slot", "库位", "货位", "储位"),
    "code": ("编码", "代码"),
    "barcode": ("ean", "upc", "gtin", "ean13", "条码", "条形码"),
    "price": ("unit price", "sale price", "retail price", "售价", "价格", "单价"),
    "reference": ("ref", "reference number", "document", "参考号", "单号"),
    "reason": ("原因", "说明"),
    "reason_code": ("reason code", "原因代码"),
    "delta": ("change", "adjustment", "adjust", "调整数量", "调整"),
    "counted": ("count", "counted quantity", "counted qty", "盘点数量", "实盘数量", "实盘"),
    "active": ("enabled", "is active", "启用", "有效"),
    "zone": ("area", "区域", "库区"),
    "pick_sequence": ("sequence", "pick order", "拣货顺序", "顺序"),
    "lead_time_days": ("lead time", "lead days", "交期", "交期天数", "采购周期"),
    "kind": ("type", "location type", "类型"),
    "country": ("country code", "国家"),
    "province": ("state", "region", "省", "省份"),
    "city": ("城市", "市"),
    "address": ("street", "address line", "地址", "详细地址"),
    "postcode": ("zip", "zip code", "postal code", "邮编"),
    "phone": ("telephone", "tel", "mobile", "电话", "手机"),
    "latitude": ("lat", "纬度"),
    "longitude": ("lng", "lon", "long", "经度"),
    "daily_capacity": ("capacity", "daily orders", "日产能", "日处理量"),
    "cold_chain": ("cold", "refrigerated", "冷链"),
    "handles_bulky": ("bulky", "oversize", "大件"),
}


# The labels of the fields every app reads (and of the columns a preview shows), by name: shown in the reader's
# language where a page would show the name (a code such as ``from_location``). An app adds its own names
# (``FIELD_LABELS.update``, e.g. orders/importers.py for the OMS order template).
FIELD_LABELS: dict[str, str] = {
    "sku": "SKU",
    "name": gettext_noop("Name"),
    "quantity": gettext_noop("Quantity"),
    "location": gettext_noop("Location"),
    "from_location": gettext_noop("From location"),
    "to_location": gettext_noop("To location"),
    "bin": gettext_noop("Bin"),
    "code": gettext_noop("Code"),
    "barcode": gettext_noop("Barcode"),
    "price": gettext_noop("Price"),
    "reference": gettext_noop("Reference"),
    "reason": gettext_noop("Reason"),
    "reason_code": gettext_noop("Reason code"),
    "delta": gettext_noop("Change"),
    "counted": gettext_noop("Counted"),
    "active": gettext_noop("Active"),
    "zone": gettext_noop("Zone"),
    "pick_sequence": gettext_noop("Pick sequence"),
    "lead_time_days": gettext_noop("Lead time (days)"),
    "kind": gettext_noop("Kind"),
    "country": gettext_noop("Country"),
    "province": gettext_noop("Province"),
    "city": gettext_noop("City"),
    "address": gettext_noop("Address"),
    "postcode": gettext_noop("Postcode"),
    "phone": gettext_noop("Phone"),
    "latitude": gettext_noop("Latitude"),
    "longitude": gettext_noop("Longitude"),
    "daily_capacity": gettext_noop("Daily capacity"),
    "cold_chain": gettext_noop("Cold chain (yes/no)"),
    "handles_bulky": gettext_noop("Handles bulky goods (yes/no)"),
    "handling_class": gettext_noop("Handling class"),
    "weight_g": gettext_noop("Weight (g)"),
    "length_mm": gettext_noop("Length (mm)"),
    "width_mm": gettext_noop("Width (mm)"),
    "height_mm": gettext_noop("Height (mm)"),
    "dimensions": gettext_noop("Dimensions (L x W x H)"),
}


def field_label(name) -> str:
    """A field's (or a preview column's) label in the reader's language; a name it does not know as it is."""
    text = "" if name is None else str(name)
    known = FIELD_LABELS.get(text)
    return gettext(known) if known else text


def fields_from_columns(columns, required=(), *, extra: dict | None = None) -> list["Field"]:
    """Plain text fields for an importer that declares only its column names (synonyms from
    COMMON_SYNONYMS and ``extra``)."""
    extra = extra or {}
    return [
        Field(name=c, required=c in required, synonyms=COMMON_SYNONYMS.get(c, ()) + tuple(extra.get(c, ())))
        for c in columns
    ]


def norm(text) -> str:
    """A header or value as compared: NFKC (full-width → ASCII), lower case, _ - . as spaces."""
    text = unicodedata.normalize("NFKC", str(text or "")).replace("\ufeff", "").lower()
    text = re.sub(r"[_\-.:：]+", " ", text)
    return " ".join(text.split())


def split_unit(header: str) -> tuple[str, str]:
    """(base, unit) of a normalized header: ``weight kg`` → (``weight``, ``kg``); no unit → (header, "")."""
    match = _HEADER_UNIT.match(header)
    if match and match.group("base").strip(" (/"):
        return match.group("base").strip(" (/"), WORD_UNIT[match.group("unit")]
    return header, ""


# ---- the proposal ------------------------------------------------------------------------------


def _names(f: Field) -> set[str]:
    names = {norm(f.name), *(norm(s) for s in f.synonyms)}
    if f.label:
        names.add(norm(f.label))
    return names


def propose(header: list[str], fields: list[Field], samples: list[list[str]] | None = None) -> dict:
    """The proposed mapping of a header to fields: each column → the best field, each field at most
    once (an exact name beats a synonym, the first column wins a tie)."""
    candidates = []  # (score, column index, field, unit)
    for index, cell in enumerate(header):
        full = norm(cell)
        if not full:
            continue
        base, unit = split_unit(full)
        for f in fields:
            names = _names(f)
            if full == norm(f.name):
                score = 0
            elif full in names:
                score = 1
            elif unit and f.unit_kind and UNIT_KIND.get(unit) == f.unit_kind and base in names:
                score = 1  # "weight_kg" is as good a "weight" as "weight": the first column wins
            else:
                continue
            candidates.append((score, index, f, unit if UNIT_KIND.get(unit) == f.unit_kind else ""))
    taken_fields: set[str] = set()
    chosen: dict[int, tuple[Field, str]] = {}
    for _score, index, f, unit in sorted(candidates, key=lambda c: (c[0], c[1])):
        if index in chosen or f.name in taken_fields:
            continue
        chosen[index] = (f, unit)
        taken_fields.add(f.name)
    columns = []
    for index, cell in enumerate(header):
        f, unit = chosen.get(index, (None, ""))
        entry = {"index": index, "header": str(cell), "field": f.name if f else "", "unit": "", "unit_assumed": False}
        if f is not None and f.unit_kind:
            own_name = norm(cell) == norm(f.name)  # the template's own column: its documented unit
            entry["unit"] = unit or f.stored_unit
            entry["unit_assumed"] = not unit and not own_name
        entry["samples"] = _samples(samples or [], index)
        columns.append(entry)
    return {"confirmed": False, "columns": columns}


def _samples(rows: list[list[str]], index: int) -> list[str]:
    values: list[str] = []
    for cells in rows:
        value = cells[index].strip() if index < len(cells) else ""
        if value and value not in values:
            values.append(value[:60])
        if len(values) >= SAMPLES:
            break
    return values


def is_exact(mapping: dict, fields: list[Field]) -> bool:
    """Every column is a field under the field's own name, no unit assumed, nothing unused: the file
    is the importer's own template, and the mapping step has nothing to ask."""
    names = {f.name: f for f in fields}
    for column in mapping.get("columns", []):
        f = names.get(column["field"])
        if f is None or norm(column["header"]) != norm(f.name) or column.get("unit_assumed"):
            return False
        if f.unit_kind and column.get("unit") != f.stored_unit:
            return False
    return True


# ---- checking a mapping ------------------------------------------------------------------------


def unused(mapping: dict) -> list[str]:
    """The file's columns that feed no field, as the person knows them (header, or its position)."""
    return [
        column["header"].strip() or f"column {column['index'] + 1} (no header)"
        for column in mapping.get("columns", [])
        if not column.get("field")
    ]


def mapped(mapping: dict) -> dict[str, dict]:
    """field name → its column entry."""
    return {c["field"]: c for c in mapping.get("columns", []) if c.get("field")}


def missing_required(mapping: dict, fields: list[Field]) -> list[Field]:
    taken = mapped(mapping)
    return [f for f in fields if f.required and f.name not in taken]


def check(mapping: dict, fields: list[Field]) -> list[str]:
    """Every reason the mapping cannot be used; empty when it can."""
    by_name = {f.name: f for f in fields}
    errors: list[str] = []
    seen: dict[str, str] = {}
    for column in mapping.get("columns", []):
        name = column.get("field") or ""
        if not name:
            continue
        f = by_name.get(name)
        header = column["header"] or f"column {column['index'] + 1}"
        if f is None:
            errors.append(NO_FIELD % {"header": repr(header), "name": repr(name)})
            continue
        if name in seen:
            errors.append(TWICE % {"field": f.english_title, "first": repr(seen[name]), "second": repr(header)})
        seen[name] = header
        unit = column.get("unit") or ""
        if f.unit_kind and unit not in UNITS[f.unit_kind]:
            values = {"header": repr(header), "field": f.english_title, "kind": f.unit_kind}
            errors.append(UNIT % {**values, "units": ", ".join(f.units), "unit": repr(unit)})
    missing = missing_required(mapping, fields)
    if missing:
        errors.append(MISSING % {"missing": ", ".join(f.english_title for f in missing)})
    return errors


# What ``check`` says, in English (an import job keeps it as its file error), shown in the reader's language through
# the known phrases (oms/imports/words.py registers them), the fields as their labels.
NO_FIELD = gettext_noop("%(header)s: there is no field %(name)s.")
TWICE = gettext_noop("%(field)s is chosen for two columns: %(first)s and %(second)s; choose one.")
UNIT = gettext_noop("%(header)s → %(field)s: choose a %(kind)s unit (%(units)s), not %(unit)s.")
MISSING = gettext_noop(
    "Missing column(s): %(missing)s. Choose the file column for each required field, or fix the file."
)
UNIT_KINDS = {"weight": gettext_noop("weight"), "length": gettext_noop("length")}


def unit_shape() -> str:
    """``known_shape``: a unit the mapping knows (kg, g, lb, cm, mm, in…)."""
    units = {unit for kind in UNITS.values() for unit in kind}
    return "(?:" + "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True)) + ")"


def field_words(text) -> str:
    """Fields as a message names them ("quantity", "SKU, Name": a field's name or its English label, joined by
    ", ") in the reader's language; what is neither stays as it is."""
    if (get_language() or "en").startswith("en"):
        return str(text or "")  # as the message names them (English pages read as before)
    labels = set(FIELD_LABELS.values()) | _FIELD_TITLES
    shown = []
    for part in str(text or "").split(", "):
        if part in FIELD_LABELS:
            shown.append(field_label(part))
        elif part in labels:
            shown.append(gettext(part))
        else:
            shown.append(part)
    return ", ".join(shown)


def unit_kind_words(kind) -> str:
    known = UNIT_KINDS.get(str(kind))
    return gettext(known) if known else str(kind)


def with_choices(mapping: dict, fields: list[Field], data) -> dict:
    """The mapping with the person's choices from the mapping form (``field-<i>``, ``unit-<i>``)."""
    by_name = {f.name: f for f in fields}
    columns = []
    for column in mapping.get("columns", []):
        index = column["index"]
        entry = dict(column)
        name = (data.get(f"field-{index}") or "").strip()
        entry["field"] = name
        f = by_name.get(name)
        if f is not None and f.unit_kind:
            unit = (data.get(f"unit-{index}") or "").strip()
            if unit not in UNITS[f.unit_kind]:
                # the unit select lists every kind's units; a blank or other-kind choice keeps what
                # the header said, else the stored unit, and check() refuses a wrong kind
                unit = unit or (column.get("unit") if UNIT_KIND.get(column.get("unit", "")) == f.unit_kind else "")
                unit = unit or f.stored_unit
            entry["unit"] = unit
            # the warning stays while the unit is still the one assumed from a header without a unit
            entry["unit_assumed"] = bool(column.get("unit_assumed")) and unit == column.get("unit")
        else:
            entry["unit"] = ""
            entry["unit_assumed"] = False
        columns.append(entry)
    return {**mapping, "columns": columns}


def conversion_text(f: Field, unit: str) -> str:
    """How a value in ``unit`` becomes the stored one, for the page: ``× 1000 (1 kg = 1000 g)``."""
    if not f.unit_kind or not unit:
        return ""
    size = UNITS[f.unit_kind].get(unit)
    if size is None:
        return ""
    if unit == f.stored_unit:
        return f"stored as written, in {unit}"
    return f"1 {unit} = {size.normalize():f} {f.stored_unit} exactly; rounded to the whole {f.stored_unit}"
