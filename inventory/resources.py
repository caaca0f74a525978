"""Spreadsheet import of receipts, adjustments, counts and transfers.

django-import-export's idea without its model-row machinery (every accepted row must go through
a service, not a model save): each kind is a resource that parses and validates a row into
service arguments; ``run_import`` feeds the rows to the services, each in a savepoint, and
collects each row's errors. A dry run does all of that inside one transaction that is rolled
back, so the preview shows exactly what a real import would refuse (including rules only the
services know, such as "below what is reserved"), and nothing is written.
"""

import csv
import io
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import tablib
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from oms.errors import DomainError

from . import services
from .models import Location, Product, ReasonCode


class RowError(Exception):
    pass


@dataclass
class RowResult:
    number: int  # the spreadsheet row (the header is row 1)
    values: dict
    errors: list[str] = field(default_factory=list)
    outcome: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportResult:
    kind: str
    dry_run: bool
    rows: list[RowResult]
    file_error: str = ""
    unused: list[str] = field(default_factory=list)  # the file's columns this kind does not read

    @property
    def accepted(self) -> int:
        return sum(1 for r in self.rows if r.ok)

    @property
    def rejected(self) -> int:
        return sum(1 for r in self.rows if not r.ok)


class Lookups:
    """The products, locations and bins a batch of rows names, read once (one query each)."""

    def __init__(self, rows: list[dict]):
        skus = {str(r.get("sku", "")).strip() for r in rows}
        codes = set()
        for r in rows:
            for key in ("location", "from_location", "to_location"):
                codes.add(str(r.get(key, "")).strip())
        self.products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
        self.locations = {loc.code: loc for loc in Location.objects.filter(code__in=codes)}

    def product(self, value) -> Product:
        sku = str(value or "").strip()
        if not sku:
            raise RowError("sku: " + gettext("required"))
        if sku not in self.products:
            raise RowError("sku: " + gettext("unknown SKU %(sku)s") % {"sku": repr(sku)})
        return self.products[sku]

    def location(self, value, column="location") -> Location:
        code = str(value or "").strip()
        if not code:
            raise RowError(f"{column}: " + gettext("required"))
        if code not in self.locations:
            raise RowError(f"{column}: " + gettext("unknown location %(code)s") % {"code": repr(code)})
        return self.locations[code]


def _int(value, column: str) -> int:
    text = str(value if value is not None else "").strip()
    if not text:
        raise RowError(f"{column}: " + gettext("required"))
    try:
        number = float(text)
    except ValueError:
        raise RowError(f"{column}: " + gettext("%(value)s is not a number") % {"value": repr(text)})
    if number != int(number):
        raise RowError(f"{column}: " + gettext("%(value)s is not a whole number") % {"value": repr(text)})
    return int(number)


def _text(row: dict, column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


class Resource(ABC):
    kind = ""
    label = ""
    columns: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    @abstractmethod
    def parse(self, row: dict, lookups: Lookups) -> dict:
        """Each concrete subclass implements this."""

    def apply(self, args: dict, *, user) -> str:
        """One parsed row through its service. Resources applied in groups (transfers) don't use it."""
        raise TypeError(f"{type(self).__name__} is applied in groups, not row by row.")


class Unchanged(str):
    """A row's outcome when it changed nothing (a receipt received before under its reference)."""


class ReceiptResource(Resource):
    kind, label = "receipts", _("Receipts")
    columns = ("location", "sku", "quantity", "reference", "reason_code", "reason", "bin")
    required = ("location", "sku", "quantity")

    def parse(self, row, lookups):
        return {
            "location": lookups.location(row.get("location")),
            "product": lookups.product(row.get("sku")),
            "quantity": _int(row.get("quantity"), "quantity"),
            "reference": _text(row, "reference"),
            "reason_code": _text(row, "reason_code") or ReasonCode.PURCHASE,
            "reason": _text(row, "reason"),
            "bin": _text(row, "bin"),
        }

    # The receive verb the rows go through: workflows/ (the layer above) sets its receipt action, which also
    # releases the presale orders waiting for the SKU (``receipts_through``); inventory's own otherwise.
    receive = staticmethod(services.stock_receive)

    def apply(self, args, *, user):
        stock = self.receive(user=user, **args)
        if getattr(stock, "already_received", ""):  # the row was received before under its reference
            return Unchanged(stock.already_received)
        done = gettext("on hand %(n)s") % {"n": stock.on_hand}
        batch = getattr(stock, "presale_batch", None)  # the receipt action's presale batch (workflows/receipts.py)
        if batch is not None and batch.unmarked:
            return gettext("%(done)s; presale ended: the expected batch arrived in full") % {"done": done}
        if batch is not None and batch.still_expected is not None:
            return gettext("%(done)s; presale: %(left)s of the expected batch of %(batch)s still expected") % {
                "done": done,
                "left": batch.still_expected,
                "batch": batch.batch,
            }
        return done


def receipts_through(verb) -> None:
    """Receipt rows (and opening balances) go through ``verb`` (``stock_receive``'s arguments) from now on."""
    ReceiptResource.receive = staticmethod(verb)


class AdjustmentResource(Resource):
    kind, label = "adjustments", _("Adjustments")
    columns = ("location", "sku", "delta", "reason_code", "reason", "reference")
    required = ("location", "sku", "delta", "reason")

    def parse(self, row, lookups):
        return {
            "location": lookups.location(row.get("location")),
            "product": lookups.product(row.get("sku")),
            "delta": _int(row.get("delta"), "delta"),
            "reason_code": _text(row, "reason_code") or ReasonCode.CORRECTION,
            "reason": _text(row, "reason"),
            "reference": _text(row, "reference"),
        }

    def apply(self, args, *, user):
        stock = services.stock_adjust(user=user, **args)
        return gettext("on hand %(n)s") % {"n": stock.on_hand}


class CountResource(Resource):
    kind, label = "counts", _("Cycle counts")
    columns = ("location", "sku", "counted", "reference")
    required = ("location", "sku", "counted")

    def parse(self, row, lookups):
        return {
            "location": lookups.location(row.get("location")),
            "product": lookups.product(row.get("sku")),
            "counted": _int(row.get("counted"), "counted"),
            "reference": _text(row, "reference"),
        }

    def apply(self, args, *, user):
        movement = services.stock_count(user=user, **args)
        return gettext("difference %(delta)s") % {"delta": f"{movement.on_hand_delta:+d}"}


class TransferResource(Resource):
    """One row per line; rows with the same from, to and reference make one transfer."""

    kind, label = "transfers", _("Transfers")
    columns = ("from_location", "to_location", "sku", "quantity", "reference")
    required = ("from_location", "to_location", "sku", "quantity")

    def parse(self, row, lookups):
        return {
            "from_location": lookups.location(row.get("from_location"), "from_location"),
            "to_location": lookups.location(row.get("to_location"), "to_location"),
            "product": lookups.product(row.get("sku")),
            "quantity": _int(row.get("quantity"), "quantity"),
            "reference": _text(row, "reference"),
        }


RESOURCES: dict[str, Resource] = {
    r.kind: r for r in (ReceiptResource(), AdjustmentResource(), CountResource(), TransferResource())
}


def read_table(content: bytes, filename: str) -> tablib.Dataset:
    """CSV (UTF-8 with or without BOM, or GB18030 as Chinese Excel saves it) or XLSX."""
    if filename.lower().endswith(".xlsx"):
        return tablib.Dataset().load(io.BytesIO(content), format="xlsx")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("gb18030", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    dataset = tablib.Dataset()
    if rows:
        dataset.headers = [h.strip().lower() for h in rows[0]]
        width = len(dataset.headers)
        for r in rows[1:]:
            if not any(cell.strip() for cell in r):
                continue
            dataset.append((r + [""] * width)[:width])
    return dataset


def _dicts(dataset: tablib.Dataset) -> list[dict]:
    headers = [str(h or "").strip().lower() for h in (dataset.headers or [])]
    return [dict(zip(headers, row, strict=False)) for row in dataset]


def run_import(kind: str, dataset: tablib.Dataset, *, user=None, dry_run: bool) -> ImportResult:
    resource = RESOURCES.get(kind)
    if resource is None:
        return ImportResult(
            kind, dry_run, [], file_error=gettext("Unknown import kind %(kind)s.") % {"kind": repr(kind)}
        )
    headers = {str(h or "").strip().lower() for h in (dataset.headers or [])}
    missing = [c for c in resource.required if c not in headers]
    if missing:
        return ImportResult(
            kind,
            dry_run,
            [],
            file_error=gettext("Missing columns: %(missing)s (expected %(expected)s).")
            % {"missing": ", ".join(missing), "expected": ", ".join(resource.columns)},
        )
    rows = _dicts(dataset)
    if not rows:
        return ImportResult(kind, dry_run, [], file_error=gettext("The file has no rows."))
    unused = [
        str(h or "").strip() for h in dataset.headers or [] if str(h or "").strip().lower() not in resource.columns
    ]
    lookups = Lookups(rows)
    results = [RowResult(i + 2, {c: row.get(c, "") for c in resource.columns}) for i, row in enumerate(rows)]
    parsed: list[tuple[RowResult, dict]] = []
    for result, row in zip(results, rows, strict=True):
        try:
            parsed.append((result, resource.parse(row, lookups)))
        except RowError as exc:
            result.errors.append(str(exc))
    with transaction.atomic():
        if kind == TransferResource.kind:
            apply_transfers(results, parsed, user=user)
        else:
            for result, args in parsed:
                try:
                    with transaction.atomic():
                        result.outcome = resource.apply(args, user=user)
                except DomainError as exc:
                    result.errors.append(str(exc))
        if dry_run:
            transaction.set_rollback(True)
    return ImportResult(kind, dry_run, results, unused=unused)


def apply_transfers(results: list[RowResult], parsed, *, user) -> None:
    """Rows with the same from, to and reference are one transfer: all of its lines or none."""

    def key(result: RowResult) -> tuple:
        v = result.values
        return tuple(str(v.get(c) or "").strip() for c in ("from_location", "to_location", "reference"))

    args_of = {id(result): args for result, args in parsed}
    groups: dict[tuple, list[RowResult]] = {}
    for result in results:
        groups.setdefault(key(result), []).append(result)
    for members in groups.values():
        if any(not m.ok for m in members):
            for m in members:
                if m.ok:
                    m.errors.append(gettext("not sent: another line of this transfer has errors"))
            continue
        first = args_of[id(members[0])]
        try:
            with transaction.atomic():
                transfer = services.transfer_dispatch(
                    from_location=first["from_location"],
                    to_location=first["to_location"],
                    lines=[(args_of[id(m)]["product"], args_of[id(m)]["quantity"]) for m in members],
                    user=user,
                    note=first["reference"],
                )
        except DomainError as exc:
            for m in members:
                m.errors.append(str(exc))
        else:
            for m in members:
                m.outcome = gettext("transfer %(number)s") % {"number": transfer.number}


def template_csv(kind: str) -> str:
    return ",".join(RESOURCES[kind].columns) + "\n"
