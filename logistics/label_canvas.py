"""Shipping labels drawn on a fixed canvas (reportlab): 4x6 in or A6, one page per parcel.

The layout, top to bottom, in fixed zones inside a 2.2 pt frame: carrier and service (the service
kind white on black), sender, recipient (the biggest type that fits: `fit_recipient`), handling
marks (white on black, two a row), the Code 128 of the tracking number with the number under it,
and references beside the QR code of the tracking link. Every text is wrapped or shrunk to its
box, and cut with an ellipsis only as a last resort, so nothing spills into the next zone.
Barcode and QR code are 1-bit images, one pixel per module, cached per value (oms.codes) and
placed on the 203-dpi dot grid without interpolation. The values come from
`logistics.documents.label_context`, the same dict the ZPL labels print.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.units import mm

from oms.canvas import Block, Sheet, clip_block, fit_block, fit_line, wrap
from oms.canvas_fonts import Style, text_width
from oms.codes import DOT_MM, code128_bitmap, qr_bitmap

MARGIN_MM = 2.5
# size -> (page width, page height, label frame width, label frame height) in mm
SIZES_MM = {"4x6": (101.6, 152.4, 96.6, 147.2), "a6": (105.0, 148.0, 100.0, 142.8)}
FRAME_MM = 2.2 / 72 * 25.4  # the 2.2 pt frame and rules
HEAD_MM, FROM_MM, MARK_ROW_MM, TRACK_MM, FOOT_MM = 15.0, 16.5, 8.5, 29.5, 29.0
BARCODE_HEIGHT_MM = 16.0
QR_MAX_MM, QR_CELL_MM = 24.0, 27.0
PAD_MM = 2.0  # left and right padding of every zone

TAG = Style(6.5, bold=True)
NAME_SIZES = [18.0, 14.0, 11.0, 9.0, 7.5, 6.0]
NAME_LEADING = 1.15
ADDRESS_SIZES = [(13.0, 1.22), (11.0, 1.2), (9.0, 1.18), (7.5, 1.15), (6.5, 1.12), (5.5, 1.1)]
SENDER_SIZES = [(7.5, 1.18), (6.5, 1.12), (5.5, 1.1)]
NAME_MAX_LINES = 3


@dataclass(frozen=True)
class Recipient:
    """The recipient zone's content as laid out: name lines (the phone on the last one, or on a
    line of its own), address block, and whether everything fit without cutting."""

    name: Block
    phone: str
    phone_style: Style
    phone_own_line: bool
    address: Block
    whole: bool


def _name_lines(name: str, phone: str, size: float, width: float) -> tuple[Block, Style, bool]:
    style = Style(size, bold=True)
    phone_style = Style(min(12.0, size), bold=True)
    gap = 3 * mm
    phone_w = text_width(phone, phone_style) if phone else 0.0
    lines = wrap(name, style, width) if name else [""]
    block = Block(lines, style, size * NAME_LEADING)
    if len(lines) > NAME_MAX_LINES:
        block = clip_block(block, width=width, height=NAME_MAX_LINES * block.leading)
    own_line = bool(phone) and text_width(block.lines[-1], style) + gap + phone_w > width
    return block, phone_style, own_line


def fit_recipient(name: str, phone: str, lines: list[str], *, width: float, height: float) -> Recipient:
    """The largest address type (then the largest name type, never smaller than the address) whose
    wrapped name, phone and address fit `width` x `height` points; if even the smallest does not,
    the address is cut to the height with an ellipsis (`whole` is then False)."""
    text = "\n".join(lines)
    gap = 0.8 * mm
    for address_pt, factor in ADDRESS_SIZES:
        address_style = Style(address_pt, bold=True)
        address = Block(wrap(text, address_style, width), address_style, address_pt * factor)
        for name_pt in NAME_SIZES:
            if name_pt < address_pt:
                break
            name_block, phone_style, own_line = _name_lines(name, phone, name_pt, width)
            used = name_block.height + (name_block.leading if own_line else 0) + gap + address.height
            if used <= height:
                return Recipient(name_block, phone, phone_style, own_line, address, True)
    name_block, phone_style, own_line = _name_lines(name, phone, NAME_SIZES[-1], width)
    name_h = name_block.height + (name_block.leading if own_line else 0)
    address = clip_block(address, width=width, height=max(address.leading, height - name_h - gap))
    return Recipient(name_block, phone, phone_style, own_line, address, False)


def _baseline(top_mm: float, style: Style, leading: float = 1.22) -> float:
    """The baseline of a line whose box (size x leading) starts at `top_mm`."""
    return top_mm + (style.size * (leading - 1) / 2 + 0.86 * style.size) / mm


def _tag(sheet: Sheet, x: float, top: float, text: str, width_mm: float) -> float:
    text, style = fit_line(text, width=width_mm * mm, sizes=[TAG.size, 5.5], bold=True)
    sheet.text(x, _baseline(top, style), text, style)
    return top + TAG.size * 1.22 / mm


def draw_label(sheet: Sheet, label: dict, *, size: str) -> None:
    """One label on a new page of `sheet`."""
    _, _, frame_w, frame_h = SIZES_MM[size]
    b = FRAME_MM
    sheet.new_page()
    sheet.rect(MARGIN_MM + b / 2, MARGIN_MM + b / 2, frame_w - b, frame_h - b, fill=False, line_pt=2.2)
    x0, y0 = MARGIN_MM + b, MARGIN_MM + b
    inner_w, inner_h = frame_w - 2 * b, frame_h - 2 * b
    left, text_w = x0 + PAD_MM, inner_w - 2 * PAD_MM

    def rule(y: float) -> None:  # a horizontal rule whose top edge is at y
        sheet.rect(x0, y, inner_w, b)

    # 1. Carrier and service; the service kind white on black at the right.
    kind_w = 25.0
    sheet.rect(x0 + inner_w - kind_w, y0, kind_w, HEAD_MM - b)
    kind_x = x0 + inner_w - kind_w / 2
    code, style = fit_line(label["service_kind_code"], width=(kind_w - 2) * mm, sizes=[12, 10, 8], bold=True)
    sheet.text(kind_x, y0 + 2.2 + 0.86 * style.size / mm, code, style, align="center", white=True)
    kind_label, style = fit_line(label["service_kind_label"], width=(kind_w - 2) * mm, sizes=[8, 6.5])
    sheet.text(
        kind_x, y0 + 2.2 + 12 * 1.05 / mm + 0.86 * style.size / mm, kind_label, style, align="center", white=True
    )
    head_w = (inner_w - kind_w - 2 * PAD_MM) * mm
    carrier, style = fit_line(label["carrier_name"], width=head_w, sizes=[14, 12, 10, 9], bold=True)
    sheet.text(left, _baseline(y0 + 1.2, style, 1.1), carrier, style)
    meta_top = y0 + 1.2 + 14 * 1.1 / mm
    meta = [label["service_name"], f"{label['ship_date']:%Y-%m-%d} · {label['weight_kg']} kg"]
    for i, line in enumerate(meta):
        line, style = fit_line(line, width=head_w, sizes=[8, 7, 6], bold=True)
        sheet.text(left, _baseline(meta_top + i * 8 * 1.22 / mm, style), line, style)
    rule(y0 + HEAD_MM - b)

    # 2. Sender.
    top = y0 + HEAD_MM + 1.4
    bottom = y0 + HEAD_MM + FROM_MM - b - 1.0
    top = _tag(sheet, left, top, "From 寄件人", text_w)
    sender = label["sender"]
    who, style = fit_line(
        "  ".join(p for p in [sender["name"], sender["phone"]] if p), width=text_w * mm, sizes=[8, 7, 6], bold=True
    )
    sheet.text(left, _baseline(top, style, 1.18), who, style)
    top += 8 * 1.18 / mm
    sender_block, _ = fit_block(sender["text"], width=text_w * mm, height=(bottom - top) * mm, sizes=SENDER_SIZES)
    sheet.block(left, top, sender_block)
    rule(y0 + HEAD_MM + FROM_MM - b)

    # 3. Recipient: the biggest and boldest thing on the label.
    mark_rows = label["mark_rows"]
    marks_top = y0 + inner_h - FOOT_MM - TRACK_MM - mark_rows * MARK_ROW_MM
    top = _tag(sheet, left, y0 + HEAD_MM + FROM_MM + 1.2, "Ship to 收件人", text_w) + 0.4
    recipient = label["recipient"]
    fitted = fit_recipient(
        recipient["name"],
        recipient["phone"],
        recipient["lines"],
        width=text_w * mm,
        height=(marks_top - 0.8 - top) * mm,
    )
    top = sheet.block(left, top, fitted.name)
    if fitted.phone:
        name = fitted.name
        if fitted.phone_own_line:
            x, baseline = left, _baseline(top, fitted.phone_style, NAME_LEADING)
            top += name.leading / mm
        else:
            x = left + (text_width(name.lines[-1], name.style) / mm + 3 if name.lines[-1] else 0)
            baseline = (
                top - name.leading / mm + (name.style.size * (NAME_LEADING - 1) / 2 + 0.86 * name.style.size) / mm
            )
        sheet.text(x, baseline, fitted.phone, fitted.phone_style)
    sheet.block(left, top + 0.8, fitted.address)

    # 4. Handling marks, two a row.
    if mark_rows:
        rule(marks_top)
        box_w = (inner_w - PAD_MM - 1.2) * 0.49
        for i, mark in enumerate(label["marks"]):
            x = left + (i % 2) * (box_w + 0.8)
            y = marks_top + b + 1.0 + (i // 2) * MARK_ROW_MM
            sheet.rect(x, y, box_w, 6.6)
            text, style = fit_line(mark["text"], width=(box_w - 2) * mm, sizes=[10.5, 9, 7.5], bold=True)
            sheet.text(x + box_w / 2, y + 3.3 + 0.36 * style.size / mm, text, style, align="center", white=True)

    # 5. Tracking number: Code 128 and the number under it.
    track_top = y0 + inner_h - FOOT_MM - TRACK_MM
    rule(track_top)
    top = _tag(sheet, left, track_top + b + 1.2, f"Tracking 运单号 · {label['carrier_name']}", text_w)
    barcode = label["barcode"]
    top += 0.6
    sheet.image(
        code128_bitmap(label["tracking_number"]),
        x0 + (inner_w - barcode["width_mm"]) / 2,
        top,
        barcode["width_mm"],
        BARCODE_HEIGHT_MM,
    )
    top += BARCODE_HEIGHT_MM + 0.4
    number, style = fit_line(label["tracking_number"], width=text_w * mm, sizes=[13, 11, 9, 7], mono=True, bold=True)
    sheet.text(x0 + inner_w / 2, _baseline(top, style), number, style, align="center")

    # 6. References, and the QR code of the tracking link at the right.
    foot_top = y0 + inner_h - FOOT_MM
    rule(foot_top)
    cell_x = x0 + inner_w - QR_CELL_MM
    sheet.rect(cell_x, foot_top + b, b, FOOT_MM - b)
    cell_mid = cell_x + b + (QR_CELL_MM - b) / 2
    qr_bottom = foot_top + b + 0.8
    if label["tracking_url"]:
        qr = qr_bitmap(label["tracking_url"])
        dots = max(1, int(QR_MAX_MM / DOT_MM) // qr.width)  # whole printer dots per module
        side = dots * qr.width * DOT_MM
        sheet.image(qr, cell_mid - side / 2, qr_bottom, side, side)
        qr_bottom += side
    track_style = Style(6.5, bold=True)
    sheet.text(cell_mid, max(qr_bottom + 2.6, foot_top + FOOT_MM - 1.8), "Track 查询物流", track_style, align="center")
    keys = ["Shipment 发货单", "Order 订单", "Weight 重量", "Ship date 日期", "Piece 件数"]
    values = [
        label["shipment_number"],
        label["order_number"],
        f"{label['weight_kg']} kg",
        f"{label['ship_date']:%Y-%m-%d}",
        label["piece"],
    ]
    if label["expected_delivery"]:
        keys.append("Est. delivery 预计")
        values.append(f"{label['expected_delivery']:%Y-%m-%d}")
    values_x = left + 24.0
    values_w = (cell_x - 1.0 - values_x) * mm
    for i, (key, value) in enumerate(zip(keys, values, strict=True)):
        baseline = foot_top + b + 1.6 + i * 4.1 + 3.0
        key, style = fit_line(key, width=23.0 * mm, sizes=[7, 6, 5])
        sheet.text(left, baseline, key, style)
        value, style = fit_line(str(value), width=values_w, sizes=[9, 8, 7, 6], bold=True)
        sheet.text(values_x, baseline, value, style)


def labels_pdf(labels: list[dict], *, size: str) -> bytes:
    """One PDF page per label dict (`logistics.documents.label_context`), in order."""
    page_w, page_h, _, _ = SIZES_MM[size]
    sheet = Sheet(page_w, page_h, title="Labels")
    for label in labels:
        draw_label(sheet, label, size=size)
    return sheet.pdf()
