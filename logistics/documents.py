"""Shipping labels: 4x6 in (or A6), one page per parcel, many parcels in one PDF.

`label_context` gathers what a label prints as plain values; `label_pdf` draws them on a fixed
canvas (`logistics.label_canvas`, reportlab) and `logistics.zpl` writes the same values as ZPL.

The public tracking link printed as a QR code is passed in (`tracking_url` for one
label, `tracking_url_for(parcel)` for a batch), so this module does not depend on how
links are signed.
"""

import math
from collections.abc import Callable, Iterable
from datetime import date

from django.db.models import Prefetch
from django.utils import timezone

from fulfillment.documents import location_lines, recipient_lines
from fulfillment.models import ShipmentLine
from inventory.models import HandlingClass
from oms.codes import QUIET_MODULES, code128_module_mm, code128_modules
from orders.privacy import printed_recipient, recipient_masked

from .label_canvas import BARCODE_HEIGHT_MM, labels_pdf
from .models import Parcel
from .status import ServiceKind

# size -> usable width for the barcode in mm
PAGE_SIZES = {"4x6": 90.0, "a6": 93.0}

# Printed white on black, in this order.
MARKS = [
    ("fresh", "KEEP COLD 冷藏"),
    ("fragile", "FRAGILE 易碎"),
    ("this_side_up", "THIS SIDE UP ↑"),
    ("bulky", "HEAVY/BULKY 大件"),
]

SERVICE_KIND_CODES = {
    ServiceKind.EXPRESS: ("EXP", "特快"),
    ServiceKind.STANDARD: ("STD", "标准"),
    ServiceKind.ECONOMY: ("ECO", "经济"),
    ServiceKind.COLD_CHAIN: ("COLD", "冷链"),
    ServiceKind.FREIGHT: ("FRT", "货运"),
}

PARCEL_RELATED = (
    "service__carrier",
    "shipment__order__channel",
    "shipment__location",
)
PARCEL_PREFETCH = ("shipment__lines__product", "shipment__parcels")


def load_parcels(parcels: Iterable[Parcel]) -> list[Parcel]:
    """The parcels again, in the order given, with everything a label prints in four queries.

    Forward keys are joined, not prefetched: Django 5.2 prefetches a forward key with a tuple lookup
    that SQLite spells as an `id = ? OR ...` chain, which fails beyond about 1,000 parcels."""
    ids = [p.pk for p in parcels]
    rows = (
        Parcel.objects.filter(pk__in=ids)
        .select_related(*PARCEL_RELATED)
        .prefetch_related(
            Prefetch("shipment__lines", queryset=ShipmentLine.objects.select_related("product")),
            "shipment__parcels",
        )
    )
    by_id = {p.pk: p for p in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


def handling_marks(handling_classes: Iterable[str]) -> list[dict]:
    """Marks for the products' handling classes: fresh -> keep cold; fragile -> fragile
    and this side up; bulky -> heavy/bulky."""
    classes = set(handling_classes)
    wanted = set()
    if HandlingClass.FRESH in classes:
        wanted.add("fresh")
    if HandlingClass.FRAGILE in classes:
        wanted.update({"fragile", "this_side_up"})
    if HandlingClass.BULKY in classes:
        wanted.add("bulky")
    return [{"code": code, "text": text} for code, text in MARKS if code in wanted]


def parcel_weight_g(parcel: Parcel) -> int:
    """The parcel's weight, else the shipment's, else the sum of its products."""
    if parcel.weight_g:
        return parcel.weight_g
    shipment = parcel.shipment
    if shipment.weight_g:
        return shipment.weight_g
    return sum(line.product.weight_g * line.quantity for line in shipment.lines.all())


def _piece(parcel: Parcel) -> str:
    ids = sorted(p.pk for p in parcel.shipment.parcels.all())
    if parcel.pk in ids and len(ids) > 1:
        return f"{ids.index(parcel.pk) + 1}/{len(ids)}"
    return "1/1"


def _local_date(value) -> date | None:
    if value is None:
        return None
    return timezone.localdate(value) if timezone.is_aware(value) else value.date()


def label_context(parcel: Parcel, *, tracking_url: str, size: str = "4x6") -> dict:
    """Everything one label prints, as plain values.

    Keys: tracking_number, barcode {modules (with quiet zones), module_mm, width_mm, height_mm},
    tracking_url (the QR code's value), carrier_name, service_name, service_kind_code,
    service_kind_label, sender {name, phone, lines, text}, recipient {name, phone, lines, text (the
    lines joined by newlines)}, marks [{code, text}],
    mark_rows (0-2), shipment_number, order_number, weight_g, weight_kg ("1.25"), ship_date (date),
    expected_delivery, piece ("1/1").
    """
    if size not in PAGE_SIZES:
        raise ValueError(f"unknown label size {size!r}; use one of {', '.join(PAGE_SIZES)}")
    shipment = parcel.shipment
    order = shipment.order
    location = shipment.location
    service = parcel.service
    barcode_width = PAGE_SIZES[size]
    kind_code, kind_label = SERVICE_KIND_CODES.get(service.kind, (service.kind.upper()[:5], ""))
    weight_g = parcel_weight_g(parcel)
    recipient = recipient_lines(order)
    printed = printed_recipient(order)  # 隐私面单: masked when the order's channel says so
    marks = handling_marks(line.product.handling_class for line in shipment.lines.all())
    sender_lines = location_lines(location)
    modules = "0" * QUIET_MODULES + code128_modules(parcel.tracking_number) + "0" * QUIET_MODULES
    module_mm = code128_module_mm(len(modules), barcode_width)
    ship_date = _local_date(shipment.shipped_at) or _local_date(parcel.created_at) or timezone.localdate()
    return {
        "parcel": parcel,
        "tracking_number": parcel.tracking_number,
        "barcode": {
            "modules": modules,
            "module_mm": module_mm,
            "width_mm": len(modules) * module_mm,
            "height_mm": BARCODE_HEIGHT_MM,
        },
        "tracking_url": tracking_url,
        "carrier_name": service.carrier.name,
        "service_name": service.name,
        "service_kind_code": kind_code,
        "service_kind_label": kind_label,
        "sender": {
            "name": location.name,
            "phone": location.phone,
            "lines": sender_lines,
            "text": "\n".join(sender_lines),
        },
        "recipient": {
            "name": printed[0],
            "phone": printed[1],
            "masked": recipient_masked(order),
            "lines": recipient,
            "text": "\n".join(recipient),
        },
        "marks": marks,
        "mark_rows": math.ceil(len(marks) / 2),
        "shipment_number": str(shipment),
        "order_number": str(order),
        "weight_g": weight_g,
        "weight_kg": f"{weight_g / 1000:.2f}",
        "ship_date": ship_date,
        "expected_delivery": parcel.expected_delivery,
        "piece": _piece(parcel),
    }


def label_pdf(parcels: Iterable[Parcel], *, tracking_url_for: Callable[[Parcel], str], size: str = "4x6") -> bytes:
    """One PDF with one label page per parcel, in the order given."""
    if size not in PAGE_SIZES:
        raise ValueError(f"unknown label size {size!r}; use one of {', '.join(PAGE_SIZES)}")
    parcels = list(parcels)
    if not parcels:
        raise ValueError("no parcels to label")
    parcels = load_parcels(parcels)
    return labels_pdf([label_context(p, tracking_url=tracking_url_for(p), size=size) for p in parcels], size=size)
