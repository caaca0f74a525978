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
- A merged shipment (fulfillment/merge.py) is one parcel: scanning the lead expects the lead's lines plus
  every member's, progress is kept on the lead, a short is recorded on the shipment (and order) it is
  missing from, and packing the lead packs the members (services cascade). A member's number is refused:
  the packer is told to scan the lead.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from inventory.models import Product
from oms.errors import DomainError
from orders.services import order_event_record, order_lock
from orders.status import EventKind
from orders.wording import msg

from . import services
from .models import PackMismatch, Shipment, ShipmentLine
from .status import PackMismatchKind, ShipmentStatus

PACKABLE = frozenset({ShipmentStatus.RESERVED, ShipmentStatus.PICKING})

# Outside dimensions (mm) of the package types offered at the pack station; logistics rates by them.
# The English names keep the Chinese beside them (the floor reads both); in Chinese only the Chinese.
PACKAGE_TYPES: dict[str, tuple[str, tuple[int, int, int]]] = {
    "envelope": (_("Envelope 信封"), (330, 250, 20)),
    "box-s": (_("Box S 小箱"), (250, 200, 100)),
    "box-m": (_("Box M 中箱"), (350, 250, 200)),
    "box-l": (_("Box L 大箱"), (500, 400, 300)),
    "cold-box": (_("Cold box 保温箱"), (400, 300, 300)),
    "pallet": (_("Pallet 托盘"), (1200, 1000, 1200)),
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
        raise DomainError(gettext("Scan a shipment number."))
    shipment = Shipment.objects.select_related("order", "location").filter(number__iexact=number).first()
    if shipment is None:
        raise DomainError(gettext("No shipment %(number)s.") % {"number": number})
    _refuse_member(shipment)
    if shipment.status not in PACKABLE:
        raise DomainError(
            gettext("Shipment %(number)s is %(status)s: nothing to pack.")
            % {"number": shipment.number, "status": shipment.get_status_display()}
        )
    if shipment.order.on_hold:
        raise DomainError(
            gettext("Order %(order)s is on hold; do not pack shipment %(number)s.")
            % {"order": shipment.order.number, "number": shipment.number}
        )
    for member in parcel_shipments(shipment)[1:]:
        if member.order.on_hold:
            raise DomainError(
                gettext(
                    "Order %(order)s (shipment %(member)s, merged into %(number)s) is on hold; do not pack %(number)s."
                )
                % {"order": member.order.number, "member": member.number, "number": shipment.number}
            )
    return shipment


def _refuse_member(shipment: Shipment) -> None:
    if shipment.merged_into_id:
        lead = Shipment.objects.values_list("number", flat=True).get(pk=shipment.merged_into_id)
        raise DomainError(
            gettext("Shipment %(number)s travels with %(lead)s: scan %(lead)s instead.")
            % {"number": shipment.number, "lead": lead}
        )


def parcel_shipments(shipment: Shipment) -> list[Shipment]:
    """The shipments packed into this shipment's parcel: itself first, then (for a merge lead) its members."""
    return [shipment, *Shipment.objects.members_of(shipment).select_related("order")]


def expected_items(shipment: Shipment) -> list[dict]:
    """One row per product: sku, name, barcode, quantity, scanned, done, and ``parts`` (which shipment and
    order needs how many: more than one part only in a merged parcel)."""
    progress = shipment.pack_progress or {}
    shipments = {s.pk: s for s in parcel_shipments(shipment)}
    rows: dict[int, dict] = {}
    lines = ShipmentLine.objects.filter(shipment_id__in=shipments).select_related("product")
    position = {pk: i for i, pk in enumerate(shipments)}
    for line in sorted(lines, key=lambda ln: (position[ln.shipment_id], ln.pk)):
        row = rows.setdefault(
            line.product_id,
            {
                "product_id": line.product_id,
                "sku": line.product.sku,
                "name": line.product.name,
                "barcode": line.product.barcode,
                "quantity": 0,
                "scanned": 0,
                "parts": {},
            },
        )
        row["quantity"] += line.quantity
        part = row["parts"].setdefault(
            line.shipment_id,
            {
                "shipment": shipments[line.shipment_id].number,
                "order": shipments[line.shipment_id].order.number,
                "quantity": 0,
            },
        )
        part["quantity"] += line.quantity
    for row in rows.values():
        row["scanned"] = int(progress.get(str(row["product_id"]), 0))
        row["done"] = row["scanned"] >= row["quantity"]
        row["parts"] = list(row["parts"].values())
        # The units scanned so far count for the lead first, then the members in order.
        left = row["scanned"]
        for part in row["parts"]:
            part["scanned"] = min(left, part["quantity"])
            left -= part["scanned"]
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
    shipment = Shipment.objects.select_for_update(of=("self",)).select_related("order", "location").get(pk=shipment.pk)
    _refuse_member(shipment)
    return shipment


def _where(shipment: Shipment, items: list[dict]) -> str:
    """The shipment's name in messages: a merged parcel names its members too."""
    members = sorted({p["shipment"] for r in items for p in r["parts"]} - {shipment.number})
    if not members:
        return shipment.number
    return gettext("%(number)s (merged with %(members)s)") % {"number": shipment.number, "members": ", ".join(members)}


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
        raise DomainError(
            gettext("Shipment %(number)s is %(status)s: nothing to pack.")
            % {"number": shipment.number, "status": shipment.get_status_display()}
        )
    code = (code or "").strip()
    if not code:
        raise DomainError(gettext("Scan an item."))
    items = expected_items(shipment)
    product = _product_for(code)
    row = next((r for r in items if product is not None and r["product_id"] == product.pk), None)
    if row is None:
        expected = _still_needed(items) or "nothing more"
        _record(shipment, PackMismatchKind.WRONG, code=code, product=product, expected=expected, user=user)
        what = f"{product.sku} {product.name}" if product else gettext("unknown code %(code)s") % {"code": code}
        return ScanResult(
            "wrong",
            gettext("WRONG ITEM: %(what)s is not in shipment %(where)s. Put it aside.")
            % {"what": what, "where": _where(shipment, items)},
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
            "surplus",
            gettext("SURPLUS: %(sku)s — all %(quantity)s already scanned. Put it aside.")
            % {"sku": row["sku"], "quantity": row["quantity"]},
            row["sku"],
        )
    progress = dict(shipment.pack_progress or {})
    progress[str(product.pk)] = row["scanned"] + 1
    shipment.pack_progress = progress
    shipment.save(update_fields=["pack_progress"])
    row["scanned"] += 1
    row["done"] = row["scanned"] >= row["quantity"]
    if all(r["done"] for r in items):
        return ScanResult(
            "complete",
            gettext("%(sku)s %(scanned)s/%(quantity)s — all items scanned.")
            % {"sku": row["sku"], "scanned": row["scanned"], "quantity": row["quantity"]},
            row["sku"],
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
        raise DomainError(
            gettext("Shipment %(number)s is %(status)s: nothing to pack.")
            % {"number": shipment.number, "status": shipment.get_status_display()}
        )
    items = expected_items(shipment)
    missing = [r for r in items if not r["done"]]
    if not missing:
        raise DomainError(
            gettext("Every item of shipment %(number)s was scanned: nothing is short.") % {"number": shipment.number}
        )
    # Each missing unit is recorded on the shipment (and the order) it belongs to: in a merged parcel the
    # scanned units count for the lead first, so what is short is the members' (see expected_items).
    by_number = {s.number: s for s in parcel_shipments(shipment)}
    short: dict[str, dict[str, int]] = {}
    rows = []
    for r in missing:
        for part in r["parts"]:
            lacking = part["quantity"] - part["scanned"]
            if lacking <= 0:
                continue
            short.setdefault(part["shipment"], {})[r["sku"]] = lacking
            rows.append(
                _record(
                    by_number[part["shipment"]],
                    PackMismatchKind.SHORT,
                    code=r["sku"],
                    product=Product(pk=r["product_id"]),
                    expected=f"{r['sku']} ×{part['quantity']}",
                    quantity=lacking,
                    user=user,
                )
            )
    for number, skus in short.items():
        target = by_number[number]
        text = ", ".join(f"{sku} ×{q}" for sku, q in skus.items())
        if target.pk != shipment.pk:
            where = msg(
                gettext_noop("Shipment %(shipment)s (in the parcel of %(lead)s)"), shipment=number, lead=shipment.number
            )
        else:
            where = msg(gettext_noop("Shipment %(shipment)s"), shipment=number)
        order_event_record(
            order=target.order,
            kind=EventKind.NOTE,
            user=user,
            message=(
                msg(gettext_noop("%(where)s short at packing: %(skus)s (%(note)s)"), where=where, skus=text, note=note)
                if note
                else msg(gettext_noop("%(where)s short at packing: %(skus)s"), where=where, skus=text)
            ),
            data={
                "shipment": number,
                "short": skus,
                **({"parcel_of": shipment.number} if target.pk != shipment.pk else {}),
            },
        )
    return rows


@transaction.atomic
def pack_complete(*, shipment: Shipment, weight_g: int, package_type: str = "", user=None) -> Shipment:
    """Pack a fully scanned shipment with its weight and package type."""
    shipment = _lock(shipment)
    if package_type and package_type not in PACKAGE_TYPES:
        raise DomainError(gettext("Unknown package type %(type)s.") % {"type": repr(package_type)})
    items = expected_items(shipment)
    if not all(r["done"] for r in items):
        raise DomainError(
            gettext("Shipment %(number)s is not complete; still to scan: %(items)s.")
            % {"number": shipment.number, "items": _still_needed(items)}
        )
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
