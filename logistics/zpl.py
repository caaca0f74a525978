"""Shipping labels in ZPL II for thermal printers (Zebra and compatibles), with the same content as the
PDF labels (`logistics.documents.label_context`): carrier and service, sender, recipient, handling marks,
a Code 128 barcode of the tracking number and a QR code of the tracking link.

ZPL II commands used, as the ZPL II Programming Guide (Zebra, P1012728) defines them:

- ``^XA`` / ``^XZ`` start and end a label; ``^CI28`` selects UTF-8 for field data;
  ``^PW`` print width and ``^LL`` label length in dots; ``^LH0,0`` label home; ``^PQ1`` one copy.
- ``^FO x,y`` field origin; ``^FD ... ^FS`` field data and separator; ``^FH_`` lets field data carry
  ``_hh`` hexadecimal escapes, used for ``^``, ``~`` and ``_`` themselves (``_5E``, ``_7E``, ``_5F``) so
  an address cannot inject commands; ``^FB width,lines,spacing,justify`` wraps text in a block;
  ``^FR`` prints a field reversed (white on black) over a ``^GB`` filled box.
- ``^A@o,h,w,d:f.x`` scalable font by name. Chinese needs a CJK TrueType font stored on the printer:
  by default ``E:SIMSUN.TTF`` (download it once with Zebra Setup Utilities or ``~DU``); set
  ``ZPL_FONT`` (e.g. ``E:NOTOSANSCJKSC.TTF``) to use another. Without such a font the printer prints
  Chinese characters as blanks or squares, exactly like a PDF without a CJK font.
- ``^BY w`` module width in dots, ``^BCN,h,N,N,N`` Code 128 (no human-readable line: printed separately
  in the label font); ``^BQN,2,m`` QR code model 2, magnification ``m``, data ``MA,<url>`` (error
  correction M, automatic input mode).

Sizes at 203 dpi (8 dots/mm): 4x6 in is 812 x 1218 dots; A6 (105 x 148 mm) is 839 x 1183 dots. At
300 dpi pass ``dpi=300``: every coordinate scales.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings

from .documents import PAGE_SIZES, label_context, load_parcels
from .models import Parcel

# label size -> (width, height) in inches
SIZES_IN = {"4x6": (4.0, 6.0), "a6": (105 / 25.4, 148 / 25.4)}
DEFAULT_FONT = "E:SIMSUN.TTF"


def font_name() -> str:
    return getattr(settings, "ZPL_FONT", "") or DEFAULT_FONT


def escape(text: str) -> str:
    """Field data safe inside ``^FH_^FD ... ^FS``: ``_``, ``^`` and ``~`` as hex escapes, no line breaks."""
    text = " ".join(str(text or "").split())
    return text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")


class _Label:
    def __init__(self, width_dots: int, scale: float, font: str):
        self.parts: list[str] = []
        self.width = width_dots
        self.scale = scale
        self.font = font

    def d(self, value: float) -> int:
        return round(value * self.scale)

    def text(self, x, y, size, value, *, width=None, lines=1, justify="L", reverse=False):
        h = self.d(size)
        block = f"^FB{self.d(width)},{lines},0,{justify},0" if width else ""
        rev = "^FR" if reverse else ""
        self.parts.append(f"^FO{self.d(x)},{self.d(y)}^A@N,{h},{h},{self.font}{block}{rev}^FH_^FD{escape(value)}^FS")

    def box(self, x, y, w, h, thickness=2):
        t = max(1, self.d(thickness))
        self.parts.append(f"^FO{self.d(x)},{self.d(y)}^GB{self.d(w)},{self.d(h)},{t}^FS")

    def raw(self, command: str):
        self.parts.append(command)


def label_zpl_one(context: dict, *, size: str = "4x6", dpi: int = 203) -> str:
    """One label (``^XA`` ... ``^XZ``) from a `label_context` dict."""
    width_in, height_in = SIZES_IN[size]
    scale = dpi / 203
    width, height = round(width_in * dpi), round(height_in * dpi)
    z = _Label(width, scale, font_name())
    usable = width / scale - 60  # in 203-dpi dots, 30-dot margins
    z.raw("^XA")
    z.raw("^CI28")
    z.raw(f"^PW{width}")
    z.raw(f"^LL{height}")
    z.raw("^LH0,0")
    # Header: carrier, service kind, piece.
    z.text(30, 24, 40, context["carrier_name"], width=usable - 200)
    z.text(30, 70, 26, context["service_name"], width=usable - 200)
    z.box(usable - 150, 20, 180, 80, 80)
    z.text(usable - 150, 38, 46, context["service_kind_code"], width=180, justify="C", reverse=True)
    z.box(30, 110, usable, 0, 3)
    # Sender.
    sender = context["sender"]
    z.text(30, 122, 22, "FROM 寄件人: " + " ".join(p for p in [sender["name"], sender["phone"]] if p), width=usable)
    z.text(30, 150, 22, " ".join(sender["lines"]), width=usable, lines=2)
    z.box(30, 204, usable, 0, 3)
    # Recipient.
    recipient = context["recipient"]
    z.text(30, 216, 24, "TO 收件人")
    z.text(30, 246, 48, recipient["name"], width=usable - 260)
    z.text(usable - 230, 256, 32, recipient["phone"], width=260, justify="R")
    y = 306
    for line in recipient["lines"]:
        z.text(30, y, 34, line, width=usable, lines=2)
        y += 40 if len(line) <= 22 else 80
    # Handling marks, white on black, two per row.
    y = max(y + 10, 470)
    for i, mark in enumerate(context["marks"]):
        x = 30 + (i % 2) * (usable / 2 + 5)
        row_y = y + (i // 2) * 56
        z.box(x, row_y, usable / 2 - 5, 48, 48)
        z.text(x, row_y + 8, 32, mark["text"], width=usable / 2 - 5, justify="C", reverse=True)
    y += ((len(context["marks"]) + 1) // 2) * 56 + 10
    z.box(30, y, usable, 0, 3)
    # Barcode of the tracking number, its text, and the QR code of the tracking link.
    barcode_y = max(y + 20, 700)
    module = 3 if len(context["tracking_number"]) <= 16 else 2
    z.raw(f"^BY{max(1, round(module * scale))},3,{z.d(170)}")
    z.raw(f"^FO{z.d(40)},{z.d(barcode_y)}^BCN,{z.d(170)},N,N,N^FD{escape(context['tracking_number'])}^FS")
    z.text(30, barcode_y + 180, 36, context["tracking_number"], width=usable, justify="C")
    footer_y = barcode_y + 235
    if context["tracking_url"]:
        magnification = max(1, round(4 * scale))
        qr_data = escape(context["tracking_url"])
        z.raw(f"^FO{z.d(usable - 180)},{z.d(footer_y)}^BQN,2,{magnification}^FH_^FDMA,{qr_data}^FS")
    facts = [
        f"SHIP {context['shipment_number']}  ORDER {context['order_number']}",
        f"{context['weight_kg']} kg  PCS {context['piece']}  {context['ship_date']:%Y-%m-%d}",
    ]
    if context["expected_delivery"]:
        facts.append(f"ETA {context['expected_delivery']:%Y-%m-%d}")
    for i, fact in enumerate(facts):
        z.text(30, footer_y + 10 + i * 34, 26, fact, width=usable - 220)
    z.raw("^PQ1")
    z.raw("^XZ")
    return "\n".join(z.parts) + "\n"


def label_zpl(
    parcels: Iterable[Parcel], *, tracking_url_for: Callable[[Parcel], str], size: str = "4x6", dpi: int = 203
) -> str:
    """ZPL for many labels, one ``^XA ... ^XZ`` block per parcel, in the order given."""
    if size not in PAGE_SIZES:
        raise ValueError(f"unknown label size {size!r}; use one of {', '.join(PAGE_SIZES)}")
    parcels = list(parcels)
    if not parcels:
        raise ValueError("no parcels to label")
    parcels = load_parcels(parcels)
    return "".join(
        label_zpl_one(label_context(p, tracking_url=tracking_url_for(p), size=size), size=size, dpi=dpi)
        for p in parcels
    )
