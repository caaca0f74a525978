"""Shipping labels: 4x6 in (or A6), one page per parcel, many parcels in one PDF.

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
from oms.codes import code128_png, qr_png_uri
from oms.pdf import display_width, render_pdf

from .models import Parcel
from .status import ServiceKind

TEMPLATE = "logistics/pdf/labels.html"

# size -> (CSS page size, page margin, usable width for the barcode in mm)
PAGE_SIZES = {
    "4x6": ("4in 6in", "2.5mm", 90.0),
    "a6": ("105mm 148mm", "2.5mm", 93.0),
}

BARCODE_HEIGHT_MM = 16.0

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
    "shipment__order",
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


# Geometry of the recipient zone, mirrored from static/oms/css/print-label.css (mm):
# the label's inside height and text width per size, the zones above and below it, one
# row of marks, and the zone's own padding, tag and margins.
LABEL_INNER_MM = {"4x6": (145.6, 91.0), "a6": (141.2, 94.4)}
ABOVE_TO_MM, BELOW_TO_MM, MARK_ROW_MM, TO_OVERHEAD_MM = 31.5, 58.5, 8.5, 6.8
PT_MM = 25.4 / 72
NAME_SIZES = [("", 18.0), ("name-m", 14.0), ("name-s", 11.0)]
ADDRESS_SIZES = [("addr-l", 13.0, 1.22), ("addr-m", 11.0, 1.2), ("addr-s", 9.0, 1.18), ("addr-xs", 7.5, 1.15)]


def _em_width(text: str) -> float:
    """Estimated width in em of bold text: wide (CJK) characters 1 em, others 0.62 em."""
    return sum(1.0 if w == 2 else 0.62 for w in (display_width(ch) for ch in text))


def _lines_needed(text: str, font_pt: float, width_mm: float) -> int:
    width = _em_width(text) * font_pt * PT_MM * 1.08  # a little slack for word wrapping
    return max(1, math.ceil(width / width_mm))


def fit_recipient(name: str, phone: str, lines: list[str], *, size: str, mark_rows: int) -> tuple[str, str]:
    """CSS classes (name, address) with the largest type that fits the recipient zone.

    The zone's height is fixed by the label size and the number of mark rows; the
    estimate errs on the small side, and the zone clips as a last resort."""
    inner_h, width = LABEL_INNER_MM[size]
    available = inner_h - ABOVE_TO_MM - BELOW_TO_MM - mark_rows * MARK_ROW_MM - TO_OVERHEAD_MM
    name_width = display_width(name)
    name_class, name_pt = NAME_SIZES[0 if name_width <= 20 else 1 if name_width <= 34 else 2]
    # The phone (12 pt) and a 3 mm gap share the name's line.
    name_text_mm = _em_width(name) * name_pt * PT_MM + 3 + _em_width(phone) * 12 * PT_MM * 0.9
    name_lines = max(1, math.ceil(name_text_mm * 1.05 / width))
    available -= name_lines * name_pt * 1.15 * PT_MM
    for address_class, font_pt, line_height in ADDRESS_SIZES:
        needed = sum(_lines_needed(line, font_pt, width) for line in lines) * font_pt * line_height * PT_MM
        if needed <= available:
            return name_class, address_class
    return name_class, ADDRESS_SIZES[-1][0]


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

    Keys: tracking_number, barcode {uri, width_mm, height_mm, modules} (a 1-bit PNG, one pixel per
    module), barcode_uri, qr_uri (PNG), tracking_url, carrier_name,
    service_name, service_kind_code, service_kind_label, sender {name, phone, lines, text},
    recipient {name, phone, lines, text (the lines joined by newlines), name_class, address_class},
    marks [{code, text}],
    mark_rows (0-2), shipment_number, order_number, weight_g, weight_kg ("1.25"), ship_date (date),
    expected_delivery, piece ("1/1").
    """
    if size not in PAGE_SIZES:
        raise ValueError(f"unknown label size {size!r}; use one of {', '.join(PAGE_SIZES)}")
    shipment = parcel.shipment
    order = shipment.order
    location = shipment.location
    service = parcel.service
    _, _, barcode_width = PAGE_SIZES[size]
    kind_code, kind_label = SERVICE_KIND_CODES.get(service.kind, (service.kind.upper()[:5], ""))
    weight_g = parcel_weight_g(parcel)
    recipient = recipient_lines(order)
    marks = handling_marks(line.product.handling_class for line in shipment.lines.all())
    mark_rows = math.ceil(len(marks) / 2)
    name_class, address_class = fit_recipient(
        order.ship_name, order.ship_phone, recipient, size=size, mark_rows=mark_rows
    )
    sender_lines = location_lines(location)
    barcode = code128_png(parcel.tracking_number, max_width_mm=barcode_width, height_mm=BARCODE_HEIGHT_MM)
    ship_date = _local_date(shipment.shipped_at) or _local_date(parcel.created_at) or timezone.localdate()
    return {
        "parcel": parcel,
        "tracking_number": parcel.tracking_number,
        "barcode": barcode,
        "barcode_uri": barcode["uri"],
        "tracking_url": tracking_url,
        "qr_uri": qr_png_uri(tracking_url) if tracking_url else "",
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
            "name": order.ship_name,
            "phone": order.ship_phone,
            "lines": recipient,
            "text": "\n".join(recipient),
            "name_class": name_class,
            "address_class": address_class,
        },
        "marks": marks,
        "mark_rows": mark_rows,
        "shipment_number": str(shipment),
        "order_number": str(order),
        "weight_g": weight_g,
        "weight_kg": f"{weight_g / 1000:.2f}",
        "ship_date": ship_date,
        "expected_delivery": parcel.expected_delivery,
        "piece": _piece(parcel),
    }


def label_pdf(
    parcels: Iterable[Parcel], *, tracking_url_for: Callable[[Parcel], str], size: str = "4x6", request=None
) -> bytes:
    """One PDF with one label page per parcel, in the order given."""
    if size not in PAGE_SIZES:
        raise ValueError(f"unknown label size {size!r}; use one of {', '.join(PAGE_SIZES)}")
    parcels = list(parcels)
    if not parcels:
        raise ValueError("no parcels to label")
    parcels = load_parcels(parcels)
    page_size, margin, _ = PAGE_SIZES[size]
    labels = [label_context(p, tracking_url=tracking_url_for(p), size=size) for p in parcels]
    context = {"labels": labels, "size": size, "page_size": page_size, "page_margin": margin}
    return render_pdf(TEMPLATE, context, request=request)
