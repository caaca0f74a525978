"""Barcodes and QR codes as small SVG documents, for inline <img> tags in PDF templates.

Code 128 comes from python-barcode (its encoder; the SVG is drawn here with one rect per
bar and a viewBox, so it scales cleanly and stays small), QR codes from segno. The human
readable text is left out of the barcode: templates print it in their own font.

Sizes are chosen for thermal label printers (203 dpi, one dot = 0.125 mm): a module
(the narrowest bar) is a whole number of dots, 4, 3 or 2 (0.5, 0.375 or 0.25 mm), the
widest that fits the width available, with a quiet zone of 10 modules on each side.
"""

import base64
import io

import segno
from barcode import Code128

DOT_MM = 25.4 / 203
MODULE_CHOICES_MM = (4 * DOT_MM, 3 * DOT_MM, 2 * DOT_MM)
QUIET_MODULES = 10


def code128_modules(value: str) -> str:
    """The Code 128 symbol of `value` as a string of '1' (bar) and '0' (space) modules."""
    if not value:
        raise ValueError("Code 128 needs a non-empty value")
    return "".join(Code128(str(value)).build())


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
        module_mm = next((m for m in MODULE_CHOICES_MM if total * m <= max_width_mm), MODULE_CHOICES_MM[-1])
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


# ---- raster variants for long batches ----------------------------------------------------------
# WeasyPrint draws an SVG node by node in Python (about 10 ms for a QR path and a barcode's rects,
# per label); a 1-bit PNG with one pixel per module is decoded by Pillow and placed as one image.
# Templates size it in mm and set `image-rendering: pixelated`, so the PDF says /Interpolate false
# and every module stays a sharp rectangle at any zoom or printer resolution.


def _png_data_uri(image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def code128_png(
    value: str, *, max_width_mm: float = 88.0, height_mm: float = 18.0, module_mm: float | None = None
) -> dict:
    """A Code 128 barcode of `value` as a 1-pixel-high PNG, one pixel per module with the quiet
    zones, and the size to print it at (same module choice as `code128_svg`).

    Returns {uri, width_mm, height_mm, modules (the module string with quiet zones)}."""
    from PIL import Image

    symbol = "0" * QUIET_MODULES + code128_modules(value) + "0" * QUIET_MODULES
    if module_mm is None:
        module_mm = next((m for m in MODULE_CHOICES_MM if len(symbol) * m <= max_width_mm), MODULE_CHOICES_MM[-1])
    image = Image.new("1", (len(symbol), 1), 1)
    image.putdata([0 if bit == "1" else 1 for bit in symbol])
    return {"uri": _png_data_uri(image), "width_mm": len(symbol) * module_mm, "height_mm": height_mm, "modules": symbol}


def qr_png_uri(value: str, *, error: str = "m", border: int = 2) -> str:
    """A QR code of `value` as a PNG data URI, one pixel per module; the template sizes it."""
    buffer = io.BytesIO()
    segno.make(value, error=error, micro=False).save(buffer, kind="png", scale=1, border=border)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
