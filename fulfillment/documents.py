"""Warehouse documents: pick lists (A4) and packing slips (A5 or A4)."""

import re
from collections.abc import Iterable

from django.db.models import Prefetch
from django.utils import timezone

from oms.codes import code128_svg, qr_svg, svg_data_uri
from oms.pdf import display_width, render_pdf
from orders.privacy import printed_recipient, recipient_masked

from .models import PickList, Shipment, ShipmentLine
from .status import ShipmentStatus
from .waves import bin_zones

PICKLIST_TEMPLATE = "fulfillment/pdf/picklist.html"
PACKING_SLIP_TEMPLATE = "fulfillment/pdf/packing_slip.html"
PACKING_SLIP_SIZES = {"A5": "A5 portrait", "A4": "A4 portrait"}

_CHUNKS = re.compile(r"(\d+)")


def bin_sort_key(bin_code: str) -> tuple:
    """Natural order of bin codes (A-2-10 after A-2-9); products without a bin go last."""
    if not bin_code:
        return (1,)
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in _CHUNKS.split(bin_code) if p)
    return (0, parts)


def _has_wide(*parts: str) -> bool:
    return any(display_width(p) != len(p) for p in parts if p)


def recipient_lines(order) -> list[str]:
    """The ship-to address as printed on documents and labels: Chinese addresses from
    the province down (省 市 区, then street), others street first."""
    chinese = (order.ship_country or "CN").upper() in {"CN", "HK", "MO", "TW"} or _has_wide(
        order.ship_province, order.ship_city, order.ship_district, order.ship_address1
    )
    if chinese:
        region = " ".join(p for p in [order.ship_province, order.ship_city, order.ship_district] if p)
        lines = [region, order.ship_address1, order.ship_address2]
    else:
        region = ", ".join(p for p in [order.ship_district, order.ship_city, order.ship_province] if p)
        lines = [order.ship_address1, order.ship_address2, region]
    tail = " ".join(p for p in [order.ship_postcode, order.ship_country] if p)
    return [line for line in [*lines, tail] if line]


def location_lines(location) -> list[str]:
    """A location's address in one or two lines (sender on labels, header on slips)."""
    street = location.address
    region = " ".join(p for p in [location.province, location.city] if p)
    if _has_wide(street, region):
        first = " ".join(p for p in [region, street] if p)
    else:
        first = ", ".join(p for p in [street, location.city, location.province] if p)
    tail = " ".join(p for p in [location.postcode, location.country] if p)
    return [line for line in [first, tail] if line]


def _local(value):
    return timezone.localtime(value) if value is not None and timezone.is_aware(value) else value


def _picklist_shipments(picklist: PickList) -> list[Shipment]:
    """The pick list's live shipments with their lines and products, in three queries whatever the size.

    Forward foreign keys are joined (select_related), never prefetched: Django 5.2 prefetches them with
    a tuple lookup that SQLite spells as one `id = ? OR id = ? ...` chain, which fails beyond about
    1,000 rows ("Expression tree is too large"). The lines come through the reverse key (one
    `shipment_id IN (...)`), each joined to its product."""
    lines = ShipmentLine.objects.select_related("product", "order_line").order_by("id")
    return list(
        picklist.shipments.exclude(status=ShipmentStatus.CANCELLED)
        .select_related("order")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("id")
    )


def picklist_context(picklist: PickList) -> dict:
    """What a pick list prints.

    Keys: picklist, number, barcode_uri, location, created_at (local), created_by,
    printed_at, counts {shipments, orders, skus, units}, shipments (the Shipment rows),
    items: one row per product in walking order
      [{bin, zone, sequence, sku, name, quantity, gift_units (赠品 among them), shipments}],
    breakdown: per shipment, its lines in walking order
      [{shipment_number, order_number, recipient, buyer_message, seller_memo,
        lines: [{bin, sku, name, quantity, gift}]}].
    """
    shipments = _picklist_shipments(picklist)
    totals: dict[int, dict] = {}
    for shipment in shipments:
        for line in shipment.lines.all():
            item = totals.setdefault(
                line.product_id,
                {
                    "product": line.product,
                    "sku": line.product.sku,
                    "name": line.product.name,
                    "quantity": 0,
                    "gift_units": 0,
                    "shipment_ids": set(),
                },
            )
            item["quantity"] += line.quantity
            if line.order_line.is_gift:  # 赠品: picked with the goods of the same SKU, counted apart
                item["gift_units"] += line.quantity
            item["shipment_ids"].add(shipment.pk)
    places = bin_zones(picklist.location, totals)  # product -> (bin, zone, pick sequence)
    bins = {product_id: place[0] for product_id, place in places.items()}
    items = []
    for product_id, item in totals.items():
        bin_code, zone, sequence = places.get(product_id, ("", "", 0))
        items.append(
            {
                "bin": (bin_code or "").strip(),
                "zone": zone,
                "sequence": sequence,
                "sku": item["sku"],
                "name": item["name"],
                "quantity": item["quantity"],
                "gift_units": item["gift_units"],
                "shipments": len(item["shipment_ids"]),
            }
        )
    # Walking order: the bins' pick sequence (inventory.Bin), then natural bin order; no bin last.
    items.sort(key=lambda row: (not row["bin"], row["sequence"], bin_sort_key(row["bin"]), row["sku"]))
    walk = {row["sku"]: i for i, row in enumerate(items)}

    breakdown = []
    for shipment in shipments:
        lines = sorted(shipment.lines.all(), key=lambda line: walk[line.product.sku])
        breakdown.append(
            {
                "shipment_number": str(shipment),
                "order_number": str(shipment.order),
                "recipient": shipment.order.ship_name,
                # For the staff who pick and pack (买家留言 / 卖家备注); never on the customer's packing slip.
                "buyer_message": shipment.order.buyer_message,
                "seller_memo": shipment.order.seller_memo,
                "lines": [
                    {
                        "bin": (bins.get(line.product_id) or "").strip(),
                        "sku": line.product.sku,
                        "name": line.product.name,
                        "quantity": line.quantity,
                        "gift": line.order_line.is_gift,
                    }
                    for line in lines
                ],
            }
        )
    number = str(picklist)
    return {
        "picklist": picklist,
        "number": number,
        "barcode_uri": svg_data_uri(code128_svg(number, max_width_mm=60, height_mm=10)),
        "location": picklist.location,
        "created_at": _local(picklist.created_at),
        "created_by": picklist.created_by,
        "printed_at": timezone.localtime(),
        "counts": {
            "shipments": len(shipments),
            "orders": len({s.order_id for s in shipments}),
            "skus": len(items),
            "units": sum(row["quantity"] for row in items),
        },
        "shipments": shipments,
        "items": items,
        "breakdown": breakdown,
    }


def picklist_pdf(picklist: PickList, *, request=None) -> bytes:
    """The pick list as an A4 portrait PDF."""
    return render_pdf(PICKLIST_TEMPLATE, picklist_context(picklist), request=request)


def _parcel_members(shipment: Shipment) -> list[Shipment]:
    return list(Shipment.objects.members_of(shipment).select_related("order")) if shipment.pk is not None else []


def shipment_contents(shipment: Shipment, members: list[Shipment] | None = None) -> list[dict]:
    """The lines that travel in this shipment's parcel: its own, then, for a merge lead, the lines of each
    live member (``Shipment.merged_into``; members' goods go in the lead's parcel), members in id order,
    each shipment's lines in order-line order. One query for the members, one for all the lines.

    Each: {shipment_number, order_number, sku, name, ordered, quantity}."""
    shipments = [shipment, *(_parcel_members(shipment) if members is None else members)]
    position = {s.pk: i for i, s in enumerate(shipments)}
    rows = (
        ShipmentLine.objects.filter(shipment_id__in=list(position))
        .select_related("product", "order_line")
        .order_by("order_line__line_no", "id")
    )
    by_id = {s.pk: s for s in shipments}
    lines = sorted(rows, key=lambda line: position[line.shipment_id])  # stable: keeps line order within one
    return [
        {
            "shipment_number": str(by_id[line.shipment_id]),
            "order_number": str(by_id[line.shipment_id].order),
            "sku": line.product.sku,
            "name": line.order_line.name or line.product.name,
            "ordered": line.order_line.quantity,
            "quantity": line.quantity,
            "gift": line.order_line.is_gift,
        }
        for line in lines
    ]


def packing_slip_context(shipment: Shipment, *, tracking_url: str) -> dict:
    """What a packing slip prints.

    Keys: shipment, order, shipment_number, order_number, order_date, ship_date,
    sender {name, phone, lines}, recipient {name, phone, lines}, lines: `shipment_contents`
    (for a merge lead also its members' lines), groups: the lines per order
    [{order_number, shipment_number, lines}], merged_orders (the members' order numbers),
    packing_notes (classification's packing instructions of every order in the box, each once),
    units, other_shipments (count of the order's other live shipments), tracking_url, qr_uri.
    """
    order = shipment.order
    location = shipment.location
    members = _parcel_members(shipment)
    lines = shipment_contents(shipment, members)
    groups: list[dict] = []
    for line in lines:
        if not groups or groups[-1]["shipment_number"] != line["shipment_number"]:
            groups.append(
                {"order_number": line["order_number"], "shipment_number": line["shipment_number"], "lines": []}
            )
        groups[-1]["lines"].append(line)
    own = str(shipment)
    merged_orders = list(dict.fromkeys(g["order_number"] for g in groups if g["shipment_number"] != own))
    other_shipments = order.shipments.exclude(pk=shipment.pk).exclude(status=ShipmentStatus.CANCELLED).count()
    # Packing notes of classification (e.g. fragile packing) of every order in the box, each once.
    notes = [order.packing_notes, *(m.order.packing_notes for m in members)]
    packing_notes = list(dict.fromkeys(n.strip() for text in notes for n in (text or "").splitlines() if n.strip()))
    name, phone = printed_recipient(order)  # 隐私面单: masked when the order's channel says so
    return {
        "shipment": shipment,
        "order": order,
        "shipment_number": own,
        "order_number": str(order),
        "order_date": _local(order.placed_at or order.created_at),
        "ship_date": _local(shipment.shipped_at) or timezone.localtime(),
        "sender": {"name": location.name, "phone": location.phone, "lines": location_lines(location)},
        "recipient": {"name": name, "phone": phone, "masked": recipient_masked(order), "lines": recipient_lines(order)},
        "lines": lines,
        "groups": groups,
        "merged_orders": merged_orders,
        "packing_notes": packing_notes,
        "units": sum(line["quantity"] for line in lines),
        "other_shipments": other_shipments,
        "tracking_url": tracking_url,
        "qr_uri": svg_data_uri(qr_svg(tracking_url)) if tracking_url else "",
    }


def packing_slip_pdf(shipment: Shipment, *, tracking_url: str, size: str = "A5", request=None) -> bytes:
    """The packing slip of one shipment (A5 portrait by default, or A4)."""
    return packing_slips_pdf([shipment], tracking_url_for=lambda _s: tracking_url, size=size, request=request)


def packing_slips_pdf(shipments: Iterable[Shipment], *, tracking_url_for, size: str = "A5", request=None) -> bytes:
    """Packing slips of many shipments in one PDF, each starting on a new page."""
    if size not in PACKING_SLIP_SIZES:
        raise ValueError(f"unknown packing slip size {size!r}; use one of {', '.join(PACKING_SLIP_SIZES)}")
    slips = [packing_slip_context(s, tracking_url=tracking_url_for(s)) for s in shipments]
    if not slips:
        raise ValueError("no shipments")
    return render_pdf(
        PACKING_SLIP_TEMPLATE, {"slips": slips, "page_size": PACKING_SLIP_SIZES[size], "size": size}, request=request
    )
