"""Fixed-layout PDF pages drawn with reportlab: text in boxes (wrapped or shrunk to fit, never
spilling), frames, filled boxes and 1-bit bitmaps (barcodes, QR codes) placed without interpolation.

A `Sheet` records what each page draws, in millimetres from the page's top-left corner; `pdf()` then
builds the CJK fonts the recorded text needs (`oms.canvas_fonts.cjk_font`, one per weight per document)
and replays everything onto a reportlab canvas. Used for shipping labels, where one label costs a
few milliseconds against about 100 ms through HTML layout (docs/decisions/labels-on-a-canvas.md).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from reportlab import rl_config
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from .canvas_fonts import Style, cjk_font, latin_font, runs, text_width
from .codes import Bitmap

DOT_MM = 25.4 / 203  # one dot of a 203-dpi thermal printer
ELLIPSIS = "…"

# Binary (Flate only) streams instead of ASCII85 on top: a third smaller, and ASCII85 is slow in
# reportlab's pure-Python fallback. Nothing else in the project draws with reportlab.
rl_config.useA85 = 0


# ---- wrapping and fitting ------------------------------------------------------------------------

# A Latin word, a run of spaces, or one other character (a Chinese character takes the closing
# punctuation after it, so no line starts with "，" or "）").
_TOKEN = re.compile(r"\s+|[A-Za-z0-9\u00c0-\u024f'’\-./#@&+_:;!?,]+|.[，。、：；！？）》」』】,.)]*")


def wrap(text: str, style: Style, width: float) -> list[str]:
    """`text` broken into lines no wider than `width` points: at spaces, between Chinese
    characters, and inside a word only when the word alone is wider than the line."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines += _wrap_paragraph(paragraph, style, width)
    return lines


def _wrap_paragraph(text: str, style: Style, width: float) -> list[str]:
    lines: list[str] = []
    line, line_w = "", 0.0
    space_w = text_width(" ", style)
    for token in _TOKEN.findall(text):
        if token.isspace():
            if line:
                line, line_w = line + " ", line_w + space_w
            continue
        token_w = text_width(token, style)
        if line_w + token_w <= width:
            line, line_w = line + token, line_w + token_w
            continue
        if line.strip():
            lines.append(line.rstrip())
        line, line_w = "", 0.0
        if token_w <= width:
            line, line_w = token, token_w
            continue
        for ch in token:  # a word wider than the line: break it anywhere
            ch_w = text_width(ch, style)
            if line and line_w + ch_w > width:
                lines.append(line)
                line, line_w = "", 0.0
            line, line_w = line + ch, line_w + ch_w
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def truncate(text: str, style: Style, width: float) -> str:
    """`text` cut to `width` points with an ellipsis, or whole if it fits."""
    if text_width(text, style) <= width:
        return text
    while text and text_width(text + ELLIPSIS, style) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def fit_line(
    text: str, *, width: float, sizes: list[float], bold: bool = False, mono: bool = False
) -> tuple[str, Style]:
    """`text` on one line: the largest of `sizes` at which it fits `width` points, else the smallest
    size with the text cut short by an ellipsis."""
    for size in sizes:
        style = Style(size, bold=bold, mono=mono)
        if text_width(text, style) <= width:
            return text, style
    return truncate(text, style, width), style


@dataclass(frozen=True)
class Block:
    """Wrapped lines of one style with their line pitch (all in points)."""

    lines: list[str]
    style: Style
    leading: float

    @property
    def height(self) -> float:
        return len(self.lines) * self.leading


def fit_block(
    text: str, *, width: float, height: float, sizes: list[tuple[float, float]], bold: bool = False
) -> tuple[Block, bool]:
    """The largest (size, line height factor) of `sizes` whose wrapped `text` fits `width` x `height`
    points, and whether it fit; if none fits, the smallest size with its lines cut to the height (the
    last kept line ends with an ellipsis)."""
    for size, factor in sizes:
        style = Style(size, bold=bold)
        block = Block(wrap(text, style, width), style, size * factor)
        if block.height <= height:
            return block, True
    return clip_block(block, width=width, height=height), False


def clip_block(block: Block, *, width: float, height: float) -> Block:
    keep = max(1, int(height // block.leading))
    if len(block.lines) <= keep:
        return block
    lines = block.lines[:keep]
    lines[-1] = truncate(lines[-1] + ELLIPSIS, block.style, width) if lines[-1] else ELLIPSIS
    return Block(lines, block.style, block.leading)


# ---- a page recorder -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    x: float
    baseline: float
    runs: list[tuple[bool, str]]  # (is_cjk, text)
    style: Style
    white: bool


@dataclass(frozen=True)
class _Rect:
    x: float
    y: float
    w: float
    h: float
    fill: bool
    line_pt: float


@dataclass(frozen=True)
class _Image:
    bitmap: Bitmap
    x: float
    y: float
    w: float
    h: float


class Sheet:
    """Pages of one size; coordinates in mm from the top-left corner of the page."""

    def __init__(self, width_mm: float, height_mm: float, *, title: str = ""):
        self.width = width_mm
        self.height = height_mm
        self.title = title
        self.pages: list[list] = []

    def new_page(self) -> None:
        self.pages.append([])

    @property
    def _ops(self) -> list:
        if not self.pages:
            self.new_page()
        return self.pages[-1]

    def text(self, x: float, baseline: float, text: str, style: Style, *, align: str = "left", white=False) -> None:
        """One line of text; `x` is its left edge, centre or right edge as `align` says."""
        if not text:
            return
        if align != "left":
            width = text_width(text, style) / mm
            x -= width / 2 if align == "center" else width
        self._ops.append(_Text(x, baseline, runs(text, style), style, white))

    def block(self, x: float, top: float, block: Block, *, align: str = "left", white=False) -> float:
        """The block's lines from `top` down (each line's glyphs centred in its line pitch);
        returns the y below the block."""
        leading = block.leading / mm
        ascent = 0.86 * block.style.size / mm
        half_gap = (block.leading - block.style.size) / 2 / mm
        for i, line in enumerate(block.lines):
            self.text(x, top + i * leading + half_gap + ascent, line, block.style, align=align, white=white)
        return top + len(block.lines) * leading

    def rect(self, x: float, y: float, w: float, h: float, *, fill: bool = True, line_pt: float = 0.0) -> None:
        self._ops.append(_Rect(x, y, w, h, fill, line_pt))

    def image(self, bitmap: Bitmap, x: float, y: float, w: float, h: float) -> None:
        """A 1-bit bitmap stretched to w x h mm, pixels kept sharp; x and y snap to 203-dpi dots
        so each module prints as a whole number of dots."""
        x, y = round(x / DOT_MM) * DOT_MM, round(y / DOT_MM) * DOT_MM
        self._ops.append(_Image(bitmap, x, y, w, h))

    # ---- output ----

    def pdf(self) -> bytes:
        cjk_chars: dict[bool, set[str]] = {False: set(), True: set()}
        for ops in self.pages:
            for op in ops:
                if isinstance(op, _Text):
                    for cjk, part in op.runs:
                        if cjk:
                            cjk_chars[op.style.bold].update(part)
        # The font objects themselves, held for the whole document (another thread may push a
        # document's CJK font out of reportlab's registry meanwhile).
        fonts = {
            (True, bold): pdfmetrics.getFont(cjk_font(chars, bold=bold)) for bold, chars in cjk_chars.items() if chars
        }
        fonts |= {(False, key): pdfmetrics.getFont(latin_font(key)) for key in ("sans", "sans-bold", "mono-bold")}
        buffer = io.BytesIO()
        canvas = Canvas(
            buffer,
            pagesize=(self.width * mm, self.height * mm),
            pageCompression=1,
            invariant=1,
            initialFontName=latin_font("sans"),
        )
        canvas.setTitle(self.title)
        canvas.setCreator("OMS")
        for ops in self.pages:
            for op in ops:
                self._draw(canvas, op, fonts)
            canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    def _draw(self, canvas: Canvas, op, fonts: dict) -> None:
        """Content-stream operators written directly: reportlab's text objects format every number
        and measure every string in Python, several times the cost of the drawing itself."""
        code = canvas._code
        if isinstance(op, _Text):
            doc = canvas._doc
            parts = [f"BT 1 0 0 1 {op.x * mm:.2f} {(self.height - op.baseline) * mm:.2f} Tm {1 if op.white else 0} g"]
            size = f"{op.style.size:.2f}"
            for cjk, part in op.runs:
                font = fonts[True, op.style.bold] if cjk else fonts[False, op.style.latin]
                for subset, chunk in font.splitString(part, doc):
                    parts.append(f"{font.getSubsetInternalName(subset, doc)} {size} Tf <{chunk.hex()}> Tj")
            parts.append("ET")
            code.append(" ".join(parts))
        elif isinstance(op, _Rect):
            box = f"{op.x * mm:.2f} {(self.height - op.y - op.h) * mm:.2f} {op.w * mm:.2f} {op.h * mm:.2f} re"
            if op.line_pt:
                code.append(f"0 G {op.line_pt:.2f} w {box} {'B' if op.fill else 'S'}")
            else:
                code.append(f"0 g {box} f")
        elif isinstance(op, _Image):
            y = (self.height - op.y - op.h) * mm
            draw_bitmap(canvas, op.bitmap, op.x * mm, y, op.w * mm, op.h * mm)


class _BitmapXObject(pdfdoc.PDFObject):
    """A 1-bit DeviceGray image, /Interpolate false (reportlab's own images are 8-bit and smoothed)."""

    __RefOnly__ = 1

    def __init__(self, bitmap: Bitmap):
        self.bitmap = bitmap

    def format(self, document):
        bitmap = self.bitmap
        head = (
            f"<< /Type /XObject /Subtype /Image /Width {bitmap.width} /Height {bitmap.height} "
            f"/ColorSpace /DeviceGray /BitsPerComponent 1 /Interpolate false /Filter /FlateDecode "
            f"/Length {len(bitmap.flate)} >>\nstream\n"
        )
        return head.encode("ascii") + bitmap.flate + b"\nendstream\n"


def draw_bitmap(canvas: Canvas, bitmap: Bitmap, x: float, y: float, w: float, h: float) -> None:
    """Draw `bitmap` with its lower-left corner at (x, y) points, stretched to w x h points; a
    bitmap is stored once per PDF however many pages show it (the way reportlab's drawImage works)."""
    name = "bm" + bitmap.key[:24]
    reg_name = canvas._doc.getXObjectName(name)
    if reg_name not in canvas._doc.idToObject:
        canvas._doc.Reference(_BitmapXObject(bitmap), reg_name)
    canvas._currentPageHasImages = 1
    canvas._code.append(f"q {w:.3f} 0 0 {h:.3f} {x:.3f} {y:.3f} cm /{reg_name} Do Q")
    canvas._formsinuse.append(name)
