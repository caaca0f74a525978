"""Inventory's spreadsheet importers for the generic import pages (oms/imports/): products and
locations (upserts, inventory/catalog.py), opening stock (receipts), and the stock movements of
inventory/resources.py (receipts, adjustments, cycle counts, transfers).

Every row goes through a service in its own savepoint, in batches of ``BATCH`` rows. The preview
runs exactly the same code inside a transaction that is rolled back, so it shows what a real
import would refuse — including rules only the services know ("below what is reserved") — and
writes nothing.
"""

from abc import abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from oms.errors import DomainError
from oms.imports import (
    PREVIEW_CHECK,
    FileUnusable,
    Importer,
    PreviewResult,
    PreviewRow,
    add_error,
    count_data_rows,
    read_mapped,
    register_importer,
)
from oms.imports.column_mapping import COMMON_SYNONYMS, Field, fields_from_columns

from . import bins, catalog, resources
from .models import HandlingClass, Location, LocationKind, ReasonCode

lazy_lower = lazy(lambda text: str(text).lower(), str)  # "Stock: receipts", in the reader's language

BATCH = 100

HANDLING_VALUES = {
    HandlingClass.FRESH: (
        "perishable",
        "perishables",
        "fresh",
        "chilled",
        "frozen",
        "cold",
        "cold chain",
        "冷鲜",
        "生鲜",
        "冷藏",
        "冷冻",
        "易腐",
        "鲜活",
    ),
    HandlingClass.FRAGILE: ("fragile", "breakable", "glass", "易碎", "易碎品"),
    HandlingClass.BULKY: ("bulky", "oversize", "oversized", "large", "大件", "超大件", "大件商品"),
    HandlingClass.STANDARD: ("standard", "normal", "regular", "general", "none", "普通", "常规", "标准", "普货"),
}
PRODUCT_FIELDS = [
    Field("sku", gettext_noop("SKU"), required=True, synonyms=COMMON_SYNONYMS["sku"]),
    Field("name", gettext_noop("Name"), synonyms=COMMON_SYNONYMS["name"]),
    Field(
        "handling_class",
        gettext_noop("Handling class"),
        kind="choice",
        synonyms=(
            "handling",
            "handling type",
            "type",
            "product type",
            "goods type",
            "类型",
            "处理类型",
            "商品属性",
            "属性",
            "货物类型",
            "操作类型",
        ),
        values={str(k): v for k, v in HANDLING_VALUES.items()},
    ),
    Field(
        "weight_g",
        gettext_noop("Weight"),
        kind="measure",
        unit_kind="weight",
        stored_unit="g",
        synonyms=(
            "weight",
            "unit weight",
            "item weight",
            "gross weight",
            "net weight",
            "shipping weight",
            "wt",
            "重量",
            "毛重",
            "净重",
            "单重",
            "单件重量",
        ),
    ),
    Field(
        "length_mm",
        gettext_noop("Length"),
        kind="measure",
        unit_kind="length",
        stored_unit="mm",
        synonyms=("length", "len", "l", "长", "长度"),
    ),
    Field(
        "width_mm",
        gettext_noop("Width"),
        kind="measure",
        unit_kind="length",
        stored_unit="mm",
        synonyms=("width", "w", "宽", "宽度"),
    ),
    Field(
        "height_mm",
        gettext_noop("Height"),
        kind="measure",
        unit_kind="length",
        stored_unit="mm",
        synonyms=("height", "h", "高", "高度"),
    ),
    Field(
        "dimensions",
        gettext_noop("Dimensions (L x W x H)"),
        kind="measures",
        unit_kind="length",
        stored_unit="mm",
        synonyms=("size", "dims", "dimension", "l x w x h", "lxwxh", "尺寸", "长宽高", "规格尺寸"),
    ),
    Field("price", gettext_noop("Price"), synonyms=COMMON_SYNONYMS["price"]),
    Field("barcode", gettext_noop("Barcode"), synonyms=COMMON_SYNONYMS["barcode"]),
    Field("lead_time_days", gettext_noop("Lead time (days)"), synonyms=COMMON_SYNONYMS["lead_time_days"]),
    Field("active", gettext_noop("Active"), synonyms=COMMON_SYNONYMS["active"]),
    Field(
        "perishable",
        gettext_noop("Perishable (yes/no → fresh)"),
        kind="flag",
        synonyms=("is perishable", "fresh", "is fresh", "needs cold chain", "生鲜", "冷鲜", "易腐", "是否生鲜"),
    ),
    Field("fragile", gettext_noop("Fragile (yes/no)"), kind="flag", synonyms=("is fragile", "易碎", "是否易碎")),
    Field(
        "bulky",
        gettext_noop("Bulky (yes/no)"),
        kind="flag",
        synonyms=("is bulky", "oversize", "oversized", "大件", "是否大件"),
    ),
]
LOCATION_KIND_VALUES = {
    LocationKind.WAREHOUSE: ("warehouse", "dc", "distribution centre", "distribution center", "仓库", "仓"),
    LocationKind.STORE: ("store", "shop", "门店", "店铺"),
    LocationKind.FACTORY: ("factory", "plant", "工厂"),
}


@dataclass
class Item:
    number: int
    values: dict
    args: dict | None = None
    errors: list[dict] = field(default_factory=list)
    outcome: str = ""


class RowImporter(Importer):
    """One row, one service call. Subclasses write ``parse`` (a batch, with lookups) and ``apply``."""

    counts_as = {"created": "created", "updated": "updated", "unchanged": "duplicates"}

    @abstractmethod
    def parse(self, rows: list[tuple[int, dict]]) -> list[Item]:
        """Each concrete subclass implements this."""

    @abstractmethod
    def apply(self, args: dict, *, user) -> str:
        """Each concrete subclass implements this."""

    def _items(self, path: Path, options: dict):
        """(row, {field: value}, conversion errors) under the job's confirmed column mapping."""
        return read_mapped(self, path, options)

    def _parse(self, batch: list[tuple[int, dict, list[dict]]]) -> list[Item]:
        items = self.parse([(number, row) for number, row, _errors in batch])
        for item, (_number, _row, errors) in zip(items, batch, strict=True):
            item.errors[:0] = errors
        return items

    def _process(self, items: list[Item], *, user) -> None:
        for item in items:
            if item.errors:
                continue
            try:
                with transaction.atomic():
                    item.outcome = self.apply(item.args, user=user)
            except DomainError as exc:
                text = str(exc)
                column, sep, message = text.partition(": ")
                if sep and column in self.columns:
                    item.errors.append({"field": column, "message": message})
                else:
                    item.errors.append({"field": "", "message": text})

    def _batches(self, path: Path, options: dict):
        batch: list[tuple[int, dict, list[dict]]] = []
        for entry in self._items(path, options):
            batch.append(entry)
            if len(batch) >= BATCH:
                yield self._parse(batch)
                batch = []
        if batch:
            yield self._parse(batch)

    def preview(self, path: Path, options: dict) -> PreviewResult:
        result = PreviewResult(columns=list(self.columns))
        try:
            with transaction.atomic():
                for items in self._batches(path, options):
                    self._process(items, user=None)
                    for item in items:
                        if result.checked >= PREVIEW_CHECK:
                            result.complete = False
                            break
                        result.add(PreviewRow(item.number, item.values, item.errors, item.outcome))
                    if not result.complete:
                        break
                transaction.set_rollback(True)
        except FileUnusable as exc:
            result.file_error = str(exc)
            return result
        result.total = count_data_rows(path) if not result.complete else result.checked
        present = [c for c in self.columns if any(c in r.values for r in result.rows)]
        result.columns = present or list(self.columns)
        if not result.checked:
            result.file_error = "The file has a header but no rows."
        return result

    def run(self, path: Path, job, progress) -> dict:
        counts = dict.fromkeys(("created", "updated", "duplicates", "held", "rejected"), 0)
        processed = 0
        for items in self._batches(path, job.options):
            self._process(items, user=job.user)
            for item in items:
                if item.errors:
                    counts["rejected"] += 1
                    for error in item.errors:
                        add_error(job, item.number, error["field"], error["message"])
                else:
                    counts[self.counts_as.get(item.outcome, "created")] += 1
            processed += len(items)
            progress(processed, counts)
        counts["processed"] = processed
        return counts


class ProductImporter(RowImporter):
    label = _("Products (create or update by SKU)")
    position = 20
    permission = "inventory.add_product"
    columns = catalog.PRODUCT_COLUMNS
    required = ("sku",)
    help = _(
        "One row per product, matched by SKU: a new SKU is created (it needs a name), a known one is "
        "updated. A blank cell leaves the value alone. handling_class: standard, fresh, fragile, bulky; "
        "dimensions: length x width x height in mm (or the three *_mm columns)."
    )

    def fields(self):
        return PRODUCT_FIELDS

    def parse(self, rows):
        items = []
        for number, row in rows:
            sku, fields, errors = catalog.clean_product(row)
            values = {c: row.get(c, "") for c in self.columns if c in row}
            if fields.get("handling_class") and not values.get("handling_class"):
                values["handling_class"] = fields["handling_class"]  # from a perishable/fragile/bulky flag
            items.append(Item(number, values, {"sku": sku, "fields": fields}, list(errors)))
        return items

    def apply(self, args, *, user):
        return catalog.product_upsert(sku=args["sku"], fields=args["fields"])[1]


class LocationImporter(RowImporter):
    label = _("Locations (create or update by code)")
    position = 30
    permission = "inventory.add_location"
    columns = catalog.LOCATION_COLUMNS
    required = ("code",)
    help = _(
        "One row per location, matched by code: a new code is created (it needs a name), a known one is "
        "updated. kind: warehouse, store, factory; cold_chain, handles_bulky, active: yes or no."
    )

    def fields(self):
        fields = fields_from_columns(self.columns, self.required)
        return [
            Field(
                f.name, kind="choice", synonyms=f.synonyms, values={str(k): v for k, v in LOCATION_KIND_VALUES.items()}
            )
            if f.name == "kind"
            else f
            for f in fields
        ]

    def parse(self, rows):
        items = []
        for number, row in rows:
            code, fields, errors = catalog.clean_location(row)
            values = {c: row.get(c, "") for c in self.columns if c in row}
            items.append(Item(number, values, {"code": code, "fields": fields}, list(errors)))
        return items

    def apply(self, args, *, user):
        return catalog.location_upsert(code=args["code"], fields=args["fields"])[1]


def _row_error(exc: Exception) -> dict:
    column, sep, message = str(exc).partition(": ")
    if sep and " " not in column:
        return {"field": column, "message": message}
    return {"field": "", "message": str(exc)}


class ResourceImporter(RowImporter):
    """A stock movement of inventory/resources.py, one row one movement."""

    permission = "inventory.change_stock"
    counts_as: dict = {}
    position = 40

    def __init__(self, resource: resources.Resource, *, label: str = "", help: str = ""):  # noqa: A002
        self.resource = resource
        self.label = label or format_lazy(_("Stock: {kind}"), kind=lazy_lower(resource.label))
        self.columns = resource.columns
        self.required = resource.required
        self.help = help

    def parse(self, rows):
        lookups = resources.Lookups([row for _, row in rows])
        items = []
        for number, row in rows:
            item = Item(number, {c: row.get(c, "") for c in self.columns})
            try:
                item.args = self.resource.parse(row, lookups)
            except resources.RowError as exc:
                item.errors.append(_row_error(exc))
            items.append(item)
        return items

    def apply(self, args, *, user):
        done = self.resource.apply(args, user=user)
        # A receipt row received before under its reference (a re-uploaded sheet) adds nothing: a duplicate.
        return "unchanged" if isinstance(done, resources.Unchanged) else "created"


class OpeningStockResource(resources.ReceiptResource):
    kind, label = "stock", "Stock on hand"
    columns = ("location", "sku", "quantity", "bin", "reference")
    required = ("location", "sku", "quantity")

    def parse(self, row, lookups):
        args = super().parse(row, lookups)
        args["reason_code"] = ReasonCode.OPENING
        # Without a reference of its own, the row gets the default one and adds as before (not received once).
        args["once"] = bool(args["reference"])
        args["reference"] = args["reference"] or "opening stock"
        return args


class TransferImporter(ResourceImporter):
    """Rows with the same from, to and reference are one transfer, sent whole or not at all: the
    rows are taken together (transfer files are short), not in batches."""

    def _batches(self, path, options):
        rows = list(self._items(path, options))
        if rows:
            yield self._parse(rows)

    def _process(self, items, *, user):
        results = [resources.RowResult(i.number, i.values, [e["message"] for e in i.errors]) for i in items]
        parsed = [(r, i.args) for r, i in zip(results, items, strict=True) if i.args is not None and not i.errors]
        resources.apply_transfers(results, parsed, user=user)
        for item, result in zip(items, results, strict=True):
            item.outcome = result.outcome and "created"
            known = {e["message"] for e in item.errors}
            item.errors += [{"field": "", "message": m} for m in result.errors if m not in known]


register_importer("products", ProductImporter())
register_importer("locations", LocationImporter())
register_importer(
    "stock",
    ResourceImporter(
        OpeningStockResource(),
        label=_("Stock on hand (opening balances)"),
        help=_("Received into stock with reason 'opening balance'; quantities add to what is on hand."),
    ),
)
for _kind in ("receipts", "adjustments", "counts"):
    register_importer(f"stock-{_kind}", ResourceImporter(resources.RESOURCES[_kind]))
register_importer(
    "stock-transfers",
    TransferImporter(
        resources.RESOURCES["transfers"],
        help=_("Rows with the same from_location, to_location and reference make one transfer."),
    ),
)


class BinImporter(RowImporter):
    """Bins per location, created or updated by (location, code): inventory/bins.py."""

    label = _("Bins (create or update by location and code)")
    position = 35
    permission = "inventory.add_bin"
    columns = ("location", "code", "zone", "pick_sequence", "active")
    required = ("location", "code")
    help = _(
        "One row per bin, matched by location code and bin code: a new code is created, a known one is "
        "updated. pick_sequence: 0 or more (pickers walk bins in this order); active: yes or no (blank: yes). "
        "A bin that still holds stock cannot be deactivated."
    )

    def parse(self, rows):
        codes = {(row.get("location") or "").strip() for _, row in rows}
        locations = {loc.code: loc for loc in Location.objects.filter(code__in=codes)}
        items = []
        for number, row in rows:
            values = {c: row.get(c, "") for c in self.columns if c in row}
            errors = catalog.Errors()
            location = locations.get((row.get("location") or "").strip())
            if location is None:
                errors.add("location", f"unknown location {row.get('location', '')!r}.")
            code = (row.get("code") or "").strip()
            try:
                code = bins.clean_code(code)
            except DomainError as exc:
                errors.append(_row_error(exc))
            sequence = row.get("pick_sequence", "").strip()
            sequence = catalog.whole_number(sequence, "pick_sequence", errors) if sequence else 0
            active = catalog.flag_value(row.get("active", "") or "yes", "active", errors)
            data = bins.BinData(code=code, zone=row.get("zone", ""), pick_sequence=sequence or 0, active=bool(active))
            items.append(Item(number, values, {"location": location, "data": data}, list(errors)))
        return items

    def apply(self, args, *, user):
        return bins.bin_upsert(location=args["location"], data=args["data"])[1]


register_importer("bins", BinImporter())
