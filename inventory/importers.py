"""Inventory's spreadsheet importers for the generic import pages (oms/imports.py): products and
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

from oms.errors import DomainError
from oms.imports import (
    PREVIEW_CHECK,
    FileUnusable,
    Importer,
    PreviewResult,
    PreviewRow,
    add_error,
    count_data_rows,
    read_dicts,
    register_importer,
)

from . import bins, catalog, resources
from .models import Location, ReasonCode

BATCH = 100


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

    def _items(self, path: Path):
        return read_dicts(path, required=self.required, columns=self.columns)

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

    def _batches(self, path: Path):
        batch: list[tuple[int, dict]] = []
        for number, row in self._items(path):
            batch.append((number, row))
            if len(batch) >= BATCH:
                yield self.parse(batch)
                batch = []
        if batch:
            yield self.parse(batch)

    def preview(self, path: Path, options: dict) -> PreviewResult:
        result = PreviewResult(columns=list(self.columns))
        try:
            with transaction.atomic():
                for items in self._batches(path):
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
        for items in self._batches(path):
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
    label = "Products (create or update by SKU)"
    position = 20
    permission = "inventory.add_product"
    columns = catalog.PRODUCT_COLUMNS
    required = ("sku",)
    help = (
        "One row per product, matched by SKU: a new SKU is created (it needs a name), a known one is "
        "updated. A blank cell leaves the value alone. handling_class: standard, fresh, fragile, bulky; "
        "dimensions: length x width x height in mm (or the three *_mm columns)."
    )

    def parse(self, rows):
        items = []
        for number, row in rows:
            sku, fields, errors = catalog.clean_product(row)
            values = {c: row.get(c, "") for c in self.columns if c in row}
            items.append(Item(number, values, {"sku": sku, "fields": fields}, list(errors)))
        return items

    def apply(self, args, *, user):
        return catalog.product_upsert(sku=args["sku"], fields=args["fields"])[1]


class LocationImporter(RowImporter):
    label = "Locations (create or update by code)"
    position = 30
    permission = "inventory.add_location"
    columns = catalog.LOCATION_COLUMNS
    required = ("code",)
    help = (
        "One row per location, matched by code: a new code is created (it needs a name), a known one is "
        "updated. kind: warehouse, store, factory; cold_chain, handles_bulky, active: yes or no."
    )

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
        self.label = label or f"Stock: {resource.label.lower()}"
        self.columns = resource.columns
        self.required = resource.required
        self.help = help

    def parse(self, rows):
        lookups = resources._Lookups([row for _, row in rows])
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
        self.resource.apply(args, user=user)
        return "created"


class OpeningStockResource(resources.ReceiptResource):
    kind, label = "stock", "Stock on hand"
    columns = ("location", "sku", "quantity", "bin", "reference")
    required = ("location", "sku", "quantity")

    def parse(self, row, lookups):
        args = super().parse(row, lookups)
        args["reason_code"] = ReasonCode.OPENING
        args["reference"] = args["reference"] or "opening stock"
        return args


class TransferImporter(ResourceImporter):
    """Rows with the same from, to and reference are one transfer, sent whole or not at all: the
    rows are taken together (transfer files are short), not in batches."""

    def _batches(self, path):
        rows = list(self._items(path))
        if rows:
            yield self.parse(rows)

    def _process(self, items, *, user):
        results = [resources.RowResult(i.number, i.values, [e["message"] for e in i.errors]) for i in items]
        parsed = [(r, i.args) for r, i in zip(results, items, strict=True) if i.args is not None and not i.errors]
        resources._apply_transfers(results, parsed, user=user)
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
        label="Stock on hand (opening balances)",
        help="Received into stock with reason 'opening balance'; quantities add to what is on hand.",
    ),
)
for _kind in ("receipts", "adjustments", "counts"):
    register_importer(f"stock-{_kind}", ResourceImporter(resources.RESOURCES[_kind]))
register_importer(
    "stock-transfers",
    TransferImporter(
        resources.RESOURCES["transfers"],
        help="Rows with the same from_location, to_location and reference make one transfer.",
    ),
)


class BinImporter(RowImporter):
    """Bins per location, created or updated by (location, code): inventory/bins.py."""

    label = "Bins (create or update by location and code)"
    position = 35
    permission = "inventory.add_bin"
    columns = ("location", "code", "zone", "pick_sequence", "active")
    required = ("location", "code")
    help = (
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
            sequence = catalog._whole(sequence, "pick_sequence", errors) if sequence else 0
            active = catalog._flag(row.get("active", "") or "yes", "active", errors)
            data = bins.BinData(code=code, zone=row.get("zone", ""), pick_sequence=sequence or 0, active=bool(active))
            items.append(Item(number, values, {"location": location, "data": data}, list(errors)))
        return items

    def apply(self, args, *, user):
        return bins.bin_upsert(location=args["location"], data=args["data"])[1]


register_importer("bins", BinImporter())
