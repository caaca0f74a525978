"""Fonts for PDFs drawn on a reportlab canvas (shipping labels): Latin text in DejaVu Sans, Chinese
in Noto Sans CJK SC, both subset-embedded, the text extractable (reportlab writes a ToUnicode map).

reportlab embeds TrueType (glyf) outlines only and Noto Sans CJK is OpenType/CFF, so the CJK glyphs a
document needs are converted (cubic to quadratic curves with fontTools' cu2qu, under 1 ms a glyph,
cached per character for the life of the process) into a small TrueType font made for that
document's characters (`cjk_font`); reportlab then subsets and embeds it like any other TrueType font.
The converted fonts are kept in a small LRU, so a reprint of the same labels builds nothing.

The font files are found at Debian's paths (fonts-dejavu-core, fonts-noto-cjk), else through
fontconfig (`fc-match`).
"""

from __future__ import annotations

import functools
import hashlib
import io
import shutil
import subprocess
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection
from fontTools.ttLib import TTFont as ToolsFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_FILES = {
    "sans": ("DejaVu Sans", ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"]),
    "sans-bold": ("DejaVu Sans:bold", ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"]),
    "mono-bold": ("DejaVu Sans Mono:bold", ["/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"]),
    "cjk": (
        "Noto Sans CJK SC",
        ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"],
    ),
    "cjk-bold": (
        "Noto Sans CJK SC:bold",
        ["/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc"],
    ),
}
CJK_FAMILY = "Noto Sans CJK SC"
CJK_FONTS_KEPT = 16  # converted per-document CJK fonts kept registered, per weight

_lock = threading.RLock()


class FontMissing(RuntimeError):
    pass


@functools.cache
def font_path(key: str) -> Path:
    pattern, candidates = FONT_FILES[key]
    for candidate in candidates:
        if Path(candidate).is_file():
            return Path(candidate)
    if shutil.which("fc-match"):
        out = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, check=False)
        if out.stdout and Path(out.stdout).is_file():
            return Path(out.stdout)
    raise FontMissing(f"no font file for {pattern!r}: install fonts-dejavu-core and fonts-noto-cjk")


# ---- Latin: plain TrueType files, registered once ---------------------------------------------

LATIN_NAMES = {"sans": "OmsSans", "sans-bold": "OmsSans-Bold", "mono-bold": "OmsMono-Bold"}


def latin_font(key: str) -> str:
    """The reportlab name of a Latin font ("sans", "sans-bold", "mono-bold"), registered on first use."""
    name = LATIN_NAMES[key]
    if name not in pdfmetrics.getRegisteredFontNames():
        with _lock:
            if name not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont(name, str(font_path(key))))
    return name


@functools.cache
def _latin_chars(key: str) -> frozenset[int]:
    return frozenset(pdfmetrics.getFont(latin_font(key)).face.charToGlyph)


# ---- CJK: Noto Sans CJK SC's CFF glyphs converted per character --------------------------------


class CjkSource:
    """One weight of Noto Sans CJK SC, read with fontTools once per process."""

    def __init__(self, key: str):
        path = font_path(key)
        if path.suffix.lower() == ".ttc":
            faces = TTCollection(str(path), lazy=True).fonts
            font = next((f for f in faces if f["name"].getDebugName(1) == CJK_FAMILY), faces[0])
        else:
            font = ToolsFont(str(path), lazy=True)
        self.key = key
        self.font = font
        self.cmap = font.getBestCmap()
        self.glyph_set = font.getGlyphSet()
        self.hmtx = font["hmtx"]
        self.upem = font["head"].unitsPerEm
        self.ascent = font["hhea"].ascent
        self.descent = font["hhea"].descent
        self.glyphs: dict[str, tuple] = {}

    def has(self, ch: str) -> bool:
        return ord(ch) in self.cmap

    def advance(self, ch: str) -> float:
        """Advance width in em."""
        name = self.cmap.get(ord(ch))
        return self.hmtx[name][0] / self.upem if name else 1.0

    def glyph(self, ch: str):
        """(TrueType glyph, advance) of `ch`, converted once."""
        found = self.glyphs.get(ch)
        if found is None:
            name = self.cmap[ord(ch)]
            pen = TTGlyphPen(None)
            self.glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
            found = (pen.glyph(), self.hmtx[name][0])
            self.glyphs[ch] = found
        return found


@functools.cache
def cjk_source(bold: bool) -> CjkSource:
    with _lock:
        return CjkSource("cjk-bold" if bold else "cjk")


_built: dict[bool, OrderedDict[str, str]] = {False: OrderedDict(), True: OrderedDict()}


def cjk_font(chars: set[str] | frozenset[str], *, bold: bool) -> str:
    """The reportlab name of a TrueType font holding exactly `chars` from Noto Sans CJK SC, built and
    registered on first use (the most recent CJK_FONTS_KEPT per weight stay registered)."""
    source = cjk_source(bold)
    wanted = sorted({ch for ch in chars if source.has(ch)})
    digest = hashlib.sha256("".join(wanted).encode("utf-8")).hexdigest()[:16]
    name = f"OmsCJK{'-Bold' if bold else ''}-{digest}"
    with _lock:
        built = _built[bold]
        if name in built:
            built.move_to_end(name)
            return name
        # The font's own (PostScript) name is `name` too: reportlab takes a font whose face name it
        # has seen before for that earlier font.
        pdfmetrics.registerFont(TTFont(name, io.BytesIO(_build_ttf(source, wanted, name=name, bold=bold))))
        built[name] = name
        while len(built) > CJK_FONTS_KEPT:
            old, _ = built.popitem(last=False)
            # reportlab has no unregister; documents already drawn keep their font object
            pdfmetrics._fonts.pop(old, None)
            pdfmetrics._dynFaceNames.pop(old, None)
        return name


def _build_ttf(source: CjkSource, chars: list[str], *, name: str, bold: bool) -> bytes:
    order = [".notdef"] + [f"uni{ord(ch):04X}" if ord(ch) <= 0xFFFF else f"u{ord(ch):05X}" for ch in chars]
    pen = TTGlyphPen(None)  # .notdef: a hollow box, so a character no font has shows as missing
    for x0, y0, x1, y1, clockwise in ((100, -50, 900, 750, True), (180, 30, 820, 670, False)):
        points = [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]
        pen.moveTo(points[0])
        for point in points[1:] if clockwise else points[:0:-1]:
            pen.lineTo(point)
        pen.closePath()
    notdef = pen.glyph()
    glyphs = {".notdef": notdef}
    advances = {".notdef": source.upem}
    for ch, glyph_name in zip(chars, order[1:], strict=True):
        glyphs[glyph_name], advances[glyph_name] = source.glyph(ch)
    builder = FontBuilder(source.upem, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap({ord(ch): glyph_name for ch, glyph_name in zip(chars, order[1:], strict=True)})
    builder.setupGlyf(glyphs)
    glyf = builder.font["glyf"]
    builder.setupHorizontalMetrics({g: (advances[g], getattr(glyf[g], "xMin", 0)) for g in order})
    builder.setupHorizontalHeader(ascent=source.ascent, descent=source.descent)
    style = "Bold" if bold else "Regular"
    builder.setupNameTable({"familyName": "OmsCJK", "styleName": style, "psName": name})
    builder.setupOS2(
        sTypoAscender=source.ascent, sTypoDescender=source.descent, usWinAscent=source.ascent,
        usWinDescent=-source.descent, fsType=0, usWeightClass=700 if bold else 400,
    )  # fmt: skip
    builder.setupPost()
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


# ---- text: which font draws which character, and how wide it is -------------------------------


@dataclass(frozen=True)
class Style:
    size: float
    bold: bool = False
    mono: bool = False

    @property
    def latin(self) -> str:
        return "mono-bold" if self.mono else "sans-bold" if self.bold else "sans"


@functools.lru_cache(maxsize=65536)
def is_cjk(ch: str, latin_key: str) -> bool:
    """Whether `ch` is drawn in the CJK font: wide characters, and whatever the Latin font lacks."""
    if unicodedata.east_asian_width(ch) in "WF":
        return True
    return ord(ch) not in _latin_chars(latin_key) and cjk_source(False).has(ch)


@functools.lru_cache(maxsize=65536)
def char_em(ch: str, latin_key: str, bold: bool) -> float:
    """Advance width of `ch` in em, in the font that draws it."""
    if is_cjk(ch, latin_key):
        return cjk_source(bold).advance(ch)
    return pdfmetrics.stringWidth(ch, latin_font(latin_key), 1000) / 1000


def runs(text: str, style: Style) -> list[tuple[bool, str]]:
    """`text` cut into (is_cjk, text) runs of one font each."""
    out: list[tuple[bool, str]] = []
    key = style.latin
    for ch in text:
        cjk = is_cjk(ch, key)
        if out and out[-1][0] == cjk:
            out[-1] = (cjk, out[-1][1] + ch)
        else:
            out.append((cjk, ch))
    return out


def text_width(text: str, style: Style) -> float:
    """Width of `text` in points."""
    key, bold = style.latin, style.bold
    return sum(char_em(ch, key, bold) for ch in text) * style.size
