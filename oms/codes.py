"""Barcodes and QR codes: small SVG documents for inline <img> tags in PDF templates, and 1-bit
bitmaps (cached per value) for documents drawn on a canvas (shipping labels, oms.canvas).

Code 128 comes from python-barcode (its encoder; the SVG is drawn here with one rect per
bar and a viewBox, so it scales cleanly and stays small), QR codes from segno. The human
readable text is left out of the barcode: templates print it in their own font.

Sizes are chosen for thermal label printers (203 dpi, one dot = 0.125 mm): a module
(the narrowest bar) is a whole number of dots, 4, 3 or 2 (0.5, 0.375 or 0.25 mm), the
widest that fits the width available, with a quiet zone of 10 modules on each side.
"""

import base64
import functools
import hashlib
import io
import zlib
from dataclasses import dataclass

import numpy as np
import segno
from barcode import Code128

from .qr import qr_rows

DOT_MM = 25.4 / 203
MODULE_CHOICES_MM = (4 * DOT_MM, 3 * DOT_MM, 2 * DOT_MM)
QUIET_MODULES = 10


def code128_modules(value: str) -> str:
    """The Code 128 symbol of `value` as a string of '1' (bar) and '0' (space) modules."""
    if not value:
        raise ValueError("Code 128 needs a non-empty value")
    return "".join(Code128(str(value), writer=_NO_WRITER).build())


class _NoWriter:
    """Code128's default SVG writer costs over a millisecond to set up; `build()` needs no writer."""


_NO_WRITER = _NoWriter()


def code128_svg(
    value: str, *, max_width_mm: float = 88.0, height_mm: float = 18.0, module_mm: float | None = None
) -> str:
    """A Code 128 barcode of `value` as SVG, sized in millimetres.

    The module width is the widest of 0.5/0.375/0.25 mm whose symbol (with quiet zones)
    fits `max_width_mm`, unless `module_mm` is given. On a 4x6 label (about 88 mm usable)
    a 20-character tracking number gets 0.375 mm modules and a bar height of 18 mm,
    comfortably above what carrier scanners need.
    """
    modules = code128_modules(value)
    total = len(modules) + 2 * QUIET_MODULES
    if module_mm is None:
        module_mm = code128_module_mm(total, max_width_mm)
    rects = []
    x = 0
    while x < len(modules):
        if modules[x] == "1":
            start = x
            while x < len(modules) and modules[x] == "1":
                x += 1
            rects.append(f'<rect x="{start + QUIET_MODULES}" y="0" width="{x - start}" height="1"/>')
        else:
            x += 1
    width_mm = total * module_mm
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_mm:.3f}mm" height="{height_mm:.3f}mm" '
        f'viewBox="0 0 {total} 1" preserveAspectRatio="none" shape-rendering="crispEdges">'
        f'<rect x="0" y="0" width="{total}" height="1" fill="#fff"/>'
        f'<g fill="#000">{"".join(rects)}</g></svg>'
    )


def qr_svg(value: str, *, size_mm: float | None = None, error: str = "m", border: int = 2) -> str:
    """A QR code of `value` as SVG. With `size_mm` the SVG carries that size; without,
    only a viewBox, so the template's CSS sizes it."""
    qr = segno.make(value, error=error, micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", xmldecl=False, svgns=True, omitsize=True, border=border, dark="#000", light="#fff")
    svg = buffer.getvalue().decode("utf-8")
    if size_mm is not None:
        svg = svg.replace("<svg ", f'<svg width="{size_mm:.2f}mm" height="{size_mm:.2f}mm" ', 1)
    return svg


def svg_data_uri(svg: str) -> str:
    """`data:` URI of an SVG document, for `<img src="...">`."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


# ---- bitmaps for canvas-drawn documents (labels) -------------------------------------------------
# One bit per module, rows packed MSB first and padded to a byte, 1 = white: the layout of a PDF
# image with /ColorSpace /DeviceGray and /BitsPerComponent 1, compressed once. Cached per value, so
# a reprint, or a QR code on many labels, is encoded once per process (oms.canvas draws it once per PDF).


@dataclass(frozen=True)
class Bitmap:
    width: int
    height: int
    flate: bytes  # zlib-compressed packed rows
    key: str  # digest of the content: names the image inside one PDF

    @classmethod
    def from_array(cls, modules: np.ndarray) -> "Bitmap":
        """From a 2-D array of 1 (dark) and 0 (light) modules."""
        height, width = modules.shape
        packed = np.packbits(1 - modules.astype(np.uint8), axis=1).tobytes()  # rows padded with 0 bits
        digest = hashlib.sha256(packed + width.to_bytes(4, "big")).hexdigest()
        return cls(width, height, zlib.compress(packed), digest)


def code128_module_mm(modules: int, max_width_mm: float) -> float:
    """The widest module of 0.5/0.375/0.25 mm (4/3/2 dots at 203 dpi) whose symbol fits."""
    return next((m for m in MODULE_CHOICES_MM if modules * m <= max_width_mm), MODULE_CHOICES_MM[-1])


@functools.lru_cache(maxsize=4096)
def code128_bitmap(value: str) -> Bitmap:
    """A Code 128 symbol of `value` with its quiet zones, one pixel per module, one pixel high."""
    symbol = "0" * QUIET_MODULES + code128_modules(value) + "0" * QUIET_MODULES
    return Bitmap.from_array(np.frombuffer(symbol.encode("ascii"), dtype=np.uint8)[None, :] - ord("0"))


@functools.lru_cache(maxsize=4096)
def qr_bitmap(value: str, *, error: str = "m", border: int = 2) -> Bitmap:
    """A QR code of `value` (model 2, error correction `error`, not micro) with `border` modules of
    quiet zone, one pixel per module (oms.qr: segno's symbol, the mask chosen faster)."""
    return Bitmap.from_array(qr_rows(value, error=error, border=border))
