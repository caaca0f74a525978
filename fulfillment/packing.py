"""The pack station: scan a shipment, scan each item, then weigh and pack it.

A keyboard-wedge scanner types the code and presses Enter. A code is matched to a product by its
barcode, else its SKU (case and surrounding spaces ignored). Progress is kept on the shipment
(``pack_progress``: product id -> units scanned), so a packer can change stations or reload the page.

- A product that is not in the shipment is a *wrong* item; a code that matches no product at all is
  also *wrong* (with no product); one unit more than the shipment holds is a *surplus* item. Each is a
  `PackMismatch` row (the raw data of pick accuracy) and the scan is refused: nothing is counted.
- A packer who cannot find an item reports the shipment *short*: one `PackMismatch` per missing product
  and an event on the order's timeline; the shipment stays unpacked for a supervisor.
- `pack_complete` packs (through `services.shipment_pack`, the one door) only when every unit was scanned.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from inventory.models import Product
from oms.errors import DomainError
from orders.services import order_event_record, order_lock
from orders.status import EventKind

from . import services
from .models import PackMismatch, Shipment
from .status import PackMismatchKind, ShipmentStatus

PACKABLE = frozenset({ShipmentStatus.RESERVED, ShipmentStatus.PICKING})

# Outside dimensions (mm) of the package types offered at the pack station; logistics rates by them.
PACKAGE_TYPES: dict[str, tuple[str, tuple[int, int, int]]] = {
    "envelope": ("Envelope 信封", (330, 250, 20)),
    "box-s": ("Box S 小箱", (250, 200, 100)),
    "box-m": ("Box M 中箱", (350, 250, 200)),
    "box-l": ("Box L 大箱", (500, 400, 300)),
    "cold-box": ("Cold box 保温箱", (400, 300, 300)),
    "pallet": ("Pallet 托盘", (1200, 1000, 1200)),
}


@dataclass
class ScanResult:
    kind: str  # "ok", "complete", "wrong" or "surplus"
    message: str
    sku: str = ""

    @property
    def ok(self) -> bool:
        return self.kind in ("ok", "complete")


def _norm(code: str) -> str:
    return (code or "").strip().upper()


def pack_find(code: str) -> Shipment:
    """The shipment a scanned shipment number names, if it can be packed."""
    number = _norm(code)
    if not number:
        raise DomainError("Scan a shipment number.")
    shipment = Shipment.objects.select_related("order", "location").filter(number__iexact=number).first()
    if shipment is None:
        raise DomainError(f"No shipment {number}.")
    if shipment.status not in PACKABLE:
        raise DomainError(f"Shipment {shipment.number} is {shipment.get_status_display()}: nothing to pack.")
    if shipment.order.on_hold:
        raise DomainError(f"Order {shipment.order.number} is on hold; do not pack shipment {shipment.number}.")
    return shipment


def expected_items(shipment: Shipment) -> list[dict]:
    """One row per product: sku, name, barcode, quantity, scanned, done."""
    progress = shipment.pack_progress or {}
    rows: dict[int, dict] = {}
    for line in shipment.lines.select_related("product").order_by("id"):
        row = rows.setdefault(
            line.product_id,
            {
                "product_id": line.product_id,
                "sku": line.product.sku,
                "name": line.product.name,
                "barcode": line.product.barcode,
                "quantity": 0,
                "scanned": 0,
            },
        )
        row["quantity"] += line.quantity
    for row in rows.values():
        row["scanned"] = int(progress.get(str(row["product_id"]), 0))
        row["done"] = row["scanned"] >= row["quantity"]
    return list(rows.values())


def is_complete(shipment: Shipment) -> bool:
    return all(row["done"] for row in expected_items(shipment))


def _product_for(code: str) -> Product | None:
    code = _norm(code)
    if not code:
        return None
    return Product.objects.filter(barcode__iexact=code).first() or Product.objects.filter(sku__iexact=code).first()


def _lock(shipment: Shipment) -> Shipment:
    order_lock(shipment.order_id)
    return Shipment.objects.select_for_update(of=("self",)).select_related("order", "location").get(pk=shipment.pk)


def _record(shipment, kind, *, code="", product=None, expected="", quantity=1, user=None) -> PackMismatch:
    return PackMismatch.objects.create(
        shipment=shipment,
        kind=kind,
        scanned_code=code[:64],
        product=product,
        expected=expected[:255],
        quantity=quantity,
        picklist_id=shipment.picklist_id,
        user=user,
    )


def _still_needed(items: list[dict]) -> str:
    return ", ".join(f"{r['sku']} ×{r['quantity'] - r['scanned']}" for r in items if not r["done"])


@transaction.atomic
def pack_scan(*, shipment: Shipment, code: str, user=None) -> ScanResult:
    """Count one scanned unit, or record a wrong or surplus item and refuse it."""
    shipment = _lock(shipment)
    if shipment.status not in PACKABLE:
        raise DomainError(f"Shipment {shipment.number} is {shipment.get_status_display()}: nothing to pack.")
    code = (code or "").strip()
    if not code:
        raise DomainError("Scan an item.")
    items = expected_items(shipment)
    product = _product_for(code)
    row = next((r for r in items if product is not None and r["product_id"] == product.pk), None)
    if row is None:
        expected = _still_needed(items) or "nothing more"
        _record(shipment, PackMismatchKind.WRONG, code=code, product=product, expected=expected, user=user)
        what = f"{product.sku} {product.name}" if product else f"unknown code {code}"
        return ScanResult(
            "wrong",
            f"WRONG ITEM: {what} is not in shipment {shipment.number}. Put it aside.",
            product.sku if product else "",
        )
    if row["done"]:
        _record(
            shipment,
            PackMismatchKind.SURPLUS,
            code=code,
            product=product,
            expected=f"{row['sku']} ×{row['quantity']}",
            user=user,
        )
        return ScanResult(
            "surplus", f"SURPLUS: {row['sku']} — all {row['quantity']} already scanned. Put it aside.", row["sku"]
        )
    progress = dict(shipment.pack_progress or {})
    progress[str(product.pk)] = row["scanned"] + 1
    shipment.pack_progress = progress
    shipment.save(update_fields=["pack_progress"])
    row["scanned"] += 1
    row["done"] = row["scanned"] >= row["quantity"]
    if all(r["done"] for r in items):
        return ScanResult(
            "complete", f"{row['sku']} {row['scanned']}/{row['quantity']} — all items scanned.", row["sku"]
        )
    return ScanResult("ok", f"{row['sku']} {row['scanned']}/{row['quantity']}", row["sku"])


@transaction.atomic
def pack_reset(*, shipment: Shipment, user=None) -> None:
    """Start the scanning of a shipment again (the box was emptied)."""
    shipment = _lock(shipment)
    if shipment.pack_progress:
        shipment.pack_progress = {}
        shipment.save(update_fields=["pack_progress"])


@transaction.atomic
def pack_report_short(*, shipment: Shipment, user=None, note: str = "") -> list[PackMismatch]:
    """Record the units not found as short; the shipment stays unpacked for a supervisor."""
    shipment = _lock(shipment)
    if shipment.status not in PACKABLE:
        raise DomainError(f"Shipment {shipment.number} is {shipment.get_status_display()}: nothing to pack.")
    items = expected_items(shipment)
    missing = [r for r in items if not r["done"]]
    if not missing:
        raise DomainError(f"Every item of shipment {shipment.number} was scanned: nothing is short.")
    rows = [
        _record(
            shipment,
            PackMismatchKind.SHORT,
            code=r["sku"],
            product=Product(pk=r["product_id"]),
            expected=f"{r['sku']} ×{r['quantity']}",
            quantity=r["quantity"] - r["scanned"],
            user=user,
        )
        for r in missing
    ]
    order_event_record(
        order=shipment.order,
        kind=EventKind.NOTE,
        user=user,
        message=f"Shipment {shipment.number} short at packing: {_still_needed(items)}" + (f" ({note})" if note else ""),
        data={"shipment": shipment.number, "short": {r["sku"]: r["quantity"] - r["scanned"] for r in missing}},
    )
    return rows


@transaction.atomic
def pack_complete(*, shipment: Shipment, weight_g: int, package_type: str = "", user=None) -> Shipment:
    """Pack a fully scanned shipment with its weight and package type."""
    shipment = _lock(shipment)
    if package_type and package_type not in PACKAGE_TYPES:
        raise DomainError(f"Unknown package type {package_type!r}.")
    items = expected_items(shipment)
    if not all(r["done"] for r in items):
        raise DomainError(f"Shipment {shipment.number} is not complete; still to scan: {_still_needed(items)}.")
    if package_type != shipment.package_type:
        shipment.package_type = package_type
        shipment.save(update_fields=["package_type"])
    return services.shipment_pack(shipment=shipment, weight_g=weight_g, user=user)


def pick_accuracy(mismatches, shipments_packed: int) -> dict:
    """Counts by kind and the share of packed shipments without a mismatch (for the KPIs)."""
    by_kind = {k: 0 for k in PackMismatchKind.values}
    with_mismatch = set()
    for m in mismatches:
        by_kind[m.kind] += 1
        with_mismatch.add(m.shipment_id)
    accuracy = 1 - len(with_mismatch) / shipments_packed if shipments_packed else None
    return {"by_kind": by_kind, "shipments_with_mismatch": len(with_mismatch), "accuracy": accuracy}
