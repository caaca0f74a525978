"""Shipping labels read back out of the PDF: pages, page size, text, barcode drawing."""

import io
import itertools
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
import segno
from pypdf import PdfReader
from reportlab.lib.units import mm

from fulfillment.models import Shipment, ShipmentLine
from inventory.models import HandlingClass, Location, Product
from logistics.documents import handling_marks, label_context, label_pdf
from logistics.label_canvas import FRAME_MM, FROM_MM, HEAD_MM, MARGIN_MM, MARK_ROW_MM, SIZES_MM, draw_label
from logistics.models import Carrier, Parcel, ServiceLevel
from oms.canvas import Sheet
from oms.canvas_fonts import text_width
from oms.codes import code128_modules, qr_bitmap
from orders.models import Channel, Order, OrderLine

LONG_CN_ADDRESS = "广东省深圳市南山区粤海街道科技园南区深南大道10000号腾讯大厦B座18楼1803室"
_seq = itertools.count(1)


def make_parcel(*, handling=(HandlingClass.STANDARD,), address1=LONG_CN_ADDRESS, tracking_number=None, **order_fields):
    """One order with one line per handling class, its shipment and one parcel."""
    n = next(_seq)
    location, _ = Location.objects.get_or_create(
        code="sz-wh",
        defaults={
            "name": "深圳南山仓 Shenzhen DC",
            "province": "广东省",
            "city": "深圳市",
            "address": "南山区西丽街道留仙大道3370号",
            "postcode": "518055",
            "phone": "0755-86001234",
        },
    )
    channel, _ = Channel.objects.get_or_create(slug="web", defaults={"name": "Web"})
    fields = {
        "ship_name": "张伟",
        "ship_phone": "13800138000",
        "ship_country": "CN",
        "ship_province": "广东省",
        "ship_city": "深圳市",
        "ship_district": "南山区",
        "ship_address1": address1,
        "ship_postcode": "518057",
        **order_fields,
    }
    order = Order.objects.create(number=f"SO-{n:06d}", channel=channel, external_id=f"ext-{n}", **fields)
    shipment = Shipment.objects.create(number=f"SH-{n:06d}", order=order, location=location)
    for line_no, handling_class in enumerate(handling, start=1):
        product = Product.objects.create(
            sku=f"SKU-{n}-{line_no}", name=f"商品 {handling_class}", handling_class=handling_class, weight_g=600
        )
        order_line = OrderLine.objects.create(
            order=order, line_no=line_no, product=product, sku=product.sku, quantity=2
        )
        ShipmentLine.objects.create(shipment=shipment, order_line=order_line, product=product, quantity=2)
    carrier, _ = Carrier.objects.get_or_create(code="sf", defaults={"name": "SF Express 顺丰速运"})
    service, _ = ServiceLevel.objects.get_or_create(carrier=carrier, code="std", defaults={"name": "Standard 标快"})
    return Parcel.objects.create(
        shipment=shipment, service=service, tracking_number=tracking_number or f"SF{1400000000000 + n}", weight_g=1250
    )


def track_url(parcel):
    return f"https://oms.example.com/track/{parcel.shipment.order.number}-token/"


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def pdftotext(pdf: bytes) -> str:
    """Poppler's extraction, used to cross-check CJK text."""
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    return [
        (round(float(p.mediabox.width), 2), round(float(p.mediabox.height), 2))
        for p in PdfReader(io.BytesIO(pdf)).pages
    ]


def barcode_modules(pdf: bytes) -> set[str]:
    """The modules of every 1-pixel-high image (the barcodes) in the PDF, '1' for a dark pixel, quiet
    zones stripped. (WeasyPrint may list a batch's images in resources shared by its pages.)"""
    found = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for image in page.images:
            picture = image.image.convert("L")
            if picture.height == 1:
                bits = "".join("1" if picture.getpixel((x, 0)) < 128 else "0" for x in range(picture.width))
                found.add(bits.strip("0"))
    return found


def bar_count(value: str) -> int:
    return len(re.findall("1+", code128_modules(value)))


def test_label_4x6_page_size_text_and_barcode(db):
    parcel = make_parcel(handling=[HandlingClass.FRESH, HandlingClass.FRAGILE])

    pdf = label_pdf([parcel], tracking_url_for=track_url)

    assert pdf.startswith(b"%PDF-")
    assert page_sizes(pdf) == [(288.0, 432.0)]
    text = pdf_text(pdf)
    assert parcel.tracking_number in text
    assert "张伟" in text
    assert "13800138000" in text
    assert "SF Express 顺丰速运" in text
    assert "Standard 标快" in text
    assert "SH-" in text and parcel.shipment.number in text
    assert parcel.shipment.order.number in text
    assert "1.25 kg" in text
    assert "1/1" in text
    assert "KEEP COLD 冷藏" in text
    assert "FRAGILE 易碎" in text
    assert "THIS SIDE UP" in text
    assert "HEAVY/BULKY" not in text
    assert "深圳南山仓 Shenzhen DC" in text
    assert "0755-86001234" in text
    # The barcode is in the PDF as a 1-pixel-per-module image that reads back as the tracking number's
    # Code 128 symbol, placed without interpolation so the bars stay sharp.
    assert barcode_modules(pdf) == {code128_modules(parcel.tracking_number)}
    assert bar_count(parcel.tracking_number) > 20
    assert b"/Interpolate false" in pdf
    # The long Chinese address is on the page, whole, even if wrapped over lines.
    poppler = "".join(pdftotext(pdf).split())
    assert LONG_CN_ADDRESS in poppler
    assert "广东省深圳市南山区" in poppler


def test_label_cjk_text_extracts_with_pypdf(db):
    parcel = make_parcel(address1="科技园南区深南大道10000号")

    text = "".join(pdf_text(label_pdf([parcel], tracking_url_for=track_url)).split())

    assert "科技园南区深南大道10000号" in text
    assert "广东省深圳市南山区" in text


def test_label_a6_page_size(db):
    parcel = make_parcel()

    pdf = label_pdf([parcel], tracking_url_for=track_url, size="a6")

    [(width, height)] = page_sizes(pdf)
    assert width == pytest.approx(297.64, abs=0.05)
    assert height == pytest.approx(419.53, abs=0.05)
    assert parcel.tracking_number in pdf_text(pdf)


def test_many_labels_one_page_each_in_order(db):
    parcels = [make_parcel(ship_name=f"收件人{i}") for i in range(5)]

    pdf = label_pdf(parcels, tracking_url_for=track_url)

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 5
    for parcel, page in zip(parcels, reader.pages, strict=True):
        text = page.extract_text()
        assert parcel.tracking_number in text
        assert parcel.shipment.order.ship_name in text
    assert barcode_modules(pdf) == {code128_modules(p.tracking_number) for p in parcels}


def test_queries_do_not_grow_with_the_number_of_labels(db, django_assert_max_num_queries):
    ids = [make_parcel(handling=[HandlingClass.FRESH, HandlingClass.STANDARD]).pk for _ in range(6)]
    parcels = list(Parcel.objects.filter(pk__in=ids).order_by("id"))

    with django_assert_max_num_queries(8):
        pdf = label_pdf(parcels, tracking_url_for=track_url)

    assert len(page_sizes(pdf)) == 6


def test_huge_address_and_name_still_one_page(db):
    huge = LONG_CN_ADDRESS * 5  # 240 characters
    parcel = make_parcel(
        address1=huge,
        ship_address2="Building 7, Unit 3, Room 1803, Science and Technology Park South, Nanshan",
        ship_name="欧阳娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜",
    )

    pdf = label_pdf([parcel], tracking_url_for=track_url)

    assert page_sizes(pdf) == [(288.0, 432.0)]
    assert parcel.tracking_number in pdf_text(pdf)


def test_unbreakable_latin_address_wraps_on_one_page(db):
    parcel = make_parcel(
        ship_country="US",
        ship_province="CA",
        ship_city="San Francisco",
        ship_district="",
        address1="X" * 200,
        ship_name="Bartholomew Maximilian Featherstonehaugh-Cholmondeley",
    )

    pdf = label_pdf([parcel], tracking_url_for=track_url, size="a6")

    assert len(page_sizes(pdf)) == 1
    assert "San Francisco" in pdf_text(pdf)


def test_label_context_values(db):
    parcel = make_parcel(handling=[HandlingClass.BULKY, HandlingClass.STANDARD])
    parcel.shipment.shipped_at = None

    context = label_context(parcel, tracking_url="https://oms.example.com/track/abc/")

    assert context["tracking_number"] == parcel.tracking_number
    assert context["tracking_url"] == "https://oms.example.com/track/abc/"
    assert context["barcode"]["modules"].strip("0") == code128_modules(parcel.tracking_number)
    assert context["barcode"]["module_mm"] == pytest.approx(4 * 25.4 / 203)  # 4 dots at 203 dpi
    assert context["barcode"]["width_mm"] == pytest.approx(len(context["barcode"]["modules"]) * 4 * 25.4 / 203)
    assert 20 < context["barcode"]["width_mm"] <= 90
    assert context["carrier_name"] == "SF Express 顺丰速运"
    assert context["service_name"] == "Standard 标快"
    assert context["recipient"]["name"] == "张伟"
    assert context["recipient"]["phone"] == "13800138000"
    assert context["recipient"]["lines"] == ["广东省 深圳市 南山区", LONG_CN_ADDRESS, "518057 CN"]
    assert context["sender"]["name"] == "深圳南山仓 Shenzhen DC"
    assert context["sender"]["lines"] == ["广东省 深圳市 南山区西丽街道留仙大道3370号", "518055 CN"]
    assert context["marks"] == [{"code": "bulky", "text": "HEAVY/BULKY 大件"}]
    assert context["weight_kg"] == "1.25"
    assert context["piece"] == "1/1"
    assert context["shipment_number"] == parcel.shipment.number
    assert context["order_number"] == parcel.shipment.order.number


def test_weight_falls_back_to_products(db):
    parcel = make_parcel(handling=[HandlingClass.STANDARD, HandlingClass.STANDARD])
    parcel.weight_g = 0

    assert label_context(parcel, tracking_url="")["weight_kg"] == "2.40"  # 2 lines x 2 x 600 g


def test_second_parcel_of_a_shipment_is_piece_two_of_two(db):
    first = make_parcel()
    second = Parcel.objects.create(shipment=first.shipment, service=first.service, tracking_number="SF9999999999")

    assert label_context(first, tracking_url="")["piece"] == "1/2"
    assert label_context(second, tracking_url="")["piece"] == "2/2"


def test_handling_marks():
    assert handling_marks(["standard"]) == []
    assert [m["text"] for m in handling_marks(["fragile", "fresh", "fragile"])] == [
        "KEEP COLD 冷藏",
        "FRAGILE 易碎",
        "THIS SIDE UP ↑",
    ]


def test_unknown_size_is_refused(db):
    parcel = make_parcel()
    with pytest.raises(ValueError):
        label_pdf([parcel], tracking_url_for=track_url, size="a4")


@pytest.mark.skipif(not os.environ.get("OMS_DOCS_OUT"), reason="set OMS_DOCS_OUT=/tmp/docs to write sample PDFs")
def test_write_sample_labels(db):
    out = os.environ["OMS_DOCS_OUT"]
    os.makedirs(out, exist_ok=True)
    parcels = [
        make_parcel(handling=[HandlingClass.FRESH, HandlingClass.FRAGILE, HandlingClass.BULKY]),
        make_parcel(address1=LONG_CN_ADDRESS * 5, ship_name="欧阳娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜"),
        make_parcel(
            ship_country="US",
            ship_province="CA",
            ship_city="San Francisco",
            ship_district="",
            address1="1 Market Street, Suite 300",
            ship_address2="Attn: Receiving Dock 4",
            ship_name="Jane Doe",
            ship_postcode="94105",
        ),
    ]
    for size in ("4x6", "a6"):
        with open(os.path.join(out, f"labels-{size}.pdf"), "wb") as fh:
            fh.write(label_pdf(parcels, tracking_url_for=track_url, size=size))


# ---- the canvas layout ---------------------------------------------------------------------------


def _label_ops(parcel, size="4x6"):
    """The text a label draws, as (x, baseline, right edge) in mm with the text, and the frame."""
    sheet = Sheet(*SIZES_MM[size][:2])
    draw_label(sheet, label_context(parcel, tracking_url=track_url(parcel), size=size), size=size)
    texts = []
    for op in sheet.pages[0]:
        if hasattr(op, "runs"):
            text = "".join(part for _, part in op.runs)
            texts.append((op.x, op.baseline, op.x + text_width(text, op.style) / mm, text, op.style))
    return texts


@pytest.mark.parametrize("size", ["4x6", "a6"])
def test_very_long_recipient_wraps_inside_its_zone(db, size):
    name = "欧阳娜娜" * 12 + " Bartholomew-Featherstonehaugh"
    parcel = make_parcel(
        handling=[HandlingClass.FRESH, HandlingClass.FRAGILE, HandlingClass.BULKY],
        address1=LONG_CN_ADDRESS * 3,
        ship_address2="Building 7, Unit 3, Room 1803, Science and Technology Park South " * 2,
        ship_name=name,
    )
    frame_left = MARGIN_MM + FRAME_MM
    frame_right = MARGIN_MM + SIZES_MM[size][2] - FRAME_MM
    _, _, _, frame_h = SIZES_MM[size]
    zone_top = MARGIN_MM + FRAME_MM + HEAD_MM + FROM_MM
    marks_top = MARGIN_MM + FRAME_MM + (frame_h - 2 * FRAME_MM) - 29.0 - 29.5 - 2 * MARK_ROW_MM

    texts = _label_ops(parcel, size)

    # Nothing on the label runs past the frame.
    assert all(frame_left <= x and right <= frame_right for x, _, right, _, _ in texts)
    recipient = [t for t in texts if zone_top < t[1] < marks_top]
    # The name wraps over lines and the address follows, all of it between the sender's zone and
    # the marks, the last line's descent included.
    assert len(recipient) >= 8
    assert all(baseline + 0.25 * style.size * 25.4 / 72 < marks_top for _, baseline, _, _, style in recipient)
    drawn = "".join(text for _, _, _, text, _ in recipient)
    assert drawn.replace(" ", "").startswith("Shipto收件人" + "欧阳娜娜" * 12)
    assert "13800138000" in drawn
    # Lines are apart: each baseline at least one type size below the one above it.
    baselines = sorted({round(b, 3) for _, b, _, _, _ in recipient})
    sizes = {round(b, 3): s.size for _, b, _, _, s in recipient}
    assert all(
        (lower - upper) * 72 / 25.4 >= 0.95 * sizes[lower]
        for upper, lower in zip(baselines, baselines[1:], strict=False)
    )
    pdf = label_pdf([parcel], tracking_url_for=track_url, size=size)
    assert len(page_sizes(pdf)) == 1
    assert ("欧阳娜娜" * 3) in "".join(pdftotext(pdf).split())


def test_recipient_that_cannot_fit_is_cut_with_an_ellipsis_not_spilled(db):
    parcel = make_parcel(
        handling=[HandlingClass.FRESH, HandlingClass.FRAGILE, HandlingClass.BULKY],
        # Every recipient column as full as the database lets it be (PostgreSQL enforces the lengths).
        address1=(LONG_CN_ADDRESS * 12)[:255],
        ship_address2=(LONG_CN_ADDRESS * 12)[:255],
        ship_name=("欧阳娜" * 40)[:120],
        ship_district=("南山区科技园" * 11)[:64],
        ship_city=("深圳市" * 22)[:64],
    )
    _, _, _, frame_h = SIZES_MM["4x6"]
    zone_top = MARGIN_MM + FRAME_MM + HEAD_MM + FROM_MM
    marks_top = MARGIN_MM + FRAME_MM + (frame_h - 2 * FRAME_MM) - 29.0 - 29.5 - 2 * MARK_ROW_MM

    texts = _label_ops(parcel)

    recipient = [t for t in texts if zone_top < t[1] < marks_top]
    assert recipient[-1][3].endswith("…")  # the last line that fits, cut
    assert LONG_CN_ADDRESS[:10] in "".join(t[3] for t in recipient)
    assert all(baseline + 0.25 * style.size * 25.4 / 72 < marks_top for _, baseline, _, _, style in recipient)
    marks = [t for t in texts if marks_top < t[1] < marks_top + 2 * MARK_ROW_MM]
    assert [t[3] for t in marks] == ["KEEP COLD 冷藏", "FRAGILE 易碎", "THIS SIDE UP ↑", "HEAVY/BULKY 大件"]


def test_label_fonts_are_embedded_subsets_with_chinese_text(db):
    parcel = make_parcel(ship_name="欧阳娜娜")

    pdf = label_pdf([parcel], tracking_url_for=track_url)

    reader = PdfReader(io.BytesIO(pdf))
    fonts = {
        str(font["/BaseFont"]): font
        for font in (f.get_object() for f in reader.pages[0]["/Resources"]["/Font"].values())
    }
    cjk = [name.lstrip("/") for name in fonts if "+OmsCJK-" in name]
    assert len(cjk) == 2  # regular and bold, each a subset (a six-letter tag before the +)
    assert all(name.split("+")[0].isalpha() and len(name.split("+")[0]) == 6 for name in cjk)
    assert all("/FontFile2" in fonts[name]["/FontDescriptor"].get_object() for name in fonts)
    assert "欧阳娜娜" in pdf_text(pdf)
    assert "收件人" in pdftotext(pdf)


def _qr_images(pdf: bytes) -> dict:
    """Every square image XObject (the QR codes) once, by object id, as 0/1 rows (1 = dark)."""
    found = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        xobjects = page["/Resources"].get("/XObject", {})
        for ref in xobjects.values():
            obj = ref.get_object()
            if obj["/Width"] == obj["/Height"] and obj["/Width"] > 1:
                found[ref.idnum] = obj
    return found


def test_qr_code_is_drawn_once_per_value_and_reads_back_as_segnos_symbol(db):
    parcels = [make_parcel() for _ in range(3)]
    same_url = "https://oms.example.com/track/shared-token/"
    qr_bitmap.cache_clear()

    pdf = label_pdf(parcels, tracking_url_for=lambda parcel: same_url)

    assert qr_bitmap.cache_info().misses == 1  # encoded once
    images = _qr_images(pdf)
    assert len(images) == 1  # stored once, shown on three pages
    [image] = images.values()
    assert image["/BitsPerComponent"] == 1 and image["/Interpolate"].value is False
    size = int(image["/Width"])
    packed = np.frombuffer(image.get_data(), dtype=np.uint8).reshape(size, -1)
    dark = 1 - np.unpackbits(packed, axis=1)[:, :size]
    reference = segno.make(same_url, error="m", micro=False, boost_error=False)
    assert dark.tolist() == [[int(v) for v in row] for row in reference.matrix_iter(border=2)]


def test_distinct_tracking_links_get_distinct_qr_codes(db):
    parcels = [make_parcel() for _ in range(3)]

    pdf = label_pdf(parcels, tracking_url_for=track_url)

    assert len(_qr_images(pdf)) == 3


def test_batch_of_labels_one_page_each_in_order(db):
    parcels = [make_parcel(ship_name=f"收件人{i:02d}") for i in range(24)]

    pdf = label_pdf(parcels, tracking_url_for=track_url, size="a6")

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 24
    for parcel, page in zip(parcels, reader.pages, strict=True):
        text = page.extract_text()
        assert parcel.tracking_number in text
        assert parcel.shipment.order.ship_name in text
        assert round(float(page.mediabox.width), 2) == pytest.approx(297.64, abs=0.05)
