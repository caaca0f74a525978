"""Canvas-drawn PDFs (oms.canvas): wrapping and fitting, CJK fonts per document, 1-bit bitmaps,
and the QR codes of oms.qr against segno's own."""

import io
import shutil
import subprocess
import zlib

import numpy as np
import pytest
import segno
from pypdf import PdfReader

from oms.canvas import Sheet, fit_block, fit_line, wrap
from oms.canvas_fonts import Style, text_width
from oms.codes import Bitmap, code128_bitmap, code128_modules, qr_bitmap
from oms.qr import qr_rows, qr_symbol

BOLD = Style(10, bold=True)


def pdftotext(pdf: bytes) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def test_wrap_breaks_between_chinese_characters_and_at_spaces():
    width = text_width("广东省深圳市南山区", BOLD) + 0.01

    assert wrap("广东省深圳市南山区粤海街道科技园", BOLD, width) == ["广东省深圳市南山区", "粤海街道科技园"]
    assert wrap("Market Street Suite", Style(10), text_width("Market Street", Style(10)) + 0.01) == [
        "Market Street",
        "Suite",
    ]


def test_wrap_keeps_closing_punctuation_with_its_character():
    width = text_width("广东省深圳市", BOLD) + 0.01

    assert wrap("广东省深圳市，南山区", BOLD, width) == ["广东省深圳", "市，南山区"]


def test_wrap_breaks_a_word_wider_than_the_line_anywhere():
    style = Style(10)
    width = text_width("X" * 10, style) + 0.01

    lines = wrap("X" * 25, style, width)

    assert lines == ["X" * 10, "X" * 10, "X" * 5]
    assert all(text_width(line, style) <= width for line in lines)


def test_fit_block_takes_the_largest_size_that_fits():
    text = "广东省深圳市南山区粤海街道科技园南区深南大道10000号"
    sizes = [(13.0, 1.2), (9.0, 1.2), (6.0, 1.2)]
    width = 200.0

    block, whole = fit_block(text, width=width, height=30, sizes=sizes, bold=True)  # 13 pt needs 31.2

    assert whole is True
    assert block.style.size == 9.0
    assert "".join(block.lines) == text
    assert block.height <= 30
    assert all(text_width(line, block.style) <= width for line in block.lines)


def test_fit_block_cuts_with_an_ellipsis_only_when_nothing_fits():
    text = "广东省深圳市南山区粤海街道科技园南区深南大道" * 20

    block, whole = fit_block(text, width=100, height=20, sizes=[(9.0, 1.2), (6.0, 1.2)])

    assert whole is False
    assert block.style.size == 6.0
    assert block.height <= 20
    assert block.lines[-1].endswith("…")
    assert all(text_width(line, block.style) <= 100 for line in block.lines)


def test_fit_line_shrinks_then_truncates():
    assert fit_line("STD", width=100, sizes=[12, 8]) == ("STD", Style(12))
    wide = "SF Express 顺丰速运"
    text, style = fit_line(wide, width=text_width(wide, Style(8)) + 0.01, sizes=[12, 8])
    assert (text, style) == (wide, Style(8))
    text, style = fit_line(wide * 3, width=50, sizes=[12, 8])
    assert style == Style(8) and text.endswith("…") and text_width(text, style) <= 50


def test_each_document_embeds_its_own_cjk_characters():
    pdfs = []
    for text in ("张伟 收件人", "欧阳娜娜 寄件人"):
        sheet = Sheet(100, 60)
        sheet.text(5, 20, text, Style(12, bold=True))
        sheet.text(5, 40, f"{text} 13800138000", Style(9))
        pdfs.append(sheet.pdf())

    first, second = (pdftotext(pdf) for pdf in pdfs)
    assert "张伟 收件人" in first and "张伟 收件人 13800138000" in first
    assert "欧阳娜娜 寄件人" in second and "欧阳娜娜 寄件人 13800138000" in second
    fonts = [
        str(font["/BaseFont"])
        for page in PdfReader(io.BytesIO(pdfs[1])).pages
        for font in (f.get_object() for f in page["/Resources"]["/Font"].values())
    ]
    assert any("+OmsCJK-Bold-" in name for name in fonts)  # a subset, embedded
    assert any("+OmsCJK-" in name and "Bold" not in name for name in fonts)
    assert any("DejaVuSans" in name for name in fonts)


def test_bitmap_packs_rows_one_bit_per_module_white_is_one():
    bitmap = Bitmap.from_array(np.array([[1, 0, 1, 1, 0, 0, 0, 0, 1], [0] * 9], dtype=np.uint8))

    assert (bitmap.width, bitmap.height) == (9, 2)
    assert zlib.decompress(bitmap.flate) == bytes([0b01001111, 0b00000000, 0b11111111, 0b10000000])


def test_code128_bitmap_is_the_symbol_with_quiet_zones():
    bitmap = code128_bitmap("SF1400000000001")
    modules = code128_modules("SF1400000000001")

    assert (bitmap.width, bitmap.height) == (len(modules) + 20, 1)
    assert code128_bitmap("SF1400000000001") is bitmap  # cached


@pytest.mark.parametrize(
    "value",
    [
        "https://oms.example.com/track/SO-000123-token/",
        "https://oms.example.com/t/" + "x" * 150,
        "LC000000010CN",
        "收件人 欧阳娜娜 https://oms.example.com/",
        "A" * 400,
    ],
)
def test_qr_symbol_is_segnos_symbol_with_segnos_mask(value):
    symbol, mask = qr_symbol(value)

    reference = segno.make(value, error="m", micro=False, boost_error=False)
    assert mask == reference.mask
    assert symbol.tolist() == [list(row) for row in reference.matrix]


def test_qr_symbol_matches_segno_for_many_values():
    values = [f"https://oms.example/track/LC{i:08d}0CN" for i in range(60)]
    for value in values:
        symbol, mask = qr_symbol(value)
        reference = segno.make(value, error="m", micro=False, boost_error=False)
        assert (mask, symbol.tolist()) == (reference.mask, [list(row) for row in reference.matrix]), value


def test_qr_rows_adds_the_quiet_zone():
    rows = qr_rows("https://oms.example.com/track/x/", border=2)
    symbol, _ = qr_symbol("https://oms.example.com/track/x/")

    assert rows.shape == (symbol.shape[0] + 4, symbol.shape[1] + 4)
    assert rows[:2].sum() == 0 and rows[:, :2].sum() == 0
    assert (rows[2:-2, 2:-2] == symbol).all()


def test_qr_bitmap_is_cached_per_value():
    qr_bitmap.cache_clear()

    first = qr_bitmap("https://oms.example.com/track/cache/")
    again = qr_bitmap("https://oms.example.com/track/cache/")
    other = qr_bitmap("https://oms.example.com/track/other/")

    assert again is first and other is not first
    info = qr_bitmap.cache_info()
    assert (info.hits, info.misses) == (1, 2)


def test_a_character_no_font_has_is_drawn_as_a_box_not_an_error():
    sheet = Sheet(100, 40)
    sheet.text(5, 20, "张伟😀 Zhāng", Style(12, bold=True))

    pdf = sheet.pdf()

    text = pdftotext(pdf)
    assert "张伟" in text and "Zhāng" in text
