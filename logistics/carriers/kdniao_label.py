"""The e-waybill (电子面单) of a Kdniao parcel, drawn by us as a 100x180 mm PDF (one label per page): the
express company, 大头笔 (MarkDestination) large, 集包地 (PackageName) and the sort code, the waybill number
as Code 128, recipient and sender, contents and our order number.

Privacy waybill (隐私面单, ``Carrier.privacy_waybill`` or the order's channel's ``mask_recipient``): the
recipient's name and phone masked as orders/privacy.py does it (王*五, 张*, J*** S.; 138****0000); the
carrier still got them in full.

Rendered with `oms.pdf.render_pdf` (WeasyPrint, Noto Sans CJK through fontconfig, the text extractable):
reportlab embeds only TrueType outlines and the machine's Noto Sans CJK is OpenType/CFF. When the labels
engineer's reportlab canvas (issue 15) is merged, this drawing can move onto it.
"""

from __future__ import annotations

from django.utils import timezone

from oms.codes import QUIET_MODULES, code128_module_mm, code128_modules, code128_svg, svg_data_uri
from oms.pdf import render_pdf
from orders.privacy import mask_name, mask_phone, recipient_masked

__all__ = ["mask_name", "mask_phone", "waybill_context", "waybill_pdf"]

TEMPLATE = "logistics/pdf/kdniao_waybill.html"
SIZE = ("100mm", "180mm")
BARCODE_WIDTH_MM = 84.0


def _place(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def waybill_context(parcel, purchase) -> dict:
    shipment, carrier = parcel.shipment, parcel.service.carrier
    order, location = shipment.order, shipment.location
    private = carrier.privacy_waybill or recipient_masked(order)  # the carrier's or the channel's setting
    data = purchase.data or {}
    contents = [
        f"{line.product.name} ×{line.quantity}" for line in shipment.lines.select_related("product").order_by("pk")
    ]
    return {
        "carrier_name": carrier.name,
        "shipper_code": data.get("ShipperCode") or carrier.shipper_code,
        "service_name": parcel.service.name,
        "waybill": parcel.tracking_number,
        "mark_destination": data.get("MarkDestination", ""),
        "package_name": data.get("PackageName", ""),
        "package_code": data.get("PackageCode", ""),
        "sorting_code": data.get("SortingCode", ""),
        "barcode": _barcode(parcel.tracking_number),
        "recipient_name": mask_name(order.ship_name) if private else order.ship_name,
        "recipient_phone": mask_phone(order.ship_phone) if private else order.ship_phone,
        "recipient_address": _place(
            order.ship_province, order.ship_city, order.ship_district, order.ship_address1, order.ship_address2
        ),
        "sender_name": location.name,
        "sender_phone": location.phone,
        "sender_address": _place(location.province, location.city, location.address),
        "contents": "；".join(contents),
        "order_number": order.number,
        "shipment_number": shipment.number,
        "weight_kg": f"{parcel.weight_g / 1000:.2f}",
        "date": timezone.localdate(parcel.created_at) if parcel.created_at else timezone.localdate(),
        "private": private,
        "page_width": SIZE[0],
        "page_height": SIZE[1],
    }


def waybill_pdf(parcel, purchase) -> bytes:
    return render_pdf(TEMPLATE, waybill_context(parcel, purchase))


def _barcode(value: str, height_mm: float = 16.0) -> dict:
    """The waybill's Code 128 as an SVG data URI with its size in mm (crisp at any printer resolution)."""
    total = len(code128_modules(value)) + 2 * QUIET_MODULES
    module_mm = code128_module_mm(total, BARCODE_WIDTH_MM)
    svg = code128_svg(value, max_width_mm=BARCODE_WIDTH_MM, height_mm=height_mm, module_mm=module_mm)
    return {"uri": svg_data_uri(svg), "width_mm": total * module_mm, "height_mm": height_mm}
